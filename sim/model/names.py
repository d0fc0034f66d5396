"""Names of the model's quantities: actions, outcomes, state variables, utility features.

Every array axis that holds one of these is indexed by name, never by a bare
number: ``x[Var.tension]``, ``f[Feature.package]``, ``counts[Action.HEDGE]``.
The enums are ``IntEnum`` so they index numpy arrays and compiled code alike;
inserting or reordering a member moves every use with it.

Example:
    >>> import numpy as np
    >>> x = np.zeros(len(Var))
    >>> x[Var.tension] = 0.3
    >>> float(x[Var.tension]), Var.tension.name, STATE_VARS[Var.tension]
    (0.3, 'tension', 'tension')
    >>> Feature["package"] == Feature.package
    True
"""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """What a state does in one round (codes are array values in both engines)."""

    CONCEDE = 0
    HEDGE = 1
    ESCALATE = 2


class Outcome(IntEnum):
    """How a run ends. ``UNDECIDED`` while a run is going, and at the horizon for a run
    that was still making progress (see :mod:`sim.model.outcomes`)."""

    UNDECIDED = 0
    AGREEMENT = 1
    STALEMATE = 2
    HEDGED_STALEMATE = 3
    BREAKDOWN = 4


class Var(IntEnum):
    """The shared state variables, all in [0, 1]; the order is the column order everywhere."""

    assurance = 0  # security assurances delivered (end-of-war declaration, paused drills)
    relief = 1  # nominal sanctions relief in force
    enforcement = 2  # how strictly enforcers apply the sanctions still in force
    denuclearization = 3  # verified denuclearization progress
    undeclared = 4  # hidden capability at undeclared sites
    tension = 5  # military and political tension


class Feature(IntEnum):
    """Utility features an actor can weigh (see :func:`sim.model.decisions.features`)."""

    bias = 0  # 1: a standing preference for the action
    package = 1  # value of the deal on the table to the target: assurance x felt relief
    insecurity = 2  # 1 - assurance
    tension = 3  # tension
    trust = 4  # own trust in the counterpart
    reciprocity = 5  # counterpart conceded last round x own trust in it
    provocation = 6  # counterpart escalated last round
    alarm = 7  # target's hedging flagged last round x detection_response
    unverified = 8  # conditionality x (1 - verified denuclearization)
    hedge_risk = 9  # conditionality x detect_prob x relief: relief put at risk by hedging
    stalemate = 10  # stalemate_cost: how much the impasse hurts (ripeness)
    exposure = 11  # conditionality x (1 - trust in the principal): risk of conceding first
    conceded = 12  # 1 if the actor itself conceded last round (state dependence)
    escalated = 13  # 1 if the actor itself escalated last round
    concession = 14  # 1 if the counterpart conceded last round (whatever the trust in it)


class Tally(IntEnum):
    """A run's integer bookkeeping besides the shared state (one int64 array per run)."""

    round = 0  # rounds played so far
    outcome = 1  # an Outcome code; UNDECIDED while the run goes on
    end_round = 2  # the round in which the run ended (the horizon if it never did)
    flagged = 3  # 1 if the target's hedging was flagged in the last round played
    detections = 4  # true detections of hedging so far
    false_alarms = 5  # false alarms so far
    progress_round = 6  # the last round in which the talks made progress (see sim.model.outcomes)


class TypeParam(IntEnum):
    """What a private type declares besides its weights (``tparams[actor, type, TypeParam.prior]``),
    and the actor's momentum (``inertia``, ``in_kind``), which a type may override."""

    prior = 0  # P(the actor is this type), the common prior
    trustworthy = 1  # 1 if this type keeps its side of a deal, 0 if not (trust = E[trustworthy])
    covert = 2  # target only: P(it works at undeclared sites while it does not hedge)
    inertia = 3  # utility of repeating its own last move (state dependence)
    in_kind = 4  # utility of answering its counterpart's last move in kind (reciprocity)


#: Short aliases used in the equations: ``x[V.tension]``, ``f[F.package]``, ``tally[T.outcome]``.
V = Var
F = Feature
T = Tally
TP = TypeParam

ACTION_NAMES = tuple(a.name.lower() for a in Action)  # ("concede", "hedge", "escalate")
OUTCOME_NAMES = {o: o.name.lower() for o in Outcome}
STATE_VARS = tuple(v.name for v in Var)
FEATURES = tuple(f.name for f in Feature)
ROLES = ("target", "principal", "ally", "enforcer")
#: The two models of what actors know about each other (``model=``): public Bayesian
#: beliefs over private types, or the heuristic trust rule (docs/model.md).
MODELS = ("beliefs", "trust_rule")

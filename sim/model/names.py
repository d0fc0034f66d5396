"""Names of the model's quantities: actions, outcomes, state variables, utility features.

Every array axis that holds one of these is indexed by name, never by a bare
number: ``x[Var.tension]``, ``f[Feature.package]``, ``counts[Action.HEDGE]``.
The enums are ``IntEnum`` so they index numpy arrays and compiled code alike;
inserting or reordering a member moves every use with it.

Two of them are **tables**: each row says everything the rest of the package needs
to know about one action or one state variable — its name, its labels, its colour,
its unit and what it means — and nothing else lists them again:

- :data:`ACTION_TABLE` (:class:`ActionSpec` rows): the number of actions, their
  codes (:class:`Action`), the config keys of an actor's weights
  (``actors.<actor>.<action>``), the colours and labels of every chart. The first
  three rows are the actions the equations name (``CONCEDE``, ``HEDGE``,
  ``ESCALATE``); a further row is an action whose meaning is its utility weights and
  its effects on the state (``actors.<actor>.effects.<action>``). A prototype may
  append rows without editing this file: ``STALEMATE_EXTRA_ACTIONS`` names a YAML
  file with a list of rows (:func:`extra_actions`).
- :class:`Var`: the shared state variables; each member carries its row
  (:class:`VarSpec`: label, title, colour, unit, meaning and default start, which
  :class:`~sim.model.params.ModelConfig` makes a parameter of the same name).

Example:
    >>> import numpy as np
    >>> x = np.zeros(len(Var))
    >>> x[Var.tension] = 0.3
    >>> float(x[Var.tension]), Var.tension.name, STATE_VARS[Var.tension], Var.tension.label
    (0.3, 'tension', 'tension', 'Tension')
    >>> Feature["package"] == Feature.package
    True
    >>> ACTION_NAMES[:3], ACTION_TABLE[Action.HEDGE].colour
    (('concede', 'hedge', 'escalate'), '#e9c46a')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any


@dataclass(frozen=True)
class ActionSpec:
    """One row of :data:`ACTION_TABLE`.

    Attributes:
        name: the config key (``actors.<actor>.<name>`` holds an actor's weights of it)
            and the column word (``<name>_share_<actor>``).
        label: what legends and buttons show.
        colour: its colour in every chart (CSS hex).
        verb: the verb a narrative uses ("the DPRK concedes").
        doc: what it is, whatever the role (:data:`sim.model.actors.ROLE_WORDS` says
            what it means for each role).
    """

    name: str
    label: str
    colour: str
    verb: str = ""
    doc: str = ""


#: The actions every actor chooses from, in code order (the position of a row is the
#: action's code in every array). The equations name the first three (conceding earns
#: trust and answers reciprocity, hedging is what imagery looks for, escalating
#: provokes); rows after them act through weights and effects only.
CORE_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("concede", "Concede", "#2a9d8f", "concedes", "a costly step toward the deal"),
    ActionSpec("hedge", "Hedge", "#e9c46a", "hedges", "keep talking, keep options open"),
    ActionSpec("escalate", "Escalate", "#e76f51", "escalates", "raise the pressure"),
)

#: Environment variable naming a YAML file of further action rows (a list of mappings
#: with the fields of :class:`ActionSpec`), appended to the table at import.
EXTRA_ACTIONS_ENV = "STALEMATE_EXTRA_ACTIONS"


def extra_actions() -> tuple[ActionSpec, ...]:
    """The rows appended to the action table: those of the YAML file named by
    ``$STALEMATE_EXTRA_ACTIONS`` (none if unset). A prototype of a new action (and the
    test that the engines follow the table, ``tests/test_actions_table.py``) adds one
    without editing the package; a permanent one is a row of :data:`CORE_ACTIONS`' kind
    here.

    Raises:
        ValueError: for a file that is not a list of rows with a new, lower-case name.
    """
    path = os.environ.get(EXTRA_ACTIONS_ENV)
    if not path:
        return ()
    import yaml  # (PyYAML, through omegaconf); only when the table is extended

    with open(path, encoding="utf-8") as f:
        rows = yaml.safe_load(f) or []
    taken = {a.name for a in CORE_ACTIONS}
    out = []
    for row in rows if isinstance(rows, list) else [rows]:
        if not isinstance(row, dict) or not str(row.get("name", "")).isidentifier():
            raise ValueError(
                f"{path}: {row!r} is not an action row (name, label, colour, verb, doc)"
            )
        name = str(row["name"])
        spec = ActionSpec(**{"label": name, "colour": "#8d99ae", "verb": name, **row})
        if spec.name in taken or spec.name != spec.name.lower():
            raise ValueError(f"{path}: action {spec.name!r} must be new and lower-case")
        taken.add(spec.name)
        out.append(spec)
    return tuple(out)


#: Every action, in code order: :data:`CORE_ACTIONS`, then any :func:`extra_actions`.
ACTION_TABLE: tuple[ActionSpec, ...] = CORE_ACTIONS + extra_actions()

if TYPE_CHECKING:

    class Action(IntEnum):
        """What a state does in one round (codes are array values in every engine)."""

        CONCEDE = 0
        HEDGE = 1
        ESCALATE = 2

else:  # one member per row of the table: CONCEDE, HEDGE, ESCALATE (, any further row)
    Action = IntEnum(
        "Action",
        [(a.name.upper(), code) for code, a in enumerate(ACTION_TABLE)],
        module=__name__,
        qualname="Action",
    )
    Action.__doc__ = "What a state does in one round (codes are array values in every engine)."


class Outcome(IntEnum):
    """How a run ends. ``UNDECIDED`` while a run is going, and at the horizon for a run
    that was still making progress (see :mod:`sim.model.outcomes`)."""

    UNDECIDED = 0
    AGREEMENT = 1
    STALEMATE = 2
    HEDGED_STALEMATE = 3
    BREAKDOWN = 4


@dataclass(frozen=True)
class VarSpec:
    """What a state variable's row says besides its name (see :class:`Var`).

    Attributes:
        label: its name in chart legends ("Relief offered").
        title: its name over a figure's panel ("Sanctions relief (nominal)").
        colour: its colour in every chart (CSS hex).
        unit: its unit, as axis labels show it.
        doc: what it measures.
        start: the default of its starting value (the parameter ``ModelConfig.<name>``,
            in [0, 1]); for a derived quantity, unused.
    """

    label: str
    title: str
    colour: str
    unit: str
    doc: str
    start: float = 0.0


class _TableEnum(IntEnum):
    """An ``IntEnum`` whose members are the rows of a table: each member is numbered in
    the order written and carries its row (:class:`VarSpec`) as attributes."""

    spec: VarSpec
    label: str
    title: str
    colour: str
    unit: str
    doc: str
    start: float

    def __new__(cls, *row: Any):
        code = len(cls.__members__)
        member = int.__new__(cls, code)
        member._value_ = code
        member.spec = VarSpec(*row)
        for key, value in vars(member.spec).items():
            setattr(member, key, value)
        return member


class Var(_TableEnum):
    """The shared state variables, all in [0, 1]; the order is the column order everywhere.
    Each row: label, title, colour, unit, meaning, default start (:class:`VarSpec`)."""

    assurance = ("Security assurance", "Security assurance", "#1d3557", "0–1",
                 "security assurance on the table (end-of-war declaration, paused drills)", 0.4)  # fmt: skip
    relief = ("Relief offered", "Sanctions relief (nominal)", "#2a9d8f", "0–1",
              "nominal sanctions relief on the table", 0.0)  # fmt: skip
    enforcement = ("Sanctions enforcement", "Sanctions enforcement", "#8d99ae", "0–1",
                   "how strictly enforcers apply the sanctions still in force", 0.9)  # fmt: skip
    denuclearization = ("Verified denuclearization", "Verified denuclearization", "#6a4c93",
                        "0–1", "verified denuclearization", 0.0)  # fmt: skip
    undeclared = ("Undeclared capability", "Undeclared capability", "#e9a03b", "0–1",
                  "undeclared (hidden) capability", 0.3)  # fmt: skip
    tension = ("Tension", "Tension", "#e63946", "0–1", "military and political tension", 0.3)


#: Quantities derived from the state for charts and tables (not stored in ``x``), with
#: their rows: ``felt_relief`` is :func:`sim.model.decisions.felt_relief`.
DERIVED: dict[str, VarSpec] = {
    "felt_relief": VarSpec(
        "Relief felt",
        "Sanctions relief (felt)",
        "#2a9d8f",
        "0–1",
        "the relief the target feels: 1 - (1 - relief) x enforcement",
    ),
}


def _shown() -> tuple[str, ...]:
    out: list[str] = []
    for v in Var:
        if v is not Var.enforcement:  # enforcement shows through the relief it leaves felt
            out.append(v.name)
        if v is Var.relief:
            out.append("felt_relief")
    return tuple(out)


#: What the classroom's charts and exports show, in order: every state variable, the felt
#: relief after the relief, but not enforcement (it shows through the felt relief).
SHOWN_VARS: tuple[str, ...] = _shown()


def var_spec(name: str) -> VarSpec:
    """The row of a state variable or a derived quantity, by name.

    Example:
        >>> var_spec("felt_relief").label, var_spec("tension").colour
        ('Relief felt', '#e63946')
    """
    return DERIVED[name] if name in DERIVED else Var[name].spec


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

ACTION_NAMES = tuple(a.name for a in ACTION_TABLE)  # ("concede", "hedge", "escalate", …)
#: How many actions there are: the length of every action axis of every array.
N_ACTIONS = len(ACTION_TABLE)
OUTCOME_NAMES = {o: o.name.lower() for o in Outcome}
STATE_VARS = tuple(v.name for v in Var)
FEATURES = tuple(f.name for f in Feature)
ROLES = ("target", "principal", "ally", "enforcer")
#: The two models of what actors know about each other (``model=``): public Bayesian
#: beliefs over private types, or the heuristic trust rule (docs/model.md).
MODELS = ("beliefs", "trust_rule")

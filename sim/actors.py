"""Actors: roles, actions, what actions do to the shared state, default preferences.

Every state at the table has a *role* that gives its three actions a meaning:

========== ============================== =========================== ==========================
role       concede                        hedge                       escalate
========== ============================== =========================== ==========================
target     declare/dismantle, inspectors  moratorium + covert work    resume tests
principal  security assurances + relief   keep sanctions, keep talking new sanctions, pressure
ally       engagement                     alignment with principal    military drills
enforcer   lax sanctions enforcement      nominal enforcement         strict enforcement
========== ============================== =========================== ==========================

Adding Japan or Russia is configuration only: an actor with role ``ally`` or
``enforcer`` and its own weights (``configs/actors/six_party.yaml``).
"""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """What a state does in one round (codes are array values in both engines)."""

    CONCEDE = 0
    HEDGE = 1
    ESCALATE = 2


class Outcome(IntEnum):
    """How a run ends. ``UNDECIDED`` only while a run is still going."""

    UNDECIDED = 0
    AGREEMENT = 1
    STALEMATE = 2
    HEDGED_STALEMATE = 3
    BREAKDOWN = 4


ACTION_NAMES = ("concede", "hedge", "escalate")
OUTCOME_NAMES = {o: o.name.lower() for o in Outcome}
ROLES = ("target", "principal", "ally", "enforcer")
POLICIES = ("logit", "tit_for_tat", "grit", "scripted")

#: Shared state variables, all in [0, 1]; order is the column order everywhere.
STATE_VARS = (
    "assurance",  # security assurances delivered (end-of-war declaration, paused drills)
    "relief",  # nominal sanctions relief in force
    "enforcement",  # how strictly enforcers apply the sanctions still in force
    "denuclearization",  # verified denuclearization progress
    "undeclared",  # hidden capability at undeclared sites
    "tension",  # military and political tension
)

#: Utility features an actor can weigh (see :func:`sim.decisions.features`).
FEATURES = (
    "bias",  # 1: a standing preference for the action
    "package",  # value of the deal on the table: assurance x felt relief (complements)
    "insecurity",  # 1 - assurance
    "tension",  # tension
    "trust",  # own trust in the counterpart
    "reciprocity",  # counterpart conceded last round x own trust in it
    "provocation",  # counterpart escalated last round
    "alarm",  # target's hedging flagged last round x detection_response
    "unverified",  # conditionality x (1 - verified denuclearization)
    "hedge_risk",  # conditionality x detect_prob x relief: relief put at risk by hedging
    "stalemate",  # stalemate_cost: how much the impasse hurts (ripeness)
    "exposure",  # conditionality x (1 - trust in the principal): risk of conceding first
)

#: Default effect of each action on the shared state, by role. A push p moves a
#: variable v by step_size * p * (1 - v) if p > 0, by step_size * p * v if p < 0.
ROLE_EFFECTS: dict[str, dict[str, dict[str, float]]] = {
    "target": {
        "concede": {"denuclearization": 1.0, "undeclared": -0.5, "tension": -0.5},
        "hedge": {"undeclared": 0.3},
        "escalate": {"tension": 1.5, "undeclared": 0.3, "denuclearization": -1.0},
    },
    "principal": {
        "concede": {"assurance": 1.0, "relief": 1.0, "tension": -0.5},
        "hedge": {},
        "escalate": {"assurance": -1.0, "relief": -1.0, "tension": 1.0},
    },
    "ally": {
        "concede": {"assurance": 0.1, "tension": -0.5},
        "hedge": {},
        "escalate": {"assurance": -0.1, "tension": 0.5},
    },
    "enforcer": {
        "concede": {"enforcement": -1.0},
        "hedge": {},
        "escalate": {"enforcement": 1.0},
    },
}

#: What each action means, by role, for narratives and legends.
ROLE_WORDS: dict[str, dict[str, str]] = {
    "target": {
        "concede": "dismantles a site, declares facilities and admits inspectors",
        "hedge": "keeps the test moratorium while work continues at undeclared bases",
        "escalate": "resumes missile tests",
    },
    "principal": {
        "concede": "offers security assurances and sanctions relief",
        "hedge": "keeps sanctions in place and keeps talks alive",
        "escalate": "imposes new sanctions and cancels talks",
    },
    "ally": {
        "concede": "pursues engagement",
        "hedge": "stays aligned with its ally",
        "escalate": "holds military drills",
    },
    "enforcer": {
        "concede": "enforces sanctions laxly",
        "hedge": "enforces sanctions nominally",
        "escalate": "enforces sanctions strictly",
    },
}


def default_actors() -> dict:
    """The four default actors with their preferences (see ``docs/model.md``)."""
    from sim.params import ActorConfig

    return {
        "USA": ActorConfig(
            role="principal",
            trust=0.2,
            concede={"bias": -0.5, "reciprocity": 2.0, "unverified": -1.5, "stalemate": 1.0},
            hedge={"bias": 0.0},
            escalate={"bias": -1.5, "provocation": 2.0, "alarm": 1.0, "tension": -1.0},
        ),
        "DPRK": ActorConfig(
            role="target",
            trust=0.2,
            concede={"bias": -1.6, "package": 4.0, "exposure": -1.0, "reciprocity": 1.0,
                     "stalemate": 1.0},
            hedge={"bias": 0.0, "hedge_risk": -3.0},
            escalate={"bias": -1.5, "provocation": 2.0, "insecurity": 0.5, "tension": -1.0,
                      "package": -2.0},
        ),
        "ROK": ActorConfig(
            role="ally",
            trust=0.5,
            concede={"bias": -0.3, "trust": 1.0, "reciprocity": 1.0},
            hedge={"bias": 0.0},
            escalate={"bias": -1.5, "provocation": 2.0},
        ),
        "PRC": ActorConfig(
            role="enforcer",
            trust=0.7,
            concede={"bias": -1.0, "trust": 0.5, "reciprocity": 1.0},
            hedge={"bias": 0.0},
            escalate={"bias": -2.0, "provocation": 2.0},
        ),
    }

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

from sim.model.names import ACTION_NAMES, ACTION_TABLE, ROLES, Action

__all__ = ["ACTION_NAMES", "ROLES", "ROLE_EFFECTS", "ROLE_WORDS", "Action", "describe_action"]

#: Default effect of each action on the shared state, by role. A push p moves a
#: variable v by step_size * p * (1 - v) if p > 0, by step_size * p * v if p < 0.
#: An action a role does not list (or lists as ``{}``) moves nothing unless the
#: actor's own ``effects`` say so.
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

#: What each action means, by role, for narratives and legends (an action a role does not
#: list is told by its row of :data:`sim.model.names.ACTION_TABLE`).
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


def describe_action(role: str, action: Action | int) -> str:
    """What ``action`` means for an actor with ``role``, in words.

    Example:
        >>> describe_action("target", Action.HEDGE)
        'keeps the test moratorium while work continues at undeclared bases'
    """
    spec = ACTION_TABLE[int(action)]
    return ROLE_WORDS[role].get(spec.name) or spec.doc or spec.label.lower()

"""Scheduled events: shocks at given rounds that replay history or branch it.

An event shifts the shared state at the start of its round (before anyone
decides), may force actors' actions that round, and a ``report`` flags the
target's hedging as if imagery had caught it.

Example:
    >>> EVENT_KINDS["summit"]["shift"]["assurance"]
    0.15
"""

from __future__ import annotations

from sim.model.names import STATE_VARS

#: Keys an event may shift: the state variables, plus ``trust`` between the
#: target and the principal (both directions).
SHIFT_KEYS = (*STATE_VARS, "trust")

EVENT_KINDS: dict[str, dict] = {
    # a summit: declarations of intent, a photo opportunity, warmer words
    "summit": {"shift": {"assurance": 0.15, "tension": -0.15, "trust": 0.15}, "flag": False},
    # a meeting cancelled at the last minute, public frustration
    "cancelled_meeting": {"shift": {"tension": 0.1, "trust": -0.1}, "flag": False},
    # a published imagery report reveals work at undeclared sites
    "report": {"shift": {"tension": 0.05}, "flag": True},
    # a missile or nuclear test: the target escalates this round
    "test": {"shift": {}, "flag": False, "force_target": "escalate"},
    # an offer of partial sanctions relief (a counterfactual lever)
    "relief_offer": {"shift": {"relief": 0.2, "trust": 0.05}, "flag": False},
    # nothing preset: only the event's own ``shift`` and ``force``
    "custom": {"shift": {}, "flag": False},
}


def event_effects(event, target_name: str) -> tuple[dict[str, float], dict[str, str], bool]:
    """Resolve an event config into (shift, forced actions, flag) after presets.

    Args:
        event: an :class:`sim.model.params.EventConfig`.
        target_name: the actor whose hedging a report flags and who tests.

    Returns:
        The shift per key, forced action names per actor, and whether the
        target's hedging is flagged this round.
    """
    preset = EVENT_KINDS[event.kind]
    shift = {**preset["shift"], **event.shift}
    force = dict(event.force)
    if "force_target" in preset:
        force.setdefault(target_name, preset["force_target"])
    return shift, force, preset["flag"]


def describe(event) -> str:
    """One line for a narrative: the label, or the kind in words."""
    return event.label or event.kind.replace("_", " ")


def apply_shift(x, trust, shift, row, target, principal):
    """Add the events' shift ``shift[row]`` (one entry per :data:`SHIFT_KEYS`) to the state
    and to the target <-> principal trust, clipped to [0, 1]. Compiled in :mod:`sim.model.dynamics`."""
    for v in range(x.shape[0]):
        x[v] = min(1.0, max(0.0, x[v] + shift[row, v]))
    dt = shift[row, x.shape[0]]
    trust[target, principal] = min(1.0, max(0.0, trust[target, principal] + dt))
    trust[principal, target] = min(1.0, max(0.0, trust[principal, target] + dt))

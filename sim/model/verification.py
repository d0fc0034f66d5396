"""Imperfect verification: covert hedging is caught only with some probability.

Each round one uniform number u (the run's ``imagery`` stream, :mod:`sim.model.rng`)
decides what satellite imagery shows about the target: if it hedged, the
hedging is detected when u < detect_prob; if it did not, a false alarm is
raised when u < false_alarm_prob. A scheduled ``report`` event flags the target
regardless. A flag (true or false) costs the target trust with every observer,
makes the principal likelier to escalate (``alarm`` x detection_response), and
withdraws conditional relief (snapback).

Example:
    >>> from sim.model.names import Action
    >>> inspect(Action.HEDGE, 0.1, 0.3, 0.05, False), inspect(Action.CONCEDE, 0.01, 0.3, 0.05, False)
    ((True, True, False), (True, False, True))
"""

from __future__ import annotations

from sim.model.jit import kernel
from sim.model.names import Action


@kernel(inline="always")
def inspect(target_action, u, detect_prob, false_alarm_prob, reported):
    """What this round's imagery shows: (flagged, detected, false_alarm).

    Args:
        target_action: the target's action this round.
        u: this round's imagery uniform in [0, 1).
        detect_prob: P(hedging is caught).
        false_alarm_prob: P(an alarm without hedging).
        reported: True when a published report flags the target this round.
    """
    hedged = target_action == Action.HEDGE
    detected = hedged and u < detect_prob
    false_alarm = (not hedged) and u < false_alarm_prob
    return detected or false_alarm or reported, detected, false_alarm


@kernel(inline="always")
def flag_probability(target_action, detect_prob, false_alarm_prob):
    """P(imagery flags the target | its action): what a flag tells an observer."""
    return detect_prob if target_action == Action.HEDGE else false_alarm_prob

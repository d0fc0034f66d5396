"""Imperfect verification: covert hedging is caught only with some probability.

Each round one uniform number u (the run's ``imagery`` stream, :mod:`sim.model.rng`)
decides what satellite imagery shows about the target: if it hedged, the
hedging is detected when u < detect_prob. If it did not hedge, its type may
still work at undeclared sites (``covert``, the chance of such work in a round;
0 for a dealmaker): that work is caught when u < covert x detect_prob, and
otherwise a false alarm is raised when u < covert x detect_prob + (1 - covert) x
false_alarm_prob. So

    P(flag | hedge) = detect_prob
    P(flag | concede or escalate, type) = covert x detect_prob + (1 - covert) x false_alarm_prob

which is what makes a flag evidence about the target's type (:mod:`sim.model.beliefs`). A scheduled ``report`` event flags the target
regardless. A flag (true or false) costs the target trust with every observer,
makes the principal likelier to escalate (``alarm`` x detection_response), and
withdraws conditional relief (snapback).

Example:
    >>> from sim.model.names import Action
    >>> inspect(Action.HEDGE, 0.1, 0.3, 0.05, 0.0, False), inspect(Action.CONCEDE, 0.01, 0.3, 0.05, 0.0, False)
    ((True, True, False), (True, False, True))
    >>> inspect(Action.CONCEDE, 0.1, 0.3, 0.05, 0.5, False)  # a holdout's covert work, caught
    (True, True, False)
    >>> flag_probability(Action.CONCEDE, 0.3, 0.05, 0.5)
    0.175
"""

from __future__ import annotations

from sim.model.jit import kernel
from sim.model.names import Action


@kernel(inline="always")
def inspect(target_action, u, detect_prob, false_alarm_prob, covert, reported):
    """What this round's imagery shows: (flagged, detected, false_alarm).

    Args:
        target_action: the target's action this round.
        u: this round's imagery uniform in [0, 1).
        detect_prob: P(hedging is caught).
        false_alarm_prob: P(an alarm without hedging).
        covert: P(the target's type works at undeclared sites while it does not hedge).
        reported: True when a published report flags the target this round.
    """
    hedged = target_action == Action.HEDGE
    caught = covert * detect_prob
    detected = (hedged and u < detect_prob) or ((not hedged) and u < caught)
    false_alarm = (not hedged) and (not detected) and u < caught + (1.0 - covert) * false_alarm_prob
    return detected or false_alarm or reported, detected, false_alarm


@kernel(inline="always")
def flag_probability(target_action, detect_prob, false_alarm_prob, covert):
    """P(imagery flags the target | its action and type): what a flag tells an observer."""
    if target_action == Action.HEDGE:
        return detect_prob
    return covert * detect_prob + (1.0 - covert) * false_alarm_prob

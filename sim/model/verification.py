"""Imperfect verification: covert hedging is caught only with some probability.

Each round one uniform number u decides what satellite imagery shows about the
target: if it hedged, the hedging is detected when u < detect_prob; if it did
not, a false alarm is raised when u < false_alarm_prob. A scheduled ``report``
event flags the target regardless. A flag (true or false) costs the target
trust with every observer, makes the principal likelier to escalate
(``alarm`` x detection_response), and withdraws conditional relief (snapback).

Example:
    >>> import numpy as np
    >>> from sim.model.names import Action
    >>> act = np.array([Action.HEDGE, Action.CONCEDE])
    >>> flagged, true, false = inspect(act, np.array([0.1, 0.01]), 0.3, 0.05, False)
    >>> flagged.tolist(), true.tolist(), false.tolist()
    ([True, True], [True, False], [False, True])
"""

from __future__ import annotations

from sim.model.names import Action


def inspect(target_action, u, detect_prob, false_alarm_prob, forced_flag):
    """Return (flagged, detected, false_alarm) boolean arrays over runs.

    Args:
        target_action: the target's action this round, shape (runs,).
        u: one uniform in [0, 1) per run for this round's imagery.
        detect_prob: P(hedging is caught), scalar or per run.
        false_alarm_prob: P(alarm without hedging), scalar or per run.
        forced_flag: True when a published report flags the target this round.
    """
    hedged = target_action == Action.HEDGE
    detected = hedged & (u < detect_prob)
    false_alarm = ~hedged & (u < false_alarm_prob)
    flagged = detected | false_alarm | forced_flag
    return flagged, detected, false_alarm

"""Outcome classification of a run.

- **breakdown**: tension reaches ``breakdown_threshold`` (a crisis; the run ends);
- **agreement**: verified denuclearization and the package the principal has
  delivered, :func:`delivered` = mean(assurance, relief), both reach
  ``agreement_threshold`` (the run ends); breakdown wins if both happen in one round;
- **progress** is :func:`progress`, min(verified denuclearization, delivered):
  how far the talks have come toward agreement. A round makes progress when it
  lifts this to a new high by at least ``progress_step``;
- at the horizon, a run still undecided that made no progress in its last
  ``stalemate_window`` rounds (K) is stalled: a **hedged stalemate** if
  undeclared capability grew by more than ``hedged_margin`` since round 0, else a
  **stalemate**. A run that was still making progress is **undecided**: the
  horizon came too early to say.

(:func:`delivered` is what the principal has *given*, the agreement test; the
utility feature ``package`` is what the target *feels*, assurance x felt relief.)

Example:
    >>> import numpy as np
    >>> from sim.model.names import Outcome, V
    >>> from sim.model.params import P
    >>> theta = np.zeros(len(P)); theta[P.agreement_threshold] = 0.6; theta[P.breakdown_threshold] = 0.9
    >>> x = np.array([0.7, 0.6, 0.8, 0.65, 0.3, 0.2])
    >>> Outcome(check_absorbing(x, theta)).name
    'AGREEMENT'
"""

from __future__ import annotations

from sim.model.jit import kernel
from sim.model.names import Outcome, V
from sim.model.params import P


@kernel(inline="always")
def delivered(x):
    """What the principal has delivered: the mean of assurance and (nominal) relief."""
    return 0.5 * (x[V.assurance] + x[V.relief])


@kernel(inline="always")
def progress(x):
    """How far the talks have come: min(verified denuclearization, :func:`delivered`)."""
    return min(x[V.denuclearization], delivered(x))


@kernel(inline="always")
def check_absorbing(x, theta):
    """AGREEMENT, BREAKDOWN or UNDECIDED after a round (an :class:`Outcome` code)."""
    if x[V.tension] >= theta[P.breakdown_threshold]:
        return Outcome.BREAKDOWN
    bar = theta[P.agreement_threshold]
    if x[V.denuclearization] >= bar and delivered(x) >= bar:
        return Outcome.AGREEMENT
    return Outcome.UNDECIDED


@kernel(inline="always")
def classify_final(x, initial, theta, stalled):
    """STALEMATE or HEDGED_STALEMATE for a run that reaches the horizon undecided after
    ``stalled`` rounds without progress, if that is at least ``stalemate_window``;
    else UNDECIDED."""
    if stalled < theta[P.stalemate_window]:
        return Outcome.UNDECIDED
    if x[V.undeclared] - initial[V.undeclared] > theta[P.hedged_margin]:
        return Outcome.HEDGED_STALEMATE
    return Outcome.STALEMATE

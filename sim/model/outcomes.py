"""Outcome classification of a run.

- **breakdown**: tension reaches ``breakdown_threshold`` (a crisis; the run ends);
- **agreement**: verified denuclearization and the package the principal has
  delivered, mean(assurance, relief), both reach ``agreement_threshold`` (the run
  ends); breakdown wins if both happen in one round;
- at the horizon, a run still undecided is a **hedged stalemate** if undeclared
  capability grew by more than ``hedged_margin`` since round 0, else a
  **stalemate**.

Example:
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from sim.model.names import STATE_VARS
    >>> p = SimpleNamespace(agreement_threshold=0.6, breakdown_threshold=0.9)
    >>> x = np.array([[0.7], [0.6], [0.8], [0.65], [0.3], [0.2]])
    >>> Outcome(check_absorbing(x, p)[0]).name
    'AGREEMENT'
"""

from __future__ import annotations

import numpy as np

from sim.model.names import STATE_VARS, Outcome

_A, _R, _D, _U, _T = (
    STATE_VARS.index(v)
    for v in ("assurance", "relief", "denuclearization", "undeclared", "tension")
)


def package(x):
    """What the principal has delivered: mean of assurance and relief."""
    return 0.5 * (x[_A] + x[_R])


def check_absorbing(x, p):
    """AGREEMENT, BREAKDOWN or UNDECIDED for each run after a round."""
    agreed = (x[_D] >= p.agreement_threshold) & (package(x) >= p.agreement_threshold)
    broke = x[_T] >= p.breakdown_threshold
    return np.where(
        broke, Outcome.BREAKDOWN, np.where(agreed, Outcome.AGREEMENT, Outcome.UNDECIDED)
    ).astype(np.int8)


def classify_final(x, p):
    """STALEMATE or HEDGED_STALEMATE for runs that reach the horizon undecided."""
    grew = x[_U] - p.initial[_U] > p.hedged_margin
    return np.where(grew, Outcome.HEDGED_STALEMATE, Outcome.STALEMATE).astype(np.int8)

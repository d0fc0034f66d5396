"""Sequencing regimes: who must move first.

A regime is summarised by its *conditionality* kappa in [0, 1]: how far the
principal's relief depends on the target's verified denuclearization.

- ``denuclearization_first`` (kappa = 1): the principal concedes only against
  verified denuclearization, the target fears conceding first, and relief is
  withdrawn (snapback) when hedging is detected.
- ``action_for_action`` (kappa = 0.5): phased reciprocity; each side's steps are
  half conditional.
- ``relief_first`` (kappa = 0): relief is delivered up front, unconditionally.

kappa enters four places (see :func:`sim.model.decisions.features` and
:func:`sim.model.dynamics.transition`): the target's ``exposure`` (the risk of
conceding first, kappa x (1 - trust in the principal)); the principal's cost of
conceding before verification (``unverified``, kappa x (1 - denuclearization));
the relief a detection puts at risk (``hedge_risk``); and the snapback of relief
after a detection.

Example:
    >>> conditionality("action_for_action")
    0.5
"""

REGIMES: dict[str, float] = {
    "denuclearization_first": 1.0,
    "action_for_action": 0.5,
    "relief_first": 0.0,
}


def conditionality(regime: str) -> float:
    """Return kappa, the share of relief that waits for verified denuclearization."""
    return REGIMES[regime]

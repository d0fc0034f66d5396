"""Sequencing regimes: who must move first.

A regime is summarised by its *conditionality* kappa in [0, 1]: how far the
principal's relief depends on the target's verified denuclearization.

- ``denuclearization_first`` (kappa = 1): relief comes only once the target has
  delivered, so relief on offer is only a promise worth the target's trust in the
  principal; conceding before verification is costly for the principal; relief is
  withdrawn (snapback) when hedging is detected.
- ``action_for_action`` (kappa = 0.5): phased reciprocity; each side's steps are
  half conditional.
- ``relief_first`` (kappa = 0): relief is delivered up front, unconditionally.

kappa enters three places (see :func:`sim.decisions.features` and
:func:`sim.dynamics.transition`): the credibility of the package the target
weighs, the principal's cost of conceding before verification, and how much
relief a detection puts at risk.

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

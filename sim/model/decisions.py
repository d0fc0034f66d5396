"""Decisions: utility features, utilities and the logit (quantal-response) choice rule.

Every actor i scores each action a by a weighted sum of features of the state
it faces, seen from its own seat:

    U_i(a) = sum_k  (w_i[a, k] + s_i[type_i, a, k]) * f_i[k]

where ``s_i[type_i]`` is the shift of the actor's private type (zero for an actor
without types; see :mod:`sim.model.beliefs`),

and, under the default ``logit`` policy, plays a with probability

    P_i(a) = exp(rationality * U_i(a)) / sum_b exp(rationality * U_i(b)).

A decision policy (:mod:`sim.model.policies`) turns the utilities into the
three action probabilities; one uniform number per actor and round picks the
action from them (:func:`draw`), so every engine draws the same action from the
same number. Every function here works on one run: scalars and small arrays,
summed in a fixed order, compiled by numba (:mod:`sim.model.jit`).

Example:
    >>> import numpy as np
    >>> p = np.empty(3)
    >>> logit_probabilities(np.array([1.0, 0.0, 0.0]), 0.0, p)
    >>> p.tolist()
    [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]
    >>> draw(np.array([0.2, 0.5, 0.3]), 0.69), draw(np.array([0.2, 0.5, 0.3]), 0.7)
    (1, 2)
"""

from __future__ import annotations

import numpy as np

from sim.model.jit import kernel
from sim.model.names import Action, F, V
from sim.model.params import P


def felt_relief(relief, enforcement):
    """Relief the target actually feels: sanctions still in force bite only as far
    as they are enforced. ``1 - (1 - relief) * enforcement``.

    Plain arithmetic, so it works on numbers, arrays and table columns alike; the
    compiled decisions use this very function (:data:`felt_relief_kernel`).

    Example:
        >>> felt_relief(0.0, 0.8), felt_relief(0.5, 1.0)
        (0.19999999999999996, 0.5)
    """
    return 1.0 - (1.0 - relief) * enforcement


felt_relief_kernel = kernel(inline="always")(felt_relief)


@kernel(inline="always")
def features(f, x, trust_cp, trust_principal, last_cp, flagged, theta):
    """Fill ``f`` (one entry per :class:`~sim.model.names.Feature`) for one actor.

    Args:
        f: the output, float array of length ``len(Feature)``.
        x: the shared state (one entry per :class:`~sim.model.names.Var`).
        trust_cp: the actor's trust in its counterpart.
        trust_principal: the actor's trust in the principal.
        last_cp: the counterpart's action last round (an :class:`Action` code).
        flagged: 1 if the target's hedging was flagged last round, else 0.
        theta: the run's per-run parameters (indexed by :data:`sim.model.params.P`).
    """
    kappa = theta[P.kappa]
    f[F.bias] = 1.0
    f[F.package] = x[V.assurance] * felt_relief_kernel(x[V.relief], x[V.enforcement])
    f[F.insecurity] = 1.0 - x[V.assurance]
    f[F.tension] = x[V.tension]
    f[F.trust] = trust_cp
    f[F.reciprocity] = trust_cp if last_cp == Action.CONCEDE else 0.0
    f[F.provocation] = 1.0 if last_cp == Action.ESCALATE else 0.0
    f[F.alarm] = flagged * theta[P.detection_response]
    f[F.unverified] = kappa * (1.0 - x[V.denuclearization])
    f[F.hedge_risk] = kappa * theta[P.detect_prob] * x[V.relief]
    f[F.stalemate] = theta[P.stalemate_cost]
    f[F.exposure] = kappa * (1.0 - trust_principal)


@kernel(inline="always")
def utilities(u, weights, tshift, i, ty, f):
    """Actor ``i``'s utilities as type ``ty``:
    ``u[a] = sum_k (weights[i, a, k] + tshift[i, ty, a, k]) * f[k]`` for the three
    actions, summed in feature order."""
    for a in range(3):
        s = 0.0
        for k in range(f.shape[0]):
            s += (weights[i, a, k] + tshift[i, ty, a, k]) * f[k]
        u[a] = s


@kernel(inline="always")
def logit_probabilities(u, rationality, out):
    """Quantal-response probabilities of the three actions from utilities ``u`` into ``out``."""
    z0, z1, z2 = rationality * u[0], rationality * u[1], rationality * u[2]
    top = max(z0, max(z1, z2))  # the largest term is exp(0) = 1: two exponentials, not three
    e0 = 1.0 if z0 == top else np.exp(z0 - top)
    e1 = 1.0 if z1 == top else np.exp(z1 - top)
    e2 = 1.0 if z2 == top else np.exp(z2 - top)
    total = e0 + e1 + e2
    out[0] = e0 / total
    out[1] = e1 / total
    out[2] = e2 / total


@kernel(inline="always")
def draw(prob, u):
    """The action whose cumulative-probability interval holds the uniform ``u``."""
    return int(u >= prob[0]) + int(u >= prob[0] + prob[1])

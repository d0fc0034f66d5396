"""Decisions: utility features, utilities and the logit (quantal-response) choice rule.

Every actor i scores each action a by a weighted sum of features of the state
it faces, seen from its own seat:

    U_i(a) = sum_k  (w_i[a, k] + s_i[type_i, a, k]) * f_i[k]
             + inertia_i * [a = own last move] + in_kind_i * [a = counterpart's last move]

where ``s_i[type_i]`` is the shift of the actor's private type (zero for an actor
without types; see :mod:`sim.model.beliefs`); the sum runs over the features
whose weight is not zero (:func:`utility_terms`), and the last two terms are the
actor's momentum (:func:`momentum`),

and, under the default ``logit`` policy, plays a with probability

    P_i(a) = exp(rationality * U_i(a)) / sum_b exp(rationality * U_i(b)).

A decision policy (:mod:`sim.model.policies`) turns the utilities into one
probability per action (:data:`sim.model.names.ACTION_TABLE`: as many as the table
has rows; every loop here runs over the array it is given); one uniform number per
actor and round picks the action from them (:func:`draw`), so every engine draws the
same action from the same number. Every function here works on one run: scalars and small arrays,
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
def features(f, x, trust_cp, trust_principal, last_cp, flagged, theta, last_own):
    """Fill ``f`` (one entry per :class:`~sim.model.names.Feature`) for one actor.

    Args:
        f: the output, float array of length ``len(Feature)``.
        x: the shared state (one entry per :class:`~sim.model.names.Var`).
        trust_cp: the actor's trust in its counterpart.
        trust_principal: the actor's trust in the principal.
        last_cp: the counterpart's action last round (an :class:`Action` code).
        last_own: the actor's own action last round.
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
    f[F.conceded] = 1.0 if last_own == Action.CONCEDE else 0.0
    f[F.escalated] = 1.0 if last_own == Action.ESCALATE else 0.0
    f[F.concession] = 1.0 if last_cp == Action.CONCEDE else 0.0


@kernel(inline="always")
def utilities(u, coef, terms, i, ty, f):
    """Actor ``i``'s utilities as type ``ty``:
    ``u[a] = sum_k (w[i, a, k] + s[i, ty, a, k]) * f[k]`` for every action a, summed
    in feature order over the features whose weight is not zero.

    The weights come as a short list per (actor, type, action) — ``coef`` holds the
    nonzero sums ``w + s`` and ``terms`` their features, -1 ending the list — made
    once per parameter set by :func:`utility_terms`. Most weights are zero, and a
    term with weight 0 adds exactly 0.0 to the sum, so skipping it gives the same
    number bit for bit while doing a fraction of the work.
    """
    for a in range(u.shape[0]):
        s = 0.0
        for m in range(terms.shape[3]):
            k = terms[i, ty, a, m]
            if k < 0:
                break
            s += coef[i, ty, a, m] * f[k]
        u[a] = s


def utility_terms(weights, tshift):
    """The weights as short lists for :func:`utilities`: ``(coef, terms)``.

    Args:
        weights: (..., A, n_actions, K) each actor's utility weights.
        tshift: (..., A, Kt, n_actions, K) each type's shift of them.

    Returns:
        ``coef`` (..., A, Kt, n_actions, M) float, the nonzero ``weights + tshift`` in feature
        order, and ``terms`` (same shape) int, their features, -1 after the last
        (M is the longest list, at least 1).

    Example:
        >>> w = np.zeros((1, 3, 4)); w[0, 0, 2] = 0.5; w[0, 2, 0] = -1.0
        >>> s = np.zeros((1, 1, 3, 4)); s[0, 0, 0, 3] = 2.0
        >>> coef, terms = utility_terms(w, s)
        >>> terms[0, 0].tolist(), coef[0, 0, 0].tolist()
        ([[2, 3], [-1, -1], [0, -1]], [0.5, 2.0])
    """
    total = weights[..., None, :, :] + tshift  # the very sums the dense form adds
    nonzero = total != 0.0
    M = max(1, int(nonzero.sum(axis=-1).max(initial=0)))
    # the features of each list in order: nonzero first (stable), then padding
    order = np.argsort(~nonzero, axis=-1, kind="stable")[..., :M]
    keep = np.take_along_axis(nonzero, order, axis=-1)
    terms = np.where(keep, order, -1).astype(np.int64)
    coef = np.where(keep, np.take_along_axis(total, order, axis=-1), 0.0)
    return np.ascontiguousarray(coef), np.ascontiguousarray(terms)


@kernel(inline="always")
def momentum(u, own_last, counterpart_last, inertia, in_kind):
    """Add the actor's momentum to its utilities ``u``: ``inertia`` to the move it made
    last round (state dependence: commitments, audience costs, bureaucratic momentum)
    and ``in_kind`` to its counterpart's last move (reciprocity: answering cooperation
    with cooperation and hostility with hostility). Before round 1 both last moves are
    HEDGE. A zero term is skipped, so a model without momentum is unchanged bit for bit.

    Example:
        >>> import numpy as np
        >>> u = np.zeros(3); momentum(u, 2, 0, 1.5, 0.5); u.tolist()
        [0.5, 0.0, 1.5]
    """
    if inertia != 0.0:
        u[own_last] += inertia
    if in_kind != 0.0:
        u[counterpart_last] += in_kind


@kernel(inline="always")
def logit_probabilities(u, rationality, out):
    """Quantal-response probabilities of the actions from utilities ``u`` into ``out``:
    ``exp(z_a - max z) / sum_b exp(z_b - max z)`` with ``z = rationality * u``. The
    largest term is exp(0) = 1 and is not computed; the sum runs in action order."""
    n = u.shape[0]
    top = rationality * u[0]
    for a in range(1, n):
        top = max(top, rationality * u[a])
    total = 0.0
    for a in range(n):
        z = rationality * u[a]
        e = 1.0 if z == top else np.exp(z - top)
        out[a] = e
        total += e
    for a in range(n):
        out[a] = out[a] / total


@kernel(inline="always")
def draw(prob, u):
    """The action whose cumulative-probability interval holds the uniform ``u``: the
    number of cumulative sums ``prob[0] + … + prob[a]`` (a < last) that ``u`` reaches."""
    action = 0
    cum = 0.0
    for a in range(prob.shape[0] - 1):
        cum += prob[a]
        action += int(u >= cum)
    return action

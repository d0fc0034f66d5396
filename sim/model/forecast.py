"""Forecasts from a recorded history: what the model expects each actor to do in the months ahead.

After a record has been replayed up to an origin (:mod:`sim.model.likelihood`), the
state, the trust and the public beliefs are those the history left. A forecast plays
the months after it as a run would — every actor decides with the model's own
functions (:func:`~sim.model.dynamics.decide`), beliefs learn from the moves and the
imagery, the state moves — with each actor's private type drawn from the **belief at
the origin**, not from the prior: an observer who has watched the history knows no
more, and no less, than that belief.

What a path contributes at each month h is not the action it drew but the
probabilities an observer of that path would give (the belief-weighted mixture over
the types, the belief updated along the path): the average over paths is the same
forecast with less noise (Rao–Blackwell), and at h = 1 it is the exact one-step
probability of the likelihood. As in the likelihood, outcomes are not applied: a
record goes on whatever the model would call it. Beliefs about the types are learned
along every path under both models, as the likelihood learns them (under the trust
rule they only weight the observer's mixture; trust keeps its rule).
"""

from __future__ import annotations

from sim.model.beliefs import pick_type
from sim.model.dynamics import advance, begin_round, decide, imagery, learn_moves
from sim.model.jit import kernel
from sim.model.names import TP, T
from sim.model.rng import uniform


@kernel(inline="always")
def types_from_belief(types, belief, n_types, fixed_type, starts):
    """Each actor's private type for a forecast path: the fixed one, or drawn from the
    public belief with round 0 of the actor's own stream (as a run draws from the prior)."""
    for i in range(types.shape[0]):
        if fixed_type[i] >= 0:
            types[i] = fixed_type[i]
        elif n_types[i] > 1:
            types[i] = pick_type(uniform(starts[i], 0), belief[i], n_types[i])
        else:
            types[i] = 0


@kernel
def forecast_path(
    horizon, x, trust, last, tally, counts, peak, belief, theta, initial, coef, terms, effects,
    tparams, starts, counterpart, target, principal, policy, rule_params, script, forced, report,
    shift, tracked, n_types, fixed_type, model, types, actions, probs, f, u, lik, out,
):  # fmt: skip
    """Play ``horizon`` months from the state in the arrays (updated in place) and add each
    month's forecast to ``out[h, i, a]`` (months ahead x actors x actions): the
    observer's probability of actor i's action a in month h given the path so far.

    ``types``, ``actions``, ``probs`` (actor x type x action), ``f``, ``u`` and ``lik`` are work
    arrays; ``starts`` are the path's random streams (one per actor, then imagery).
    """
    n = last.shape[0]
    types_from_belief(types, belief, n_types, fixed_type, starts)
    for h in range(horizon):
        t = tally[T.round] + 1
        begin_round(x, trust, tally, shift, target, principal)
        for i in range(n):
            actions[i] = decide(
                i, x, trust, last, tally, coef, terms, types, theta, starts, counterpart,
                principal, policy, rule_params, script, forced, n_types, True, probs, f, u, tparams,
            )  # fmt: skip
        for i in range(n):
            if forced[t - 1, i] >= 0:
                out[h, i, forced[t - 1, i]] += 1.0
                continue
            k_n = n_types[i] if n_types[i] > 1 else 0
            if k_n == 0:
                for a in range(out.shape[2]):
                    out[h, i, a] += probs[i, types[i], a]
            else:
                for k in range(k_n):
                    for a in range(out.shape[2]):
                        out[h, i, a] += belief[i, k] * probs[i, k, a]
        if h == horizon - 1:
            break
        learn_moves(t, actions, forced, probs, belief, n_types, lik)
        covert = tparams[target, types[target], TP.covert]
        flagged, _, _ = imagery(t, actions[target], covert, theta, starts, report)
        advance(
            t, x, trust, last, tally, counts, peak, actions, flagged, effects, initial, theta,
            target, tracked, belief, tparams, n_types, model, True, report[t - 1], covert, lik,
        )  # fmt: skip

"""The batch engine's compiled loop: the one-run functions of :mod:`sim.model.dynamics` over many runs.

Runs are independent, so they are spread over threads (numba's ``prange``);
each run draws its random numbers from its own seed (:mod:`sim.model.rng`), so
results do not depend on the number of threads or on how runs are chunked.
The states and actions tables are gathered from the histories here too
(:func:`states_rows`, :func:`actions_rows`), each run's rows by one thread.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import prange

from sim.model.beliefs import draw_types
from sim.model.decisions import felt_relief_kernel
from sim.model.dynamics import play, record_round, start_run
from sim.model.forecast import forecast_path
from sim.model.jit import kernel
from sim.model.likelihood import replay
from sim.model.names import TP, Feature, T, V
from sim.model.rng import stream_start

N_FEATURES = len(Feature)
N_TALLY = len(T)

#: Held while a parallel kernel runs: numba's default thread pool takes one at a time.
parallel_lock = threading.Lock()


@kernel
def stream_starts(seed, streams, out):
    """The start of each random stream of a run with ``seed``."""
    for k in range(streams.shape[0]):
        out[k] = stream_start(seed, streams[k])


@kernel(parallel=True, nrt=True)
def simulate_batch(
    seeds, slot, theta, initial, trust0, coef, effects, streams,
    counterpart, target, principal, policy, rule_params, script, forced, report, shift, tracked,
    t_stop, fresh,
    X, TRUST, LAST, TALLY, COUNTS, PEAK,
    record, REC_X, REC_ACTIONS, REC_TRUST, REC_FLAG,
    terms, tparams, n_types, fixed_type, model, TYPES, BELIEF,
):  # fmt: skip
    """Play every run r (parameters ``slot[r]``, seed ``seeds[r]``) through round ``t_stop``.

    With ``fresh`` each run starts at round 0 from its parameters; otherwise it goes
    on from the state in the arrays (a branch: the same runs under other parameters
    from a given round). Upper-case arrays hold one row per run and are updated in
    place; with ``record`` the history arrays get each played round.
    """
    rounds = script.shape[0]
    n_actors, n_features = counterpart.shape[0], N_FEATURES
    n_actions = coef.shape[3]  # (sets, actors, types, actions, terms): the action table's rows
    for r in prange(seeds.shape[0]):
        s = slot[r]
        starts = np.empty(streams.shape[0], dtype=np.uint64)
        actions = np.empty(n_actors, dtype=np.int64)
        probs = np.empty((n_actors, tparams.shape[2], n_actions))
        f, u, lik = np.empty(n_features), np.empty(n_actions), np.empty(tparams.shape[2])
        stream_starts(seeds[r], streams, starts)
        if fresh:
            start_run(
                X[r], TRUST[r], LAST[r], TALLY[r], COUNTS[r], PEAK[r], initial[s], trust0[s], rounds,
                BELIEF[r], tparams[s], n_types, model,
            )  # fmt: skip
            draw_types(TYPES[r], tparams[s], n_types, fixed_type, starts)
            if record:
                record_round(
                    0,
                    X[r],
                    TRUST[r],
                    TALLY[r],
                    LAST[r],
                    counterpart,
                    REC_X[r],
                    REC_ACTIONS[r],
                    REC_TRUST[r],
                    REC_FLAG[r],
                )
        play(
            t_stop, X[r], TRUST[r], LAST[r], TALLY[r], COUNTS[r], PEAK[r],
            theta[s], initial[s], coef[s], effects[s], starts,
            counterpart, target, principal, policy, rule_params, script, forced, report, shift, tracked,
            record, REC_X[r], REC_ACTIONS[r], REC_TRUST[r], REC_FLAG[r], actions, probs, f, u,
            terms[s], tparams[s], n_types, model, TYPES[r], BELIEF[r], lik,
        )  # fmt: skip
        if record:  # the rounds after the run ended: blank (the history may be reused memory)
            blank_rounds(TALLY[r][T.round] + 1, REC_X[r], REC_ACTIONS[r], REC_TRUST[r], REC_FLAG[r])


@kernel(inline="always")
def blank_rounds(first, rec_x, rec_actions, rec_trust, rec_flag):
    """Mark rounds ``first`` … of a run's history unplayed: NaN state and trust, action -1."""
    for t in range(first, rec_x.shape[0]):
        for v in range(rec_x.shape[1]):
            rec_x[t, v] = np.nan
        for i in range(rec_actions.shape[1]):
            rec_actions[t, i] = -1
            rec_trust[t, i] = np.nan
        rec_flag[t] = False


@kernel(nrt=True)
def _replay_one(
    s, observed, flagged, theta, initial, trust0, coef, effects,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
    terms, tparams, n_types, model, report, BELIEF, LOGF,
):  # fmt: skip
    """:func:`~sim.model.likelihood.replay` for parameter set ``s``, with its work arrays."""
    n_actions = coef.shape[3]
    out, f, u = np.empty(n_actions), np.empty(N_FEATURES), np.empty(n_actions)
    lik, mix = np.empty(tparams.shape[2]), np.empty(n_actions)
    replay(
        observed, flagged, theta[s], initial[s], trust0[s], coef[s], effects[s],
        counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
        X[s], TRUST[s], LAST[s], TALLY[s], COUNTS[s], PEAK[s], LOGP[s], PROBS[s], out, f, u,
        terms[s], tparams[s], n_types, model, report, BELIEF[s], lik, mix, LOGF[s],
    )  # fmt: skip


@kernel(parallel=True, nrt=True)
def replay_batch(
    observed, flagged, theta, initial, trust0, coef, effects,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
    terms, tparams, n_types, model, report, BELIEF, LOGF,
):  # fmt: skip
    """Replay one recorded history under every parameter set s (rows of theta, …), on
    all threads: ``LOGP[s, t, i]``, ``PROBS[s, t, i]``, ``LOGF[s, t]`` and the state and
    belief after the record."""
    for s in prange(theta.shape[0]):
        _replay_one(
            s, observed, flagged, theta, initial, trust0, coef, effects,
            counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
            X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
            terms, tparams, n_types, model, report, BELIEF, LOGF,
        )  # fmt: skip


@kernel(nrt=True)
def replay_serial(
    observed, flagged, theta, initial, trust0, coef, effects,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
    terms, tparams, n_types, model, report, BELIEF, LOGF,
):  # fmt: skip
    """:func:`replay_batch` on the calling thread: for the few dozen parameter sets of an
    optimiser's or a sampler's step, a thread pool costs more than it saves (and
    multiplies the CPU time on a busy machine). The numbers are the same bit for bit."""
    for s in range(theta.shape[0]):
        _replay_one(
            s, observed, flagged, theta, initial, trust0, coef, effects,
            counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
            X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
            terms, tparams, n_types, model, report, BELIEF, LOGF,
        )  # fmt: skip


@kernel(parallel=True, nrt=True)
def forecast_batch(
    horizon, n_paths, seeds, theta, initial, coef, terms, effects, tparams, streams,
    counterpart, target, principal, policy, rule_params, script, forced, report, shift, tracked,
    n_types, fixed_type, model, X, TRUST, LAST, TALLY, COUNTS, PEAK, BELIEF, OUT,
):  # fmt: skip
    """``OUT[s, h, i, a]``: the model's forecast of actor i's action a, h + 1 months after
    the state of parameter set s (``X[s]``, …, ``BELIEF[s]``: a replayed record), averaged
    over ``n_paths`` paths (:func:`~sim.model.forecast.forecast_path`); path p of set s
    draws from the random streams of seed ``seeds[s] + p``. On all threads; the state
    arrays are not changed."""
    n_actors, n_actions = counterpart.shape[0], OUT.shape[3]
    Kt = tparams.shape[2]
    for s in prange(theta.shape[0]):
        starts = np.empty(streams.shape[0], dtype=np.uint64)
        types, actions = np.empty(n_actors, dtype=np.int64), np.empty(n_actors, dtype=np.int64)
        probs = np.zeros((n_actors, Kt, n_actions))
        f, u, lik = np.empty(N_FEATURES), np.empty(n_actions), np.empty(Kt)
        for h in range(horizon):
            for i in range(n_actors):
                for a in range(n_actions):
                    OUT[s, h, i, a] = 0.0
        for p in range(n_paths):
            x, trust, last = X[s].copy(), TRUST[s].copy(), LAST[s].copy()
            tally, counts, peak, belief = (
                TALLY[s].copy(),
                COUNTS[s].copy(),
                PEAK[s].copy(),
                BELIEF[s].copy(),
            )
            stream_starts(seeds[s] + p, streams, starts)
            forecast_path(
                horizon, x, trust, last, tally, counts, peak, belief, theta[s], initial[s],
                coef[s], terms[s], effects[s], tparams[s], starts, counterpart, target, principal,
                policy, rule_params, script, forced, report, shift, tracked, n_types, fixed_type, model,
                types, actions, probs, f, u, lik, OUT[s],
            )  # fmt: skip
        for h in range(horizon):
            for i in range(n_actors):
                for a in range(n_actions):
                    OUT[s, h, i, a] /= n_paths


#: Codes of the parameter arrays a free value can be written into (:func:`loglik_sets`).
WRITABLE = ("theta", "initial", "trust0", "weights", "effects", "tshift", "tparams")


@kernel(nrt=True)
def _loglik_one(
    s, values, w_param, w_array, w_offset, refresh, fix_prior,
    theta0, initial0, trust00, weights0, effects0, tshift0, tparams0, coef0, terms,
    rest_type, observed, flagged, mask, use_flags,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    n_types, model, report,
):  # fmt: skip
    """The log-likelihood of the ``mask`` months under parameter set ``s``: the fixed
    parameters with row ``s`` of ``values`` written in, replayed (see :func:`loglik_sets`)."""
    theta, initial, trust0 = theta0.copy(), initial0.copy(), trust00.copy()
    weights, effects, tshift = weights0.copy(), effects0.copy(), tshift0.copy()
    tparams, coef = tparams0.copy(), coef0.copy()
    flat = (theta, initial, trust0, weights.reshape(-1), effects.reshape(-1), tshift.reshape(-1),
            tparams.reshape(-1))  # fmt: skip
    for w in range(w_param.shape[0]):
        v = values[s, w_param[w]]
        a, o = w_array[w], w_offset[w]
        if a == 0:
            flat[0][o] = v
        elif a == 1:
            flat[1][o] = v
        elif a == 2:
            flat[2][o] = v
        elif a == 3:
            flat[3][o] = v
        elif a == 4:
            flat[4][o] = v
        elif a == 5:
            flat[5][o] = v
        else:
            flat[6][o] = v
    for r in range(refresh.shape[0]):  # a free weight's place in the engines' short lists
        i, ty, act, m, k = refresh[r, 0], refresh[r, 1], refresh[r, 2], refresh[r, 3], refresh[r, 4]
        coef[i, ty, act, m] = weights[i, act, k] + tshift[i, ty, act, k]
    if fix_prior:  # the rest type's prior: 1 - the others' (sim.model.compile.rest_of_prior)
        for i in range(rest_type.shape[0]):
            k = rest_type[i]
            if k >= 0:
                total = 0.0
                for j in range(max(1, n_types[i])):
                    total += tparams[i, j, TP.prior]
                tparams[i, k, TP.prior] = min(
                    1.0, max(0.0, 1.0 - (total - tparams[i, k, TP.prior]))
                )
    M, A = observed.shape
    n_actions = coef.shape[2]  # (actors, types, actions, terms)
    x, trust = np.empty(initial.shape[0]), np.empty((A, A))
    last, tally = np.empty(A, dtype=np.int64), np.empty(N_TALLY, dtype=np.int64)
    counts, peak = np.empty((A, n_actions), dtype=np.int64), np.empty(2)
    logp, probs, logf = np.empty((M, A)), np.empty((M, A, n_actions)), np.empty(M)
    belief = np.empty((A, tparams.shape[1]))
    out, f, u = np.empty(n_actions), np.empty(N_FEATURES), np.empty(n_actions)
    lik, mix = np.empty(tparams.shape[1]), np.empty(n_actions)
    replay(
        observed, flagged, theta, initial, trust0, coef, effects,
        counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
        x, trust, last, tally, counts, peak, logp, probs, out, f, u,
        terms, tparams, n_types, model, report, belief, lik, mix, logf,
    )  # fmt: skip
    picked, n = np.empty(M * A), 0
    for t in range(M):
        if mask[t]:
            for i in range(A):
                picked[n] = logp[t, i]
                n += 1
    total = pairwise_sum(picked, 0, n)
    if use_flags:
        n = 0
        for t in range(M):
            if mask[t]:
                picked[n] = logf[t]
                n += 1
        total = total + pairwise_sum(picked, 0, n)
    return total


@kernel(inline="always")
def _block_sum(a, lo, n):
    """numpy's pairwise sum of a block of at most 128 numbers (eight partial sums)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel(nrt=True)
def pairwise_sum(a, lo, n):
    """``a[lo:lo + n].sum()`` as numpy computes it (pairwise: halves split at a multiple of
    8 down to blocks of at most 128, each summed with eight partial sums), so a sum made
    here has numpy's bits: the compiled log-likelihood is the one numpy summed from the
    replay, to the last bit. (The halving runs on an explicit stack: numba's cache cannot
    hold a recursive function.)"""
    if n <= 128:
        return _block_sum(a, lo, n)
    depth = 64
    s_lo, s_n = np.empty(depth, dtype=np.int64), np.empty(depth, dtype=np.int64)
    s_stage, vals = np.zeros(depth, dtype=np.int64), np.empty(depth)
    top, nv = 0, 0
    s_lo[0], s_n[0], s_stage[0] = lo, n, 0
    while top >= 0:
        m = s_n[top]
        if m <= 128:
            vals[nv] = _block_sum(a, s_lo[top], m)
            nv += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if s_stage[top] == 0:
            s_stage[top] = 1
            top += 1
            s_lo[top], s_n[top], s_stage[top] = s_lo[top - 1], half, 0
        elif s_stage[top] == 1:
            s_stage[top] = 2
            top += 1
            s_lo[top], s_n[top], s_stage[top] = s_lo[top - 1] + half, m - half, 0
        else:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
            top -= 1
    return vals[0]


@kernel(nrt=True)
def loglik_sets(
    values, w_param, w_array, w_offset, refresh, fix_prior,
    theta0, initial0, trust00, weights0, effects0, tshift0, tparams0, coef0, terms,
    rest_type, observed, flagged, mask, use_flags,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    n_types, model, report, out,
):  # fmt: skip
    """``out[s]``: the exact log-likelihood of a record's ``mask`` months (moves, and with
    ``use_flags`` the imagery verdicts) under each row ``s`` of ``values``, in one call on
    the calling thread.

    Row s's parameters are the fixed ones (the arrays ending in 0, one parameter set)
    with free value ``values[s, w_param[w]]`` written at flat offset ``w_offset[w]`` of
    array ``WRITABLE[w_array[w]]`` for every write w; ``refresh`` rows (actor, type,
    action, place, feature) are the engines' weight terms a free weight or shift moves.
    The replay is :func:`~sim.model.likelihood.replay`, summed month by month in actor
    order. An optimiser's or sampler's step is a few dozen sets: one compiled call with
    no arrays made in Python is what keeps the estimation's cost near the model's own.
    """
    for s in range(values.shape[0]):
        out[s] = _loglik_one(
            s, values, w_param, w_array, w_offset, refresh, fix_prior,
            theta0, initial0, trust00, weights0, effects0, tshift0, tparams0, coef0, terms,
            rest_type, observed, flagged, mask, use_flags,
            counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
            n_types, model, report,
        )  # fmt: skip


@kernel(parallel=True)
def states_rows(played, offset, run_ids, seeds, rec_x, rec_flag, run, seed, rnd, x, felt, flag):
    """The states table's columns: run r's rounds 0..played[r] go to rows ``offset[r]``…
    (``x[v]`` is variable v's column), on all threads."""
    relief, enforcement = V.relief, V.enforcement
    for r in prange(played.shape[0]):
        o = offset[r]
        for t in range(played[r] + 1):
            run[o + t] = run_ids[r]
            seed[o + t] = seeds[r]
            rnd[o + t] = t
            for v in range(x.shape[0]):
                x[v, o + t] = rec_x[r, t, v]
            felt[o + t] = felt_relief_kernel(rec_x[r, t, relief], rec_x[r, t, enforcement])
            flag[o + t] = rec_flag[r, t]


@kernel(parallel=True)
def actions_rows(played, offset, run_ids, rec_actions, rec_trust, run, rnd, actor, action, trust):
    """The actions table's columns: run r's played rounds 1..played[r], one row per actor,
    from row ``offset[r]`` on, on all threads."""
    n = rec_actions.shape[2]
    for r in prange(played.shape[0]):
        o = offset[r]
        for t in range(1, played[r] + 1):
            for i in range(n):
                run[o] = run_ids[r]
                rnd[o] = t
                actor[o] = i
                action[o] = rec_actions[r, t, i]
                trust[o] = rec_trust[r, t, i]
                o += 1

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
from sim.model.jit import kernel
from sim.model.likelihood import replay
from sim.model.names import Feature, T, V
from sim.model.rng import stream_start

N_FEATURES = len(Feature)

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
    counterpart, target, principal, policy, period, script, forced, report, shift, tracked,
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
    for r in prange(seeds.shape[0]):
        s = slot[r]
        starts = np.empty(streams.shape[0], dtype=np.uint64)
        actions = np.empty(n_actors, dtype=np.int64)
        probs = np.empty((n_actors, tparams.shape[2], 3))
        f, u, lik = np.empty(n_features), np.empty(3), np.empty(tparams.shape[2])
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
            counterpart, target, principal, policy, period, script, forced, report, shift, tracked,
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


@kernel(parallel=True, nrt=True)
def replay_batch(
    observed, flagged, theta, initial, trust0, coef, effects,
    counterpart, target, principal, policy, period, script, forced, shift, tracked,
    X, TRUST, LAST, TALLY, COUNTS, PEAK, LOGP, PROBS,
    terms, tparams, n_types, model, report, BELIEF, LOGF,
):  # fmt: skip
    """Replay one recorded history under every parameter set s (rows of theta, …), on
    all threads: ``LOGP[s, t, i]``, ``PROBS[s, t, i]``, ``LOGF[s, t]`` and the state and
    belief after the record."""
    n_features = N_FEATURES
    for s in prange(theta.shape[0]):
        out, f, u = np.empty(3), np.empty(n_features), np.empty(3)
        lik, mix = np.empty(tparams.shape[2]), np.empty(3)
        replay(
            observed, flagged, theta[s], initial[s], trust0[s], coef[s], effects[s],
            counterpart, target, principal, policy, period, script, forced, shift, tracked,
            X[s], TRUST[s], LAST[s], TALLY[s], COUNTS[s], PEAK[s], LOGP[s], PROBS[s], out, f, u,
            terms[s], tparams[s], n_types, model, report, BELIEF[s], lik, mix, LOGF[s],
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

"""A reference kernel in plain numpy: the model's arithmetic vectorized over runs.

This is *not* part of the package. It is the yardstick for the benchmark
(``experiments/benchmark_engines.py``): the same arithmetic as
:mod:`sim.model.dynamics` — features, utilities, logit, draw, imagery,
transition, outcome — written the way a numpy programmer would, with every
array operation over all runs at once (the package's engine before it was
compiled), laid out so that every operation reads contiguous memory. It covers
what the benchmark runs: logit actors, no types, no events, no rule policies.

It was removed in 03a9e4a when the test suite's oracle (``tests/oracle.py``, the
whole model, written for clarity rather than speed) took its place in the
benchmark, and restored here (issue 23) because the engine's speed goal ("8x the
numpy floor") was set against *this* kernel: the fast way to write the model in
numpy, not the clear one. Updated to today's model: the lag features
(``conceded``, ``escalated``, ``concession``) and momentum (``inertia``,
``in_kind``). Its random numbers follow the same seed -> stream mapping
(:mod:`sim.model.rng`), computed with numpy's uint64 arithmetic, so its runs can
be compared with the compiled engine's.

Usage::

    python experiments/reference_numpy.py     # checks it against the engine on 2,000 runs
"""

from __future__ import annotations

import numpy as np

from sim.model.compile import Compiled
from sim.model.names import TP, Action, F, Outcome, V
from sim.model.params import P
from sim.model.policies import code as policy_code

_M1, _M2, _GAMMA = (
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0x9E3779B97F4A7C15),
)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_starts(seeds: np.ndarray, streams: np.ndarray) -> np.ndarray:
    """(streams, runs) SplitMix64 starting states, as in :func:`sim.model.rng.stream_start`."""
    with np.errstate(over="ignore"):
        return _mix(_mix(seeds.astype(np.uint64))[None, :] ^ streams[:, None])


def uniforms(starts: np.ndarray, t: int) -> np.ndarray:
    """Round ``t``'s uniform for every stream and run."""
    with np.errstate(over="ignore"):
        z = _mix(starts + np.uint64(t) * _GAMMA)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def simulate(c: Compiled, seeds: np.ndarray) -> dict[str, np.ndarray]:
    """Play every run of ``c`` (logit actors, no events) to its end; return outcome and tallies."""
    s = c.structure
    if (
        (s.policy != policy_code("logit")).any()
        or s.shift.any()
        or s.forced.max() >= 0
        or s.report.any()
        or s.n_types.any()
    ):
        raise ValueError(
            "the reference kernel covers logit actors without types or scheduled events "
            "(make_config(model='trust_rule', actors=NO_TYPES))"
        )
    R, A = len(seeds), s.n_actors
    theta = c.theta[c.slot].T  # (P, R)
    # laid out so that every operation below reads contiguous memory
    w = np.ascontiguousarray(c.weights[c.slot].transpose(3, 1, 2, 0))  # (K, A, 3, R)
    eff = np.ascontiguousarray(c.effects[c.slot].transpose(2, 1, 3, 0))  # (3, A, V, R)
    initial = c.initial[c.slot].T  # (V, R)
    x = initial.copy()
    tp = c.tparams[c.slot][:, :, 0].transpose(2, 1, 0)  # (TP, A, R), the only type
    inertia, in_kind = tp[TP.inertia], tp[TP.in_kind]
    rows_a, runs = np.arange(A)[:, None], np.arange(R)[None, :]
    trust = np.repeat(c.trust0[c.slot].T[:, None, :], A, axis=1)  # (A, A, R)
    trust[np.arange(A), np.arange(A)] = 1.0
    last = np.full((A, R), Action.HEDGE, dtype=np.int64)
    flagged = np.zeros(R)
    outcome = np.zeros(R, dtype=np.int64)
    counts = np.zeros((A, 3, R))
    starts = stream_starts(np.asarray(seeds), s.streams)
    cp = s.counterpart
    kappa = theta[P.kappa]
    best = np.minimum(x[V.denuclearization], 0.5 * (x[V.assurance] + x[V.relief]))
    last_progress = np.zeros(R, dtype=np.int64)
    for t in range(1, s.rounds + 1):
        live = outcome == Outcome.UNDECIDED
        if not live.any():
            break
        u = uniforms(starts, t)
        f = np.empty((len(F), A, R))
        felt = 1.0 - (1.0 - x[V.relief]) * x[V.enforcement]
        trust_cp = trust[np.arange(A), cp]  # (A, R)
        last_cp = last[cp]
        f[F.bias] = 1.0
        f[F.package] = x[V.assurance] * felt
        f[F.insecurity] = 1.0 - x[V.assurance]
        f[F.tension] = x[V.tension]
        f[F.trust] = trust_cp
        f[F.reciprocity] = np.where(last_cp == Action.CONCEDE, trust_cp, 0.0)
        f[F.provocation] = last_cp == Action.ESCALATE
        f[F.alarm] = flagged * theta[P.detection_response]
        f[F.unverified] = kappa * (1.0 - x[V.denuclearization])
        f[F.hedge_risk] = kappa * theta[P.detect_prob] * x[V.relief]
        f[F.stalemate] = theta[P.stalemate_cost]
        f[F.exposure] = kappa * (1.0 - trust[:, s.principal])
        f[F.conceded] = last == Action.CONCEDE
        f[F.escalated] = last == Action.ESCALATE
        f[F.concession] = last_cp == Action.CONCEDE
        util = np.zeros((A, 3, R))
        for k in range(len(F)):  # summed in feature order
            util += w[k] * f[k][:, None, :]
        if inertia.any():  # momentum (a zero term is skipped, as in the engine)
            util[rows_a, last, runs] += inertia
        if in_kind.any():
            util[rows_a, last_cp, runs] += in_kind
        z = theta[P.rationality] * util
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        actions = (u[:A] >= p[:, 0]).astype(np.int64) + (u[:A] >= p[:, 0] + p[:, 1])
        hedged = actions[s.target] == Action.HEDGE
        detected = hedged & (u[A] < theta[P.detect_prob])
        false_alarm = ~hedged & (u[A] < theta[P.false_alarm_prob])
        flag = detected | false_alarm
        act = actions[:, None, :]
        push = np.where(act == 0, eff[0], np.where(act == 1, eff[1], eff[2]))  # (A, V, R)
        pos = np.maximum(push, 0.0).sum(axis=0)
        neg = np.maximum(-push, 0.0).sum(axis=0)
        new = x + theta[P.step_size] * (pos * (1.0 - x) - neg * x)
        new[V.relief] -= flag * kappa * theta[P.snapback] * new[V.relief]
        for v in (V.assurance, V.relief, V.enforcement):
            new[v] += theta[P.reversion] * (initial[v] - new[v])
        new[V.tension] += theta[P.tension_decay] * (initial[V.tension] - new[V.tension])
        new[V.denuclearization] -= theta[P.reversibility] * new[V.denuclearization]
        new = np.clip(new, 0.0, 1.0)
        tr = trust + (actions == Action.CONCEDE)[None] * theta[P.trust_gain] * (1.0 - trust)
        tr = tr - (actions == Action.ESCALATE)[None] * theta[P.trust_loss] * tr
        tr[:, s.target] -= flag * theta[P.trust_loss] * tr[:, s.target]
        tr[np.arange(A), np.arange(A)] = 1.0
        tr = np.clip(tr, 0.0, 1.0)
        x = np.where(live, new, x)
        level = np.minimum(x[V.denuclearization], 0.5 * (x[V.assurance] + x[V.relief]))
        moved = live & (level >= best + theta[P.progress_step])
        best = np.where(moved, level, best)
        last_progress = np.where(moved, t, last_progress)
        trust = np.where(live, tr, trust)
        for a in range(3):
            counts[:, a] += (actions == a) & live
        last = np.where(live, actions, last)
        flagged = np.where(live, flag, flagged)
        broke = x[V.tension] >= theta[P.breakdown_threshold]
        bar = theta[P.agreement_threshold]
        agreed = (x[V.denuclearization] >= bar) & (0.5 * (x[V.assurance] + x[V.relief]) >= bar)
        now = np.where(
            broke, Outcome.BREAKDOWN, np.where(agreed, Outcome.AGREEMENT, Outcome.UNDECIDED)
        )
        if t == s.rounds:
            grew = x[V.undeclared] - initial[V.undeclared] > theta[P.hedged_margin]
            final = np.where(grew, Outcome.HEDGED_STALEMATE, Outcome.STALEMATE)
            final = np.where(
                t - last_progress < theta[P.stalemate_window], Outcome.UNDECIDED, final
            )
            now = np.where(now == Outcome.UNDECIDED, final, now)
        outcome = np.where(live, now, outcome)
    return {"outcome": outcome, "x": x.T, "counts": counts}


if __name__ == "__main__":
    from sim import make_config
    from sim.engines.batch import simulate as engine
    from sim.model.compile import compile_configs
    from sim.model.names import T

    n = 2000
    from sim.model.params import NO_TYPES

    cfg = make_config(
        assurance=0.7, relief=0.6, regime="action_for_action", model="trust_rule", actors=NO_TYPES
    )
    c = compile_configs([cfg] * n)
    seeds = np.arange(n)
    ref = simulate(c, seeds)
    st, _ = engine(c, seeds, record=False)
    same = (ref["outcome"] == st.tally[:, T.outcome]).mean()
    print(
        f"reference numpy kernel vs compiled engine, {n} runs: same outcome in {same:.1%} of runs; "
        f"largest difference in the final state {np.abs(ref['x'] - st.x).max():.2e}"
    )

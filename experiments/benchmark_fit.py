"""How fast is the fit? The likelihood per parameter vector, the evaluations each stage makes,
and ``stalemate-fit`` end to end, side by side with the path it replaced, in one run.

- the exact log-likelihood of the packaged record (24 months x 4 actors) per parameter
  vector, in batches of 1, 16 and 64: the compiled call (``RecordModel.loglik``:
  ``loglik_sets``) against the earlier path (``with_values`` + ``replay_batch`` +
  numpy sums), both computing the same numbers (checked here, to the bit);
- the evaluations each stage of a fit makes: the posterior's mode and Laplace
  approximation (the default), and emcee with the convergence stop
  (``fit.posterior=mcmc``) on the six free parameters of the earlier default;
- ``stalemate-fit`` end to end on the packaged record (a subprocess: imports included).

Every line carries the load average: on a shared machine wall times move with it.

    python experiments/benchmark_fit.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def timed(fn, n: int) -> tuple[float, float]:
    """Mean wall and CPU seconds of ``fn()`` over ``n`` calls (after one warm-up call)."""
    fn()
    w, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - w) / n, (time.process_time() - c) / n


def old_path(rm, values, months):
    """The earlier evaluation: copies of every parameter array (with_values), a
    threaded replay, numpy sums."""
    from sim.engines.kernels import replay_batch
    from sim.engines.state import State

    c = rm.compiled_for(values)
    s = c.structure
    U, M, A = len(values), rm.record.n_months, s.n_actors
    st = State.empty(U, A, c.tparams.shape[2])
    logp, probs, logf = np.empty((U, M, A)), np.empty((U, M, A, 3)), np.empty((U, M))
    replay_batch(rm.observed, rm.flagged, c.theta, c.initial, c.trust0, c.coef, c.effects,
                 s.counterpart, s.target, s.principal, s.policy, s.rule_params, s.script, s.forced,
                 s.shift, s.tracked(), st.x, st.trust, st.last, st.tally, st.counts, st.peak,
                 logp, probs, c.terms, c.tparams, s.n_types, s.model, s.report, st.belief, logf)  # fmt: skip
    picked = np.ascontiguousarray(logp[:, months, :]).reshape(U, -1)
    return picked.sum(axis=1) + np.ascontiguousarray(logf[:, months]).sum(axis=1)


def main() -> None:
    from sim.analysis.estimate import RecordModel, laplace_posterior, sample_posterior
    from sim.analysis.record import load_record

    rec = load_record("us_dprk_2018_2019")
    train = rec.window("2018-01:2019-02")
    rm = RecordModel(rec)
    rng = np.random.default_rng(0)
    print(f"The likelihood of {rec.name} ({rec.n_months} months x {len(rec.actors)} actors), "
          f"{len(rm.keys)} free parameters, per parameter vector ({load()}):")  # fmt: skip
    for U in (1, 16, 64):
        v = rm.from_free(
            rm.to_free(rm.default_values())[0] + 0.3 * rng.standard_normal((U, len(rm.keys)))
        )
        assert np.array_equal(rm.loglik(v, train), old_path(rm, v, train)), "the two paths differ"
        n = max(20, 4000 // U)
        new_w, new_c = timed(lambda v=v: rm.loglik(v, train), n)
        old_w, old_c = timed(lambda v=v: old_path(rm, v, train), n)
        print(f"  batch {U:3}: compiled call {1e6 * new_w / U:7.1f} µs wall, {1e6 * new_c / U:7.1f} µs CPU per vector; "
              f"earlier path {1e6 * old_w / U:7.1f} µs wall, {1e6 * old_c / U:7.1f} µs CPU "
              f"({old_c / new_c:4.1f}x the CPU; {load()})")  # fmt: skip
    calls = {"sets": 0, "calls": 0}
    real = rm.loglik

    def counting(values, months, flags=True):
        calls["sets"] += np.atleast_2d(values).shape[0]
        calls["calls"] += 1
        return real(values, months, flags)

    rm.loglik = counting
    w, c = time.perf_counter(), time.process_time()
    laplace_posterior(rm, train, draws=4000, restarts=4, seed=0)
    print(f"Posterior mode and Laplace approximation ({len(rm.keys)} parameters, 4 restarts): "
          f"{calls['calls']:,} calls, {calls['sets']:,} parameter vectors, {time.perf_counter() - w:.1f} s wall, "
          f"{time.process_time() - c:.1f} s CPU ({load()})")  # fmt: skip
    six = ["rationality", "target.concede.bias", "target.escalate.bias", "principal.concede.bias",
           "principal.escalate.bias", "trust_loss"]  # fmt: skip
    rm6 = RecordModel(rec, six)
    real6 = rm6.loglik
    calls.update(sets=0, calls=0)

    def counting6(values, months, flags=True):
        calls["sets"] += np.atleast_2d(values).shape[0]
        calls["calls"] += 1
        return real6(values, months, flags)

    rm6.loglik = counting6
    start = laplace_posterior(rm6, train, draws=10, restarts=2, seed=0).mode
    calls.update(sets=0, calls=0)
    w, c = time.perf_counter(), time.process_time()
    post = sample_posterior(rm6, train, start, seed=0)
    print(f"emcee on the six parameters of the earlier default, stopped once converged: "
          f"{post.chains.shape[1] + 500:,} steps, {calls['calls']:,} calls, {calls['sets']:,} vectors, "
          f"{time.perf_counter() - w:.1f} s wall, {time.process_time() - c:.1f} s CPU, converged {post.converged} ({load()})")  # fmt: skip
    exe = str(Path(sys.executable).with_name("stalemate-fit"))
    out = Path(tempfile.mkdtemp()) / "fit"
    w = time.perf_counter()
    proc = subprocess.run(
        [exe, f"hydra.run.dir={out}", "progress=false"], capture_output=True, text=True
    )
    t = os.times()  # the fit's CPU is its children's
    print(f"stalemate-fit on {rec.name}, end to end (imports, posterior, held-out scores, forecasts, figure): "
          f"{time.perf_counter() - w:.1f} s wall, {t.children_user + t.children_system:.1f} s CPU, rc {proc.returncode} ({load()})")  # fmt: skip


if __name__ == "__main__":
    main()

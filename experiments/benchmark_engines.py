"""Benchmark: the Mesa model vs the batch engine on the same runs, in one process.

Prints runs/s and agent-steps/s of each engine on the same runs (both recording
the round-by-round history the tables are built from), their ratio, whether
their results are identical, then the time and peak memory of the full sweep
shape — 21 x 21 parameter points x 100 seeds = 44,100 runs of 200 rounds with
trajectories recorded — with one and with two worker processes.

Usage::

    python experiments/benchmark_engines.py              # ~1–2 minutes
    python experiments/benchmark_engines.py --same 100   # fewer Mesa runs, quicker
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from sim.engines.batch import make_jobs, run_batch, run_mesa, simulate
from sim.model.compile import compile_configs
from sim.model.params import make_config

ROUNDS = 200


def grid_runs(points: int, seeds: int, rounds: int = ROUNDS):
    """Configs and seeds of a points x points assurance x relief sweep."""
    levels = np.linspace(0, 1, points)
    configs, seed_list = [], []
    for a in levels:
        for r in levels:
            cfg = make_config(assurance=float(a), relief=float(r), rounds=rounds)
            configs += [cfg] * seeds
            seed_list += list(range(seeds))
    return configs, seed_list


def _chunk_worker(job) -> int:
    """Simulate one chunk with its history recorded; return agent-steps played."""
    cfgs, seeds, _, record = job
    p = compile_configs(cfgs)
    state, _rec = simulate(p, seeds, record=record)
    return int(state.counts.sum())


def full_sweep(processes: int, chunk_size: int) -> None:
    """Run 44,100 x 200 rounds with trajectories recorded; print time and peak RSS (child mode)."""
    configs, seeds = grid_runs(21, 100)
    t0 = time.perf_counter()
    jobs = make_jobs(configs, seeds, True, chunk_size)
    if processes > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(processes) as pool:
            steps = sum(pool.map(_chunk_worker, jobs))
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    else:
        steps = sum(map(_chunk_worker, jobs))
        child = 0
    wall = time.perf_counter() - t0
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, child) / 1024
    print(f"{len(configs)} {wall:.3f} {steps} {rss:.0f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--same", type=int, default=300, help="runs given to both engines (default 300)"
    )
    ap.add_argument("--chunk", type=int, default=4096, help="batch chunk size")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        full_sweep(args.child, args.chunk)
        return

    print(
        f"Same runs in both engines: {args.same} runs of {ROUNDS} rounds from the 21 x 21 "
        "assurance x relief grid, 4 actors, history recorded"
    )
    configs, seeds = grid_runs(21, 100)
    pick = np.random.default_rng(0).choice(len(configs), args.same, replace=False)
    same_cfg = [configs[i] for i in pick]
    same_seeds = [seeds[i] for i in pick]

    t0 = time.perf_counter()
    mesa = run_mesa(same_cfg, same_seeds, record=True, progress=False)
    t_mesa = time.perf_counter() - t0
    times = []
    for _ in range(5):  # the batch takes a fraction of a second: median of 5 repeats
        t0 = time.perf_counter()
        batch = run_batch(same_cfg, same_seeds, record=True, progress=False)
        times.append(time.perf_counter() - t0)
    t_batch = float(np.median(times))
    identical = mesa.runs.equals(batch.runs) and mesa.trajectories.equals(batch.trajectories)
    steps = int((batch.runs["rounds_played"] * 4).sum())
    rows = [
        ("mesa", t_mesa, args.same / t_mesa, steps / t_mesa),
        ("batch", t_batch, args.same / t_batch, steps / t_batch),
    ]
    print(
        pd.DataFrame(rows, columns=["engine", "seconds", "runs/s", "agent-steps/s"]).to_string(
            index=False, float_format=lambda v: f"{v:,.3f}" if v < 1 else f"{v:,.1f}"
        )
    )
    print(
        f"batch / mesa runs/s ratio: {t_mesa / t_batch:,.0f}x  (mesa timed once, batch median of 5)  "
        f"(tables built by both; identical results: {'yes' if identical else 'NO'})"
    )

    print(
        "\nFull sweep shape: 21 x 21 points x 100 seeds = 44,100 runs x 200 rounds, "
        f"trajectories recorded in memory, chunks of {args.chunk}"
    )
    for procs in (1, 2):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(procs), "--chunk", str(args.chunk)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        n, wall, steps, rss = int(out[0]), float(out[1]), int(out[2]), float(out[3])
        print(
            f"  {procs} process{'es' if procs > 1 else '  '}: {wall:5.2f} s wall, {n / wall:,.0f} runs/s, "
            f"{steps / wall / 1e6:.1f} M agent-steps/s, peak memory {rss:,.0f} MiB (largest process)"
        )
    print(
        f"  vs mesa at its measured rate: {len(configs) / (args.same / t_mesa) / 60:,.1f} minutes"
    )


if __name__ == "__main__":
    main()

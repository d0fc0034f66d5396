"""Benchmark: the 21 x 21 stalemate map (44,100 runs of 200 rounds) through Hydra, end to end.

Runs ``stalemate -m +sweep=stalemate_map`` — launch, all jobs, collect, plot —
with the basic launcher and with the joblib launcher (2 workers), and prints the
total wall time and where it goes: simulation inside the jobs, the rest of each
job (config, validation, writing), and what remains (Hydra start-up and per-job
launching, collecting, plotting).

Usage::

    python experiments/benchmark_sweep.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.hydra.sweep import collect, plot_sweep
from sim.report.io import read_metadata

LAUNCHERS = {
    "basic": [],
    "joblib (2 workers)": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
}


def main() -> None:
    exe = str(Path(sys.executable).with_name("stalemate"))
    print(
        "stalemate -m +sweep=stalemate_map: 21 x 21 points x 100 seeds = 44,100 runs x 200 rounds"
    )
    for name, extra in LAUNCHERS.items():
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "map"
            t0 = time.perf_counter()
            subprocess.run(
                [exe, "-m", "+sweep=stalemate_map", f"hydra.sweep.dir={d}", *extra],
                check=True,
                capture_output=True,
            )
            total = time.perf_counter() - t0
            # each job writes its grid points in blocks (sim/hydra/blocks.py), each block
            # with the seconds its simulation took in its metadata
            blocks = sorted(d.glob("*/blocks/*.parquet"))
            n = len({p.parent.parent for p in blocks})
            sim_s = sum(read_metadata(p).get("timing", {}).get("simulate_s", 0.0) for p in blocks)
            assert (d / "outcome_map.png").exists() and (d / "summary.csv").exists()
            # collection and figures again, in this process with its imports warm
            t0 = time.perf_counter()
            c = collect(d)
            t_collect = time.perf_counter() - t0
            t0 = time.perf_counter()
            plot_sweep(d, c)
            t_plot = time.perf_counter() - t0
        print(
            f"\n{name}: {total:.1f} s total for {n} jobs, {len(blocks)} blocks "
            f"(launch, jobs, collect, plot; load {os.getloadavg()[0]:.2f})"
        )
        if sim_s > 0:
            print(
                f"  simulation inside jobs   {sim_s:6.1f} s  ({44_100 / sim_s:,.0f} runs/s of job time)"
            )
            print(
                f"  everything else          {total - sim_s:6.1f} s  (start-up, composing and "
                "validating 441 points, writing blocks, collect, plot)"
            )
        print(
            f"  of which, measured again with warm imports: collect {t_collect:.2f} s "
            f"(merge 441 points, Wilson intervals), figures {t_plot:.2f} s"
        )


if __name__ == "__main__":
    main()

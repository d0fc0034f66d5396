#!/usr/bin/env python3
"""Compile the model's kernels now, saying so, instead of during a user's first command.

The model's equations are compiled by numba on their first use and the machine
code is cached on disk (``sim/model/jit.py``: ``~/.cache/stalemate/numba/<hash of
the sources>``, or ``$STALEMATE_CACHE_DIR``). On a new machine the first command
would otherwise spend half a minute compiling in silence. This script runs every
engine once on a tiny input — the batch engine (``stalemate``, sweeps, the
analyses), the Mesa engine and a decision point (the classroom), the record's
likelihood (``stalemate-fit``) — so that each compiles, or finds its cache, with
a line per step. ``make`` runs it after installing; running it again costs a
second or two (everything is found in the cache).

Usage (with the project's Python)::

    python scripts/compile-kernels.py
    STALEMATE_CACHE_DIR=/tmp/empty python scripts/compile-kernels.py   # as a new machine
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def _batch() -> None:
    from sim.engines.batch import run_batch
    from sim.model.params import make_config

    cfg = make_config(rounds=4)
    run_batch([cfg] * 2, [0, 1], record=True, progress=False)
    run_batch([cfg] * 2, [0, 1], record=False, progress=False)


def _mesa() -> None:
    from sim.engines.mesa_model import NegotiationModel, run_mesa
    from sim.engines.point import decision_point
    from sim.model.params import make_config

    cfg = make_config(rounds=4)
    run_mesa([cfg], [0], progress=False)
    m = NegotiationModel(rng=0, rounds=4)  # an agent driven from Python, as on the page
    m.agent("DPRK").chooser = lambda agent, decision: None
    m.step()
    decision_point(cfg, 0, 1).probabilities("DPRK")


def _likelihood() -> None:
    import numpy as np

    from sim.analysis.estimate import RecordModel
    from sim.analysis.record import load_record, record_names

    model = RecordModel(load_record(record_names()[0]))
    model.loglik(model.default_values(), np.ones(model.record.n_months, dtype=bool))


STEPS = {
    "batch engine (stalemate, sweeps, analyses)": _batch,
    "Mesa engine and decision points (classroom)": _mesa,
    "likelihood of the record (stalemate-fit)": _likelihood,
}


def main() -> int:
    t_all = time.perf_counter()
    from sim.model.jit import CACHE_DIR

    cached = _files(CACHE_DIR)
    print(f"Compiling the model's kernels into {CACHE_DIR}", flush=True)
    print("  (once per machine and version of the model: up to a minute the first time)")
    failed = 0
    for k, (name, step) in enumerate(STEPS.items(), 1):
        print(f"  [{k}/{len(STEPS)}] {name} …", end=" ", flush=True)
        t0 = time.perf_counter()
        try:
            step()
        except Exception as err:  # noqa: BLE001 - a step that fails here compiles on first use
            failed += 1
            print(f"not compiled ({type(err).__name__}: {err}); it compiles on first use")
            continue
        print(f"{time.perf_counter() - t0:.1f} s", flush=True)
    new = _files(CACHE_DIR) - cached
    what = f"{len(new)} files compiled" if new else "all found in the cache"
    print(f"Kernels ready in {time.perf_counter() - t_all:.1f} s ({what}).")
    return 1 if failed == len(STEPS) else 0


def _files(folder: str) -> set[Path]:
    return {p for p in Path(folder).rglob("*") if p.is_file()}


if __name__ == "__main__":
    sys.exit(main())

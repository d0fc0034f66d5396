"""Parameter recovery: can a record of this length identify the free parameters?

For each of ``--sets`` parameter vectors drawn from plausible ranges (below), a
record of each length (24 and 120 months by default) is simulated from the model
with those values (``sim.analysis.record.simulated_record``: same format as the
data, every month played), the free parameters are fitted by maximum likelihood
(:func:`sim.analysis.estimate.fit_mle`), and we count how often the 95% interval
covers the true value and how far the estimate lands from it.

Writes ``results/recovery/recovery.csv`` (one row per set x length x parameter)
and prints coverage and bias per parameter and length.

Usage::

    python experiments/recovery.py                    # 50 sets x (24, 120) months, ~15 min
    python experiments/recovery.py --sets 5 --lengths 24   # a quick look
    python experiments/recovery.py --params rationality actors.DPRK.concede.bias …
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.estimate import DEFAULT_PARAMS, RecordModel, as_changes, fit_mle
from sim.analysis.record import load_record, simulated_record
from sim.report.io import write_text

#: Ranges the true values are drawn from (uniform): where the model behaves like
#: negotiating states (not frozen, not random), by kind of parameter.
TRUTH_RANGES = {
    "rationality": (0.5, 3.0),
    "trust_gain": (0.05, 0.4),
    "trust_loss": (0.05, 0.4),
    "bias": (-1.5, 1.5),
    "reciprocity": (0.0, 3.0),
    "provocation": (0.0, 3.0),
}


def truth_range(key: str) -> tuple[float, float]:
    for name, r in TRUTH_RANGES.items():
        if key == name or key.endswith("." + name):
            return r
    return (-1.0, 1.0)


def recover(params, sets: int, lengths, restarts: int, seed: int, record: str = "us_dprk_2018_2019",
            progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Simulate, fit and compare; one row per set x length x parameter."""
    base = load_record(record)
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(sets):
        truth = np.array([rng.uniform(*truth_range(k)) for k in params])
        for months in lengths:
            cfg = base.config(rounds=months, agreement_threshold=1.0, breakdown_threshold=1.0,
                              **as_changes(params, truth))  # fmt: skip
            rec = simulated_record(cfg, seed=10_000 * s + months)
            model = RecordModel(rec, params)
            t0 = time.perf_counter()
            est = fit_mle(model, np.ones(months, dtype=bool), restarts=restarts, seed=s)
            took = time.perf_counter() - t0
            for k, key in enumerate(params):
                rows.append({
                    "set": s, "months": months, "param": key, "truth": truth[k], "estimate": est.values[k],
                    "low": est.low[k], "high": est.high[k], "covered": bool(est.low[k] <= truth[k] <= est.high[k]),
                    "converged": est.converged, "seconds": took,
                })  # fmt: skip
        if progress:
            print(f"  set {s + 1}/{sets} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Coverage (with its Wilson interval), bias and RMSE per parameter and record length."""
    from sim.report.summary import wilson

    g = df.assign(error=df["estimate"] - df["truth"]).groupby(["param", "months"], sort=False)
    out = g.agg(n=("covered", "size"), coverage=("covered", "mean"), bias=("error", "mean"),
                rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
                median_width=("high", lambda h: 0.0)).reset_index()  # fmt: skip
    widths = (
        (df["high"] - df["low"])
        .groupby([df["param"], df["months"]], sort=False)
        .median()
        .to_numpy()
    )
    out["median_width"] = widths
    lo, hi = wilson(out["coverage"] * out["n"], out["n"])
    out["coverage_lo"], out["coverage_hi"] = lo, hi
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sets", type=int, default=50)
    ap.add_argument("--lengths", type=int, nargs="+", default=[24, 120])
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--params", nargs="+", default=list(DEFAULT_PARAMS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/recovery")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print(
        f"Recovery: {args.sets} parameter sets x records of {args.lengths} months, {len(args.params)} free parameters"
    )
    df = recover(args.params, args.sets, args.lengths, args.restarts, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(df.to_csv(index=False), out / "recovery.csv")
    s = summarise(df)
    write_text(s.to_csv(index=False), out / "summary.csv")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(s.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{time.perf_counter() - t0:.0f} s. Wrote {out}/recovery.csv and summary.csv")


if __name__ == "__main__":
    main()

"""Why it stalls, globally: Sobol sensitivity of the outcomes to the main parameters.

Samples the parameter space of :mod:`sim.analysis.sensitivity` (assurance, relief,
enforcement, sequencing regime, detection, false alarms, detection response,
snapback, stalemate cost, rationality, the USA's and the DPRK's trust) with
Saltelli's scheme on a scrambled Sobol' sequence (SALib), scores every point over
``--seeds`` runs with the batch engine (the same seeds at every point), and
estimates first-order (S1) and total (ST) Sobol indices of P(agreement),
P(stalemate, plain or hedged) and the DPRK's share of rounds hedging, with 95%
bootstrap confidence intervals. Writes

- ``results/sensitivity/sobol.csv``    S1, ST and their CIs per output and parameter
- ``results/sensitivity/points.parquet`` every sample point and its outputs
- ``results/sensitivity/sobol.png``    bar chart of S1 and ST with CIs

S1 is the share of an output's variance a parameter explains alone; ST adds all
its interactions (ST - S1 large: the parameter matters through others, e.g.
assurance and relief as complements). ``noise_share`` in the table is the part of
the variance that is seed noise, which no parameter explains.

Usage::

    python experiments/sensitivity.py                   # N = 1024, 32 seeds: ~460k runs
    python experiments/sensitivity.py --n 2048 --seeds 64 --processes 2
    python experiments/sensitivity.py --quick           # a smoke test in seconds
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import sim
from sim.analysis.sensitivity import FACTOR_NAMES, OUTPUTS, evaluate, problem, select, sobol_indices
from sim.report.io import save_figure, write_parquet, write_text


def plot_sobol(table, title: str):
    """One panel per output: horizontal bars of S1 and ST with 95% CIs, sorted by ST."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = plt.subplots(
        1,
        len(outputs),
        figsize=(5.2 * len(outputs), 0.42 * table["parameter"].nunique() + 2),
        layout="constrained",
        squeeze=False,
    )
    for ax, out in zip(axes[0], outputs):
        t = table[table["output"] == out].sort_values("ST")
        y = np.arange(len(t))
        for k, (col, color) in enumerate((("S1", "#457b9d"), ("ST", "#e76f51"))):
            err = np.vstack([t[col] - t[f"{col}_lo"], t[f"{col}_hi"] - t[col]]).clip(0)
            ax.barh(
                y + (k - 0.5) * 0.38,
                t[col],
                0.38,
                xerr=err,
                color=color,
                capsize=2,
                label={"S1": "first order S1", "ST": "total ST"}[col],
            )
        ax.set_yticks(y, t["parameter"])
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlim(min(-0.05, float(t["S1_lo"].min()) - 0.02), 1.0)
        noise = t["noise_share"].iloc[0]
        ax.set_title(f"{OUTPUTS[out]}\n(seed noise: {noise:.1%} of variance)", fontsize=10)
        ax.set_xlabel("Sobol index (95% CI)")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(loc="lower right", fontsize=9)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig


def top_indices(table, k: int = 3) -> str:
    """The k largest total indices of each output, as lines of text."""
    lines = []
    for out in OUTPUTS:
        t = table[table["output"] == out].nlargest(k, "ST")
        parts = [
            f"{r.parameter} ST {r.ST:.2f} [{r.ST_lo:.2f}, {r.ST_hi:.2f}], "
            f"S1 {r.S1:.2f} [{r.S1_lo:.2f}, {r.S1_hi:.2f}]"
            for r in t.itertuples()
        ]
        lines.append(f"  {OUTPUTS[out]}:\n    " + "\n    ".join(parts))
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--n", type=int, default=1024, help="Saltelli base samples, a power of 2 (default 1024)"
    )
    ap.add_argument("--seeds", type=int, default=32, help="runs per sample point (default 32)")
    ap.add_argument("--rounds", type=int, default=200, help="horizon of every run (default 200)")
    ap.add_argument(
        "--factors",
        nargs="+",
        default=None,
        choices=FACTOR_NAMES,
        metavar="NAME",
        help=f"parameters to vary (default all: {', '.join(FACTOR_NAMES)})",
    )
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the CIs")
    ap.add_argument("--sample-seed", type=int, default=2018, help="seed of the Sobol' scrambling")
    ap.add_argument(
        "--quick", action="store_true", help="tiny run for tests: N=16, 4 seeds, 40 rounds"
    )
    ap.add_argument("--out", default="results/sensitivity")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.seeds, args.rounds, args.resamples, args.processes = 16, 4, 40, 100, 1

    from SALib.sample import sobol as sobol_sample

    factors = select(args.factors)
    X = sobol_sample.sample(
        problem(factors), args.n, calc_second_order=False, seed=args.sample_seed
    )
    n_runs = len(X) * args.seeds
    print(
        f"Sobol sensitivity: {len(factors)} parameters, N = {args.n} -> {len(X)} points "
        f"x {args.seeds} seeds = {n_runs} runs of {args.rounds} rounds"
    )
    t0 = time.perf_counter()
    Y = evaluate(
        X,
        factors,
        seeds=args.seeds,
        rounds=args.rounds,
        processes=args.processes,
        progress=not args.quick,
    )
    t_runs = time.perf_counter() - t0
    table = sobol_indices(Y, factors, num_resamples=args.resamples, seed=args.sample_seed)
    elapsed = time.perf_counter() - t0

    out = Path(args.out)
    meta = {"study": "sensitivity", **vars(args), "version": sim.__version__}
    write_parquet(Y, out / "points.parquet", meta)
    write_text(table.to_csv(index=False, float_format="%.4f"), out / "sobol.csv")
    title = (
        f"Sobol indices over {len(factors)} parameters (N = {args.n}, {len(X)} points x "
        f"{args.seeds} seeds, {args.rounds} rounds)"
    )
    save_figure(plot_sobol(table, title), out / "sobol.png", dpi=110)
    print(
        f"{n_runs} runs in {t_runs:.1f} s, analysis {elapsed - t_runs:.1f} s. "
        "Largest total indices (95% CI):"
    )
    print(top_indices(table))
    print(f"Wrote {out}/sobol.csv, sobol.png, points.parquet")


if __name__ == "__main__":
    main()

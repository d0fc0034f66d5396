"""Where do talks stall? Outcome shares over security assurance x sanctions relief.

Runs the 2018 baseline (denuclearization first) on a grid of assurance and
relief levels, many seeds per point, with the batch engine, and writes

- ``results/stalemate_map/runs.parquet``   one row per run
- ``results/stalemate_map/summary.csv``    outcome shares and 95% CIs per point
- ``results/stalemate_map/outcome_map.png`` P(agreement), P(stalemate), P(breakdown)

Usage::

    python experiments/stalemate_map.py                 # 21 x 21 grid, 100 seeds
    python experiments/stalemate_map.py --grid 11 --seeds 50 --regime relief_first
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import sim
from sim.io import save_figure, write_parquet, write_text
from sim.params import make_config
from sim.summary import outcome_shares


def plot_outcome_map(summary, x: str, y: str, title: str):
    """Heatmaps of P(agreement), P(stalemate or hedged stalemate), P(breakdown).

    Shared colour scale 0–1 and the 50% contour on each panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summary.assign(any_stalemate=summary["stalemate"] + summary["hedged_stalemate"])
    xs, ys = np.sort(summary[x].unique()), np.sort(summary[y].unique())
    panels = [("agreement", "P(agreement)"), ("any_stalemate", "P(stalemate, plain or hedged)"),
              ("breakdown", "P(breakdown)")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), constrained_layout=True)
    for ax, (col, label) in zip(axes, panels):
        grid = summary.pivot(index=y, columns=x, values=col).reindex(index=ys, columns=xs)
        im = ax.pcolormesh(xs, ys, grid.to_numpy(), vmin=0, vmax=1, cmap="viridis", shading="nearest")
        if np.nanmin(grid.to_numpy()) < 0.5 < np.nanmax(grid.to_numpy()):
            cs = ax.contour(xs, ys, grid.to_numpy(), levels=[0.5], colors="white", linewidths=2)
            ax.clabel(cs, fmt="50%%", fontsize=9)
        ax.set_title(label, fontsize=12)
        ax.set_xlabel(f"{x.replace('_', ' ')} on the table (0–1)")
        ax.set_ylabel(f"{y.replace('_', ' ')} on the table (0–1)")
    fig.colorbar(im, ax=axes, shrink=0.9, label="share of runs")
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=21, help="points per axis (default 21)")
    ap.add_argument("--seeds", type=int, default=100, help="seeds per point (default 100)")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--regime", default="denuclearization_first", choices=list(sim.sequencing.REGIMES))
    ap.add_argument("--out", default="results/stalemate_map")
    args = ap.parse_args(argv)

    levels = np.round(np.linspace(0, 1, args.grid), 4)
    configs, seeds = [], []
    for a in levels:
        for r in levels:
            cfg = make_config(assurance=float(a), relief=float(r), regime=args.regime, rounds=args.rounds)
            configs += [cfg] * args.seeds
            seeds += list(range(args.seeds))
    print(f"Stalemate map: {args.grid} x {args.grid} points x {args.seeds} seeds = {len(configs)} runs")
    t0 = time.perf_counter()
    res = sim.run_batch(configs, seeds, record=False)
    elapsed = time.perf_counter() - t0
    out = Path(args.out)
    runs = res.runs.assign(version=sim.__version__)
    write_parquet(runs, out / "runs.parquet", {"study": "stalemate_map", **vars(args),
                                                "version": sim.__version__})
    summary = outcome_shares(runs, ["assurance", "relief"])
    write_text(summary.to_csv(index=False), out / "summary.csv")
    title = f"Outcomes over assurance x relief ({args.regime.replace('_', ' ')}, {args.seeds} seeds/point)"
    save_figure(plot_outcome_map(summary, "assurance", "relief", title), out / "outcome_map.png", dpi=110)
    corners = summary[summary["assurance"].isin([0, 1]) & summary["relief"].isin([0, 1])]
    print(f"{len(configs)} runs in {elapsed:.1f} s. Corners (agreement / stalemate+hedged / breakdown):")
    for _, row in corners.iterrows():
        st = row["stalemate"] + row["hedged_stalemate"]
        print(f"  assurance {row['assurance']:.0f}, relief {row['relief']:.0f}:  "
              f"{row['agreement']:.0%} / {st:.0%} / {row['breakdown']:.0%}")
    print(f"Wrote {out}/runs.parquet, summary.csv, outcome_map.png")


if __name__ == "__main__":
    main()

"""Scenario discovery: which region of parameter space produces stalemate?

Draws a Latin hypercube over the parameter space of :mod:`sim.analysis.sensitivity` (the
same parameters and ranges as the Sobol analysis), scores every point over
``--seeds`` runs with the batch engine, and labels a point **stalemate** when
most of its runs end in stalemate, plain or hedged (P > ``--threshold``, default
0.5). Point labels, not run labels: the question is which *parameters* stall
talks, not which lucky draws; per-run noise would only blur the boxes.

It then describes the stalemate region with readable rules, each with its
coverage (share of all stalemate points inside) and density (share of the
rule's points that are stalemate):

- PRIM boxes with covering (:func:`sim.analysis.discovery.prim_boxes`, EMA Workbench's
  PRIM): box 1 is the largest box on the peeling and pasting trajectory with density >= ``--density``, pruned of
  conditions that do not earn their keep; box 2 is found among the points box 1
  leaves, and so on (read "otherwise, stalemate when …");
- the leaves of a depth-3 decision tree (EMA Workbench's CART) that predict stalemate.

The sequencing regime enters as a categorical column ``regime``: a box keeps a set
of regimes.

Writes

- ``results/discovery/rules.txt``     the rules in words, with coverage and density
- ``results/discovery/rules.csv``     the same, one row per box, with every limit
- ``results/discovery/points.parquet`` the sample, its outputs and labels
- ``results/discovery/discovery.png`` PRIM's peeling trajectory and the boxes

Usage::

    python experiments/discovery.py                     # 8000 points x 24 seeds
    python experiments/discovery.py --points 8000 --seeds 64 --density 0.9
"""

from __future__ import annotations

import argparse
import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.analysis.discovery import prim_boxes, rules_table, tree_boxes, union_stats
from sim.analysis.sensitivity import FACTOR_NAMES, REGIME_LEVELS, evaluate, scale, select
from sim.model.decisions import felt_relief
from sim.model.sequencing import REGIMES
from sim.report.io import save_figure, write_parquet, write_text


def regime_column(kappa) -> pd.Categorical:
    """The sequencing regime of each point, by name, from its conditionality kappa: PRIM and
    the tree treat it as categorical (a box keeps a set of regimes)."""
    names = {REGIMES[r]: r for r in REGIME_LEVELS}
    return pd.Categorical([names[float(k)] for k in kappa], categories=list(REGIME_LEVELS))


#: Derived dimensions PRIM and the tree may also cut on: functions of the
#: parameters that the model itself weighs. ``package`` is the DPRK's feature
#: "value of the deal on the table" (assurance x felt relief); the stalemate
#: boundary runs diagonally in (assurance, relief, enforcement), which boxes over
#: the raw parameters can only approximate.
DERIVED = {
    "package": (
        ("assurance", "relief", "enforcement"),
        lambda X: X["assurance"] * felt_relief(X["relief"], X["enforcement"]),
    ),
}


def describe(boxes, title: str, X, y) -> list[str]:
    lines = [title]
    if not boxes:
        return lines + ["  (no box covers enough stalemate points)"]
    for i, box in enumerate(boxes, 1):
        lead = "stalemate when" if i == 1 else "otherwise, stalemate when"
        lines.append(f"  {i}. {lead} {box.rule()}")
        lines.append(
            f"     coverage {box.coverage:.0%}, density {box.density:.0%} "
            f"({box.mass:.1%} of the space)"
        )
    cov, dens, mass = union_stats(boxes, X, y)
    lines.append(f"  together: coverage {cov:.0%}, density {dens:.0%} ({mass:.1%} of the space)")
    return lines


def describe_leaves(boxes, title: str, X, y) -> list[str]:
    lines = [title]
    if not boxes:
        return lines + ["  (none)"]
    for i, box in enumerate(boxes, 1):
        lines.append(f"  {i}. stalemate when {box.rule()}")
        lines.append(
            f"     coverage {box.coverage:.0%}, density {box.density:.0%} "
            f"({box.mass:.1%} of the space)"
        )
    cov, dens, mass = union_stats(boxes, X, y)
    lines.append(f"  together: coverage {cov:.0%}, density {dens:.0%} ({mass:.1%} of the space)")
    return lines


def plot_discovery(trajectory, boxes, X: pd.DataFrame, p_stalemate, title: str):
    """PRIM's peeling trajectory, and each box over its two most restricted parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = 1 + len(boxes)
    fig, axes = plt.subplots(1, n, figsize=(5.4 * n, 4.9), layout="constrained", squeeze=False)
    ax = axes[0, 0]
    cov, dens = trajectory["coverage"], trajectory["density"]
    sc = ax.scatter(cov, dens, c=trajectory["res_dim"], cmap="viridis", s=14)
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    if boxes:
        ax.scatter(
            [boxes[0].coverage],
            [boxes[0].density],
            s=140,
            facecolor="none",
            edgecolor="#c1121f",
            lw=2,
            label="box 1 (pruned)",
        )
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title("PRIM peeling and pasting trajectory (box 1)", fontsize=10)
    ax.grid(alpha=0.3)
    covered = np.zeros(len(X), dtype=bool)
    for k, box in enumerate(boxes):
        ax = axes[0, k + 1]
        # the two restricted parameters whose limits cut the most of their range
        # (the regime is categorical: it stays among the box's other conditions)
        continuous = [d for d in X.columns if pd.api.types.is_numeric_dtype(X[d])]
        cut = sorted(
            (d for d in box.limits if d in continuous),
            key=lambda d: (
                -(1 - (box.limits[d][1] - box.limits[d][0]) / (box.bounds[d][1] - box.bounds[d][0]))
            ),
        )
        dims = (cut + [d for d in continuous if d not in cut])[:2]
        others = box.copy(limits={d: v for d, v in box.limits.items() if d not in dims})
        show = np.flatnonzero(others.contains(X) & ~covered)
        show = show[
            np.argsort(np.asarray(p_stalemate)[show], kind="stable")
        ]  # stalled points on top
        s = ax.scatter(
            X[dims[0]].to_numpy()[show],
            X[dims[1]].to_numpy()[show],
            c=np.asarray(p_stalemate)[show],
            cmap="magma_r",
            vmin=0,
            vmax=1,
            s=9,
            alpha=0.8,
        )
        (x0, x1), (y0, y1) = (box.limits.get(d, box.bounds[d]) for d in dims)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="#2a9d8f", lw=2.5))
        ax.set_xlabel(dims[0])
        ax.set_ylabel(dims[1])
        ax.set_xlim(*box.bounds[dims[0]])
        ax.set_ylim(*box.bounds[dims[1]])
        rest = " and ".join(others.conditions()) or "no other condition"
        ax.set_title(
            f"box {k + 1}: coverage {box.coverage:.0%}, density {box.density:.0%}\n"
            + textwrap.fill(f"points with {rest}" + (", outside earlier boxes" if k else ""), 60),
            fontsize=9,
        )
        fig.colorbar(s, ax=ax, label="P(stalemate) at the point")
        covered |= box.contains(X)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--points", type=int, default=8000, help="Latin-hypercube points (default 8000)"
    )
    ap.add_argument("--seeds", type=int, default=24, help="runs per point (default 24)")
    ap.add_argument("--rounds", type=int, default=200, help="horizon of every run (default 200)")
    ap.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="a point is 'stalemate' when P(stalemate) exceeds this (default 0.5)",
    )
    ap.add_argument(
        "--density", type=float, default=0.8, help="target density of a PRIM box (default 0.8)"
    )
    ap.add_argument("--max-boxes", type=int, default=3)
    ap.add_argument("--depth", type=int, default=3, help="decision-tree depth (default 3)")
    ap.add_argument("--factors", nargs="+", default=None, choices=FACTOR_NAMES, metavar="NAME")
    ap.add_argument(
        "--no-derived",
        action="store_true",
        help="cut on the raw parameters only, not on the derived 'package'",
    )
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--sample-seed", type=int, default=2018)
    ap.add_argument(
        "--quick", action="store_true", help="tiny run for tests: 300 points, 4 seeds, 60 rounds"
    )
    ap.add_argument("--out", default="results/discovery")
    args = ap.parse_args(argv)
    if args.quick:
        args.points, args.seeds, args.rounds, args.processes = 300, 4, 60, 1

    from scipy.stats import qmc

    factors = select(args.factors)
    U = qmc.LatinHypercube(d=len(factors), seed=args.sample_seed).random(args.points)
    print(
        f"Scenario discovery: {args.points} Latin-hypercube points over {len(factors)} parameters "
        f"x {args.seeds} seeds = {args.points * args.seeds} runs of {args.rounds} rounds"
    )
    t0 = time.perf_counter()
    Y = evaluate(
        scale(U, factors),
        factors,
        seeds=args.seeds,
        rounds=args.rounds,
        processes=args.processes,
        progress=not args.quick,
    )
    t_runs = time.perf_counter() - t0
    names = [f.name for f in factors]
    X = Y[names].copy()
    bounds = {f.name: (f.lo, f.hi) for f in factors}
    if "conditionality" in names:  # kappa -> the regime's name, a categorical column
        del bounds["conditionality"]
        X = X.drop(columns="conditionality")
        X["regime"] = Y["regime"] = regime_column(Y["conditionality"])
    if not args.no_derived:
        for name, (needs, fn) in DERIVED.items():
            if set(needs) <= set(names):
                X[name] = Y[name] = fn(X)
                bounds[name] = (0.0, 1.0)
    y = (Y["p_stalemate"] > args.threshold).to_numpy()
    Y["stalemate"] = y

    candidates = prim_boxes(
        X,
        y,
        min_density=args.density,
        max_boxes=args.max_boxes,
        keep_density=0.0,
        bounds=bounds,
    )
    prim = []  # boxes are kept while most of their points stall
    for box in candidates:
        if box.density < 0.5:
            break
        prim.append(box)
    rejected = candidates[len(prim)] if len(prim) < len(candidates) else None
    trajectory = (
        candidates[0].trajectory
        if candidates
        else pd.DataFrame({"coverage": [], "density": [], "res_dim": []})
    )
    tree, _ = tree_boxes(X, y, max_depth=args.depth, min_coverage=0.05, bounds=bounds)
    elapsed = time.perf_counter() - t0

    head = (
        f"Scenario discovery over {args.points} points x {args.seeds} seeds ({args.rounds} rounds).\n"
        f"A point is 'stalemate' when P(stalemate, plain or hedged) > {args.threshold:g}: "
        f"{y.sum()} points ({y.mean():.1%}).\n"
        "coverage = share of all stalemate points the rule holds; "
        "density = share of the rule's points that are stalemate.\n"
        + (
            ""
            if args.no_derived or "package" not in X
            else "package = assurance x felt relief, the value of the deal on the table to the DPRK "
            "(felt relief = 1 - (1 - relief) x enforcement).\n"
        )
    )
    text = "\n".join(
        [
            head,
            *describe(prim, f"PRIM boxes (target density {args.density:g}, covering):", X, y),
            *(
                []
                if rejected is None
                else [
                    f"  next box, not kept (density {rejected.density:.0%} < 50%): {rejected.rule()}, "
                    f"coverage {rejected.coverage:.0%}"
                ]
            ),
            "",
            *describe_leaves(
                tree,
                f"Decision tree (depth {args.depth}, classes weighted equally), "
                "leaves it assigns to stalemate (coverage >= 5%):",
                X,
                y,
            ),
        ]
    )
    out = Path(args.out)
    meta = {"study": "discovery", **vars(args), "version": sim.__version__}
    write_parquet(Y, out / "points.parquet", meta)
    write_text(text + "\n", out / "rules.txt")
    rules = pd.concat(
        [rules_table(prim, "prim", X), rules_table(tree, "tree", X)], ignore_index=True
    )
    if rules.empty:  # no box kept: the columns still say what a row would hold
        rules = pd.DataFrame(columns=["method", "rule", "coverage", "density", "mass"])
    write_text(rules.to_csv(index=False, float_format="%.4f"), out / "rules.csv")
    title = f"Where talks stall: PRIM over {args.points} points ({y.mean():.0%} stalemate)"
    save_figure(
        plot_discovery(trajectory, prim, X, Y["p_stalemate"], title), out / "discovery.png", dpi=110
    )
    print(
        f"{args.points * args.seeds} runs in {t_runs:.1f} s, discovery {elapsed - t_runs:.1f} s.\n"
    )
    print(text)
    print(f"\nWrote {out}/rules.txt, rules.csv, discovery.png, points.parquet")


if __name__ == "__main__":
    main()

"""Screening: which of the model's parameters matter at all? Morris and extra trees, before Sobol.

Varies every numeric parameter of the default model (:func:`sim.analysis.screening.parameters`:
the per-run parameters, the starting state, each actor's trust, each actor's non-zero
utility weights and the sequencing regime) and ranks them two ways:

- Morris elementary effects (SALib): ``--r`` trajectories, ``r (D + 1)`` points, μ* with a
  95% bootstrap interval and σ, for P(agreement), P(stalemate) and the DPRK's hedging;
- extra-trees feature scores (EMA Workbench) on a Latin hypercube of ``--points`` points.

Every point is scored over ``--seeds`` runs with the batch engine (the same seeds at every
point). Writes

- ``results/screening/morris.csv``          μ*, its interval, μ, σ per output and parameter
- ``results/screening/feature_scores.csv``  extra-trees scores per output and parameter
- ``results/screening/screening.png``       μ* and σ, and the feature scores, for P(agreement)
- ``results/screening/shortlist.txt``       the parameters worth a Sobol study, and the command

Usage::

    python experiments/screening.py              # 55 parameters, r = 40, 2000 points, 32 seeds (~1 min)
    python experiments/screening.py --quick      # seconds, for tests
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.analysis.screening import (
    OUTPUTS,
    evaluate,
    feature_scores,
    morris_indices,
    morris_sample,
    parameters,
    problem,
)
from sim.analysis.sensitivity import FACTOR_NAMES
from sim.report.io import save_figure, write_parquet, write_text

#: A parameter makes the shortlist when its μ* reaches this share of the largest μ* of an
#: output, or its feature score this multiple of an even share (1 / D).
MU_SHARE, SCORE_MULTIPLE = 0.1, 1.0


def shortlist(morris: pd.DataFrame, scores: pd.DataFrame) -> list[str]:
    """Parameters that matter for some output, by either method (in the order found)."""
    keep: list[str] = []
    for out in OUTPUTS:
        m = morris[morris["output"] == out]
        top = m["mu_star"].max()
        keep += list(m.loc[m["mu_star"] >= MU_SHARE * top, "parameter"]) if top > 0 else []
        s = scores[scores["output"] == out]
        keep += list(s.loc[s["score"] >= SCORE_MULTIPLE / len(s), "parameter"])
    return list(dict.fromkeys(keep))


def plot_screening(morris: pd.DataFrame, scores: pd.DataFrame, output: str, k: int = 20):
    """μ* with its interval (top k), μ* against σ (all), extra-trees scores (top k)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = morris[morris["output"] == output].sort_values("mu_star", ascending=False).head(k)[::-1]
    allm = morris[morris["output"] == output]
    s = scores[scores["output"] == output].sort_values("score", ascending=False).head(k)[::-1]
    fig, axes = plt.subplots(1, 3, figsize=(17, 0.3 * k + 2.6), layout="constrained")
    ax = axes[0]
    ax.barh(m["parameter"], m["mu_star"], xerr=m["mu_star_conf"], color="#457b9d", capsize=2)
    ax.set_xlabel("Morris μ* (mean |elementary effect|, 95% CI)")
    ax.set_title(f"Morris: the {k} largest μ*", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax = axes[1]
    ax.scatter(allm["mu_star"], allm["sigma"], s=16, color="#e76f51")
    for r in allm.nlargest(8, "mu_star").itertuples():
        ax.annotate(
            r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 2), textcoords="offset points"
        )
    lim = max(allm["mu_star"].max(), allm["sigma"].max()) * 1.05 or 1
    ax.plot([0, lim], [0, lim], color="#999999", lw=0.8, ls="--")
    ax.set_xlabel("μ* (how much it matters)")
    ax.set_ylabel("σ (interactions, non-linearity)")
    ax.set_title("Morris: μ* against σ, every parameter (dashed: σ = μ*)", fontsize=10)
    ax.grid(alpha=0.3)
    ax = axes[2]
    ax.barh(s["parameter"], s["score"], color="#2a9d8f")
    ax.axvline(1 / scores[scores["output"] == output].shape[0], color="black", lw=0.8, ls="--")
    ax.set_xlabel("extra-trees feature score (dashed: an even share)")
    ax.set_title(f"Extra trees: the {k} highest scores", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Screening every parameter for {OUTPUTS[output]}", fontsize=12, fontweight="bold")
    return fig


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--r", type=int, default=40, help="Morris trajectories (default 40)")
    ap.add_argument("--levels", type=int, default=4, help="Morris grid levels (default 4)")
    ap.add_argument(
        "--points", type=int, default=2000, help="Latin-hypercube points for extra trees"
    )
    ap.add_argument("--seeds", type=int, default=32, help="runs per point (default 32)")
    ap.add_argument("--rounds", type=int, default=200, help="horizon of every run (default 200)")
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--sample-seed", type=int, default=2018)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="tiny run for tests: r 4, 200 points, 4 seeds, 40 rounds",
    )
    ap.add_argument("--out", default="results/screening")
    args = ap.parse_args(argv)
    if args.quick:
        args.r, args.points, args.seeds, args.rounds, args.processes = 4, 200, 4, 40, 1

    from scipy.stats import qmc

    params = parameters()
    prob = problem(params)
    D = len(params)
    Xm = morris_sample(prob, args.r, args.levels, args.sample_seed)
    U = qmc.LatinHypercube(d=D, seed=args.sample_seed).random(args.points)
    lo, hi = np.array(prob["bounds"]).T
    Xf = lo + U * (hi - lo)
    print(f"Screening {D} parameters: Morris {len(Xm)} points (r = {args.r}), extra trees {len(Xf)} "
          f"points, x {args.seeds} seeds = {(len(Xm) + len(Xf)) * args.seeds} runs of {args.rounds} rounds")  # fmt: skip
    t0 = time.perf_counter()
    Ym = evaluate(Xm, params, seeds=args.seeds, rounds=args.rounds, threads=args.processes)
    Yf = evaluate(Xf, params, seeds=args.seeds, rounds=args.rounds, threads=args.processes)
    t_runs = time.perf_counter() - t0
    resamples = 100 if args.quick else 1000
    morris = pd.concat(
        [morris_indices(prob, Xm, Ym[out], args.levels, resamples, args.sample_seed).assign(output=out)
         for out in OUTPUTS], ignore_index=True)  # fmt: skip
    Xdf = pd.DataFrame(Xf, columns=prob["names"])
    scores = pd.concat(
        [feature_scores(Xdf, Yf[out], seed=args.sample_seed).rename_axis("parameter").reset_index()
         .assign(output=out) for out in OUTPUTS], ignore_index=True)  # fmt: skip
    keep = shortlist(morris, scores)
    elapsed = time.perf_counter() - t0

    out = Path(args.out)
    meta = {"study": "screening", **vars(args), "version": sim.__version__}
    write_parquet(pd.concat([Xdf, Yf], axis=1), out / "points.parquet", meta)
    write_text(morris.to_csv(index=False, float_format="%.5f"), out / "morris.csv")
    write_text(scores.to_csv(index=False, float_format="%.5f"), out / "feature_scores.csv")
    as_factor = {
        "regime": "conditionality",
        "actors.USA.trust": "trust_USA",
        "actors.DPRK.trust": "trust_DPRK",
    }
    sobol_ready = [as_factor.get(k, k) for k in keep if as_factor.get(k, k) in FACTOR_NAMES]
    missing = [k for k in keep if as_factor.get(k, k) not in FACTOR_NAMES]
    lines = [f"Screening {D} parameters ({args.seeds} seeds per point, {args.rounds} rounds).", ""]
    for o in OUTPUTS:
        m = morris[morris["output"] == o].head(6)
        s = scores[scores["output"] == o].head(6)
        lines.append(f"{OUTPUTS[o]}:")
        lines.append("  Morris μ* [95% CI]: " + "; ".join(
            f"{r.parameter} {r.mu_star:.3f} [{r.mu_star - r.mu_star_conf:.3f}, {r.mu_star + r.mu_star_conf:.3f}]"
            for r in m.itertuples()))  # fmt: skip
        lines.append(
            "  extra trees: " + "; ".join(f"{r.parameter} {r.score:.3f}" for r in s.itertuples())
        )
    lines += ["", f"Shortlist for a Sobol study ({len(keep)} of {D}: μ* ≥ {MU_SHARE:.0%} of the largest, "
              f"or a feature score ≥ an even share, for some output):", "  " + ", ".join(keep)]  # fmt: skip
    lines.append("  Sobol on those of them experiments/sensitivity.py varies: python experiments/sensitivity.py "
                 "--factors " + " ".join(sobol_ready))  # fmt: skip
    if missing:
        lines.append(
            "  not yet factors there (add them to sim.analysis.sensitivity.FACTORS): "
            + ", ".join(missing)
        )
    text = "\n".join(lines)
    write_text(text + "\n", out / "shortlist.txt")
    save_figure(plot_screening(morris, scores, "p_agreement"), out / "screening.png", dpi=110)
    print(
        f"{(len(Xm) + len(Xf)) * args.seeds} runs in {t_runs:.1f} s, screening {elapsed - t_runs:.1f} s.\n"
    )
    print(text)
    print(
        f"\nWrote {out}/morris.csv, feature_scores.csv, screening.png, shortlist.txt, points.parquet"
    )


if __name__ == "__main__":
    main()

"""Simulation-based calibration of the default estimation: does the posterior cover the truth?

For each of ``--sims`` simulated records (Talts, Betancourt, Simpson, Vehtari & Gelman 2018):

1. draw every default free parameter from its prior (the estimation's priors:
   Normal(0, 2.5) on the log-odds scale for the utility terms, LogNormal(log 5, 1) for
   rationality);
2. simulate a record of ``months`` months from the model with those values (the
   packaged 2018–2019 case's actors, start and regime; every month played: the record
   goes on whatever the model would call its outcome);
3. fit it exactly as ``stalemate-fit`` does (the posterior's mode and its Laplace
   approximation, ``fit.posterior=laplace``), and take ``L`` = 99 posterior draws;
4. record the rank of the true value among the draws (uniform on 0..99 when the
   posterior is calibrated), whether the 95% interval covers it, and how much the
   posterior contracted (its sd over the prior's).

Two lengths: two years (24 months, what the cases have) and ten (120 months).

    python experiments/sbc.py --sims 200                 # both lengths (about 30 min on 2 cores)
    python experiments/sbc.py --sims 20 --months 24      # a quick look

Writes into results/sbc/: ``sbc.parquet`` (one row per simulation x parameter),
``coverage.csv`` (per parameter and length: coverage, rank-uniformity p-value,
contraction), ``ranks.png`` (the rank histograms) and prints the tables docs quote.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "results" / "sbc"
CASE = "us_dprk_2018_2019"
L = 99


def one(job: tuple[int, int]) -> list[dict]:
    """Simulation ``sim`` of length ``months``: draw, simulate, fit, rank."""
    sim, months = job
    from sim.analysis.estimate import RecordModel, as_changes, laplace_posterior
    from sim.analysis.record import load_record, simulated_record

    rng = np.random.default_rng(1_000_003 * months + sim)
    base = load_record(CASE)
    stub = RecordModel(base)  # the default free parameters and their priors
    truth_s = np.array([p.prior.ppf(rng.uniform(0.0005, 0.9995)) for p in stub.free])
    truth = stub.to_config(truth_s)[0]
    cfg = base.config(rounds=months, agreement_threshold=1.0, breakdown_threshold=1.0,
                      **as_changes(stub.keys, truth, stub.compiled.structure))  # fmt: skip
    rec = simulated_record(cfg, seed=sim, start_period="2000-01", name=f"sbc{sim}")
    rec.roles, rec.settings = base.roles, {}
    rm = RecordModel(rec)
    months_mask = np.ones(rec.n_months, dtype=bool)
    lap = laplace_posterior(rm, months_mask, draws=L, restarts=2, seed=sim)
    xs = rm.to_sampling(lap.draws)  # compare on the scale the priors are on
    rows = []
    for k, p in enumerate(rm.free):
        draws = xs[:, k]
        prior_sd = float(np.std([p.prior.ppf(q) for q in np.linspace(0.001, 0.999, 999)]))
        lo, hi = np.quantile(draws, [0.025, 0.975])
        rows.append({
            "sim": sim, "months": months, "param": p.key, "truth": float(truth_s[k]),
            "rank": int((draws < truth_s[k]).sum()), "covered": bool(lo <= truth_s[k] <= hi),
            "post_sd": float(draws.std()), "prior_sd": prior_sd,
            "contraction": float(1.0 - draws.var() / prior_sd**2),
            "mean": float(draws.mean()),
        })  # fmt: skip
    return rows


def summarize(df):
    import pandas as pd
    from scipy.stats import chisquare

    rows = []
    for (param, months), g in df.groupby(["param", "months"], sort=False):
        bins = np.bincount(np.minimum(g["rank"].to_numpy() // 10, 9), minlength=10)
        rows.append({
            "param": param, "months": months, "n": len(g), "coverage": g["covered"].mean(),
            "rank_p": float(chisquare(bins).pvalue), "contraction": g["contraction"].median(),
            "post_sd": g["post_sd"].median(), "prior_sd": g["prior_sd"].iloc[0],
        })  # fmt: skip
    return pd.DataFrame(rows)


def plot(df, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = list(dict.fromkeys(df["param"]))
    lengths = sorted(df["months"].unique())
    cols = 6
    rows = int(np.ceil(len(params) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(2.3 * cols, 1.5 * rows + 0.6), sharex=True, squeeze=False
    )
    colors = {24: "#0072B2", 120: "#D55E00"}
    for ax, param in zip(axes.flat, params):
        for m in lengths:
            r = df[(df["param"] == param) & (df["months"] == m)]["rank"]
            ax.hist(r, bins=np.arange(0, 101, 10), histtype="step", lw=1.4,
                    color=colors.get(m, "grey"), label=f"{m} months")  # fmt: skip
        n = (df["param"] == param).sum() / max(1, len(lengths))
        ax.axhline(n / 10, color="black", lw=0.6, ls=":")
        ax.set_title(param.replace(".", " ", 1), fontsize=6.5)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(params) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle("Simulation-based calibration: ranks of the true value among 99 posterior draws "
                 "(flat = calibrated; dotted: the expected count)", fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--months", type=int, nargs="+", default=[24, 120])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [(s, m) for m in args.months for s in range(args.sims)]
    rows: list[dict] = []
    from tqdm import tqdm

    with ProcessPoolExecutor(args.workers) as pool:
        for part in tqdm(
            pool.map(one, jobs, chunksize=4), total=len(jobs), desc="simulated records"
        ):
            rows += part
    df = pd.DataFrame(rows)
    df.to_parquet(OUT / "sbc.parquet")
    table = summarize(df)
    table.to_csv(OUT / "coverage.csv", index=False)
    plot(df, OUT / "ranks.png")
    wide = table.pivot(
        index="param", columns="months", values=["coverage", "contraction", "rank_p"]
    )
    wide = wide.reindex(list(dict.fromkeys(df["param"])))
    print(wide.round(3).to_string())
    for m in sorted(df["months"].unique()):
        t = table[table["months"] == m]
        print(f"{m} months: coverage {t['coverage'].min():.2f}-{t['coverage'].max():.2f} "
              f"(mean {t['coverage'].mean():.3f}); {(t['coverage'].between(0.85, 0.99)).sum()} of {len(t)} "
              f"parameters in [0.85, 0.99]; rank p < 0.01 for {(t['rank_p'] < 0.01).sum()}")  # fmt: skip


if __name__ == "__main__":
    main()

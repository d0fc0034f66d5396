"""Which structure forecasts best? Candidate structures scored by rolling-origin forecasts.

Every candidate is a set of free parameters (role keys, so one list serves every case)
and fixed settings. Each is fitted afresh at every origin (expanding window, maximum
likelihood then the posterior, forecasts by the posterior predictive) and scored one
month ahead, beside the four baselines (sim/analysis/forecast.py).

Two sets of origins, kept apart:

- **selection**: the packaged 2018-2019 record's origins June 2018 - January 2019 (the
  months forecast end in February 2019: nothing from March 2019 on is looked at), and
  every second origin of the second half of each other packaged case;
- **evaluation**: the packaged record's origins December 2018 - November 2019, horizons
  1 and 3 (the protocol of ``stalemate-fit evaluate=rolling``), reported for every
  candidate, the losers included, after the choice.

    python experiments/structure.py select        # the selection scores (about 30 min on 2 cores)
    python experiments/structure.py evaluate      # the evaluation scores of every candidate
    python experiments/structure.py waic          # each candidate's WAIC on January 2018 - February 2019

Writes into results/structure/: one Parquet file of scores per candidate x record x
set (finished ones are skipped when run again), and selection.csv / evaluation.csv.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "results" / "structure"
PACKAGED = "us_dprk_2018_2019"

ROLE_BIASES = [f"{r}.{a}.bias" for r in ("target", "principal", "ally", "enforcer")
               for a in ("concede", "escalate")]  # fmt: skip
MOMENTUM = ["actors.*.inertia", "actors.*.in_kind"]
#: last month's moves (own: conceded, escalated; the counterpart's: concession, provocation)
#: as features of conceding and escalating, shared by every actor or by role
LAG_FEATURES = ("conceded", "escalated", "concession", "provocation")
LAGS = [f"actors.*.{a}.{f}" for a in ("concede", "escalate") for f in LAG_FEATURES]
ROLE_LAGS = [f"{r}.{a}.{f}" for r in ("target", "principal", "ally", "enforcer")
             for a in ("concede", "escalate") for f in LAG_FEATURES]  # fmt: skip

#: name -> (free parameters, fixed changes). Role keys of a role a case lacks are dropped.
CANDIDATES: dict[str, tuple[list[str], dict]] = {
    "default6": (["rationality", "target.concede.bias", "target.escalate.bias",
                  "principal.concede.bias", "principal.escalate.bias", "trust_loss"], {}),
    "biases": (["rationality", *ROLE_BIASES], {}),
    "biases+inertia": (["rationality", *ROLE_BIASES, "actors.*.inertia"], {}),
    "momentum": (["rationality", *ROLE_BIASES, *MOMENTUM], {}),
    "role momentum": (["rationality", *ROLE_BIASES,
                       *[f"{r}.{m}" for r in ("target", "principal", "ally", "enforcer")
                         for m in ("inertia", "in_kind")]], {}),
    "momentum+belief": (["rationality", *ROLE_BIASES, *MOMENTUM, "target.concede.trust",
                         "target.escalate.trust"], {}),
    "momentum+types": (["rationality", *ROLE_BIASES, *MOMENTUM,
                        "target.types.holdout.escalate.bias", "principal.types.resolved.escalate.bias",
                        "target.escalate.trust"], {}),
    "momentum, trust rule": (["rationality", *ROLE_BIASES, *MOMENTUM, "trust_loss", "trust_gain"],
                             {"model": "trust_rule", "no_types": True}),
    "lags, logit scale": ([*ROLE_BIASES, *LAGS], {"rationality": 1.0, "prior_sd": 2.5}),
    "lags, logit scale, no structure": ([*ROLE_BIASES, *LAGS], {"rationality": 1.0, "prior_sd": 2.5,
                                                               "no_structure": True}),
    "role lags, logit scale, no structure": ([*ROLE_BIASES, *ROLE_LAGS],
                                             {"rationality": 1.0, "prior_sd": 2.5, "no_structure": True}),
    "role lags": (["rationality", *ROLE_BIASES, *ROLE_LAGS], {}),
    "role lags, no types": (["rationality", *ROLE_BIASES, *ROLE_LAGS], {"no_types": True}),
    "role lags+belief": (["rationality", *ROLE_BIASES, *ROLE_LAGS, "target.concede.trust",
                          "target.escalate.trust"], {}),
    "biases, logit scale": ([*ROLE_BIASES], {"rationality": 1.0, "prior_sd": 2.5}),
    "momentum, logit scale": ([*ROLE_BIASES, *MOMENTUM], {"rationality": 1.0, "prior_sd": 2.5}),
    "biases, logit scale, no structure": ([*ROLE_BIASES], {"rationality": 1.0, "prior_sd": 2.5,
                                                           "no_structure": True}),
    "momentum, logit scale, no structure": ([*ROLE_BIASES, *MOMENTUM], {"rationality": 1.0, "prior_sd": 2.5,
                                                                        "no_structure": True}),
}  # fmt: skip


def records() -> list[str]:
    from sim.analysis.record import record_names

    return record_names()


def selection_origins(record) -> list[int]:
    if record.name == PACKAGED:
        return list(range(record.month_index("2018-06") + 1, record.month_index("2019-01") + 2))
    half = (record.n_months + 1) // 2
    return list(range(half, record.n_months, 2))


def evaluation_origins(record) -> list[int]:
    return list(range(record.month_index("2018-12") + 1, record.month_index("2019-11") + 2))


def forecaster(name: str, record):
    """The candidate as a forecaster for this record (role keys of absent roles dropped)."""
    from sim.analysis.forecast import ModelForecaster

    params, changes = CANDIDATES[name]
    roles = set(record.roles.values())
    keep = [k for k in params if k.split(".")[0] not in
            {"target", "principal", "ally", "enforcer"} - roles]  # fmt: skip
    # every value a candidate does not estimate is the hand-set model's: the estimated
    # default was fitted to all the months, the held-out ones included
    changes = {"defaults": "handset", **changes}
    priors = {}
    if changes.pop("no_types", False):
        changes["actors"] = {a: {"types": {}} for a in record.actors}
    sd = changes.pop("prior_sd", None)
    if sd:
        from sim.model.uncertainty import Prior

        priors = {k: Prior("normal", 0.0, sd) for k in keep if k != "rationality"}
    if changes.pop("no_structure", False):  # every weight but the biases at 0, no types
        from sim.analysis.record import ROLE_DEFAULTS
        from sim.model.names import ACTION_NAMES
        from sim.model.params import default_actors

        tmpl = default_actors("handset")
        changes["actors"] = {
            a: {"types": {}, **{act: {f: 0.0 for f in getattr(tmpl[ROLE_DEFAULTS[r]], act)}
                                for act in ACTION_NAMES}}
            for a, r in record.roles.items()
        }  # fmt: skip
    return ModelForecaster(name, tuple(keep), changes, priors=priors)


def run_task(name: str, record_name: str, which: str) -> Path:
    from sim.analysis.forecast import rolling_origin
    from sim.analysis.record import load_record

    record = load_record(record_name)
    slug = name.replace(" ", "_").replace(",", "").replace("+", "_")
    path = OUT / f"{which}__{slug}__{record_name}.parquet"
    if path.exists():
        return path
    origins = selection_origins(record) if which == "selection" else evaluation_origins(record)
    horizons = (1,) if which == "selection" else (1, 3)
    m = forecaster(name, record)
    df = rolling_origin(record, [m], origins, horizons)
    df["candidate"] = name
    df["record"] = record_name
    df["converged"] = df["origin"].map(
        {record.periods[o - 1]: v["converged"] for o, v in m.fit_info.items()}
    )
    tmp = path.with_suffix(".tmp")
    df.to_parquet(tmp)
    tmp.replace(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", choices=["select", "evaluate", "waic"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    args = ap.parse_args()
    if args.which == "waic":
        return waic_table(args.candidates)
    which = "selection" if args.which == "select" else "evaluation"
    OUT.mkdir(parents=True, exist_ok=True)
    recs = records() if which == "selection" else [PACKAGED]
    tasks = [(c, r, which) for c in args.candidates for r in recs]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run_task, *t): t for t in tasks}
        for k, fut in enumerate(as_completed(futures), 1):
            print(f"[{k}/{len(tasks)}] {futures[fut]} -> {fut.result().name}", flush=True)
    summarize(which)


def waic_table(candidates) -> pd.DataFrame:
    """Each candidate's WAIC and log-likelihood at the posterior mode on the packaged record's
    January 2018 - February 2019 (the months before the held-out ones), Laplace posterior."""
    from sim.analysis.estimate import laplace_posterior, waic
    from sim.analysis.record import load_record

    rec = load_record(PACKAGED)
    train = rec.window("2018-01:2019-02")
    rows = []
    for name in candidates:
        m = forecaster(name, rec)
        rm = m.model_for(rec)
        lap = laplace_posterior(rm, train, draws=1000, restarts=4, seed=0)
        w = waic(rm, lap.draws, train)
        rows.append({"candidate": name, "free": len(rm.keys), "loglik_mode": float(rm.loglik(lap.mode[None], train)[0]),
                     "waic": w["waic"], "p_waic": w["p_waic"]})  # fmt: skip
        print(
            f"{name:40} k={len(rm.keys):3}  loglik {rows[-1]['loglik_mode']:8.2f}  WAIC {w['waic']:7.1f}  p_waic {w['p_waic']:5.1f}",
            flush=True,
        )
    out = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT / "waic.csv", index=False)
    return out


def summarize(which: str) -> pd.DataFrame:
    files = sorted(OUT.glob(f"{which}__*.parquet"))
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    models = df[df["model"] == df["candidate"]]
    base = df[df["model"] != df["candidate"]].drop_duplicates(
        ["record", "origin", "horizon", "actor", "model"]
    )
    both = pd.concat([models.assign(model=models["candidate"]), base])
    table = both.groupby(["horizon", "record", "model"])[["log", "brier", "rps"]].mean().round(4)
    total = both.groupby(["horizon", "model"]).agg(
        log=("log", "mean"), brier=("brier", "mean"), rps=("rps", "mean"), n=("log", "size")
    ).round(4)  # fmt: skip
    total = total.sort_values("log", ascending=False)
    print(table.to_string())
    print("\nAll records together (mean per actor-month):")
    print(total.to_string())
    if "converged" in models:
        bad = models[~models["converged"].astype(bool)]
        if len(bad):
            print(
                "\nnot converged:",
                bad.groupby(["candidate", "record"])["origin"].nunique().to_dict(),
            )
    total.to_csv(OUT / f"{which}.csv")
    return total


if __name__ == "__main__":
    main()

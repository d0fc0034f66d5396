"""Outcomes over time: each packaged scenario's shares at three horizons, and its survival.

A run that reaches its horizon undecided is a *stalemate* only if it made no
progress in its last ``stalemate_window`` rounds; otherwise it is *undecided*
(docs/model.md, "Outcomes"). So a short horizon no longer calls "not decided yet"
a stalemate. For each scenario and model this runs ``--seeds`` runs at each
horizon (the same seeds: common random numbers, so the runs agree round by round
until the shorter horizon), and prints the outcome shares with 95% Wilson intervals.
It draws the survival of the talks at the longest horizon (Kaplan–Meier: the share
still talking, every run censored at the horizon) with the cumulative shares that
ended in agreement and in breakdown.

    python experiments/horizons.py                     # 500 seeds at 50, 100, 200 rounds
    python experiments/horizons.py --model trust_rule  # the trust-rule model
    python experiments/horizons.py --seeds 100 --horizons 25 50 100

Writes ``results/horizons/<model>/shares.csv`` and ``survival.png``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from sim.engines.batch import run_batch
from sim.hydra.compose import compose, scenario_names
from sim.hydra.schema import MODEL_FIELDS
from sim.model.params import make_config
from sim.report.io import save_figure, write_text
from sim.report.plots import plot_survival
from sim.report.summary import OUTCOME_ORDER, RunningSummary, outcome_shares

#: Scenarios whose horizon is the calendar (the replay): not run at other horizons.
CALENDAR = ("replay_2018",)


def config(scenario: str, rounds: int, model: str):
    """The scenario's config at ``rounds`` under ``model`` (the trust rule without types)."""
    app = compose([f"scenario={scenario}"])
    kw = {k: getattr(app, k) for k in MODEL_FIELDS}
    kw["rounds"], kw["model"] = rounds, model
    if model == "trust_rule":
        kw["actors"] = {
            n: {**asdict(a), "types": dict.fromkeys(a.types), "type": ""}
            for n, a in kw["actors"].items()
        }
    return make_config(**kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=500)
    ap.add_argument("--horizons", type=int, nargs=3, default=[50, 100, 200])
    ap.add_argument("--model", default="beliefs", choices=["beliefs", "trust_rule"])
    ap.add_argument("--out", default="results/horizons")
    args = ap.parse_args()
    out = Path(args.out) / args.model
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows, curves = [], {}
    scenarios = [s for s in scenario_names() if s not in CALENDAR]
    for scenario in scenarios:
        for h in args.horizons:
            cfg = config(scenario, h, args.model)
            runs = run_batch(
                [cfg] * args.seeds, range(args.seeds), record=False, progress=False
            ).runs
            share = outcome_shares(runs)
            share.insert(0, "horizon", h)
            share.insert(0, "scenario", scenario)
            rows.append(share)
            if h == max(args.horizons):
                s = RunningSummary([])
                s.add(runs)
                curves[scenario] = s.survival()
    table = pd.concat(rows, ignore_index=True)
    write_text(table.to_csv(index=False), out / "shares.csv")
    fig = plot_survival(curves, f"How long the talks last ({args.model} model)", args.seeds)
    save_figure(fig, out / "survival.png", dpi=110)
    print(
        f"Outcome shares at three horizons ({args.model} model, {args.seeds} seeds each, 95% Wilson intervals)\n"
    )
    print("| scenario | horizon | " + " | ".join(o.replace("_", " ") for o in OUTCOME_ORDER) + " |")
    print("|---|---:|" + "---:|" * len(OUTCOME_ORDER))
    for _, r in table.iterrows():
        cells = [
            f"{100 * r[o]:.0f}% [{100 * r[o + '_lo']:.0f}–{100 * r[o + '_hi']:.0f}]"
            for o in OUTCOME_ORDER
        ]
        print(f"| {r['scenario']} | {r['horizon']} | " + " | ".join(cells) + " |")
    print(
        f"\n{time.perf_counter() - t0:.0f} s. Written: {out / 'shares.csv'}, {out / 'survival.png'}"
    )


if __name__ == "__main__":
    main()

"""The scenario table three ways: the estimated default, the estimated posterior itself
(each run's parameters drawn from it), and the hand-set preferences.

For every packaged scenario, ``--seeds`` runs (default 200) under

- ``estimated``: the default actors — the posterior means of the pooled fit to the coded
  records (``experiments/calibrate.py``; what the README's first table shows);
- ``posterior``: ``uncertainty=posterior`` — each run draws its estimated parameters
  from the posterior by its seed, so the shares integrate over what the records leave
  uncertain;
- ``hand-set``: ``actors=handset`` — the preferences set by hand before the model was
  estimated.

Prints a Markdown table of outcome shares with 95% Wilson intervals (the README's
calibrated table) and writes ``results/calibrated_scenarios/summary.csv``.

Usage::

    python experiments/calibrated_scenarios.py               # 200 seeds x 200 rounds, ~1 min
    python experiments/calibrated_scenarios.py --seeds 50
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from sim.engines.batch import run_batch
from sim.hydra.compose import compose, scenario_names
from sim.hydra.schema import MODEL_FIELDS
from sim.model.params import make_config
from sim.report.io import read_posterior, write_text
from sim.report.summary import OUTCOME_ORDER, outcome_shares

VARIANTS = {
    "estimated": ([], False),
    "posterior": ([], True),
    "hand-set": (["actors=handset"], False),
}


def scenario_runs(scenario: str, variant: str, seeds: int, posterior) -> pd.DataFrame:
    overrides, draw = VARIANTS[variant]
    app = compose([f"scenario={scenario}", *overrides])
    cfg = make_config(**{k: getattr(app, k) for k in MODEL_FIELDS})
    res = run_batch([cfg] * seeds, range(seeds), record=False, progress=False,
                    uncertainty=posterior if draw else None)  # fmt: skip
    runs = res.runs
    runs["scenario"], runs["variant"] = scenario, variant
    return runs


def pct(v: float) -> str:
    return f"{100 * v:.1f}" if 0 < v < 0.01 else f"{100 * v:.0f}"


def cell(row) -> str:
    """The outcomes with a share of at least 0.5%, largest first, with intervals."""
    parts = []
    for o in sorted(OUTCOME_ORDER, key=lambda o: -row[o]):
        if row[o] >= 0.005:
            parts.append(
                f"{o.replace('_', ' ')} {pct(row[o])}% [{pct(row[o + '_lo'])}–{pct(row[o + '_hi'])}]"
            )
    return "; ".join(parts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--out", default="results/calibrated_scenarios")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    posterior = read_posterior("us_dprk_2018_2019")
    frames = [
        scenario_runs(s, v, args.seeds, posterior) for s in scenario_names() for v in VARIANTS
    ]
    runs = pd.concat(frames, ignore_index=True)
    shares = outcome_shares(runs, by=["scenario", "variant"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(shares.to_csv(index=False), out / "summary.csv")
    print(f"| scenario | {' | '.join(VARIANTS)} |")
    print("| --- |" + " --- |" * len(VARIANTS))
    for s in scenario_names():
        cells = [
            cell(shares[(shares.scenario == s) & (shares.variant == v)].iloc[0]) for v in VARIANTS
        ]
        print(f"| `{s}` | " + " | ".join(cells) + " |")
    print(
        f"\n({args.seeds} seeds per cell; {time.perf_counter() - t0:.0f} s; wrote {out}/summary.csv)"
    )


if __name__ == "__main__":
    main()

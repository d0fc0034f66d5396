"""Estimate the default model from the coded records and ship it with the package.

1. The pooled fit of every packaged case (``stalemate-fit record=<all cases>``): the
   shared structure (rationality, each role's response to last month's moves) and each
   case's role preferences, partially pooled. The 2018–2019 case's posterior means
   become the default actors:

   - ``sim/model/defaults/estimated.yaml`` — the hand-set model (``handset.yaml``) with
     every estimated value in its place: the model's default from now on;
   - ``sim/configs/actors/handset.yaml`` — ``actors=handset``, the hand-set preferences
     again (every estimated weight set back);
   - ``sim/data/posteriors/us_dprk_2018_2019.parquet`` — the posterior draws of the
     2018–2019 case (what ``uncertainty=posterior`` draws from);

2. the single-case fit with its held-out months (train January 2018 – February 2019),
   for the README's figure and the numbers the docs quote:
   ``results/figures/record_fit.png`` and ``results/figures/fit_us_dprk_2018_2019.json``.

Usage::

    python experiments/calibrate.py            # about a minute
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
CASE = "us_dprk_2018_2019"


def estimated_defaults(handset: dict, calibrated: dict) -> dict:
    """The hand-set defaults with the calibrated values merged in, feature by feature."""
    out = {"rationality": calibrated.get("rationality", handset["rationality"]), "actors": {}}
    for name, spec in handset["actors"].items():
        new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in spec.items()}
        for key, value in (calibrated.get("actors", {}).get(name) or {}).items():
            if isinstance(value, dict):
                new[key] = {**new.get(key, {}), **value}
            else:
                new[key] = value
        out["actors"][name] = new
    return out


def handset_option(handset: dict, estimated: dict) -> dict:
    """``actors=handset``: every estimated weight back to its hand-set value (0 where the
    hand-set model had none), rationality back to 5."""
    actors = {}
    for name, spec in estimated["actors"].items():
        hs = handset["actors"][name]
        entry = {}
        for action in ("concede", "hedge", "escalate"):
            weights = {f: hs.get(action, {}).get(f, 0.0) for f in spec.get(action, {})}
            if weights != spec.get(action, {}):
                entry[action] = weights
        if entry:
            actors[name] = entry
    return {"rationality": handset["rationality"], "actors": actors}


def run_fit(*args: str) -> Path:
    exe = str(Path(sys.executable).with_name("stalemate-fit"))
    out = Path(tempfile.mkdtemp()) / "fit"
    subprocess.run([exe, *args, f"hydra.run.dir={out}", "progress=false"], check=True)
    return out


def main() -> None:
    from sim.analysis.record import record_names

    cases = ",".join(record_names())
    pooled = run_fit(f"record={cases}", "fit.draws=4000")
    calibrated = yaml.safe_load((pooled / f"calibrated_{CASE}.yaml").read_text())
    handset = yaml.safe_load((ROOT / "sim/model/defaults/handset.yaml").read_text())
    estimated = estimated_defaults(handset, calibrated)
    summary = json.loads((pooled / "fit.json").read_text())
    head = (
        "# The estimated default model: the hand-set model (handset.yaml) with every value the\n"
        f"# coded records identify put in its place, from the pooled fit of {len(record_names())} cases\n"
        f"# ({', '.join(record_names())}; posterior means of the {CASE} case,\n"
        "# shared structure and its own role preferences). Written by experiments/calibrate.py;\n"
        "# docs/calibration.md. The hand-set model: stalemate actors=handset\n"
    )
    dst = ROOT / "sim/model/defaults/estimated.yaml"
    dst.write_text(
        head + yaml.safe_dump(estimated, sort_keys=False, default_flow_style=None, width=100)
    )
    print(f"wrote {dst.relative_to(ROOT)}")
    option = ROOT / "sim/configs/actors/handset.yaml"
    option.write_text(
        "# @package _global_\n"
        "# The hand-set preferences (sim/model/defaults/handset.yaml) in place of the estimated\n"
        "# default: every estimated weight back to its hand-set value (0 where it had none).\n"
        "#   stalemate actors=handset scenario=baseline_2018 seeds=200\n"
        + yaml.safe_dump(
            handset_option(handset, estimated), sort_keys=False, default_flow_style=None, width=100
        )
    )
    print(f"wrote {option.relative_to(ROOT)}")
    draws = pd.read_parquet(pooled / "posterior.parquet")
    keep = {c: c.split(":", 1)[1] for c in draws.columns if c.startswith(f"{CASE}:")}
    keep.update({c: c for c in summary["shared"]})
    post = draws[list(keep)].rename(columns=keep)
    post_path = ROOT / "sim/data/posteriors" / f"{CASE}.parquet"
    post.to_parquet(post_path)
    print(f"wrote {post_path.relative_to(ROOT)} ({len(post)} draws x {post.shape[1]} parameters)")
    single = run_fit(f"record={CASE}", "train=2018-01:2019-02", "test=2019-03:2019-12")
    figures = ROOT / "results" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(single / "record_fit.png", figures / "record_fit.png")
    shutil.copyfile(single / "fit.json", figures / f"fit_{CASE}.json")
    shutil.copyfile(pooled / "fit.json", figures / "fit_pooled.json")
    print("wrote results/figures/record_fit.png, fit_us_dprk_2018_2019.json, fit_pooled.json")


if __name__ == "__main__":
    main()

"""Which model of what the actors know explains the 2018–2019 record better?

Fits the trust-rule model (no private types; the model of earlier versions) and the
belief model (private types, public Bayesian beliefs; the default) to the same
training months by maximum likelihood of the record's moves and flags, then scores
both on the held-out months and on the whole window, one step ahead (nothing is
forced: each month's moves are predicted from the history before it).

    python experiments/compare_models.py            # writes results/compare_models/compare.json

Prints a table: free parameters, training log-likelihood and AIC (moves and flags),
and the log score and Brier score of the moves on the held-out months and on the
whole 2018–2019 window, against the persistence and frequency baselines.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import sim
from sim.analysis.estimate import (
    DEFAULT_PARAMS,
    RecordModel,
    aic,
    baseline_probs,
    fit_mle,
    scores,
)
from sim.analysis.record import load_record
from sim.model.params import NO_TYPES
from sim.report.io import write_json

#: The two models and their free parameters: the same six, plus the belief model's
#: prior that the DPRK is a dealmaker (what the record can tell about the types).
MODELS = {
    "trust_rule": ({"model": "trust_rule", "actors": NO_TYPES}, list(DEFAULT_PARAMS)),
    "beliefs": (
        {"model": "beliefs"},
        [*DEFAULT_PARAMS, "actors.DPRK.types.dealmaker.prior"],
    ),
}


def compare(record_name: str, train_window: str, test_window: str, restarts: int) -> dict:
    record = load_record(record_name)
    train, test = record.window(train_window), record.window(test_window)
    whole = np.ones(record.n_months, dtype=bool)
    out: dict = {
        "record": record.name,
        "train": train_window,
        "test": test_window,
        "version": sim.__version__,
        "models": {},
    }
    for name, (changes, params) in MODELS.items():
        t0 = time.perf_counter()
        rm = RecordModel(record, params, **changes)
        est = fit_mle(rm, train, restarts=restarts, seed=0)
        _, probs, _ = rm.replay(est.values[None])
        out["models"][name] = {
            "params": est.as_dict(),
            "ci": est.intervals(),
            "k": len(params),
            "loglik_train_joint": est.loglik,
            "aic_joint": aic(est.loglik, len(params)),
            "loglik_train_moves": float(rm.loglik(est.values[None], train, flags=False)[0]),
            "train": scores(probs[0], record.actions, train),
            "test": scores(probs[0], record.actions, test),
            "whole": scores(probs[0], record.actions, whole),
            "seconds": time.perf_counter() - t0,
        }
    for name, probs in baseline_probs(record, train).items():
        out["models"][name] = {
            "test": scores(probs, record.actions, test),
            "whole": scores(probs, record.actions, whole),
        }
    return out


def table(result: dict) -> str:
    lines = [
        f"{result['record']}: trained on {result['train']}, held out {result['test']}",
        f"{'model':<12} {'k':>2} {'loglik train':>13} {'AIC':>7}   "
        f"{'held-out log score':>18} {'Brier':>6}   {'whole-window log score':>22} {'Brier':>6}",
    ]
    for name, m in result["models"].items():
        k = m.get("k", "")
        ll = f"{m['loglik_train_joint']:13.2f}" if "k" in m else " " * 13
        a = f"{m['aic_joint']:7.1f}" if "k" in m else " " * 7
        lines.append(
            f"{name:<12} {k!s:>2} {ll} {a}   {m['test']['log_score']:18.2f} {m['test']['brier']:6.3f}"
            f"   {m['whole']['log_score']:22.2f} {m['whole']['brier']:6.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", default="us_dprk_2018_2019")
    ap.add_argument("--train", default="2018-01:2019-02")
    ap.add_argument("--test", default="2019-03:2019-12")
    ap.add_argument("--restarts", type=int, default=8)
    ap.add_argument("--out", default="results/compare_models")
    args = ap.parse_args()
    result = compare(args.record, args.train, args.test, args.restarts)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "compare.json")
    print(table(result))
    for name in MODELS:
        m = result["models"][name]
        print(f"\n{name} estimates (95% CI):")
        for key, v in m["params"].items():
            lo, hi = m["ci"][key]
            print(f"  {key:<36} {v:8.3f}  [{lo:.3f}, {hi:.3f}]")
    print(f"\nWritten: {out / 'compare.json'}")


if __name__ == "__main__":
    main()

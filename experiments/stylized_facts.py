"""The brief's five stylized facts under each model, each with a 95% interval.

The facts are hypotheses, not targets (docs/model.md, "Stylized facts"): this
prints, for the estimated default, the hand-set preferences and the hand-set
trust-rule model, the numbers each fact is about, so the docs can say plainly which
hold and which the estimated model contradicts. ``tests/test_stylized_facts.py``
tests that the mechanisms can produce them (with the hand-set preferences).

    python experiments/stylized_facts.py               # 400 seeds per cell, ~3 minutes
    python experiments/stylized_facts.py --seeds 100

Writes ``results/stylized_facts/facts.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import diff_ci, mean_diff_ci, proportion_ci, shares  # noqa: E402

from sim.model.params import NO_TYPES  # noqa: E402

#: The estimated default (beliefs), the hand-set preferences (beliefs) and the hand-set
#: trust-rule model of earlier versions.
MODELS = {
    "estimated": {"model": "beliefs"},
    "hand-set": {"model": "beliefs", "handset": True},
    "hand-set, trust rule": {"model": "trust_rule", "actors": NO_TYPES, "handset": True},
}
CONDITIONAL = {
    "assurance": 0.6,
    "relief": 0.6,
    "regime": "denuclearization_first",
    "detection_response": 0.0,
}


def _merge(base: dict, **kw) -> dict:
    out = {**base, **kw}
    if "actors" in base and "actors" in kw:
        actors = {n: dict(s) for n, s in base["actors"].items()}
        for n, s in kw["actors"].items():
            actors[n] = {**actors.get(n, {}), **s}
        out["actors"] = actors
    return out


def share(mask) -> list[float]:
    lo, hi = proportion_ci(mask)
    return [float(np.mean(mask)), float(lo), float(hi)]


def diff(a, b) -> list[float]:
    lo, hi = diff_ci(a, b)
    return [float(np.mean(a) - np.mean(b)), float(lo), float(hi)]


def facts(model: dict, n: int) -> dict:
    def runs(**kw):
        return shares(n, **_merge(model, **kw))  # (handset=True: on the hand-set preferences)

    def out(r, o):
        return r["outcome"].isin(o if isinstance(o, list) else [o]).to_numpy()

    f: dict = {}
    base = runs()
    stuck = ["stalemate", "hedged_stalemate"]
    f["baseline"] = {
        "stalemate (plain or hedged)": share(out(base, stuck)),
        "agreement": share(out(base, "agreement")),
        "breakdown": share(out(base, "breakdown")),
        "undecided": share(out(base, "undecided")),
        "DPRK hedges in most rounds": share(base["hedge_share_DPRK"].to_numpy() > 0.5),
        "undeclared capability grew": share(base["undeclared_growth"].to_numpy() > 0),
    }
    p = {
        (a, r): out(runs(assurance=a, relief=r), "agreement")
        for a, r in [(1, 0), (0, 1), (1, 1), (0.2, 0.2)]
    }
    f["complements"] = {
        "P(agree) assurance 1, relief 0": share(p[(1, 0)]),
        "P(agree) assurance 0, relief 1": share(p[(0, 1)]),
        "P(agree) both 1": share(p[(1, 1)]),
        "P(agree) both 0.2": share(p[(0.2, 0.2)]),
        "both 1 minus assurance alone": diff(p[(1, 1)], p[(1, 0)]),
    }
    poor, good = runs(detect_prob=0.3, **CONDITIONAL), runs(detect_prob=0.9, **CONDITIONAL)
    lo, hi = mean_diff_ci(good["hedge_share_DPRK"], poor["hedge_share_DPRK"])
    esc_hi = runs(detect_prob=0.9, detection_response=2.0)
    esc_lo = runs(detect_prob=0.1, detection_response=2.0)
    f["verification"] = {
        "hedge share, detect 0.9 minus 0.3 (conditional relief)": [
            float(good["hedge_share_DPRK"].mean() - poor["hedge_share_DPRK"].mean()),
            float(lo),
            float(hi),
        ],
        "P(agree), detect 0.9 minus 0.3 (conditional relief)": diff(
            out(good, "agreement"), out(poor, "agreement")
        ),
        "P(breakdown), detect 0.9 minus 0.1, answered by escalation": diff(
            out(esc_hi, "breakdown"), out(esc_lo, "breakdown")
        ),
    }
    f["ripeness"] = {
        "P(agree), stalemate_cost 1.5 minus 0": diff(
            out(runs(stalemate_cost=1.5), "agreement"), out(base, "agreement")
        )
    }
    grit = runs(actors={"USA": {"policy": "grit", "grit_period": 4}})
    f["grit"] = {
        "P(agree), GRIT USA minus logit USA": diff(out(grit, "agreement"), out(base, "agreement"))
    }
    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--out", default="results/stylized_facts")
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = {name: facts(m, args.seeds) for name, m in MODELS.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "facts.json").write_text(json.dumps(result, indent=2))
    print(
        f"Stylized facts, {args.seeds} seeds x 200 rounds per cell (share or difference [95% CI])\n"
    )
    print(f"| fact | quantity | {' | '.join(MODELS)} |")
    print("|---|---|" + "---|" * len(MODELS))
    first = next(iter(result.values()))
    for fact, rows in first.items():
        for q in rows:
            cells = []
            for name in MODELS:
                v, lo, hi = result[name][fact][q]
                cells.append(
                    f"{v:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                    if "minus" in q
                    else f"{v:.0%} [{lo:.0%}–{hi:.0%}]"
                )
            print(f"| {fact} | {q} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - t0:.0f} s. Written: {out / 'facts.json'}")


if __name__ == "__main__":
    main()

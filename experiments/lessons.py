#!/usr/bin/env python3
"""Every figure the lessons of docs/classroom.md quote, measured on the current model.

The lessons' "What students see" lists are made here, each figure with the command
that shows it (on the page or in the terminal), so that they can be measured again
whenever the model changes — its default parameters are estimated from the record
and will move. Nothing in those lists is typed by hand.

    python experiments/lessons.py            # print every lesson's figures
    python experiments/lessons.py --write    # and put them into docs/classroom.md
    python experiments/lessons.py --check    # exit 1 if docs/classroom.md is out of date

``--write`` replaces what stands between ``<!-- lessons.py: NAME -->`` and
``<!-- /lessons.py -->`` in docs/classroom.md, and nothing else. The figures come
from the default model unless a lesson names another (the page's Model picker; in
the terminal ``model=trust_rule actors=no_types``). Runs are seeded: the same
model gives the same figures on any machine. About a minute on two cores.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "classroom.md"
SEEDS = 200
REPLAY_SEEDS = 500


# --------------------------------------------------------------------------------------
# Runs


def one_run(
    scenario: str, seed: int = 0, upto: int | None = None, model: str = "default", **params
):
    """The page's run of ``scenario`` with ``seed`` (played to ``upto`` rounds, or the end)."""
    from sim.classroom.seats import ClassroomModel, model_kwargs

    m = ClassroomModel(scenario_name=scenario, rng=seed, **params, **model_kwargs(scenario, model))
    while m.running and (upto is None or m.round < upto):
        m.step()
    return m


def many(scenario: str, n: int = SEEDS, model: str = "default", **params):
    """The runs table of ``stalemate scenario=… seeds=n`` (seeds 0 .. n-1)."""
    from sim import make_config, run_batch
    from sim.classroom.seats import model_kwargs
    from sim.hydra.compose import scenario_kwargs

    kw = scenario_kwargs(scenario, **params, **model_kwargs(scenario, model))
    return run_batch([make_config(**kw)] * n, seeds=range(n), progress=False).runs


def played_by_hand(actor: str, scenario: str, rounds: int, moves: str, seed: int = 0):
    """``stalemate-play --actor … --moves …``: the student's run and the model's own."""
    from sim.classroom.terminal import play

    m = play(actor, scenario, rounds=rounds, seed=seed, moves=moves, write=lambda line: None)
    return m, m.reference()


# --------------------------------------------------------------------------------------
# Words


def pct(x: float) -> str:
    return (
        f"{100 * x:.0f}%"
        if abs(100 * x - round(100 * x)) < 0.05 or x in (0, 1)
        else f"{100 * x:.1f}%"
    )


def share(runs, outcome: str) -> str:
    """``70% [63–76]``: the share of runs with ``outcome`` and its 95% Wilson interval."""
    from sim.report.summary import wilson

    k, n = int((runs.outcome == outcome).sum()), len(runs)
    lo, hi = wilson(k, n)
    return f"{pct(k / n)} [{100 * float(lo):.0f}–{100 * float(hi):.0f}]"


OUTCOME_WORDS = {
    "agreement": "agreement",
    "hedged_stalemate": "hedged stalemate",
    "stalemate": "stalemate",
    "breakdown": "breakdown",
    "undecided": "undecided",
}


def outcomes(runs) -> str:
    """Every outcome with its share and interval, the most common first."""
    counts = runs.outcome.astype(str).value_counts()
    return "; ".join(f"{OUTCOME_WORDS[o]} {share(runs, o)}" for o in counts.index if counts[o])


def pooled(runs, column: str) -> float:
    """A per-run share pooled over all rounds played (``hedge_share_DPRK`` → of all rounds)."""
    w = runs.rounds_played.to_numpy(float)
    return float((runs[column].to_numpy(float) * w).sum() / w.sum())


def mean_rounds_to_agreement(runs) -> str:
    agreed = runs[runs.outcome == "agreement"]
    return f"{agreed.rounds_to_agreement.mean():.1f}" if len(agreed) else "—"


def rounds_list(rounds: list[int]) -> str:
    """[12, 13, 14, 21] → "12–14 and 21"."""
    if not rounds:
        return "none"
    spans, start, prev = [], rounds[0], rounds[0]
    for r in rounds[1:] + [None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        spans.append(f"{start}–{prev}" if prev > start else f"{start}")
        if r is not None:
            start = prev = r
    return spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]


def facts(m) -> dict:
    """A run's story in numbers (actor order, 1-based rounds)."""
    from sim.model.names import Action, V

    names = list(m.structure.names)
    h, t = m.history, m.round
    acts = h.actions[0, 1 : t + 1]
    x = h.x[0]
    return {
        "t": t,
        "names": names,
        "acts": {a: acts[:, i] for i, a in enumerate(names)},
        "count": {
            a: {k.name.lower(): int((acts[:, i] == k).sum()) for k in Action}
            for i, a in enumerate(names)
        },
        "flags": [r for r in range(1, t + 1) if h.flag[0, r]],
        "undeclared": (float(x[0, V.undeclared]), float(x[t, V.undeclared])),
        "denuclearization": float(x[t, V.denuclearization]),
        "assurance": float(x[t, V.assurance]),
        "relief": float(x[t, V.relief]),
        "tension": float(x[t, V.tension]),
        "trust": {a: h.trust[0, 1 : t + 1, i] for i, a in enumerate(names)},
        "types": {a: m.type_of(a) for a in names if m.type_of(a)},
    }


def types_words(f: dict) -> str:
    """The private types drawn in a run: "the DPRK's type is *dealmaker*, the USA's *resolved*"."""
    items = sorted(f["types"].items(), key=lambda kv: kv[0] != "DPRK")
    if not items:
        return "no private types"
    (a, ty), rest = items[0], items[1:]
    return f"the {a}'s type is *{ty}*" + "".join(f", the {b}'s *{t}*" for b, t in rest)


def ending_words(m) -> str:
    from sim.report.narrate import ending

    return ending(m)


def outcome_of(m) -> str:
    return OUTCOME_WORDS.get(m.outcome, m.outcome)


# --------------------------------------------------------------------------------------
# The lessons


def lesson1() -> list[str]:
    out = []
    m = one_run("baseline_2018", upto=30)
    f = facts(m)
    c = f["count"]
    engaged = int((f["acts"]["ROK"][:10] == 0).sum())
    nominal = c["PRC"]["hedge"]
    trust_usa = f["trust"]["USA"][-1]
    out.append(
        f"Baseline, seed 0, after 30 rounds (page: *2018 baseline*, seed 0, Step 30 times): "
        f"in this run {types_words(f)}. The USA hedged in **{c['USA']['hedge']}** of 30 rounds "
        f"and the DPRK in **{c['DPRK']['hedge']}** (it conceded {c['DPRK']['concede']} times, "
        f"escalated {c['DPRK']['escalate']}); if the talks stopped now: "
        f"**{OUTCOME_WORDS[provisional(m)]}**. "
        f"Undeclared capability went from {f['undeclared'][0]:.2f} to **{f['undeclared'][1]:.2f}**, "
        f"verified denuclearization is **{f['denuclearization']:.2f}**; imagery flagged the DPRK "
        f"**{len(f['flags'])}** times (rounds {rounds_list(f['flags'])}) and the USA's trust in the "
        f"DPRK stands at **{trust_usa:.2f}**. The ROK engaged in {engaged} of the first 10 rounds; "
        f"the PRC enforced sanctions nominally in {nominal} of 30."
    )
    end = one_run("baseline_2018")
    out.append(
        f"Played to the end, seed 0 (`stalemate scenario=baseline_2018 narrate=true seeds=1`): "
        f'*"{ending_words(end)}"*'
    )
    runs = many("baseline_2018")
    out.append(
        f"Over {SEEDS} seeds (`stalemate scenario=baseline_2018 seeds={SEEDS}`): {outcomes(runs)} "
        f"(95% intervals); the DPRK hedges in **{pct(pooled(runs, 'hedge_share_DPRK'))}** of "
        f"rounds and the USA in **{pct(pooled(runs, 'hedge_share_USA'))}**; imagery catches the "
        f"hedging **{runs.detections.mean():.1f}** times per run on average. Agreements come from "
        f"a *dealmaker* DPRK facing a *conciliatory* USA in "
        f"{pct(agreements_from(runs, 'dealmaker', 'conciliatory'))} of them (columns `type_DPRK`, "
        "`type_USA`)."
    )
    rp = one_run("replay_2018")
    g = facts(rp)
    snap_months = months_of(rp, g["flags"])
    out.append(
        f"The monthly replay, seed 0 (page: *2018 replay, month by month*, ▶): "
        f"{outcome_of(rp)} in {month_of(rp, rp.round)} — undeclared capability from "
        f"{g['undeclared'][0]:.2f} to **{g['undeclared'][1]:.2f}**, verified denuclearization "
        f"**{g['denuclearization']:.2f}**; imagery flags the DPRK in {snap_months or 'no month'}, "
        f"and the USA's trust in the DPRK ends at **{g['trust']['USA'][-1]:.2f}** ({types_words(g)})."
    )
    rruns = many("replay_2018", REPLAY_SEEDS)
    out.append(
        f"Over {REPLAY_SEEDS} seeds (`stalemate scenario=replay_2018 seeds={REPLAY_SEEDS}`): "
        f"{outcomes(rruns)}; the DPRK hedges in **{pct(pooled(rruns, 'hedge_share_DPRK'))}** of months."
    )
    me, ref = played_by_hand("DPRK", "baseline_2018", 12, "c" * 12)
    h, r = facts(me), facts(ref)
    out.append(
        "Take the DPRK's seat (`stalemate-play --actor DPRK --scenario baseline_2018 --rounds 12 "
        "--seed 0 --moves cccccccccccc`): conceding in all 12 rounds takes verified "
        f"denuclearization to **{h['denuclearization']:.2f}** and undeclared capability to "
        f"**{h['undeclared'][1]:.2f}**; the run ends in **{outcome_of(me)}** — the USA's package "
        f"reached assurance {h['assurance']:.2f} and relief {h['relief']:.2f} (an agreement needs "
        f"their average and verified denuclearization past {threshold(me):.2f}). The model's own "
        f"DPRK on the same seed hedges in {r['count']['DPRK']['hedge']} of 12 rounds "
        f"({outcome_of(ref)}, undeclared {r['undeclared'][1]:.2f})."
    )
    return out


def lesson2() -> list[str]:
    out = []
    m = one_run("relief_first")
    f = facts(m)
    out.append(
        f'Relief first, seed 0 (page: *Relief first*, seed 0, ▶): *"{ending_words(m)}"* '
        f"Undeclared capability ends at **{f['undeclared'][1]:.2f}**, tension at "
        f"**{f['tension']:.2f}**; the USA's trust in the DPRK ends at "
        f"**{f['trust']['USA'][-1]:.2f}** and the DPRK's in the USA at "
        f"**{f['trust']['DPRK'][-1]:.2f}**; imagery flagged the DPRK {len(f['flags'])} times "
        f"({types_words(f)})."
    )
    runs = many("relief_first")
    base = many("baseline_2018")
    out.append(
        f"Over {SEEDS} seeds (`stalemate scenario=relief_first seeds={SEEDS}`): {outcomes(runs)}; "
        f"agreements after **{mean_rounds_to_agreement(runs)}** rounds on average; the DPRK "
        f"concedes in **{pct(pooled(runs, 'concede_share_DPRK'))}** of rounds (against "
        f"{pct(pooled(base, 'concede_share_DPRK'))} in the baseline) and undeclared capability "
        f"ends at **{runs.final_undeclared.mean():.2f}** on average."
    )
    seq = many("relief_first", assurance=0.4, relief=0.0)
    s0 = one_run("relief_first", assurance=0.4, relief=0.0)
    out.append(
        "The sequencing alone (relief first, but only the baseline's offer: "
        f"`stalemate scenario=relief_first assurance=0.4 relief=0.0 seeds={SEEDS}`): "
        f"{outcomes(seq)}; agreements after **{mean_rounds_to_agreement(seq)}** rounds on "
        f'average. Seed 0: *"{ending_words(s0)}"*'
    )
    alone = many("baseline_2018", relief=0.5)
    a0 = one_run("baseline_2018", relief=0.5)
    out.append(
        "Relief alone, under denuclearization first "
        f"(`stalemate scenario=baseline_2018 relief=0.5 seeds={SEEDS}`): {outcomes(alone)}. "
        f"With seed 0 the relief offered (0.5) stands at **{facts(a0)['relief']:.2f}** at the "
        "end: each time imagery catches hedging, conditional relief snaps back."
    )
    low = many("relief_first", assurance=0.1)
    l0 = one_run("relief_first", assurance=0.1)
    out.append(
        "Complements: relief first with assurance 0.1 (page: Reset after setting it; "
        f'`stalemate scenario=relief_first assurance=0.1 seeds={SEEDS}`): seed 0 *"{ending_words(l0)}"* '
        f"Over {SEEDS} seeds: {outcomes(low)}, agreements after "
        f"**{mean_rounds_to_agreement(low)}** rounds on average."
    )
    return out


def lesson3() -> list[str]:
    out = []
    m = one_run("grit")
    f = facts(m)
    usa_c = [r + 1 for r, a in enumerate(f["acts"]["USA"]) if a == 0]
    dprk_c = [r + 1 for r, a in enumerate(f["acts"]["DPRK"]) if a == 0]
    low = float(f["trust"]["USA"].min())
    out.append(
        f"GRIT, seed 0 (page: *GRIT (small reciprocated steps)*, seed 0, ▶; "
        f'`stalemate scenario=grit narrate=true seeds=1`): *"{ending_words(m)}"* The USA '
        f"concedes in rounds {rounds_list(usa_c[:8])}{' …' if len(usa_c) > 8 else ''} "
        f"({len(usa_c)} times); imagery flags the DPRK "
        f"{'in rounds ' + rounds_list(f['flags']) if len(f['flags']) else 'in no round'} and the "
        f"USA's trust in the DPRK falls as low as **{low:.2f}**; the DPRK concedes "
        f"**{len(dprk_c)}** times"
        + (f", first in round {dprk_c[0]}" if dprk_c else "")
        + f". At the end the DPRK's trust in the USA is **{f['trust']['DPRK'][-1]:.2f}** and the "
        f"USA's in the DPRK **{f['trust']['USA'][-1]:.2f}** ({types_words(f)})."
    )
    runs = many("grit")
    out.append(
        f"Over {SEEDS} seeds (`stalemate scenario=grit seeds={SEEDS}`): {outcomes(runs)}; "
        f"agreements after **{mean_rounds_to_agreement(runs)}** rounds on average; undeclared "
        f"capability ends at **{runs.final_undeclared.mean():.2f}** on average."
    )
    rare = many("grit", **{"actors": grit_period(10)})
    out.append(
        "Initiatives every 10 rounds instead of every 4 "
        f"(`stalemate scenario=grit seeds={SEEDS} actors.USA.grit_period=10`): {outcomes(rare)}; "
        f"agreements after **{mean_rounds_to_agreement(rare)}** rounds on average."
    )
    me, ref = played_by_hand("USA", "baseline_2018", 60, "chhh" * 15)
    h, r = facts(me), facts(ref)
    out.append(
        "By hand, conceding once every four rounds as the USA for 60 rounds "
        "(`stalemate-play --actor USA --scenario baseline_2018 --rounds 60 --seed 0 --moves "
        f"chhhchhh…`): **{outcome_of(me)}**, verified denuclearization "
        f"**{h['denuclearization']:.2f}** and undeclared capability **{h['undeclared'][1]:.2f}**, "
        f"against {r['denuclearization']:.2f} and {r['undeclared'][1]:.2f} in the model's own run "
        f"({outcome_of(ref)}). (The page's GRIT actor also reciprocates every DPRK concession at "
        "once; a fixed pattern does not.)"
    )
    return out


def earlier_model() -> list[str]:
    """The same scenarios under the trust rule without types (the page's Model picker)."""
    out = []
    for scenario in ("baseline_2018", "relief_first", "grit"):
        runs = many(scenario, model="earlier")
        out.append(
            f"`{scenario}` under the trust rule without types (`stalemate model=trust_rule actors=no_types "
            f"scenario={scenario} seeds={SEEDS}`): {outcomes(runs)}."
        )
    return out


# helpers that need the model's structures


def agreements_from(runs, dprk: str, usa: str) -> float:
    agreed = runs[runs.outcome == "agreement"]
    if not len(agreed):
        return 0.0
    return float(((agreed.type_DPRK == dprk) & (agreed.type_USA == usa)).mean())


def provisional(m) -> str:
    """What the outcome would be if the talks stopped now (the page's status line)."""
    from sim.classroom.snapshot import take

    return take(m).provisional()


def threshold(m) -> float:
    from sim.model.params import P

    return float(m.compiled.theta[0][P.agreement_threshold])


def month_of(m, r: int) -> str:
    from sim.classroom.snapshot import take

    return take(m).when(r)


def months_of(m, rounds: list[int]) -> str:
    from sim.classroom.snapshot import take

    snap = take(m)
    names = [snap.when(r) for r in rounds]
    return (
        names[0]
        if len(names) == 1
        else ", ".join(names[:-1]) + " and " + names[-1]
        if names
        else ""
    )


def grit_period(period: int) -> dict:
    """The actors of the grit scenario with the USA's GRIT period changed."""
    from sim.hydra.compose import scenario_kwargs

    actors = scenario_kwargs("grit")["actors"]
    actors["USA"] = {**actors["USA"], "grit_period": period}
    return actors


LESSONS = {
    "lesson1": lesson1,
    "lesson2": lesson2,
    "lesson3": lesson3,
    "earlier": earlier_model,
}
BLOCK = re.compile(r"(<!-- lessons\.py: (\w+) -->\n)(.*?)(<!-- /lessons\.py -->)", re.S)


def blocks() -> dict[str, str]:
    return {name: "".join(f"- {line}\n" for line in make()) for name, make in LESSONS.items()}


def rewrite(text: str, made: dict[str, str]) -> str:
    def fill(m):
        return m.group(1) + made[m.group(2)] + m.group(4)

    return BLOCK.sub(fill, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="put the figures into docs/classroom.md")
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if docs/classroom.md is out of date"
    )
    args = ap.parse_args(argv)
    np.seterr(all="ignore")
    made = blocks()
    for name, body in made.items():
        print(f"## {name}\n{body}")
    text = DOC.read_text(encoding="utf-8")
    found = {m.group(2) for m in BLOCK.finditer(text)}
    new = rewrite(text, made)
    if args.write:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {len(found)} blocks into {DOC.relative_to(ROOT)}: {', '.join(sorted(found))}")
    if args.check and new != text:
        print(f"{DOC.relative_to(ROOT)} is out of date: run python experiments/lessons.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

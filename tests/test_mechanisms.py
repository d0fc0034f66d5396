"""Each mechanism of the brief moves outcomes in the expected direction, over many seeds,
shown with the hand-set preferences (``actors=handset``; the estimated default's
behaviour is reported in docs/model.md).

Criteria: a 95% interval for a difference (Newcombe for proportions, Welch for
means) that excludes zero on the expected side, or a Wilson interval, over >= 200
runs of the batch engine (seeds 0..n-1).
"""

import helpers
import numpy as np
import pandas as pd
import pytest
from helpers import (
    agreed,
    broke_down,
    diff_ci,
    mean_diff_ci,
    proportion_ci,
    stalemated,
    wilson,
)

from sim import NegotiationModel, run_batch
from sim.hydra.compose import compose
from sim.model.names import STATE_VARS
from sim.model.params import NO_TYPES
from sim.model.params import handset_config as make_config

N = 300


def shares(n, **params):
    """:func:`helpers.shares` on the hand-set preferences."""
    return helpers.shares(n, handset=True, **params)


#: The trust-rule model without private types (``model=trust_rule``): the mechanisms
#: below that are about the trust rule, or whose size was established for it, run
#: there; under the default belief model the stylized facts are re-checked with
#: their intervals by experiments/stylized_facts.py (docs/model.md, "Stylized facts").
PLAIN = {"model": "trust_rule", "actors": NO_TYPES}
CONDITIONAL = {
    "assurance": 0.6,
    "relief": 0.6,
    "regime": "denuclearization_first",
    "detection_response": 0.0,
}


# --- imperfect verification ----------------------------------------------------------


def test_detection_rate_matches_detect_prob_and_false_alarm_prob():
    """Verification is calibrated: detections per hedged DPRK round fall in the
    Wilson interval around detect_prob; false alarms per non-hedged round around
    false_alarm_prob (DPRK on a fixed hedge/concede script, 300 runs x 100 rounds)."""
    runs = shares(
        N,
        rounds=100,
        detect_prob=0.35,
        false_alarm_prob=0.1,
        agreement_threshold=1.0,
        breakdown_threshold=1.0,
        actors={
            "DPRK": {
                "policy": "scripted",
                "script": ["hedge", "concede"] * 50,
                "types": {"dealmaker": None, "holdout": None},
            }
        },
    )
    hedged = int((runs["hedge_share_DPRK"] * runs["rounds_played"]).round().sum())
    other = int(runs["rounds_played"].sum()) - hedged
    assert hedged == other == N * 50
    lo, hi = wilson(int(runs["detections"].sum()), hedged)
    assert lo <= 0.35 <= hi
    lo, hi = wilson(int(runs["false_alarms"].sum()), other)
    assert lo <= 0.1 <= hi


def test_higher_detect_prob_means_more_detections_and_less_hedging_under_conditional_relief():
    """With conditional relief (assurance 0.6, relief 0.6, denuclearization first,
    no escalation on detection), raising detect_prob 0.3 -> 0.6 raises mean
    detections per run and lowers the DPRK's hedge share; 0.6 -> 0.9 lowers the
    hedge share further (Welch 95% intervals exclude 0)."""
    low = shares(N, rounds=200, detect_prob=0.3, **CONDITIONAL, **PLAIN)
    mid = shares(N, rounds=200, detect_prob=0.6, **CONDITIONAL, **PLAIN)
    high = shares(N, rounds=200, detect_prob=0.9, **CONDITIONAL, **PLAIN)
    lo, _ = mean_diff_ci(mid["detections"], low["detections"])
    assert lo > 0
    _, hi = mean_diff_ci(mid["hedge_share_DPRK"], low["hedge_share_DPRK"])
    assert hi < -0.1
    _, hi = mean_diff_ci(high["hedge_share_DPRK"], mid["hedge_share_DPRK"])
    assert hi < -0.1


def test_detection_response_with_high_detect_prob_raises_breakdowns():
    """With detect_prob 0.9, a principal that answers detections with escalation
    (detection_response 2) breaks down far more often than one that does not (0):
    the 95% interval of the difference in P(breakdown) lies above 0.2."""
    calm = shares(N, rounds=200, detect_prob=0.9, detection_response=0.0, **PLAIN)
    angry = shares(N, rounds=200, detect_prob=0.9, detection_response=2.0, **PLAIN)
    lo, _ = diff_ci(broke_down(angry), broke_down(calm))
    assert lo > 0.2


# --- sequencing ------------------------------------------------------------------------


def test_relief_first_beats_action_for_action_beats_denuclearization_first():
    """Same offer (assurance 0.6, relief 0.6): P(agreement) is ordered relief_first >
    action_for_action > denuclearization_first, each difference's 95% interval > 0."""
    p = {
        reg: agreed(shares(N, rounds=200, assurance=0.6, relief=0.6, regime=reg, **PLAIN))
        for reg in ("relief_first", "action_for_action", "denuclearization_first")
    }
    assert diff_ci(p["relief_first"], p["action_for_action"])[0] > 0
    assert diff_ci(p["action_for_action"], p["denuclearization_first"])[0] > 0
    assert diff_ci(p["relief_first"], p["denuclearization_first"])[0] > 0.5


# --- events ----------------------------------------------------------------------------

EVENT_ROUND = 10


def event_pair(kind: str, n: int = 200, rounds: int = 30, **params):
    """Trajectories with and without one event at EVENT_ROUND, same seeds, indexed
    by (run_id, round, actor)."""
    base = make_config(rounds=rounds, **params)
    shocked = make_config(rounds=rounds, events=[{"round": EVENT_ROUND, "kind": kind}], **params)
    out = []
    for cfg in (base, shocked):
        t = run_batch([cfg] * n, range(n), progress=False).trajectories
        out.append(t.set_index(["run_id", "round", "actor"]).sort_index())
    return out


def at(traj: pd.DataFrame, rnd: int, actor: str = "DPRK") -> pd.DataFrame:
    return traj.xs((rnd, actor), level=("round", "actor"))


def test_summit_raises_assurance_and_trust_at_its_round():
    """A summit in round 10 leaves rounds 1-9 untouched and, in round 10, raises
    assurance in every one of 200 seeds (mean gain > 0.1) and the DPRK's trust in
    the USA in >= 95% of them (Wilson lower bound), mean gain > 0.1."""
    base, summit = event_pair("summit", **PLAIN)
    before = [c for c in [*STATE_VARS, "trust_in_counterpart"]]
    early = pd.IndexSlice[:, : EVENT_ROUND - 1, :]
    pd.testing.assert_frame_equal(
        base.loc[early, before], summit.loc[early, before], check_exact=True
    )
    b, s = at(base, EVENT_ROUND), at(summit, EVENT_ROUND)
    d_assurance = s["assurance"] - b["assurance"]
    d_trust = s["trust_in_counterpart"] - b["trust_in_counterpart"]
    assert (d_assurance > 0).all() and d_assurance.mean() > 0.1
    assert proportion_ci(d_trust > 0)[0] >= 0.95 and d_trust.mean() > 0.1
    assert (s["tension"] - b["tension"]).mean() < 0


def test_summit_shift_is_exact_when_everyone_hedges():
    """With every actor scripted to hedge, a summit shifts assurance by exactly
    0.15 x (1 - reversion) and trust (both ways) by 0.15 at its round."""
    actors = {n: {"policy": "scripted", "script": ["hedge"]} for n in ("USA", "DPRK", "ROK", "PRC")}
    for n, spec in NO_TYPES.items():
        actors[n].update(spec)
    base, summit = event_pair(
        "summit",
        n=3,
        actors=actors,
        false_alarm_prob=0.0,
        detect_prob=0.0,
        reversion=0.02,
        model="trust_rule",
    )
    d = at(summit, EVENT_ROUND)["assurance"] - at(base, EVENT_ROUND)["assurance"]
    np.testing.assert_allclose(d, 0.15 * 0.98, rtol=0, atol=1e-12)
    for actor in ("USA", "DPRK"):
        dt = (
            at(summit, EVENT_ROUND, actor)["trust_in_counterpart"]
            - at(base, EVENT_ROUND, actor)["trust_in_counterpart"]
        )
        np.testing.assert_allclose(dt, 0.15, rtol=0, atol=1e-12)
    # the ROK's trust in the DPRK is not part of a summit
    dr = (
        at(summit, EVENT_ROUND, "ROK")["trust_in_counterpart"]
        - at(base, EVENT_ROUND, "ROK")["trust_in_counterpart"]
    )
    np.testing.assert_array_equal(dr, 0.0)


def test_test_event_forces_dprk_escalation_that_round():
    """A 'test' event in round 10 makes the DPRK escalate in all 200 runs that round,
    where without it the DPRK escalates in well under half of them."""
    base, test = event_pair("test")
    assert (at(test, EVENT_ROUND)["action"] == "escalate").all()
    assert proportion_ci(at(base, EVENT_ROUND)["action"] == "escalate")[1] < 0.5
    # only that round is forced
    assert not (at(test, EVENT_ROUND + 1)["action"] == "escalate").all()


def test_report_event_flags_the_dprk_that_round():
    """A 'report' event in round 10 flags the DPRK in all 200 runs that round; without
    it (detect_prob 0.3) the flag is up in well under all of them."""
    base, report = event_pair("report")
    assert at(report, EVENT_ROUND)["flagged"].all()
    assert proportion_ci(at(base, EVENT_ROUND)["flagged"])[1] < 0.6
    assert (at(report, EVENT_ROUND)["tension"] > at(base, EVENT_ROUND)["tension"]).mean() > 0.9


def test_cancelled_meeting_raises_tension_and_lowers_trust():
    """A cancelled meeting raises tension (all runs) and lowers the DPRK's trust in
    the USA (mean) at its round."""
    base, cancel = event_pair("cancelled_meeting", **PLAIN)
    b, c = at(base, EVENT_ROUND), at(cancel, EVENT_ROUND)
    assert (c["tension"] > b["tension"]).all()
    assert (c["trust_in_counterpart"] - b["trust_in_counterpart"]).mean() < -0.05


def test_relief_offer_raises_relief():
    """A relief offer raises nominal and felt relief at its round in every run."""
    base, offer = event_pair("relief_offer")
    b, o = at(base, EVENT_ROUND), at(offer, EVENT_ROUND)
    assert (o["relief"] > b["relief"]).all() and (o["felt_relief"] > b["felt_relief"]).all()


# --- the enforcer (PRC) ----------------------------------------------------------------


def test_strict_prc_enforcement_lowers_felt_relief():
    """A PRC biased to strict enforcement leaves the DPRK feeling less relief (mean over
    rounds, per run) than a PRC biased to lax enforcement: the Welch 95% interval of
    the difference (strict - lax) lies below -0.3 (200 runs x 100 rounds)."""
    felt = {}
    for name, prc in {
        "strict": {"escalate": {"bias": 5.0}},
        "lax": {"concede": {"bias": 5.0}},
    }.items():
        cfg = make_config(rounds=100, actors={"PRC": prc})
        t = run_batch([cfg] * 200, range(200), progress=False).trajectories
        t = t[t["actor"] == "PRC"]
        assert (t["action"] == ("escalate" if name == "strict" else "concede")).mean() > 0.95
        felt[name] = t.groupby("run_id")["felt_relief"].mean()
    _, hi = mean_diff_ci(felt["strict"], felt["lax"])
    assert hi < -0.3


# --- bounded rationality ---------------------------------------------------------------


def best_reply_share(cfg, seeds) -> np.ndarray:
    """Per run, the share of played rounds in which the DPRK chose the action of
    highest utility: each round of a Mesa run is inspected at its decision point
    (the model's own utilities), and the runs are checked against run_batch."""
    hits, played, hedges = np.zeros(len(seeds)), np.zeros(len(seeds)), np.zeros(len(seeds))
    kwargs = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
    for r, seed in enumerate(seeds):
        m = NegotiationModel(rng=seed, **kwargs)
        dprk = m.agent("DPRK")
        while m.running:
            best = int(m.decision_point().utilities("DPRK").argmax())
            m.step()
            hits[r] += int(dprk.action) == best
            hedges[r] += int(dprk.action) == 1
            played[r] += 1
    ref = run_batch([cfg] * len(seeds), seeds, record=False, progress=False).runs
    np.testing.assert_array_equal(hedges / played, ref["hedge_share_DPRK"].to_numpy())
    return hits / played


def test_higher_rationality_brings_dprk_closer_to_best_reply():
    """The DPRK plays its best reply more often at rationality 10 than at 1 (Welch 95%
    interval of the per-run difference > 0.2); at rationality 0 it matches the best
    reply 1/3 of the time (Wilson interval over all rounds contains 1/3)."""
    kw = {"rounds": 100, "assurance": 0.6, "relief": 0.6, "regime": "action_for_action"}
    seeds = list(range(200))
    low = best_reply_share(make_config(rationality=1.0, **kw), seeds)
    high = best_reply_share(make_config(rationality=10.0, **kw), seeds)
    assert mean_diff_ci(high, low)[0] > 0.2
    random_play = best_reply_share(
        make_config(
            rationality=0.0, **{**kw, "agreement_threshold": 1.0, "breakdown_threshold": 1.0}
        ),
        seeds,
    )
    lo, hi = wilson(int(round(random_play.sum() * 100)), 100 * len(seeds))
    assert lo <= 1 / 3 <= hi


# --- ripeness --------------------------------------------------------------------------


def test_higher_stalemate_cost_means_more_agreement():
    """Under action for action (150 rounds), stalemate_cost 1.0 gives more agreement
    than 0.0: the 95% interval of the difference in P(agreement) lies above 0.5."""
    calm = shares(N, rounds=150, regime="action_for_action", stalemate_cost=0.0, **PLAIN)
    hurting = shares(N, rounds=150, regime="action_for_action", stalemate_cost=1.0, **PLAIN)
    assert diff_ci(agreed(hurting), agreed(calm))[0] > 0.5


# --- more actors -----------------------------------------------------------------------


def test_six_party_talks_run_within_bounds():
    """With JPN and RUS added (actors=six_party), 200 runs keep every state variable
    and trust in [0, 1], each of the six actors' shares sum to 1, and the baseline
    still ends most often in stalemate (plain or hedged): its share exceeds agreement's
    and breakdown's (Newcombe 95% intervals of the differences above 0)."""
    app = compose(["actors=six_party"])
    added = {
        n: spec for n, spec in app.actors.items() if n in ("JPN", "RUS")
    }  # on the hand-set four
    cfg = make_config(rounds=100, actors=added)
    res = run_batch([cfg] * 200, range(200), progress=False)
    assert set(res.trajectories["actor"].cat.categories) == {
        "USA",
        "DPRK",
        "ROK",
        "PRC",
        "JPN",
        "RUS",
    }
    vals = res.trajectories[[*STATE_VARS, "felt_relief", "trust_in_counterpart"]].to_numpy()
    assert not np.isnan(vals).any() and (vals >= 0).all() and (vals <= 1).all()
    for name in ("JPN", "RUS", "DPRK"):
        s = res.runs[[f"{a}_share_{name}" for a in ("concede", "hedge", "escalate")]].sum(axis=1)
        np.testing.assert_allclose(s, 1.0, rtol=0, atol=1e-12)
    stuck = stalemated(res.runs)
    assert diff_ci(stuck, agreed(res.runs))[0] > 0
    assert diff_ci(stuck, broke_down(res.runs))[0] > 0


@pytest.mark.parametrize("regime", ["denuclearization_first", "relief_first"])
def test_snapback_withdraws_conditional_relief_only(regime):
    """A detection withdraws relief only when relief is conditional: with the DPRK
    always hedging and detect_prob 1, final relief is lower with snapback 1 than 0
    under denuclearization first, and identical under relief first."""
    kw = {
        "rounds": 100,
        "relief": 0.6,
        "detect_prob": 1.0,
        "detection_response": 0.0,
        "regime": regime,
        "agreement_threshold": 1.0,
        "breakdown_threshold": 1.0,
        "actors": {
            "DPRK": {"policy": "scripted", "script": ["hedge"]},
            "USA": {"policy": "scripted", "script": ["hedge"]},
        },
    }
    none = shares(200, snapback=0.0, **kw)["final_relief"]
    full = shares(200, snapback=1.0, **kw)["final_relief"]
    if regime == "relief_first":
        np.testing.assert_array_equal(full, none)
    else:
        assert (full < none - 0.1).all()

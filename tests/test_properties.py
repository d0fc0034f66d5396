"""Invariants that hold for every valid parameter set and seed (Hypothesis).

Random configurations cover every scalar parameter, the regime, initial trust,
the USA's and DPRK's policies (with random scripts) and up to two random events.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import make_config, run_batch, run_mesa
from sim.engines.batch import simulate
from sim.model.compile import compile_configs
from sim.model.decisions import draw, logit_probabilities
from sim.model.events import EVENT_KINDS
from sim.model.names import ACTION_NAMES, STATE_VARS
from sim.model.policies import POLICIES
from sim.model.sequencing import REGIMES

unit = st.floats(0.0, 1.0)
EXAMPLES = settings(max_examples=25, deadline=None)


@st.composite
def configs(draw_, max_rounds: int = 40) -> dict:
    """Keyword arguments of a random valid model configuration."""
    rounds = draw_(st.integers(1, max_rounds))
    params = {
        "rounds": rounds,
        "regime": draw_(st.sampled_from(sorted(REGIMES))),
        **{v: draw_(unit) for v in STATE_VARS},
        "detect_prob": draw_(unit),
        "false_alarm_prob": draw_(unit),
        "detection_response": draw_(st.floats(0.0, 10.0)),
        "snapback": draw_(unit),
        "stalemate_cost": draw_(st.floats(0.0, 5.0)),
        "rationality": draw_(st.floats(0.0, 100.0)),
        "step_size": draw_(unit),
        "reversion": draw_(unit),
        "tension_decay": draw_(unit),
        "reversibility": draw_(unit),
        "trust_gain": draw_(unit),
        "trust_loss": draw_(unit),
        "agreement_threshold": draw_(unit),
        "breakdown_threshold": draw_(unit),
        "hedged_margin": draw_(unit),
    }
    actors = {name: {"trust": draw_(unit)} for name in ("USA", "DPRK", "ROK", "PRC")}
    for name in ("USA", "DPRK"):
        policy = draw_(st.sampled_from(POLICIES))
        actors[name]["policy"] = policy
        if policy == "scripted":
            actors[name]["script"] = draw_(
                st.lists(st.sampled_from(ACTION_NAMES), min_size=1, max_size=8)
            )
        if policy == "grit":
            actors[name]["grit_period"] = draw_(st.integers(1, 6))
    params["actors"] = actors
    n_events = draw_(st.integers(0, 2))
    params["events"] = [
        {
            "round": draw_(st.integers(1, rounds)),
            "kind": draw_(st.sampled_from(sorted(EVENT_KINDS))),
        }
        for _ in range(n_events)
    ]
    return params


seeds = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3, unique=True)


@EXAMPLES
@given(kw=configs(), seed_list=seeds)
def test_state_and_trust_stay_in_the_unit_interval(kw, seed_list):
    """Every state variable, felt relief and trust (the full trust matrix at the
    end, and each actor's trust in its counterpart every round) lies in [0, 1]."""
    cfg = make_config(**kw)
    res = run_batch([cfg] * len(seed_list), seed_list, progress=False)
    cols = [*STATE_VARS, "felt_relief", "trust_in_counterpart"]
    values = res.trajectories[cols].to_numpy()
    assert not np.isnan(values).any()
    assert (values >= 0.0).all() and (values <= 1.0).all()
    state, _ = simulate(compile_configs([cfg] * len(seed_list)), seed_list, record=False)
    for arr in (state.x, state.trust):
        assert not np.isnan(arr).any()
        assert (arr >= 0.0).all() and (arr <= 1.0).all()
    assert (res.runs["peak_tension"] <= 1.0).all()


@EXAMPLES
@given(kw=configs(), seed_list=seeds)
def test_runs_table_has_no_nan_and_shares_sum_to_one(kw, seed_list):
    """No metric is NaN except rounds_to_agreement and rounds_to_breakdown, which are
    NaN exactly when the run did not end that way; each actor's concede/hedge/escalate shares lie
    in [0, 1] and sum to 1."""
    cfg = make_config(**kw)
    runs = run_batch([cfg] * len(seed_list), seed_list, record=False, progress=False).runs
    assert runs["outcome"].notna().all()
    numeric = runs.drop(columns=["rounds_to_agreement", "rounds_to_breakdown"]).select_dtypes(
        "number"
    )
    assert not numeric.isna().any().any(), numeric.columns[numeric.isna().any()].tolist()
    agreed = runs["outcome"] == "agreement"
    assert (runs["rounds_to_agreement"].isna() == ~agreed).all()
    broke = runs["outcome"] == "breakdown"
    assert (runs["rounds_to_breakdown"].isna() == ~broke).all()
    assert (runs["ended"] == (agreed | broke)).all()
    assert (runs.loc[agreed, "rounds_to_agreement"] <= kw["rounds"]).all()
    assert ((runs["rounds_played"] >= 1) & (runs["rounds_played"] <= kw["rounds"])).all()
    for name in ("USA", "DPRK", "ROK", "PRC"):
        s = runs[[f"{a}_share_{name}" for a in ACTION_NAMES]].to_numpy()
        assert ((s >= 0) & (s <= 1)).all()
        np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-12)


utility = st.floats(-1e305, 1e305, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    u=st.lists(st.tuples(utility, utility, utility), min_size=1, max_size=20),
    rationality=st.floats(0.0, 100.0),
)
def test_logit_probabilities_are_a_distribution(u, rationality):
    """For any finite utilities (up to 1e305) and rationality in [0, 100], the logit
    probabilities lie in [0, 1], sum to 1, and favour the best action."""
    u = np.array(u).T  # (3 actions, n)
    p = np.empty_like(u)
    for j in range(u.shape[1]):
        out = np.empty(3)
        logit_probabilities(np.ascontiguousarray(u[:, j]), rationality, out)
        p[:, j] = out
    assert not np.isnan(p).any()
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    best = u.argmax(axis=0)
    cols = np.arange(u.shape[1])
    assert (p[best, cols] >= p.max(axis=0) - 1e-12).all()
    if rationality == 0:
        np.testing.assert_allclose(p, 1 / 3, rtol=0, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(
    probs=st.lists(
        st.tuples(unit, unit, unit).filter(lambda t: sum(t) > 0), min_size=1, max_size=20
    ),
    uniforms=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=20, max_size=20),
)
def test_draw_picks_the_action_whose_interval_holds_the_uniform(probs, uniforms):
    """``draw`` returns the action a with cum[a-1] <= u < cum[a] (an action code 0-2)."""
    p = np.array(probs).T
    p = p / p.sum(axis=0)
    u = np.array(uniforms[: p.shape[1]])
    a = np.array([draw(np.ascontiguousarray(p[:, j]), u[j]) for j in range(p.shape[1])])
    assert set(np.unique(a)) <= {0, 1, 2}
    cum = np.cumsum(p, axis=0)
    for j in range(p.shape[1]):
        lower = 0.0 if a[j] == 0 else cum[a[j] - 1, j]
        assert lower <= u[j]
        if a[j] < 2:
            assert u[j] < cum[a[j], j]


@EXAMPLES
@given(kw=configs(), seed_list=seeds)
def test_mesa_and_batch_engines_give_identical_tables(kw, seed_list):
    """The Mesa model and the batch engine produce the same runs and trajectories
    tables, bit for bit (assert_frame_equal with check_exact=True)."""
    cfg = make_config(**kw)
    b = run_batch([cfg] * len(seed_list), seed_list, progress=False)
    m = run_mesa([cfg] * len(seed_list), seed_list, progress=False)
    pd.testing.assert_frame_equal(b.runs, m.runs, check_exact=True)
    pd.testing.assert_frame_equal(b.trajectories, m.trajectories, check_exact=True)

"""Forecasts: the proper scores, the four baselines, the model's forecast kernel and the
rolling-origin protocol (sim/analysis/forecast.py, sim/model/forecast.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.estimate import RecordModel
from sim.analysis.forecast import (
    BASELINE_CLASSES,
    LaggedLogit,
    Markov,
    Persistence,
    brier_score,
    log_score,
    rec_counterpart,
    rps_score,
    skill,
)
from sim.analysis.record import load_record

probs3 = st.lists(st.floats(0.001, 1.0), min_size=3, max_size=3).map(
    lambda v: np.array(v) / np.sum(v)
)


@settings(max_examples=200, deadline=None)
@given(probs3, st.integers(0, 2))
def test_scores_match_scoringrules(p, obs):
    """The closed forms are scoringrules' RPS, the multi-category Brier score (the sum of
    its binary Brier scores) and log p (its log score is -log p)."""
    import scoringrules as sr

    assert rps_score(p, np.array(obs)) == pytest.approx(float(sr.rps_score(obs + 1, p)), abs=1e-12)
    onehot = np.eye(3)[obs]
    assert brier_score(p, np.array(obs)) == pytest.approx(
        float(sum(sr.brier_score(onehot[k], p[k]) for k in range(3))), abs=1e-12
    )
    assert log_score(p, np.array(obs)) == pytest.approx(-float(sr.log_score(1, p[obs])), rel=1e-12)


def test_scores_are_proper_on_average():
    """Forecasting the true distribution scores best in expectation (a proper score): for a
    true p, every other q gets a worse expected log, Brier and RPS."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.dirichlet(np.ones(3))
        q = rng.dirichlet(np.ones(3))
        for fn, higher in ((log_score, True), (brier_score, False), (rps_score, False)):
            ep = sum(p[o] * fn(p, np.array(o)) for o in range(3))
            eq = sum(p[o] * fn(q, np.array(o)) for o in range(3))
            assert (ep >= eq) if higher else (ep <= eq)


RECORD = load_record("us_dprk_2018_2019")


@pytest.mark.parametrize("name", sorted(BASELINE_CLASSES))
@pytest.mark.parametrize("origin", [3, 12, 23])
def test_baselines_give_probabilities_and_use_only_their_window(name, origin):
    """Every baseline gives probabilities (no zero) and changing a month after the origin
    changes nothing: a forecast made at the origin cannot see the future."""
    cp = rec_counterpart(RECORD)
    b = BASELINE_CLASSES[name]().fit(RECORD.actions, origin, cp)
    p = b.predict(RECORD.actions, origin, 2 if origin < 23 else 1)
    assert np.allclose(p.sum(axis=-1), 1.0) and (p > 0).all()
    future = RECORD.actions.copy()
    future[origin:] = (future[origin:] + 1) % 3
    p2 = BASELINE_CLASSES[name]().fit(future, origin, cp).predict(future, origin, p.shape[0])
    np.testing.assert_array_equal(p, p2)


def test_persistence_repeats_the_last_move_at_the_window_repeat_rate():
    acts = np.array([[0, 1], [0, 2], [0, 0], [1, 0]])  # actor 0 repeats 2 of 3, actor 1 1 of 3
    p = Persistence().fit(acts, 4, np.array([1, 0])).predict(acts, 4, 1)[0]
    assert p[0, 1] == pytest.approx(3 / 5) and p[0, 0] == pytest.approx(1 / 5)
    assert p[1, 0] == pytest.approx(2 / 5) and p[1, 2] == pytest.approx(3 / 10)


def test_markov_h_step_is_the_matrix_power():
    acts = np.random.default_rng(1).integers(0, 3, size=(30, 2))
    m = Markov().fit(acts, 30, np.array([1, 0]))
    p = m.predict(acts, 30, 3)
    for i in range(2):
        row = np.linalg.matrix_power(m.transition[i], 3)[acts[29, i]]
        np.testing.assert_allclose(p[2, i], row, rtol=1e-12)


def test_lagged_logit_several_months_ahead_equals_simulating_its_chain():
    """The exact joint chain for h > 1 agrees with simulating the fitted logit forward."""
    cp = rec_counterpart(RECORD)
    m = LaggedLogit().fit(RECORD.actions, 14, cp)
    exact = m.predict(RECORD.actions, 14, 3)
    rng = np.random.default_rng(2)
    n = 20000
    last = np.repeat(RECORD.actions[13][None], n, axis=0)
    counts = np.zeros((3, 4, 3))
    for h in range(3):
        p = m.step_probs(last)  # (n, A, 3) — the same function the exact chain uses
        u = rng.random((n, 4, 1))
        last = (u > np.cumsum(p, axis=-1)).sum(axis=-1)
        for i in range(4):
            counts[h, i] = np.bincount(last[:, i], minlength=3) / n
    np.testing.assert_allclose(counts, exact, atol=0.015)


def test_model_forecast_one_month_ahead_is_the_likelihood_and_later_months_agree_over_seeds():
    """Month 1 of the forecast is the replay's exact one-step probability; later months
    are averages over paths whose value does not depend on the seed beyond Monte Carlo
    error (two seeds, 4000 paths each: agreement to 0.02)."""
    rm = RecordModel(RECORD)
    x = rm.default_values()[None]
    _, probs, _ = rm.replay(x)
    a = rm.forecast(x, origin=14, horizon=3, paths=4000, seed=1)[0]
    b = rm.forecast(x, origin=14, horizon=3, paths=4000, seed=2)[0]
    np.testing.assert_allclose(a[0], probs[0, 14], rtol=1e-9)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0)
    np.testing.assert_allclose(a[1:], b[1:], atol=0.02)


def test_model_forecast_draws_types_from_the_belief_at_the_origin():
    """A record whose history makes the DPRK almost surely a holdout: the forecast's
    DPRK behaves like the holdout type, not like a 50:50 draw from the prior."""
    rm = RecordModel(RECORD, ["rationality"], defaults="handset")
    x = np.array([[5.0]])
    _, _, st_ = rm.replay(x, months=14)
    belief = st_.belief[0, RECORD.actors.index("DPRK")]
    f = rm.forecast(x, origin=14, horizon=1, paths=10)[0, 0]
    _, probs, _ = rm.replay(x)
    np.testing.assert_allclose(f, probs[0, 14], rtol=1e-9)
    assert belief.max() > 0.9  # the history decided it


def test_forecast_refuses_months_outside_the_record():
    rm = RecordModel(RECORD, ["rationality"])
    with pytest.raises(ValueError, match="within the record"):
        rm.forecast(np.array([[5.0]]), origin=23, horizon=2)


def test_skill_signs_and_intervals():
    """A model that is better by a constant margin in every month shows a positive mean
    difference with an interval around it, for every score's orientation."""
    import pandas as pd

    rows = []
    for t in range(12):
        for a in ("X", "Y"):
            rows.append(dict(horizon=1, period=f"2020-{t + 1:02d}", actor=a, model="m",
                             log=-0.5, brier=0.3, rps=0.2))  # fmt: skip
            rows.append(dict(horizon=1, period=f"2020-{t + 1:02d}", actor=a, model="persistence",
                             log=-0.8 + 0.01 * t, brier=0.5, rps=0.3))  # fmt: skip
    table = skill(pd.DataFrame(rows), "m", ["persistence"])
    assert (table["mean_diff"] > 0).all() and (table["lo"] <= table["mean_diff"]).all()
    assert (table["hi"] >= table["mean_diff"]).all()
    assert table.set_index("score").loc["brier", "mean_diff"] == pytest.approx(0.2)


@pytest.mark.slow
def test_rolling_origin_scores_every_actor_month_of_every_model(tmp_path):
    from sim.analysis.forecast import ModelForecaster, rolling_origin

    m = ModelForecaster("model", ("rationality", "target.concede.bias"), draws=50, paths=8)
    df = rolling_origin(RECORD, [m], [20, 21], (1, 3))
    assert set(df["model"]) == {"model", *BASELINE_CLASSES}
    # origin 20 forecasts months 21 and 23; origin 21 months 22 and 24 (all in the record)
    assert len(df) == 5 * 4 * 4 and df[["log", "brier", "rps"]].notna().all().all()
    assert set(df["origin"]) == {RECORD.periods[19], RECORD.periods[20]}

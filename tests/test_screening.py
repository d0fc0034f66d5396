"""Screening before Sobol (issue 14): Morris and extra-trees feature scores find the factor
that matters on functions where it is known, and cover every parameter of the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def test_morris_ranks_the_factor_that_matters_first():
    """y = 10 a + b^2 + 0 c: μ* orders a, b, c, with c's μ* zero and a's interval above b's."""
    from sim.analysis.screening import morris_screening

    prob = {"num_vars": 4, "names": ["a", "b", "c", "d"], "bounds": [[0, 1]] * 4}
    table = morris_screening(
        lambda X: 10 * X[:, 0] + X[:, 1] ** 2 + 0.1 * X[:, 3], prob, r=20, num_resamples=100
    ).set_index("parameter")
    assert list(table.index) == ["a", "b", "d", "c"]
    assert table.loc["c", "mu_star"] == 0
    assert table.loc["a", "mu_star"] - table.loc["a", "mu_star_conf"] > table.loc["b", "mu_star"]
    assert abs(table.loc["a", "mu_star"] - 10) < 1e-9  # a linear effect: every step gives 10


def test_extra_trees_scores_the_factor_that_matters_highest():
    from sim.analysis.screening import feature_scores

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.random((600, 5)), columns=list("abcde"))
    y = 3 * X["c"] + 0.5 * X["a"] + 0.05 * rng.standard_normal(len(X))
    s = feature_scores(X, y.to_numpy(), seed=0, trees=100)
    assert list(s.index[:2]) == ["c", "a"] and s["c"] > 0.5
    s = feature_scores(X, (X["e"] > 0.6).to_numpy(), seed=0, trees=100)  # classification
    assert s.index[0] == "e"


def test_screening_covers_every_weight_and_runs_the_model():
    from sim.analysis.screening import evaluate, parameters

    params = parameters()
    keys = [p.key for p in params]
    assert "actors.DPRK.concede.package" in keys and "regime" in keys and "rationality" in keys
    assert len(keys) == len(set(keys)) > 40
    X = np.array([[(p.lo + p.hi) / 2 for p in params], [p.lo for p in params]])
    Y = evaluate(X, params, seeds=4, rounds=20, threads=1)
    assert Y.shape == (2, 3) and Y.to_numpy().min() >= 0 and Y.to_numpy().max() <= 1


@pytest.mark.slow
def test_screening_study_quick_writes_its_tables_and_figure(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "experiments" / "screening.py"
    spec = importlib.util.spec_from_file_location("experiment_screening", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quick", "--out", str(tmp_path)])
    morris = pd.read_csv(tmp_path / "morris.csv")
    assert {"parameter", "mu_star", "mu_star_conf", "sigma", "output"} <= set(morris.columns)
    assert set(pd.read_csv(tmp_path / "feature_scores.csv")["output"]) == {
        "p_agreement",
        "p_stalemate",
        "hedge_share_DPRK",
    }
    assert "Shortlist for a Sobol study" in (tmp_path / "shortlist.txt").read_text()
    assert (tmp_path / "screening.png").stat().st_size > 0

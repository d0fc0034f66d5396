"""What we do not know, in every run: per-run parameter draws from a posterior or from priors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engines.batch import run_batch
from sim.engines.mesa_model import run_mesa
from sim.model.params import make_config
from sim.model.uncertainty import PRIORS, Prior, Uncertainty, prior_for
from sim.model.validation import ConfigError
from sim.report.io import read_posterior

KEYS = ["rationality", "actors.DPRK.concede.bias", "trust_loss"]


def test_posterior_runs_are_identical_in_both_engines():
    """uncertainty=posterior: the batch engine and the Mesa model draw the same values
    for the same seed and give identical tables."""
    post = read_posterior("us_dprk_2018_2019")
    cfg = make_config(rounds=40)
    seeds = [0, 7, 123, 2**40 + 5]
    a = run_batch([cfg] * len(seeds), seeds, progress=False, uncertainty=post)
    b = run_mesa([cfg] * len(seeds), seeds, progress=False, uncertainty=post)
    for kind in ("runs", "states", "actions"):
        x, y = getattr(a, kind), getattr(b, kind)
        pd.testing.assert_frame_equal(x.drop(columns=["engine"], errors="ignore"),
                                      y.drop(columns=["engine"], errors="ignore"))  # fmt: skip
    for key in post.keys:  # the drawn values are columns of the runs table
        assert key in a.runs.columns and a.runs[key].nunique() > 1


def test_prior_runs_are_identical_in_both_engines_and_any_thread_count():
    unc = Uncertainty.from_priors(KEYS)
    cfg = make_config(rounds=30)
    seeds = list(range(12))
    one = run_batch([cfg] * 12, seeds, progress=False, uncertainty=unc, processes=1)
    two = run_batch([cfg] * 12, seeds, progress=False, uncertainty=unc, processes=2)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    mesa = run_mesa([cfg] * 3, seeds[:3], progress=False, uncertainty=unc)
    np.testing.assert_array_equal(mesa.runs[KEYS].to_numpy(), one.runs[KEYS].to_numpy()[:3])


def test_a_runs_draw_depends_on_its_seed_alone():
    """The same seed gives the same draw in any batch, any order, any position."""
    unc = Uncertainty.from_priors(KEYS)
    seeds = np.array([5, 9, 1, 5, 42])
    v = unc.values_for(seeds)
    np.testing.assert_array_equal(v[0], v[3])
    np.testing.assert_array_equal(unc.values_for(seeds[::-1])[::-1], v)
    np.testing.assert_array_equal(unc.values_for(np.array([42])), v[4:])


def test_posterior_draws_are_used_in_proportion():
    """Run r takes draw floor(u * n): over many seeds every draw is used about equally."""
    draws = np.arange(4.0)[:, None] * np.ones((1, 1))
    unc = Uncertainty.from_draws(["rationality"], draws)
    picked = unc.values_for(np.arange(8000))[:, 0]
    shares = np.bincount(picked.astype(int), minlength=4) / 8000
    np.testing.assert_allclose(shares, 0.25, atol=0.02)  # 5 sd of a binomial share is 0.024


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(PRIORS)), st.lists(st.floats(0.001, 0.999), min_size=1, max_size=20))
def test_prior_quantiles_are_monotone_and_in_support(name, qs):
    prior = PRIORS[name]
    q = np.sort(np.array(qs))
    x = prior.ppf(q)
    assert np.all(np.diff(x) >= 0)
    assert np.all(np.isfinite(prior.logpdf(x)))
    if prior.kind in ("uniform",):
        assert np.all((x >= prior.a) & (x <= prior.b))
    if prior.kind == "lognormal":
        assert np.all(x > 0)


def test_prior_logpdf_integrates_to_one():
    for prior in (
        Prior("normal", 0.0, 5.0),
        Prior("uniform", 0.0, 1.0),
        Prior("lognormal", 0.0, 1.5),
    ):
        q = np.linspace(0.0005, 0.9995, 20001)
        x = prior.ppf(q)
        mass = np.trapezoid(np.exp(prior.logpdf(x)), x)
        assert mass == pytest.approx(0.999, abs=2e-3), prior


def test_priors_by_kind_of_parameter():
    assert prior_for("rationality").kind == "lognormal"
    assert prior_for("trust_loss") == PRIORS["unit"]
    assert prior_for("actors.DPRK.concede.bias") == PRIORS["weight"]


def test_unknown_parameter_in_an_uncertainty_is_refused_before_running():
    unc = Uncertainty.from_priors(["actors.DPRK.concede.nonsense"])
    with pytest.raises(ConfigError, match="nonsense"):
        run_batch([make_config(rounds=5)], [0], progress=False, uncertainty=unc)


def test_posterior_by_a_name_that_does_not_exist_is_refused():
    with pytest.raises(ConfigError, match="no_such_posterior"):
        read_posterior("no_such_posterior")


# --- the command line --------------------------------------------------------------


def stalemate(*args):
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).with_name("stalemate"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_uncertainty_posterior_gives_identical_tables_in_both_engines(tmp_path):
    runs = {}
    for engine in ("batch", "mesa"):
        res = stalemate("uncertainty=posterior", "seeds=8", "rounds=40", f"engine={engine}", "narrate=false",
                        f"hydra.run.dir={tmp_path / engine}")  # fmt: skip
        assert res.returncode == 0, res.stderr[-2000:]
        assert "from the posterior us_dprk_2018_2019" in res.stdout
        runs[engine] = pd.read_parquet(tmp_path / engine / "runs.parquet")
    post = read_posterior("us_dprk_2018_2019")
    a, b = (runs[e].drop(columns=["engine"], errors="ignore") for e in ("batch", "mesa"))
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(a[list(post.keys)].to_numpy(), post.values_for(np.arange(8)))


@pytest.mark.slow
def test_cli_uncertainty_through_a_sweep_and_its_refusals(tmp_path):
    res = stalemate("-m", "uncertainty=prior", "assurance=0.2,0.8", "seeds=10", "rounds=20",
                    f"hydra.sweep.dir={tmp_path / 'sweep'}")  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    runs = pd.read_parquet(tmp_path / "sweep" / "runs.parquet")
    assert (
        len(runs) == 20 and runs["rationality"].nunique() == 10
    )  # a draw per seed, shared by points
    res = stalemate(
        "-m", "uncertainty=posterior", "rationality=1,2", f"hydra.sweep.dir={tmp_path / 'bad'}"
    )
    assert res.returncode == 2 and "swept and also drawn" in res.stderr
    assert not (tmp_path / "bad").exists()
    res = stalemate("uncertainty=sometimes", f"hydra.run.dir={tmp_path / 'bad2'}")
    assert res.returncode == 2 and "none, posterior, prior" in res.stderr
    res = stalemate(
        "uncertainty=posterior", "posterior=missing", f"hydra.run.dir={tmp_path / 'bad3'}"
    )
    assert res.returncode == 2 and "missing" in res.stderr and not (tmp_path / "bad3").exists()

"""Robust policy search (issue 14): the search finds a known front, resumes after a kill,
refuses bad presets in one line, scores policies with common random numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.validation import ConfigError
from sim.report.io import FAILPOINTS_ENV
from sim.search.evaluate import overlap, summarise
from sim.search.moea import (
    CHECKPOINT,
    EpsilonArchive,
    convergence,
    hypervolume,
    normalise,
    run_search,
)
from sim.search.spec import (
    Checked,
    LeverSpec,
    Objective,
    ObjectiveSpec,
    PolicySearch,
    RangeSpec,
    check,
)

ROOT = Path(__file__).resolve().parent.parent


# --- the search on a toy problem whose Pareto front is known -----------------------------


class ToyEvaluator:
    """Two levers x, y in [0, 1]; relief given = x, P(agreement) = sqrt(x) (1 - y).
    The front is y = 0: P(agreement) = sqrt(relief), hypervolume 2/3 (reference 1, 1)."""

    base: dict = {}
    rounds = 1

    def __init__(self):
        self.runs = 0

    def objectives(self, policies):
        x = np.array([p["x"] for p in policies])
        y = np.array([p["y"] for p in policies])
        est = np.column_stack([np.sqrt(x) * (1 - y), x])
        self.runs += len(policies)
        return est, est, est, {}


def toy(generations=30, population=24, seed=3) -> Checked:
    spec = PolicySearch(name="toy", population=population, generations=generations, seed=seed)
    levers = check_levers()
    objectives = (Objective("p_agreement", "mean", 0.02), Objective("relief_given", "p90", 0.02))
    return Checked(spec, levers, (), objectives)


def check_levers():
    from sim.search.spec import Lever

    return (Lever("x", "real", 0.0, 1.0), Lever("y", "real", 0.0, 1.0))


def test_nsga2_finds_a_known_pareto_front(tmp_path):
    """The ε-archive lies on the true front P = sqrt(relief), spread along it, and its
    hypervolume comes within 3% of the front's 2/3; it converges by the 1% rule."""
    checked = toy()
    state = run_search(checked, ToyEvaluator(), tmp_path, progress=False, say=lambda *_: None)
    est = np.array([state.est[k] for k in state.archive.keys])
    p, relief = est[:, 0], est[:, 1]
    assert np.all(np.abs(p - np.sqrt(relief)) < 0.03), est
    assert relief.min() < 0.05 and relief.max() > 0.9 and len(est) >= 10
    hv = hypervolume(normalise(np.array(state.est), checked, 1))
    assert 0.97 * 2 / 3 < hv <= 2 / 3 + 1e-9
    assert convergence(state.history)["converged"]
    assert [h["generation"] for h in state.history] == list(range(1, 31))


def test_a_search_stopped_after_a_generation_resumes_to_the_same_end(tmp_path, monkeypatch):
    """Stopped right after generation 4's checkpoint, then run again in the same
    directory: the same policies, objectives, archive and history as an unbroken search."""
    checked = toy(generations=8)
    whole = run_search(checked, ToyEvaluator(), tmp_path / "whole", progress=False)
    monkeypatch.setenv(FAILPOINTS_ENV, "search.generation.4=error")
    with pytest.raises(RuntimeError, match="failpoint search.generation.4"):
        run_search(checked, ToyEvaluator(), tmp_path / "broken", progress=False)
    assert (tmp_path / "broken" / CHECKPOINT).exists()
    monkeypatch.delenv(FAILPOINTS_ENV)
    said = []
    resumed = run_search(
        checked, ToyEvaluator(), tmp_path / "broken", progress=False, say=said.append
    )
    assert said and "4 of 8 generations done" in said[0]
    assert resumed.policies == whole.policies
    np.testing.assert_array_equal(np.array(resumed.est), np.array(whole.est))
    assert resumed.archive.keys == whole.archive.keys
    assert [h["hypervolume"] for h in resumed.history] == [h["hypervolume"] for h in whole.history]


def test_a_checkpoint_of_another_search_is_refused(tmp_path):
    run_search(toy(generations=2), ToyEvaluator(), tmp_path, progress=False)
    with pytest.raises(ValueError, match="another search"):
        run_search(toy(generations=2, seed=4), ToyEvaluator(), tmp_path, progress=False)


def test_epsilon_archive_and_progress():
    a = EpsilonArchive([0.1, 0.1])
    assert a.add(np.array([0.55, 0.55]), 0)  # a new box
    assert not a.add(np.array([0.58, 0.58]), 1)  # same box, farther from its corner
    assert not a.add(np.array([0.51, 0.51]), 2) and a.keys == [2]  # same box, closer: replaces
    assert a.add(np.array([0.15, 0.95]), 3)  # a new box, not dominated
    assert a.add(np.array([0.15, 0.45]), 4) and sorted(a.keys) == [4]  # dominates both boxes


# --- robustness statistics -----------------------------------------------------------------


def test_robustness_statistics_and_their_intervals():
    rng = np.random.default_rng(0)
    share = rng.random((200, 400)) < 0.3
    est, lo, hi = summarise(share, "p_agreement", "mean")
    assert np.mean((lo <= 0.3) & (0.3 <= hi)) > 0.9  # Wilson intervals cover the truth
    x = rng.random((200, 400))
    est, lo, hi = summarise(x, "relief_given", "p90")
    assert np.all(lo <= est) and np.all(est <= hi)
    assert np.mean((lo <= 0.9) & (0.9 <= hi)) > 0.9  # order-statistic intervals cover
    assert overlap([0.1], [0.2], [0.19], [0.3])[0] and not overlap([0.1], [0.2], [0.21], [0.3])[0]


# --- presets checked against the model -----------------------------------------------------


def spec(**kw) -> PolicySearch:
    base = {
        "name": "t",
        "base": ["rounds=20"],
        "levers": [LeverSpec("relief", 0.0, 1.0)],
        "uncertainties": [RangeSpec("detect_prob", 0.1, 0.6)],
    }
    return PolicySearch(**{**base, **kw})


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"levers": [LeverSpec("relif", 0.0, 1.0)]}, "relif is not a known key (did you mean 'relief'?)"),
        ({"levers": [LeverSpec("assurance", 0.0, 2.0)]}, "hi = 2.0: assurance = 2.0 is outside the allowed range [0, 1]"),
        ({"levers": [LeverSpec("regime", choices=["relief_first", "later"])]}, "regime = 'later' is not allowed"),
        ({"levers": [LeverSpec("actors.USA.grit_period", 0, 5, integer=True)]}, "actors.USA.grit_period = 0 is outside"),
        ({"uncertainties": [RangeSpec("actors.USA.grit_period", 1, 5)]}, "is not a numeric parameter that can be set per run"),
        ({"uncertainties": [RangeSpec("relief", 0.0, 0.5)]}, "a key is a lever or an uncertainty, not both"),
        ({"uncertainties": [RangeSpec("detect_prob", 0.5, 1.5)]}, "outside the allowed range"),
        ({"posterior": "us_dprk_2018_2019", "uncertainties": [RangeSpec("rationality", 1, 5)]}, "draws rationality"),
        ({"objectives": [ObjectiveSpec("p_agreement", "p90"), ObjectiveSpec("relief_given")]}, "its robustness is its mean"),
        ({"objectives": [ObjectiveSpec("p_agreement"), ObjectiveSpec("releif_given")]}, "did you mean 'relief_given'?"),
        ({"scenarios": 1}, "policy_search.scenarios = 1 is outside the allowed range [2, 10000]"),
        ({"population": 10_000_000}, "policy_search.population = 10000000 is outside the allowed range [4, 1000]"),
        ({"generations": 2.5}, "policy_search.generations = 2.5 must be a whole number in [1, 10000]"),
        ({"name": "../../../x"}, "policy_search.name = '../../../x' must be one safe path component"),
        ({"population": 1000, "generations": 1000, "scenarios": 512}, "more than max_runs = 100,000,000"),
        ({"base": ["scenario=nope"]}, "policy_search.base"),
    ],
)  # fmt: skip
def test_bad_presets_are_refused_naming_key_value_and_what_is_allowed(changes, words):
    with pytest.raises(ConfigError) as err:
        check(spec(**changes))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_packaged_presets_pass_their_checks():
    from sim.search.cli import _compose as compose
    from sim.search.cli import presets, to_search_app

    assert {"default", "smoke"} <= set(presets())
    for name in presets():
        app = to_search_app(compose([f"+policy_search={name}"]))
        checked = check(app.policy_search)
        assert len(checked.levers) >= 2 and len(checked.objectives) >= 2


@pytest.mark.parametrize(
    "argv, words",
    [
        ([], "policy_search is not chosen: run stalemate-search +policy_search=<preset>; presets: default"),
        (["+policy_search=nope"], "policy_search = 'nope' is not a known option; choose one of: default"),
        (["+policy_search=smoke", "policy_search.population=2"], "policy_search.population = 2 is outside the allowed range [4, 1000]"),
        (["+policy_search=smoke", "+policy_search.colour=red"], "policy_search.colour is not a known key; allowed in policy_search: name,"),
        (["+policy_search=smoke", "+colour=red"], "colour is not a known key; allowed: policy_search, processes, progress, max_runs"),
        (["+policy_search=smoke", "+policy_search.levers.0.colour=red"], "policy_search.levers[0].colour is not a known key"),
        (["+policy_search=smoke", "+policy_search.objectives.1.robustnes=p90"], "did you mean 'robustness'?"),
        (["+policy_search=smoke", "policy_search.name=../../../x"], "policy_search.name = '../../../x' must be one safe path component"),
        (["+policy_search=smoke", "policy_search.scenarios=100000000"], "policy_search.scenarios = 100000000 is outside the allowed range [2, 10000]"),
        (["+policy_search=smoke", "policy_search.generations=10000", "policy_search.scenarios=10000"], "the search plays up to 800,000,000 runs"),
        (["+policy_search=smoke", "max_runs=1000"], "more than max_runs = 1,000; make it smaller, or allow it with max_runs=1024"),
        (["+policy_search=smoke", "hydra.output_subdir=../../.."], "hydra.output_subdir = '../../..' leads outside hydra.run.dir"),
        (["--config-dir", "/tmp", "+policy_search=smoke"], "--config-dir and --config-name are not supported"),
        (["+policy_search=smoke", "policy_search.uncertainties=[{key: detect_prob, lo: 0, hi: 2}]"],
         "uncertainties[0] (detect_prob): [0.0, 2.0] is outside the allowed range [0, 1]"),
        (["-m", "+policy_search=smoke"], "--multirun: stalemate-search runs one search per command"),
    ],
)  # fmt: skip
def test_the_command_refuses_before_any_work(tmp_path, argv, words):
    from sim.hydra.refuse import Refusal
    from sim.search.cli import preflight

    out = tmp_path / "out"
    with pytest.raises(Refusal) as err:
        preflight([*argv, f"hydra.run.dir={out}"])
    assert words in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_the_size_of_a_search_is_counted_before_anything_is_composed(monkeypatch):
    """A population of ten million is refused at once: the base model is not even composed."""
    import sim.search.spec as spec_module
    from sim.hydra.refuse import Refusal
    from sim.search.cli import preflight

    calls = []
    monkeypatch.setattr(spec_module, "base_dict", lambda *a: calls.append(a))
    for argv in (
        ["policy_search.population=10000000"],
        ["policy_search.generations=10000", "policy_search.scenarios=10000"],
    ):
        with pytest.raises(Refusal, match="outside the allowed range|more than max_runs"):
            preflight(["+policy_search=smoke", *argv])
    assert calls == []  # the base model was never composed


def test_an_empty_or_foreign_directory(tmp_path, monkeypatch):
    """An empty hydra.run.dir would write into the current directory; a directory holding
    something other than a search is not taken over."""
    from sim.hydra.refuse import Refusal
    from sim.search.cli import preflight

    monkeypatch.chdir(tmp_path)
    with pytest.raises(Refusal, match="hydra.run.dir = '' is empty"):
        preflight(["+policy_search=smoke", "hydra.run.dir="])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(Refusal, match="holds files but no finished search"):
        preflight(["+policy_search=smoke", f"hydra.run.dir={tmp_path / 'mine'}"])
    (tmp_path / "afile").write_text("x")
    with pytest.raises(Refusal, match="is a file, not a directory"):
        preflight(["+policy_search=smoke", f"hydra.run.dir={tmp_path / 'afile'}"])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile", "mine", "notes.txt"]


# --- the real model, end to end --------------------------------------------------------------


def test_the_model_search_scores_policies_with_common_random_numbers():
    """The same policy scores the same in any batch (its objectives are a function of its
    levers), and better relief on the table raises P(agreement) in the same scenarios."""
    from sim.search.evaluate import Evaluator, sample_scenarios
    from sim.search.spec import base_dict

    s = spec(levers=[LeverSpec("relief", 0.0, 1.0), LeverSpec("assurance", 0.0, 1.0)],
             base=["rounds=60", "regime=relief_first"], scenarios=64)  # fmt: skip
    checked = check(s)
    ev = Evaluator(checked, base_dict(s), sample_scenarios(checked, 64), threads=1)
    low, high = {"relief": 0.0, "assurance": 0.2}, {"relief": 0.9, "assurance": 0.9}
    a = ev.metrics([low, high])
    b = ev.metrics([high])
    np.testing.assert_array_equal(a["p_agreement"][1], b["p_agreement"][0])
    assert a["p_agreement"][1].mean() > a["p_agreement"][0].mean()
    other = sample_scenarios(checked, 64, out_of_sample=True)
    assert not set(other.seeds) & set(ev.scenarios.seeds)


@pytest.mark.slow
def test_stalemate_search_smoke_end_to_end_killed_and_resumed(tmp_path):
    """The command on the smoke preset, killed (SIGKILL) after generation 2 and run again in
    the same directory, writes the same Pareto set as an unbroken search, the
    re-evaluation, the summary and every figure; no temporary file is left."""
    from sim.search.cli import _compose, to_search_app
    from sim.search.pipeline import policy_search

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim.search.cli", "+policy_search=smoke", f"hydra.run.dir={out}"]
    env = {**os.environ, FAILPOINTS_ENV: "search.generation.2=kill"}
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path)
    partial = tmp_path / ".run.partial"
    assert killed.returncode == -9 and (partial / CHECKPOINT).exists()
    assert not out.exists()  # complete or absent
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Resuming from" in done.stdout and "2 of 4 generations done" in done.stdout
    assert not partial.exists() and (out / CHECKPOINT).exists()
    for name in ("pareto.parquet", "reevaluated.parquet", "summary.json", "convergence.csv",
                 "failures.csv", "pareto_parallel.png", "tradeoff.png", "convergence.png",
                 "failure_boxes.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert not list(out.rglob(".*.tmp"))
    app = to_search_app(_compose(["+policy_search=smoke"]))
    policy_search(
        app.policy_search, tmp_path / "whole", progress=False, say=lambda *_: None, figures=False
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "pareto.parquet"),
        pd.read_parquet(tmp_path / "whole" / "pareto.parquet"),
    )
    from sim.report.io import read_metadata

    meta = read_metadata(out / "pareto.parquet")
    assert meta["seed"] == 0 and meta["version"] and meta["config"]["name"] == "smoke"
    re = pd.read_parquet(out / "reevaluated.parquet")
    assert {"p_agreement", "p_agreement_search", "agrees", "same"} <= set(re.columns)

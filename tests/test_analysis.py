"""The analyses of issue 6: the 2018 replay and branching, the stage game, scenario
discovery (PRIM, tree) and the Sobol sensitivity analysis."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import diff_ci

from sim import make_config, run_batch
from sim.analysis.discovery import prim_boxes, tree_boxes, union_stats
from sim.analysis.replay import (
    branch,
    check_branchable,
    month_round,
    replay_config,
    round_month,
    round_to_date,
    with_events,
)
from sim.analysis.stagegame import nash_equilibria, payoff_matrix, stage_game

ROOT = Path(__file__).resolve().parent.parent


def experiment(name: str):
    """Import ``experiments/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        f"experiment_{name}", ROOT / "experiments" / f"{name}.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs, check_exact=True)
    pd.testing.assert_frame_equal(a.trajectories, b.trajectories, check_exact=True)


# --- the 2018 replay -------------------------------------------------------------------


def test_replay_scenario_events_land_on_their_months():
    """The replay validates, runs monthly from April 2018 to early 2019, and each of
    the brief's events is scheduled in the month it happened."""
    cfg = replay_config()
    assert cfg.regime == "denuclearization_first" and cfg.assurance == 0.4 and cfg.relief == 0.0
    assert round_month(1) == "2018-04" and round_month(cfg.rounds) in {
        "2019-01",
        "2019-02",
        "2019-03",
    }
    months = {}
    for ev in cfg.events:
        months.setdefault(round_month(ev.round), []).append(ev.kind)
    assert "custom" in months["2018-04"]  # testing halt, Punggye-ri closure announced
    assert "summit" in months["2018-06"]  # Singapore, 12 June
    assert "cancelled_meeting" in months["2018-08"]  # Secretary of State's trip
    assert {"report", "cancelled_meeting"} <= set(months["2018-11"])  # bases report, meeting
    assert any(m in months for m in ("2018-12", "2019-01"))  # the call for a second summit
    punggye = next(e for e in cfg.events if "tunnels" in e.label.lower())
    assert round_month(punggye.round) == "2018-05"
    # nothing in the replay is forced: the DPRK's concession is its own choice
    assert all(not e.force for e in cfg.events)
    # the calendar helpers agree with each other
    assert month_round("2018-08") == 5 and round_to_date(5) == pd.Timestamp("2018-08-01")
    assert round_to_date(5, "end") == round_to_date(6) and round_to_date(0, "end") == pd.Timestamp(
        "2018-04-01"
    )


def test_replay_scenario_composes_from_hydra():
    """``stalemate scenario=replay_2018`` composes to the same model config."""
    from sim.hydra.compose import compose
    from sim.hydra.schema import to_app_config

    app = compose(["scenario=replay_2018"])
    assert app.name == "replay_2018"
    assert to_app_config(app)[1] == replay_config()


@pytest.mark.parametrize("at_round", [1, 5, 11])
def test_branch_without_change_reproduces_the_unbranched_run(at_round):
    """Branching with unchanged parameters gives, in both histories, exactly the
    runs and trajectories of one unbranched batch run (same seeds)."""
    cfg = replay_config()
    seeds = range(100, 160)
    ref = run_batch([cfg] * 60, seeds, progress=False)
    b = branch(cfg, cfg, seeds, at_round)
    assert_same(b.factual, ref)
    assert_same(b.counterfactual, ref)


def test_branch_shares_the_past_and_diverges_after():
    """Before the branch month both histories are identical; the counterfactual's
    relief offer shows from that month on."""
    base = replay_config()
    at = month_round("2018-08")
    alt = with_events(
        base, {"round": at, "kind": "relief_offer", "shift": {"relief": 0.5}}, relief=0.5
    )
    b = branch(base, alt, range(80), at)
    f, c = b.factual.trajectories, b.counterfactual.trajectories
    before_f, before_c = f[f["round"] < at], c[c["round"] < at]
    pd.testing.assert_frame_equal(before_f.reset_index(drop=True), before_c.reset_index(drop=True))
    fa = f[f["round"] == at].set_index(["run_id", "actor"])["relief"]
    ca = c[c["round"] == at].set_index(["run_id", "actor"])["relief"]
    assert len(fa) == len(ca) > 0 and (ca - fa > 0.2).all()  # snapback may halve it


def test_branch_refuses_a_different_past():
    base = replay_config()
    moved = with_events(base, {"round": 2, "kind": "summit"})
    with pytest.raises(ValueError, match="before round 5"):
        check_branchable(base, moved, 5)
    check_branchable(base, moved, 2)  # from round 2 on, the extra summit is the counterfactual
    with pytest.raises(ValueError, match="horizon"):
        check_branchable(base, replay_config(rounds=12), 5)
    with pytest.raises(ValueError, match="actors"):
        check_branchable(base, replay_config(actors={"USA": {"policy": "grit"}}), 5)


def test_counterfactual_relief_moves_outcomes_the_expected_way():
    """Over 300 seeds with common random numbers: partial relief offered in August
    2018 makes the DPRK concede more often (paired 95% CI above 0), and relief with
    firmer assurances under action for action raises P(agreement) over five years
    (Newcombe 95% CI above 0) and lowers P(stalemate)."""
    seeds = range(300)
    base = replay_config(rounds=60)
    mod = experiment("replay_2018")
    alts = mod.counterfactuals(base, month_round("2018-08"), relief=0.5)

    offer = branch(base, alts["relief offered"], seeds, 5, record=False)
    d = offer.counterfactual.runs["concede_share_DPRK"] - offer.factual.runs["concede_share_DPRK"]
    lo = d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert lo > 0, f"DPRK concede share rose by {d.mean():.4f}, CI lower bound {lo:.4f}"

    phased = branch(base, alts["relief + assurances, phased"], seeds, 5, record=False)
    f, c = phased.factual.runs["outcome"], phased.counterfactual.runs["outcome"]
    lo, hi = diff_ci(c == "agreement", f == "agreement")
    assert lo > 0, f"P(agreement) difference CI [{lo:.3f}, {hi:.3f}]"
    stalled = ["stalemate", "hedged_stalemate"]
    lo, hi = diff_ci(f.isin(stalled), c.isin(stalled))
    assert lo > 0, f"P(stalemate) fell by CI [{lo:.3f}, {hi:.3f}]"


@pytest.mark.slow
def test_replay_experiment_writes_figures_and_summary(tmp_path):
    mod = experiment("replay_2018")
    mod.main(["--seeds", "40", "--horizon", "24", "--out", str(tmp_path)])
    for name in ("replay.png", "counterfactual.png", "summary.csv", "trajectories.parquet"):
        assert (tmp_path / name).stat().st_size > 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["history"]) == {"factual", "relief offered", "relief + assurances, phased"}
    assert summary["horizon"].nunique() == 2
    shares = summary[["agreement", "stalemate", "hedged_stalemate", "breakdown", "undecided"]].sum(
        axis=1
    )
    np.testing.assert_allclose(shares, 1.0)
    assert (summary["agreement_lo"] <= summary["agreement"]).all()
    assert (summary["agreement"] <= summary["agreement_hi"]).all()


# --- the stage game --------------------------------------------------------------------


def _describe(eqs):
    return [(e.row.round(6).tolist(), e.col.round(6).tolist()) for e in eqs]


def test_nash_prisoners_dilemma_has_one_pure_equilibrium():
    A = np.array([[3, 0], [5, 1]])  # cooperate, defect
    assert _describe(nash_equilibria(A, A.T)) == [([0.0, 1.0], [0.0, 1.0])]


def test_nash_matching_pennies_has_one_mixed_equilibrium():
    A = np.array([[1, -1], [-1, 1]])
    eqs = nash_equilibria(A, -A)
    assert _describe(eqs) == [([0.5, 0.5], [0.5, 0.5])]
    assert not eqs[0].pure and abs(eqs[0].row_payoff) < 1e-12


def test_nash_battle_of_the_sexes_and_rock_paper_scissors():
    A, B = np.array([[3, 0], [0, 2]]), np.array([[2, 0], [0, 3]])
    assert sorted(_describe(nash_equilibria(A, B))) == sorted(
        [([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0]), ([0.6, 0.4], [0.4, 0.6])]
    )
    R = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    third = round(1 / 3, 6)
    assert _describe(nash_equilibria(R, -R)) == [([third] * 3, [third] * 3)]


def test_stage_game_is_the_models_own_choice_rule():
    """The column player's payoffs in the row of the action the row player really
    played last round are exactly the utilities the model's logit rule uses."""
    from sim import NegotiationModel
    from sim.model.decisions import logit_probabilities

    m = NegotiationModel(rounds=30, relief=0.4, assurance=0.6, rng=3)
    for _ in range(7):
        m.step()
    game = stage_game(m, "USA", "DPRK")
    A, B = payoff_matrix(m, "USA", "DPRK")
    np.testing.assert_array_equal(A, game.A)
    usa_last = ["concede", "hedge", "escalate"].index(game.last[0])
    dprk_last = ["concede", "hedge", "escalate"].index(game.last[1])
    lam = m.config.rationality

    def logit(u):
        out = np.empty(3)
        logit_probabilities(np.ascontiguousarray(u), lam, out)
        return out

    np.testing.assert_allclose(logit(B[usa_last]), game.logit_play[1])
    np.testing.assert_allclose(logit(A[:, dprk_last]), game.logit_play[0])
    # the USA reacts to the DPRK: its payoffs depend on the DPRK's action
    assert not np.allclose(A, A[:, [0]])


def test_stage_game_of_a_non_counterpart_is_flagged():
    from sim import NegotiationModel

    m = NegotiationModel(rounds=10, rng=0)
    m.step()
    game = stage_game(m, "ROK", "DPRK")
    assert np.allclose(game.B, game.B[[0]])  # the DPRK ignores the ROK
    assert any("DPRK reacts to USA" in n for n in game.notes)
    assert game.equilibria  # a finite game always has one


def test_stage_game_command(tmp_path, capsys):
    mod = experiment("stage_game")
    mod.main(
        [
            "--scenario",
            "baseline_2018",
            "--round",
            "6",
            "--actors",
            "USA",
            "DPRK",
            "--out",
            str(tmp_path),
        ]
    )
    text = (tmp_path / "baseline_2018_round6_USA_DPRK.txt").read_text()
    assert "Pure Nash equilibria" in text and "USA hedge" in text
    table = pd.read_csv(tmp_path / "baseline_2018_round6_USA_DPRK.csv", index_col=0)
    assert table.shape == (3, 3)


# --- scenario discovery ----------------------------------------------------------------


@pytest.fixture
def synthetic():
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.random((3000, 5)), columns=["relief", "detect_prob", "a", "b", "c"])
    return X


def test_prim_recovers_a_known_box(synthetic):
    """Cases are exactly 'relief < 0.3 and detect_prob > 0.6', plus 5% label noise:
    box 1 restricts those two parameters, near the true limits, with high coverage
    and density, and the noise columns are left free."""
    X = synthetic
    truth = ((X.relief < 0.3) & (X.detect_prob > 0.6)).to_numpy()
    flip = np.random.default_rng(1).random(len(X)) < 0.05
    y = truth ^ flip
    bounds = {d: (0.0, 1.0) for d in X.columns}
    box = prim_boxes(X, y, min_density=0.9, bounds=bounds)[0]
    assert set(box.limits) == {"relief", "detect_prob"}, box.rule()
    assert abs(box.limits["relief"][1] - 0.3) < 0.03
    assert abs(box.limits["detect_prob"][0] - 0.6) < 0.03
    assert box.density > 0.85  # of the noisy labels
    box.score(X, truth)
    assert box.coverage > 0.9 and box.density > 0.9  # of the true box
    assert box.rule().startswith("relief ≤ 0.") and " and detect_prob ≥ 0." in box.rule()
    traj = box.trajectory  # EMA Workbench's peeling (and pasting) trajectory
    assert traj["coverage"].iloc[0] == 1.0 and traj["density"].max() > traj["density"].iloc[0]


def test_prim_covering_finds_both_boxes_of_a_union(synthetic):
    X = synthetic
    y = ((X.relief < 0.25) | (X.detect_prob > 0.85)).to_numpy()
    boxes = prim_boxes(X, y, min_density=0.9, bounds={d: (0.0, 1.0) for d in X.columns})
    assert [set(b.limits) for b in boxes[:2]] == [{"relief"}, {"detect_prob"}] or [
        set(b.limits) for b in boxes[:2]
    ] == [{"detect_prob"}, {"relief"}]
    cov, dens, _ = union_stats(boxes, X, y)
    assert cov > 0.9 and dens > 0.9
    assert abs(sum(b.coverage for b in boxes) - cov) < 1e-9  # covering: coverages add up


def test_tree_recovers_a_known_box(synthetic):
    X = synthetic
    y = ((X.relief < 0.3) & (X.detect_prob > 0.6)).to_numpy()
    boxes, _ = tree_boxes(X, y, max_depth=3, bounds={d: (0.0, 1.0) for d in X.columns})
    best = boxes[0]
    assert set(best.limits) == {"relief", "detect_prob"}
    assert (
        abs(best.limits["relief"][1] - 0.3) < 0.02
        and abs(best.limits["detect_prob"][0] - 0.6) < 0.02
    )
    assert best.coverage > 0.95 and best.density > 0.95


def test_discovery_quick_writes_rules(tmp_path):
    mod = experiment("discovery")
    mod.main(["--quick", "--out", str(tmp_path)])
    text = (tmp_path / "rules.txt").read_text()
    assert "coverage" in text and "density" in text
    rules = pd.read_csv(tmp_path / "rules.csv")
    assert {"method", "rule", "coverage", "density", "mass"} <= set(rules.columns)
    assert (tmp_path / "discovery.png").stat().st_size > 0


def test_prim_and_tree_find_a_box_with_a_categorical_dimension(synthetic):
    """A case that needs a set of regimes and an interval: PRIM and the tree both keep
    exactly the two regimes and the relief limit, and the rule reads in words."""
    X = synthetic.copy()
    levels = ["relief_first", "action_for_action", "denuclearization_first"]
    X["regime"] = pd.Categorical(np.random.default_rng(3).choice(levels, len(X)), levels)
    y = ((X.relief < 0.4) & (X.regime != "relief_first")).to_numpy()
    box = prim_boxes(X, y, min_density=0.95, objective="lenient1")[0]
    assert box.limits["regime"] == {"action_for_action", "denuclearization_first"}
    assert set(box.limits) == {"relief", "regime"} and abs(box.limits["relief"][1] - 0.4) < 0.03
    assert "regime in {action_for_action, denuclearization_first}" in box.rule()
    tree, _ = tree_boxes(X, y, max_depth=3)
    assert tree[0].coverage > 0.95 and tree[0].density > 0.95
    assert tree[0].limits["regime"] == {"action_for_action", "denuclearization_first"}


# --- sensitivity -----------------------------------------------------------------------


def test_sobol_wrapper_on_a_known_function():
    """An output that is relief alone: S1 and ST of relief near 1, all others near 0."""
    from SALib.sample import sobol as sobol_sample

    from sim.analysis.sensitivity import FACTOR_NAMES, OUTPUTS, problem, sobol_indices

    X = sobol_sample.sample(problem(), 512, calc_second_order=False, seed=1)
    relief = X[:, FACTOR_NAMES.index("relief")]
    Y = pd.DataFrame({out: relief for out in OUTPUTS} | {f"{out}_se": 0.0 for out in OUTPUTS})
    table = sobol_indices(Y, num_resamples=200)
    r = table[(table.output == "p_agreement") & (table.parameter == "relief")].iloc[0]
    assert abs(r.S1 - 1) < 0.05 and abs(r.ST - 1) < 0.05 and r.S1_lo <= r.S1 <= r.S1_hi
    others = table[(table.output == "p_agreement") & (table.parameter != "relief")]
    assert (others.ST.abs() < 0.05).all()
    assert table.groupby("output")["ST"].idxmax().map(table.parameter).eq("relief").all()


def test_sensitivity_points_use_the_sampled_values():
    from sim.analysis.sensitivity import FACTORS, evaluate, scale, to_configs

    U = np.random.default_rng(0).random((3, len(FACTORS)))
    X = scale(U)
    cfgs = to_configs(X, rounds=10)
    for cfg, x in zip(cfgs, X):
        v = dict(zip([f.name for f in FACTORS], x))
        assert cfg.relief == v["relief"] and cfg.actors["DPRK"].trust == v["trust_DPRK"]
        assert cfg.actors["USA"].trust == v["trust_USA"] and cfg.rationality == v["rationality"]
    Y = evaluate(X, seeds=5, rounds=10)
    direct = run_batch([cfgs[1]] * 5, range(5), record=False, progress=False).runs
    assert Y.loc[1, "hedge_share_DPRK"] == pytest.approx(direct["hedge_share_DPRK"].mean())
    assert Y.loc[1, "p_stalemate"] == pytest.approx(
        direct["outcome"].isin(["stalemate", "hedged_stalemate"]).mean()
    )
    assert make_config(regime="relief_first").regime == "relief_first"


def test_sensitivity_quick_writes_its_table(tmp_path):
    mod = experiment("sensitivity")
    mod.main(["--quick", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "sobol.csv")
    assert len(table) == 3 * 12
    assert {"output", "parameter", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"} <= set(
        table.columns
    )
    assert set(table["output"]) == {"p_agreement", "p_stalemate", "hedge_share_DPRK"}
    assert (tmp_path / "sobol.png").stat().st_size > 0
    assert len(pd.read_parquet(tmp_path / "points.parquet")) == 16 * 14

"""The two engines and their plumbing: identical results, reproducibility, Mesa hooks."""

from dataclasses import asdict, is_dataclass

import mesa
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from helpers import SCENARIOS

from sim import NegotiationModel, make_config, run_batch, run_mesa
from sim.engines.tables import to_pandas
from sim.hydra.compose import CONFIG_DIR, scenario_kwargs

USA_POLICIES = {
    "logit": {"policy": "logit"},
    "tit_for_tat": {"policy": "tit_for_tat"},
    "grit": {"policy": "grit", "grit_period": 4},
    "scripted": {
        "policy": "scripted",
        "script": ["concede", "hedge", "hedge", "escalate", "hedge"],
    },
    "win_stay_lose_shift": {"policy": "win_stay_lose_shift"},
}
SEEDS_PER_CELL = 50  # 5 scenarios x 5 policies x 50 seeds = 1250 runs


def scenario_config(name: str, usa: dict, rounds: int = 60):
    """The named scenario with the USA's policy replaced."""
    kw = scenario_kwargs(name, rounds=rounds)
    actors = {
        n: asdict(a) if is_dataclass(a) else dict(a) for n, a in (kw.pop("actors") or {}).items()
    }
    actors["USA"] = {**actors.get("USA", {}), **usa}
    return make_config(**kw, actors=actors)


def assert_same(a, b):
    """Identical runs, states and actions tables (and so the joined long table)."""
    pd.testing.assert_frame_equal(a.runs, b.runs, check_exact=True)
    for kind in ("states", "actions"):
        if getattr(a, kind) is not None or getattr(b, kind) is not None:
            pd.testing.assert_frame_equal(getattr(a, kind), getattr(b, kind), check_exact=True)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engines_identical_over_all_scenarios_and_policies(scenario):
    """Mesa and batch engines give bit-identical runs and trajectories tables for
    every USA policy in the scenario (5 x 50 seeds; 1250 runs over the 5 scenarios)."""
    cfgs, seeds = [], []
    for usa in USA_POLICIES.values():
        cfg = scenario_config(scenario, usa)
        cfgs += [cfg] * SEEDS_PER_CELL
        seeds += list(range(SEEDS_PER_CELL))
    b = run_batch(cfgs, seeds, progress=False)
    m = run_mesa(cfgs, seeds, progress=False)
    assert len(b.runs) == len(cfgs) == len(USA_POLICIES) * SEEDS_PER_CELL
    assert_same(b, m)


def run_mesa_agent_by_agent(cfg, seed: int) -> NegotiationModel:
    """A Mesa run in which every agent decides through its own ``decide`` each round: a
    chooser that always lets the policy play keeps the model off its one-call path."""
    m = NegotiationModel(rng=seed, **{k: getattr(cfg, k) for k in cfg.__dataclass_fields__})
    for agent in m.actor_list:
        agent.chooser = lambda agent, decision: None
    m.run()
    return m


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_mesa_agent_by_agent_equals_batch(scenario):
    """NegotiationModel.step plays a round in one compiled call when no agent is driven
    from Python, and agent by agent (``agents.do("decide").do("advance")``) otherwise.
    The second path gives the batch engine's tables too (the first is checked above):
    3 USA policies x 15 seeds per scenario."""
    for name in ("logit", "tit_for_tat", "grit"):
        cfg = scenario_config(scenario, USA_POLICIES[name])
        seeds = range(15)
        b = run_batch([cfg] * len(seeds), seeds, progress=False)
        per_agent = [run_mesa_agent_by_agent(cfg, s) for s in seeds]
        assert all(a.decision is not None for a in per_agent[0].actor_list)  # that path ran
        tables = [m.tables(run_id=i) for i, m in enumerate(per_agent)]
        for kind in ("runs", "states", "actions"):
            got = to_pandas(pa.concat_tables([t[kind] for t in tables]))
            pd.testing.assert_frame_equal(getattr(b, kind), got, check_exact=True)


SCENARIO_FILES = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


@pytest.mark.parametrize("scenario", SCENARIO_FILES)
def test_every_scenario_file_runs_identically_in_both_engines(scenario):
    """Every scenario in configs/scenario/ (including any added later) composes into
    model keyword arguments that run, with identical tables in both engines
    (10 seeds, at most 60 rounds unless its events need more)."""
    kw = scenario_kwargs(scenario)
    last_event = max([e["round"] for e in kw.get("events") or []], default=1)
    kw["rounds"] = min(kw["rounds"], max(60, last_event))
    cfg = make_config(**kw)
    assert_same(
        run_batch([cfg] * 10, range(10), progress=False),
        run_mesa([cfg] * 10, range(10), progress=False),
    )


def test_engine_comparison_covers_every_ending():
    """The 1250-run comparison above is not vacuous: across its configurations runs
    end in agreement, in hedged stalemate and in breakdown, some before the horizon."""
    cfgs = [scenario_config(s, usa) for s in SCENARIOS for usa in USA_POLICIES.values()]
    runs = run_batch(
        [c for c in cfgs for _ in range(SEEDS_PER_CELL)],
        list(range(SEEDS_PER_CELL)) * len(cfgs),
        record=False,
        progress=False,
    ).runs
    assert {"agreement", "hedged_stalemate", "breakdown"} <= set(runs["outcome"])
    assert (runs["rounds_played"] < 60).any()


def test_same_seed_same_tables_different_seeds_differ():
    """Re-running the same seeds reproduces both tables exactly (both engines);
    different seeds give different trajectories."""
    cfg = make_config(rounds=80)
    a = run_batch([cfg] * 20, range(20), progress=False)
    b = run_batch([cfg] * 20, range(20), progress=False)
    assert_same(a, b)
    m1 = run_mesa([cfg] * 3, [5, 6, 7], progress=False)
    m2 = run_mesa([cfg] * 3, [5, 6, 7], progress=False)
    assert_same(m1, m2)
    c = run_batch([cfg] * 20, range(100, 120), progress=False)
    cols = ["action", "undeclared", "tension", "trust_in_counterpart"]
    ta = a.trajectories.groupby("run_id")[cols]
    tc = c.trajectories.groupby("run_id")[cols]
    differ = [
        not ta.get_group(i).reset_index(drop=True).equals(tc.get_group(i).reset_index(drop=True))
        for i in range(20)
    ]
    assert all(differ)
    assert not a.runs["detections"].equals(c.runs["detections"])


def test_model_rng_string_equals_int():
    """SolaraViz hands the seed as a string: NegotiationModel(rng="5") plays
    exactly like rng=5 (and unlike rng=6)."""
    runs = {}
    for rng in ("5", 5, " 5 ", 6):
        m = NegotiationModel(rng=rng, rounds=60)
        m.run()
        runs[rng] = m
    for rng in ("5", " 5 "):
        np.testing.assert_array_equal(runs[rng].history.actions, runs[5].history.actions)
        np.testing.assert_array_equal(runs[rng].history.x, runs[5].history.x)
        assert runs[rng].outcome == runs[5].outcome
    assert not np.array_equal(runs[6].history.x, runs[5].history.x, equal_nan=True)


def mixed_configs():
    """Three structures (different USA policies and an event) interleaved, 120 runs."""
    structures = [
        make_config(rounds=50),
        make_config(rounds=50, actors={"USA": {"policy": "grit"}}, assurance=0.7, relief=0.5),
        make_config(
            rounds=50,
            events=[{"round": 10, "kind": "summit"}],
            regime="relief_first",
            assurance=0.6,
            relief=0.6,
        ),
    ]
    cfgs = [structures[i % 3] for i in range(120)]
    seeds = [1000 + i for i in range(120)]
    return cfgs, seeds


def test_chunk_size_does_not_change_results():
    """Chunks of 7 runs and one chunk per structure give identical tables, rows in
    input order (run_id 0..n-1), even with interleaved structures."""
    cfgs, seeds = mixed_configs()
    small = run_batch(cfgs, seeds, chunk_size=7, progress=False)
    large = run_batch(cfgs, seeds, chunk_size=2048, progress=False)
    assert_same(small, large)
    assert small.runs["run_id"].tolist() == list(range(120))
    assert small.runs["seed"].tolist() == seeds
    mesa_res = run_mesa(cfgs[:9], seeds[:9], progress=False)
    assert_same(run_batch(cfgs[:9], seeds[:9], chunk_size=2, progress=False), mesa_res)


def test_thread_count_does_not_change_results():
    """One thread, two threads and every core ("auto") give identical tables
    (several chunks, interleaved structures)."""
    cfgs, seeds = mixed_configs()
    one = run_batch(cfgs, seeds, chunk_size=20, processes=1, progress=False)
    assert_same(one, run_batch(cfgs, seeds, chunk_size=20, processes=2, progress=False))
    assert_same(one, run_batch(cfgs, seeds, chunk_size=33, processes="auto", progress=False))


@pytest.mark.parametrize("kw", [{}, {"rounds": 30, "agreement_threshold": 0.3}])
def test_a_history_written_into_reused_memory_is_the_blank_one(kw):
    """Fresh runs written into memory full of an earlier chunk's numbers (what run_batch
    reuses) give byte for byte the history of runs started on blank arrays: every
    round is written, played or marked unplayed (NaN, action -1) after the run ended."""
    from sim.engines.batch import simulate
    from sim.engines.state import History
    from sim.model.compile import compile_configs

    c = compile_configs([make_config(**kw)] * 64)
    rounds, n = c.structure.rounds, c.structure.n_actors
    dirty = History.empty(64, rounds, n, blank=False)
    rng = np.random.default_rng(0)
    for a in (dirty.x, dirty.actions, dirty.trust, dirty.flag):
        a.view(np.uint8)[...] = rng.integers(0, 256, a.nbytes, dtype=np.uint8).reshape(
            a.view(np.uint8).shape
        )
    _, reused = simulate(c, np.arange(64), out=dirty)
    _, blank = simulate(c, np.arange(64), history=History.empty(64, rounds, n))
    assert reused is dirty
    with pytest.raises(ValueError, match="64 runs x"):  # memory of another shape is refused
        simulate(c, np.arange(64), out=History.empty(64, rounds - 1, n, blank=False))
    ended = np.isnan(blank.x[:, -1, 0]).sum()
    assert ended > 0 or not kw  # the short horizon has runs that ended early
    for k in ("x", "actions", "trust", "flag"):
        assert getattr(reused, k).tobytes() == getattr(blank, k).tobytes(), k


def test_tables_hold_exactly_the_played_rounds_of_the_history():
    """The compiled gather of the states and actions tables against plain numpy on the
    same histories: every played round of every run, run-major, nothing else (runs
    ending early, at different rounds, included)."""
    from sim.engines import tables
    from sim.engines.batch import simulate
    from sim.model.compile import compile_configs
    from sim.model.decisions import felt_relief
    from sim.model.names import STATE_VARS, T, V

    c = compile_configs([make_config(rounds=40, agreement_threshold=0.35)] * 50)
    seeds, ids = np.arange(50) * 7 + 3, np.arange(50) + 1000
    state, hist = simulate(c, seeds)
    played = state.tally[:, T.round]
    assert len(set(played.tolist())) > 1  # runs of different lengths
    h = hist.as_dict()
    states = tables.states_table(seeds, ids, h, played).to_pandas()
    actions = tables.actions_table(seeds, ids, c.structure.names, h, played).to_pandas()
    rows = [(r, t) for r in range(50) for t in range(played[r] + 1)]
    r, t = np.array(rows).T
    assert states["run_id"].tolist() == ids[r].tolist()
    assert states["seed"].tolist() == seeds[r].tolist()
    assert states["round"].tolist() == t.tolist()
    for v in V:
        assert np.array_equal(states[STATE_VARS[v]].to_numpy(), hist.x[r, t, v])
    felt = felt_relief(hist.x[r, t, V.relief], hist.x[r, t, V.enforcement])
    assert np.array_equal(states["felt_relief"].to_numpy(), felt)
    assert states["flagged"].tolist() == hist.flag[r, t].tolist()
    A = len(c.structure.names)
    rows = [(r, t, i) for r in range(50) for t in range(1, played[r] + 1) for i in range(A)]
    r, t, i = np.array(rows).T
    assert actions["run_id"].tolist() == ids[r].tolist()
    assert actions["round"].tolist() == t.tolist()
    assert actions["actor"].tolist() == [c.structure.names[k] for k in i]
    names = ["concede", "hedge", "escalate"]
    assert actions["action"].tolist() == [names[a] for a in hist.actions[r, t, i]]
    assert np.array_equal(actions["trust_in_counterpart"].to_numpy(), hist.trust[r, t, i])


def test_tracking_the_whole_trust_matrix_changes_nothing_read():
    """Updating only the trust columns decisions read (the default) and the whole
    matrix give identical tables."""
    cfgs, seeds = mixed_configs()
    assert_same(
        run_batch(cfgs, seeds, progress=False),
        run_batch(cfgs, seeds, full_trust=True, progress=False),
    )


def test_a_sink_receives_the_same_tables_chunk_by_chunk():
    """Streaming chunks to a sink hands over exactly the rows run_batch would return."""
    import pyarrow as pa

    from sim.engines.tables import to_pandas

    cfgs, seeds = mixed_configs()
    got: dict[str, list] = {"runs": [], "states": [], "actions": []}
    run_batch(cfgs, seeds, chunk_size=25, progress=False, sink=lambda kind, t: got[kind].append(t))
    whole = run_batch(cfgs, seeds, progress=False)
    for kind in got:
        pd.testing.assert_frame_equal(
            to_pandas(pa.concat_tables(got[kind])), getattr(whole, kind), check_exact=True
        )


def test_run_batch_rejects_mismatched_seeds():
    """One seed per run is required."""
    with pytest.raises(ValueError, match="seed"):
        run_batch([make_config(rounds=5)] * 3, [0, 1], progress=False)


def batch_run_rows() -> pd.DataFrame:
    return pd.DataFrame(
        mesa.batch_run(
            NegotiationModel,
            parameters={"assurance": [0.2, 0.8], "rounds": 30},
            rng=[0, 1, 2],
            number_processes=1,
            display_progress=False,
        )
    )


def test_mesa_batch_run_works_with_plain_keyword_arguments():
    """mesa.batch_run over assurance {0.2, 0.8} x seeds {0, 1, 2} returns 6 runs, each
    with the model and agent reporters, and each run's final row equals the batch
    engine's final state for that seed and one of the two assurances.

    (Runs late in this module: mesa.batch_run switches the process to 'spawn'.)
    """
    df = batch_run_rows()
    reporters = [
        "assurance_level",
        "relief_level",
        "enforcement_level",
        "denuclearization_level",
        "undeclared_level",
        "tension_level",
        "felt_relief",
        "flagged",
        "outcome",
    ]
    assert set(reporters) <= set(df.columns)
    assert {"actor", "action", "trust_in_counterpart", "rng", "Step"} <= set(df.columns)
    assert (
        df["outcome"]
        .isin(["agreement", "stalemate", "hedged_stalemate", "breakdown", "undecided"])
        .all()
    )
    assert df["RunId"].nunique() == 6
    refs = {
        (start, seed): run_batch(
            [make_config(assurance=start, rounds=30)], [seed], record=False, progress=False
        ).runs.iloc[0]
        for start in (0.2, 0.8)
        for seed in (0, 1, 2)
    }
    matched = []
    for _, run in df.groupby("RunId"):
        assert set(run["actor"]) == {"USA", "DPRK", "ROK", "PRC"}
        last = run[run["Step"] == run["Step"].max()].iloc[0]
        seed = int(last["rng"])
        hits = [
            start
            for start in (0.2, 0.8)
            if all(
                last[f"{v}_level"] == refs[start, seed][f"final_{v}"]
                for v in ("assurance", "relief", "tension", "undeclared")
            )
        ]
        assert len(hits) == 1, (seed, last.to_dict())
        ref = refs[hits[0], seed]
        assert last["Step"] == ref["rounds_played"]
        assert last["outcome"] == ref["outcome"]
        matched.append((hits[0], seed))
    assert sorted(matched) == sorted(refs)


def test_mesa_batch_run_rows_keep_the_swept_parameter():
    """A researcher sweeping assurance with mesa.batch_run can group the rows by the
    assurance they asked for: the values {0.2, 0.8} appear in the rows."""
    df = batch_run_rows()
    assert set(df["assurance"].round(12)) == {0.2, 0.8}


def test_a_seed_that_is_not_a_number_is_a_config_error():
    """SolaraViz's seed box hands over text: anything but digits is refused by name."""
    from sim import ConfigError

    with pytest.raises(ConfigError, match="seed = 'abc' must be a whole number"):
        NegotiationModel(rng="abc")
    assert NegotiationModel(rng=" ", rounds=3).rng is not None  # blank: a random seed

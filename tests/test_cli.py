"""The command line: single runs, sweeps, collection and plots, as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.report.io import read_metadata

pytestmark = pytest.mark.slow  # each test runs the stalemate command in a subprocess

STALEMATE = str(Path(sys.executable).with_name("stalemate"))
COLLECT = str(Path(sys.executable).with_name("stalemate-collect"))
PLOT = str(Path(sys.executable).with_name("stalemate-plot"))


def run(*args, cwd=None, check=True):
    res = subprocess.run([*args], capture_output=True, text=True, cwd=cwd, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def test_single_run_writes_tables_config_figure_and_tells_a_run(tmp_path):
    out = tmp_path / "run"
    res = run(STALEMATE, "scenario=baseline_2018", "seeds=6", "rounds=30", f"hydra.run.dir={out}")
    for name in (
        "runs.parquet",
        "states.parquet",
        "actions.parquet",
        "config.yaml",
        "trajectories.png",
    ):
        assert (out / name).stat().st_size > 0, name
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["seed"]) == list(range(6))
    assert {"outcome", "hedge_share_DPRK", "peak_tension", "final_undeclared", "version"} <= set(
        runs.columns
    )
    actions = pd.read_parquet(out / "actions.parquet")
    assert set(actions["actor"]) == {"USA", "DPRK", "ROK", "PRC"}
    states = pd.read_parquet(out / "states.parquet")
    assert len(states) == (runs["rounds_played"] + 1).sum()  # rounds 0..played of each run
    assert len(actions) == 4 * runs["rounds_played"].sum()
    meta = read_metadata(out / "runs.parquet")
    assert meta["config"]["name"] == "baseline_2018" and meta["seeds"] == [0, 5] and meta["version"]
    assert "95% CI" in res.stdout and "round by round" in res.stdout and "Round 1" in res.stdout
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_seed_shifts_the_base_and_results_are_reproducible(tmp_path):
    a = run(
        STALEMATE,
        "seeds=3",
        "seed=10",
        "rounds=20",
        "narrate=false",
        f"hydra.run.dir={tmp_path / 'a'}",
    )
    run(
        STALEMATE,
        "seeds=3",
        "seed=10",
        "rounds=20",
        "narrate=false",
        f"hydra.run.dir={tmp_path / 'b'}",
    )
    ra, rb = (pd.read_parquet(tmp_path / d / "runs.parquet") for d in "ab")
    assert list(ra["seed"]) == [10, 11, 12]
    pd.testing.assert_frame_equal(ra, rb)
    assert "seeds 10–12" in a.stdout


@pytest.mark.parametrize(
    "override, words",
    [
        ("detect_prob=1.5", ["detect_prob", "1.5", "[0, 1]"]),
        ("rounds=-3", ["rounds", "-3"]),
        ("actors.DPRK.policy=nice", ["actors.DPRK.policy", "nice", "logit"]),
        ("regime=peace_first", ["regime", "peace_first", "relief_first"]),
        ("events=[{round: 999, kind: summit}]", ["events[0].round", "999", "1..200"]),
        ("scenario=nowhere", ["scenario", "'nowhere'", "baseline_2018"]),
    ],
)
def test_bad_config_fails_before_writing_anything(tmp_path, override, words):
    out = tmp_path / "never"
    res = run(STALEMATE, override, f"hydra.run.dir={out}", check=False)
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1, res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    assert "Traceback" not in res.stderr
    assert not out.exists()


def _sweep(tmp_path, name, *extra):
    return run(
        STALEMATE,
        "-m",
        "assurance=0,1",
        "relief=0,0.5,1",
        "seeds=15",
        "rounds=40",
        f"hydra.sweep.dir={tmp_path / name}",
        *extra,
    )


def _table(path):
    runs = pd.read_parquet(path).drop(columns=["run_id"])
    return runs.sort_values(["assurance", "relief", "seed"], ignore_index=True)


def test_sweep_merges_one_table_and_summary_with_swept_columns(tmp_path):
    res = _sweep(tmp_path, "basic")
    d = tmp_path / "basic"
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == 6 * 15
    assert runs.groupby(["assurance", "relief"]).size().eq(15).all()
    summary = pd.read_csv(d / "summary.csv")
    assert len(summary) == 6 and {"agreement_lo", "agreement_hi", "breakdown"} <= set(
        summary.columns
    )
    assert (d / "outcome_map.png").exists() and (d / "action_shares.png").exists()
    assert "Collected 90 runs at 6 parameter points" in res.stderr


def test_joblib_launcher_gives_the_same_table_as_the_basic_launcher(tmp_path):
    _sweep(tmp_path, "basic", "hydra.sweeper.points_per_job=2")
    _sweep(
        tmp_path,
        "joblib",
        "hydra.sweeper.points_per_job=2",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    pd.testing.assert_frame_equal(
        _table(tmp_path / "basic" / "runs.parquet"), _table(tmp_path / "joblib" / "runs.parquet")
    )


def test_submitit_local_launcher_gives_the_same_table(tmp_path):
    """SLURM's launcher plugin, run locally (submitit_local): same jobs, same table."""
    _sweep(tmp_path, "basic", "hydra.sweeper.points_per_job=3")
    _sweep(
        tmp_path,
        "submitit",
        "hydra.sweeper.points_per_job=3",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
    )
    pd.testing.assert_frame_equal(
        _table(tmp_path / "basic" / "runs.parquet"), _table(tmp_path / "submitit" / "runs.parquet")
    )


def test_slurm_launcher_preset_composes():
    res = run(STALEMATE, "hydra/launcher=slurm", "hydra.launcher.partition=cpu", "--cfg", "hydra")
    assert "SlurmLauncher" in res.stdout and "cpus_per_task: 2" in res.stdout


def test_one_point_per_job_and_a_block_per_job_agree(tmp_path):
    _sweep(tmp_path, "blocks")
    _sweep(tmp_path, "single", "hydra/sweeper=basic")
    a, b = (
        _table(tmp_path / "blocks" / "runs.parquet"),
        _table(tmp_path / "single" / "runs.parquet"),
    )
    pd.testing.assert_frame_equal(a, b[a.columns])


@pytest.mark.parametrize(
    "sweep, words",
    [
        (["colour=red,blue"], ["colour"]),
        (["relief=range(1,0,0.1)"], ["relief", "empty"]),
        (["assurance=0.5,1.5"], ["assurance", "1.5", "[0, 1]"]),
        (["actors.DPRK.concede.packge=1,2"], ["actors.DPRK.concede", "packge"]),
        (["seed=0,100"], ["seed", "only model parameters and config groups can be swept"]),
        (["assurance=0,1", "hydra.sweeper.points_per_job=0"], ["points_per_job", "0"]),
    ],
)
def test_malformed_sweep_is_rejected_before_any_job(tmp_path, sweep, words):
    d = tmp_path / "bad"
    res = run(STALEMATE, "-m", *sweep, "seeds=2", f"hydra.sweep.dir={d}", check=False)
    assert res.returncode != 0
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    assert not d.exists()


def recorded_jobs(sweep_dir: Path) -> int:
    """How many jobs of a sweep have a block recorded as complete in their blocks.json."""
    import json

    from sim.hydra.blocks import BLOCKS_FILE

    n = 0
    for path in sweep_dir.glob(f"*/{BLOCKS_FILE}"):
        try:
            n += bool(json.loads(path.read_text()).get("blocks"))
        except (OSError, ValueError):  # being replaced right now: not yet counted
            pass
    return n


def test_killed_sweep_rerun_completes_each_point_once(tmp_path):
    """Kill a sweep of 10 one-point jobs after 3 finished: what finished is complete and
    listed, the collector reports the rest missing (exit 1), and the same command
    completes it, redoing only the missing points."""
    d = tmp_path / "killed"
    cmd = [
        STALEMATE,
        "-m",
        "assurance=range(0,1.01,0.25)",
        "relief=0,1",
        "seeds=10",
        "rounds=30",
        "hydra.sweeper.points_per_job=1",
        f"hydra.sweep.dir={d}",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        # a job is complete once its blocks.json lists its block (written after the
        # block's file): wait for three of those, not for three block files
        deadline = time.time() + 600  # generous: a busy machine composes slowly
        while recorded_jobs(d) < 3 and time.time() < deadline:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done = list(d.glob("*/blocks/*.parquet"))
    assert 3 <= len(done) < 10, "the kill should land mid-sweep"
    for path in done:  # whatever finished is complete and readable
        assert len(pd.read_parquet(path)) == 10
    partial = run(COLLECT, str(d), check=False)
    assert partial.returncode == 1 and "MISSING" in partial.stdout

    res = run(*cmd)
    kept = re.search(r"(\d+) of 10 jobs already complete", res.stderr)
    assert kept and int(kept.group(1)) >= 3, res.stderr  # finished jobs are not run again
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == 10 * 10
    assert not runs.duplicated(["assurance", "relief", "seed"]).any()
    assert run(COLLECT, str(d)).returncode == 0


def test_config_group_sweep_is_a_column_of_the_merged_table(tmp_path):
    d = tmp_path / "groups"
    run(STALEMATE, "-m", "policy=logit,usa_grit", "seeds=10", "rounds=40", f"hydra.sweep.dir={d}")
    runs = pd.read_parquet(d / "runs.parquet")
    assert runs.groupby("policy").size().to_dict() == {"logit": 10, "usa_grit": 10}
    assert (d / "outcome_bars_policy.png").exists()


def test_a_group_sweep_under_one_name_keeps_every_run(tmp_path):
    """Issue 13, defect 2: the merge once de-duplicated on (scenario, seed) with the name in
    ``scenario``, keeping 3 of these 6 runs. Every run is kept; ``scenario`` holds the
    option swept, ``name`` the name given."""
    d = tmp_path / "named"
    res = run(
        STALEMATE,
        "-m",
        "scenario=baseline_2018,relief_first",
        "name=study",
        "seeds=3",
        "rounds=10",
        f"hydra.sweep.dir={d}",
    )
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == 6 and "Collected 6 runs" in res.stderr
    assert runs.groupby("scenario").size().to_dict() == {"baseline_2018": 3, "relief_first": 3}
    assert set(runs["name"]) == {"study"}


def test_command_line_value_replaces_a_preset_sweep_of_the_same_key(tmp_path):
    d = tmp_path / "preset"
    run(
        STALEMATE,
        "-m",
        "+sweep=demo_map",
        "relief=0.5",
        "seeds=3",
        "rounds=20",
        f"hydra.sweep.dir={d}",
    )
    runs = pd.read_parquet(d / "runs.parquet")
    assert set(runs["relief"]) == {0.5} and runs["assurance"].nunique() == 11


def test_result_files_are_readable_by_others(tmp_path):
    out = tmp_path / "perm"
    run(STALEMATE, "seeds=2", "rounds=10", "narrate=false", f"hydra.run.dir={out}")
    umask = os.umask(0)
    os.umask(umask)
    for name in (
        "runs.parquet",
        "states.parquet",
        "actions.parquet",
        "config.yaml",
        "trajectories.png",
    ):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_plot_command_draws_the_outcome_map(tmp_path):
    _sweep(tmp_path, "p")
    (tmp_path / "p" / "outcome_map.png").unlink()
    out = run(PLOT, str(tmp_path / "p")).stdout
    assert "outcome_map.png" in out and (tmp_path / "p" / "outcome_map.png").exists()

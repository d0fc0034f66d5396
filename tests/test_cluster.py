"""The SLURM path, tested on one machine: Hydra's real SLURM launcher (submitit) against a
fake scheduler (``tests/fake_slurm.py``) that records each submission and runs the array
tasks locally, from a working directory that is not the submitter's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fake_slurm
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # each test runs sweeps in subprocesses

STALEMATE = str(Path(sys.executable).with_name("stalemate"))
SWEEP = ["-m", "assurance=0,1", "relief=0,0.5,1", "seeds=12", "rounds=30", "progress=false"]


def _run(args, cwd, env=None, check=True):
    res = subprocess.run(
        [STALEMATE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def _table(path: Path) -> pd.DataFrame:
    runs = pd.read_parquet(path).drop(columns=["run_id"])
    return runs.sort_values(["assurance", "relief", "seed"], ignore_index=True)


@pytest.fixture
def slurm(tmp_path):
    """The fake scheduler on PATH (and its sitecustomize on PYTHONPATH: a lost task is
    reported in 1 s, not 15 s); returns (env, state dir, the submitter's working dir)."""
    root = tmp_path / "slurm"
    bin_dir = fake_slurm.install(root)
    python_path = [str(root / "site"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join(python_path),
        "FAKE_SLURM_STATE": str(root / "state"),
    }
    login = tmp_path / "login"
    login.mkdir()
    return env, root / "state", login


def test_fake_slurm_sweep_equals_the_basic_launcher_and_the_batch_script_asks_for_the_preset(
    tmp_path, slurm
):
    """Three array tasks through sbatch: the merged table equals the basic launcher's; the
    batch script carries the preset's resources and the submitit command; a *relative*
    sweep dir was made absolute before submission, so tasks running elsewhere wrote into it."""
    env, state, login = slurm
    _run([*SWEEP, "hydra.sweeper.points_per_job=2", f"hydra.sweep.dir={tmp_path / 'basic'}"], login)
    res = _run(
        [
            *SWEEP,
            "hydra/launcher=slurm",
            "hydra.launcher.partition=cpu",
            "hydra.sweeper.points_per_job=2",
            "hydra.sweep.dir=rel/sweep",  # relative to the submitter's directory
        ],
        login,
        env,
    )
    sweep = login / "rel" / "sweep"
    pd.testing.assert_frame_equal(
        _table(tmp_path / "basic" / "runs.parquet"), _table(sweep / "runs.parquet")
    )
    assert "Collected 72 runs at 6 parameter points from 3 jobs" in res.stderr

    (sub,) = fake_slurm.settled(state)  # one array job, every task's end recorded
    flags, script = sub["flags"], sub["script"]
    assert flags["array"] == "0-2%3"  # 3 jobs, at most array_parallelism (64) at once
    assert flags["partition"] == "cpu"
    assert flags["cpus-per-task"] == "2" and flags["mem"] == "4GB" and flags["time"] == "60"
    assert flags["nodes"] == "1" and flags["ntasks-per-node"] == "1"
    assert flags["job-name"] == "stalemate"
    assert flags["output"].startswith(f"{sweep}/.submitit/")  # absolute
    assert "export OMP_NUM_THREADS=1" in script
    command = script.strip().splitlines()[-1]
    assert command.startswith("srun --unbuffered --output")
    assert f"{sys.executable} -u -m submitit.core._submit {sweep}/.submitit/%j" in command
    assert set(sub["states"].values()) == {"COMPLETED"}
    assert sub["cwd"] == [str(state / "node")]  # the tasks did not run where we submitted
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1", "2"]


def test_a_task_lost_on_the_cluster_is_named_and_the_same_command_completes_it(slurm):
    """A task that ends in NODE_FAIL (a lost node, a pre-emption): the sweep exits 1 with the
    missing points and the command; that command resubmits only the unfinished job."""
    env, state, login = slurm
    args = [*SWEEP, "hydra/launcher=slurm", "hydra.sweeper.points_per_job=2", "hydra.sweep.dir=s"]
    first = _run(args, login, {**env, "FAKE_SLURM_NODE_FAIL": "1"}, check=False)
    assert first.returncode == 1, first.stderr
    assert "MISSING 2 points; to complete them, run:" in first.stderr
    assert "NODE_FAIL" in first.stderr or "UncompletedJobError" in first.stderr
    command = first.stderr.split("to complete them, run:\n")[1].splitlines()[0].split()
    assert command[0] == "stalemate" and command[-1] == f"hydra.sweep.dir={login / 's'}"

    second = _run(command[1:], login, env)
    assert "2 of 3 jobs already complete" in second.stderr
    assert "Collected 72 runs at 6 parameter points" in second.stderr
    resubmitted = fake_slurm.submissions(state)[-1]
    assert "array" not in resubmitted["flags"]  # job 1 alone, as a single job
    runs = pd.read_parquet(login / "s" / "runs.parquet")
    assert not runs.duplicated(["assurance", "relief", "seed"]).any()

"""The policy search under faults, end to end, as ``tests/test_faults.py`` does for sweeps:
``stalemate-search`` killed at every phase and resumed by the same command ends with
exactly the files of a search never killed (run counts included), its directory is
complete or absent at every moment, and a second search into a busy directory is
refused in one line.

Kills land at named failpoints (``sim.report.io.failpoint``, through
``STALEMATE_FAILPOINTS``): the process SIGKILLs itself at an exact moment, so each
phase is hit every time.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.report.io import FAILPOINTS_ENV

pytestmark = pytest.mark.slow  # every test runs stalemate-search in subprocesses

SEARCH = str(Path(sys.executable).with_name("stalemate-search"))
ARGS = ["+policy_search=smoke", "progress=false"]
#: Where a kill hurts, in the order a search reaches them.
PHASES = [
    "search.locked",  # the partial directory made and locked, nothing else
    "write:checkpoint.pkl",  # generation 1 scored, its checkpoint not yet renamed
    "search.generation.2",  # two generations checkpointed
    "write:pareto.parquet",  # the search done, its first table not yet renamed
    "search.reevaluated",  # pareto, convergence and the re-evaluation written
    "write:failures.csv",  # the failures' table not yet renamed
    "search.figures",  # every figure drawn, the summaries not written
    "write:summary.json",  # summary.txt written, summary.json (the last file) not renamed
    "publish",  # everything written, the directory not yet renamed into place
]
#: The files of a finished search (besides .hydra/, cli.log and the lock file).
FILES = [
    "checkpoint.pkl", "pareto.parquet", "reevaluated.parquet", "convergence.csv",
    "failures.csv", "summary.json", "summary.txt", "pareto_parallel.png", "tradeoff.png",
    "convergence.png", "failure_boxes.png",
]  # fmt: skip


def run(out: Path, failpoints: str | None = None, check: bool = True):
    env = {k: v for k, v in os.environ.items() if k != FAILPOINTS_ENV}
    if failpoints:
        env[FAILPOINTS_ENV] = failpoints
    res = subprocess.run(
        [SEARCH, *ARGS, f"hydra.run.dir={out}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=out.parent,
        stdin=subprocess.DEVNULL,
    )
    if check and res.returncode != 0:
        raise AssertionError(f"failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def partial(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def results(out: Path) -> dict:
    """What must not depend on how often the search was killed: every table, and the
    summary without its wall times."""
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("wall_time_s")
    return {
        "pareto": pd.read_parquet(out / "pareto.parquet"),
        "reevaluated": pd.read_parquet(out / "reevaluated.parquet"),
        "convergence": (out / "convergence.csv").read_text(),
        "failures": (out / "failures.csv").read_text(),
        "summary": summary,
    }


@functools.cache
def reference() -> dict:
    """The uninterrupted search's results (made once per test session)."""
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="stalemate-search-reference-")) / "search"
    run(out)
    return results(out)


def assert_same(out: Path) -> None:
    got, want = results(out), reference()
    pd.testing.assert_frame_equal(got["pareto"], want["pareto"])
    pd.testing.assert_frame_equal(got["reevaluated"], want["reevaluated"])
    assert got["convergence"] == want["convergence"]  # runs per generation included
    assert got["failures"] == want["failures"]
    assert got["summary"] == want["summary"]
    # every generation counted, the last included: distinct policies x scenarios
    _, _, policies, runs = want["convergence"].strip().splitlines()[-1].split(",")[:4]
    budget = want["summary"]["budget"]
    assert budget["search_runs"] == int(runs) == int(policies) * budget["scenarios"]
    assert int(policies) > 3 * 8  # more than the first three generations' 8 each


def check_after_kill(out: Path) -> None:
    """Complete or absent: the search's directory is not there; its partial directory holds
    no half-written file under a result's name."""
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    for path in partial(out).glob("*.parquet"):
        pd.read_parquet(path)
    for name in ("summary.json", "convergence.csv", "failures.csv"):
        path = partial(out) / name
        if path.exists() and name.endswith(".json"):
            json.loads(path.read_text())


def test_a_kill_at_every_phase_then_the_same_command_completes_the_same_search(tmp_path):
    out = tmp_path / "search"
    for i, phase in enumerate(PHASES):
        res = run(out, failpoints=phase, check=False)
        assert res.returncode == -signal.SIGKILL, (phase, res.returncode, res.stderr)
        check_after_kill(out)
        if i:
            assert "ended without releasing its lock" in res.stdout, (phase, res.stdout)
        if phase == "write:checkpoint.pkl":  # the first checkpoint never made it into place
            assert not (partial(out) / "checkpoint.pkl").exists()
            assert list(partial(out).glob(".checkpoint.pkl.*.tmp"))
        if phase == "write:pareto.parquet":
            assert "Resuming from" in res.stdout and "2 of 4 generations done" in res.stdout
        if phase == "publish":  # everything is there, only not yet in place
            assert all((partial(out) / name).exists() for name in FILES)
    res = run(out)
    assert "4 of 4 generations done" in res.stdout
    assert not partial(out).exists()
    assert all((out / name).stat().st_size > 0 for name in FILES)
    assert not list(out.rglob(".*.tmp"))
    assert_same(out)
    again = run(out)  # a finished search is not run again
    assert "already holds this search, complete: nothing to do" in again.stderr
    assert_same(out)


def test_a_second_search_into_a_busy_directory_is_refused_and_the_first_completes(tmp_path):
    out = tmp_path / "search"
    env = {**os.environ, FAILPOINTS_ENV: "search.generation.1=sleep"}  # holds the lock
    first = subprocess.Popen(
        [SEARCH, *ARGS, f"hydra.run.dir={out}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.time() + 600  # generous: a busy machine compiles slowly
        while not (partial(out) / "checkpoint.pkl").exists() and time.time() < deadline:
            assert first.poll() is None, "the first search ended early"
            time.sleep(0.2)
        assert (partial(out) / "checkpoint.pkl").exists()
        before = sorted((p.name, p.stat().st_mtime_ns) for p in partial(out).rglob("*"))
        second = run(out, check=False)
        assert second.returncode == 2, second.stderr
        (line,) = second.stderr.strip().splitlines()
        assert f"is busy: a search is running there (pid {first.pid} on" in line
        assert "wait for it to end, or choose another hydra.run.dir" in line
        assert sorted((p.name, p.stat().st_mtime_ns) for p in partial(out).rglob("*")) == before
        assert not out.exists()
    finally:
        first.kill()
        first.wait()
    resumed = run(out)
    assert "ended without releasing its lock" in resumed.stdout
    assert_same(out)

"""Fault injection, end to end: sweeps killed at each phase, corrupt job files, a full
disk, concurrent sweeps, orphaned workers, and the refusals a user meets — each with the
``stalemate`` command in a subprocess, as a user would hit them.

Kills land at named failpoints (``sim.report.io.failpoint``, through
``STALEMATE_FAILPOINTS``): the process SIGKILLs itself at an exact moment, so each
phase is hit every time, not by luck of timing.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.hydra.sweep import collect

pytestmark = pytest.mark.slow  # every test runs the stalemate command in subprocesses

BIN = Path(sys.executable).parent
STALEMATE, COLLECT, PLOT = (
    str(BIN / n) for n in ("stalemate", "stalemate-collect", "stalemate-plot")
)
#: 6 points x 8,000 seeds: one local job of three blocks (2 points = 16,000 runs each).
SWEEP = ["-m", "assurance=0,0.5,1", "relief=0,1", "seeds=8000", "rounds=15", "progress=false"]
KEYS = ["assurance", "relief", "seed"]
#: Where a kill hurts, in the order a sweep reaches them.
PHASES = [
    "sweep.locked",  # planning: the lock taken, nothing written
    "write:sweep.json",  # planning: the plan written, not yet renamed
    "sweep.planned",  # the plan written, no job started
    "stream:0000.parquet",  # mid-block: part of block 0 in a temporary file
    "write:0000.parquet",  # block 0 complete, not yet renamed
    "write:blocks.json",  # block 0 renamed, not yet recorded
    "job.block@2",  # between blocks: 0 and 1 recorded, 2 not started
    "write:runs.parquet",  # merging: the merged table not yet renamed
    "collect.between",  # merged table written, summary.csv not yet
]


def run(*args, env=None, check=True, failpoints=None, cwd=None):
    env = {**os.environ, **(env or {})}
    env.pop("STALEMATE_FAILPOINTS", None)
    if failpoints:
        env["STALEMATE_FAILPOINTS"] = failpoints
    res = subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def table(path: Path) -> pd.DataFrame:
    runs = pd.read_parquet(path).drop(columns=["run_id"])
    return runs.sort_values(KEYS, ignore_index=True)


@functools.cache
def reference() -> pd.DataFrame:
    """The uninterrupted sweep's table (made once per test session)."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="stalemate-reference-")) / "sweep"
    run(STALEMATE, *SWEEP, f"hydra.sweep.dir={d}")
    return table(d / "runs.parquet")


def leftovers(d: Path) -> list[Path]:
    return sorted(d.rglob(".*.tmp"))


def check_after_kill(d: Path) -> None:
    """What a kill may leave: every visible file is complete, and what is merged is a
    subset of the uninterrupted table with no run twice."""
    for path in d.rglob("*.parquet"):
        pd.read_parquet(path)  # readable: never a half-written file under its name
    if (d / "sweep.json").exists():
        c = collect(d, write=False)
        if len(c.runs):
            got = c.runs.drop(columns=["run_id"]).sort_values(KEYS, ignore_index=True)
            assert not got.duplicated(KEYS).any()
            merged = got.merge(reference(), on=list(got.columns), how="left", indicator=True)
            assert (merged["_merge"] == "both").all(), "a run differs from the uninterrupted one"


def test_a_kill_at_every_phase_then_the_same_command_completes_the_same_table(tmp_path):
    """Kill the sweep at each phase in turn, resuming each time with the same command: each
    resume reports the killed sweep's lock as stale, cleans its temporaries, and the last
    run ends with exactly the uninterrupted table."""
    d = tmp_path / "sweep"
    cmd = [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"]
    for i, phase in enumerate(PHASES):
        res = run(*cmd, failpoints=phase, check=False)
        assert res.returncode == -signal.SIGKILL, (phase, res.returncode, res.stderr)
        if i:
            assert "ended without releasing its lock" in res.stderr, (phase, res.stderr)
        check_after_kill(d)
        if phase == "write:sweep.json":
            assert not (d / "sweep.json").exists() and leftovers(d)
        if phase == "write:blocks.json":  # a renamed but unrecorded block is not trusted
            assert (d / "0" / "blocks" / "0000.parquet").exists()
            assert collect(d, write=False).runs.empty
    res = run(*cmd)
    assert (
        "job 0: 3 of 3 blocks already complete, kept" in res.stderr
        or "jobs already complete" in res.stderr
    )
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())
    assert leftovers(d) == []
    assert run(COLLECT, str(d)).returncode == 0


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kills=st.lists(st.sampled_from(PHASES), min_size=1, max_size=2))
def test_any_interleaving_of_kills_and_resumes_ends_with_the_uninterrupted_table(tmp_path, kills):
    """Property: whatever phases a sweep is killed at, in whatever order, resuming with
    the same command ends with the table of a sweep never killed."""
    d = tmp_path / f"sweep-{'-'.join(k.replace(':', '_').replace('@', '_') for k in kills)}"
    cmd = [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"]
    for phase in kills:
        res = run(*cmd, failpoints=phase, check=False)
        assert res.returncode in (0, -signal.SIGKILL), res.stderr  # 0: that phase was past
        check_after_kill(d)
    run(*cmd)
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())
    assert leftovers(d) == []


def test_a_corrupt_block_is_named_by_collect_and_redone_alone(tmp_path):
    d = tmp_path / "sweep"
    cmd = [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"]
    run(*cmd)
    block = d / "0" / "blocks" / "0001.parquet"
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    block.write_bytes(bytes(data))
    res = run(COLLECT, str(d), check=False)
    assert res.returncode == 1
    assert "job 0: blocks/0001.parquet differs from its checksum in blocks.json" in res.stdout
    assert "MISSING 2 points; to complete them, run:" in res.stdout
    again = run(*cmd)
    assert "job 0: 2 of 3 blocks already complete, kept" in again.stderr
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())


def test_collect_never_replaces_a_complete_table_with_a_partial_one(tmp_path):
    """A finished sweep with one block truncated afterwards: collect names the block and the
    points to redo, and keeps the complete runs.parquet and summary.csv as they were (it
    replaced a 1,920-row table with a 1,440-row one)."""
    d = tmp_path / "sweep"
    run(STALEMATE, *SWEEP, f"hydra.sweep.dir={d}")
    merged = [d / "runs.parquet", d / "summary.csv"]
    stamp = [(p.stat().st_mtime_ns, p.stat().st_size) for p in merged]
    block = d / "0" / "blocks" / "0002.parquet"
    block.write_bytes(block.read_bytes()[:200])  # truncated
    res = run(COLLECT, str(d), check=False)
    assert res.returncode == 1, res.stderr
    assert "blocks/0002.parquet is unreadable (truncated, or not Parquet)" in res.stdout
    assert (
        "the complete runs.parquet (48000 runs) is kept, not replaced by this partial merge"
        in res.stdout
    )
    assert [(p.stat().st_mtime_ns, p.stat().st_size) for p in merged] == stamp
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())
    run(*[STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"])  # redoes the block alone
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())


def test_the_hint_to_complete_a_sweep_names_its_directory_as_it_is_now(tmp_path):
    """A sweep killed after its first block and then moved: collect's "to complete it, run:"
    names the new place (it named the place the sweep began), and that command completes it
    there."""
    first = tmp_path / "first"
    res = run(STALEMATE, *SWEEP, f"hydra.sweep.dir={first}", failpoints="job.block", check=False)
    assert res.returncode == -signal.SIGKILL, res.stderr
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    first.rename(moved)
    res = run(COLLECT, str(moved), check=False)
    assert res.returncode == 1
    command = res.stdout.split("to complete them, run:\n")[1].splitlines()[0].strip()
    assert command.endswith(f"hydra.sweep.dir={moved}") and str(first) not in command
    import shlex

    argv = shlex.split(command)
    assert argv[0] == "stalemate"
    run(STALEMATE, *argv[1:])
    assert not first.exists()
    pd.testing.assert_frame_equal(table(moved / "runs.parquet"), reference())


#: A single run: 300 runs, its rounds recorded (five files and Hydra's record).
SINGLE = ["seeds=300", "rounds=15", "narrate=false", "progress=false", "trajectories=true"]
#: Where a kill hurts a single run, in the order it reaches them.
SINGLE_PHASES = [
    "run.locked",  # the partial directory made and locked, Hydra's record written
    "write:config.yaml",  # the first file complete, not yet renamed
    "stream:runs.parquet",  # part of the runs table written
    "write:runs.parquet",  # the tables complete, not yet renamed
    "write:trajectories.png",  # the figure drawn, not yet renamed
    "publish",  # everything written, the directory not yet renamed into place
]
RUN_FILES = ["config.yaml", "runs.parquet", "states.parquet", "actions.parquet",
             "trajectories.png", "survival.png"]  # fmt: skip


def runs_of(d: Path) -> pd.DataFrame:
    return pd.read_parquet(d / "runs.parquet")


def test_a_single_run_is_complete_or_absent_whenever_it_is_killed(tmp_path):
    """Killed at every phase, a run leaves no directory under its name (and a run replacing
    an earlier one leaves the earlier one whole until the very swap); the same command
    then writes every file, the same tables as a run never killed."""
    d = tmp_path / "run"
    whole = tmp_path / "whole"
    run(STALEMATE, *SINGLE, f"hydra.run.dir={whole}")
    for phase in SINGLE_PHASES:
        res = run(STALEMATE, *SINGLE, f"hydra.run.dir={d}", failpoints=phase, check=False)
        assert res.returncode == -signal.SIGKILL, (phase, res.returncode, res.stderr)
        assert not d.exists(), (phase, sorted(p.name for p in d.iterdir()))
    res = run(STALEMATE, *SINGLE, f"hydra.run.dir={d}")
    assert "ended without releasing its lock" in res.stderr
    assert all((d / name).stat().st_size > 0 for name in RUN_FILES)
    assert not (tmp_path / ".run.partial").exists() and not list(d.rglob(".*.tmp"))
    assert not (d / ".stalemate.lock").exists()  # the published directory holds results
    pd.testing.assert_frame_equal(runs_of(d), runs_of(whole))
    # replacing that run: a kill before the swap leaves it whole; at the swap, absent
    before = {name: (d / name).read_bytes() for name in RUN_FILES if name.endswith(".parquet")}
    other = [*SINGLE, "seed=1000"]
    res = run(STALEMATE, *other, f"hydra.run.dir={d}", failpoints="publish", check=False)
    assert res.returncode == -signal.SIGKILL
    assert {name: (d / name).read_bytes() for name in before} == before
    res = run(STALEMATE, *other, f"hydra.run.dir={d}", failpoints="publish.swap", check=False)
    assert res.returncode == -signal.SIGKILL and not d.exists()
    run(STALEMATE, *other, f"hydra.run.dir={d}")
    assert runs_of(d)["seed"].min() == 1000 and sorted(p.name for p in d.iterdir()) == sorted(
        [".hydra", "cli.log", *RUN_FILES]
    )
    assert not (tmp_path / ".run.replaced").exists() and not (tmp_path / ".run.partial").exists()


def test_a_second_run_into_a_busy_directory_is_refused(tmp_path):
    d = tmp_path / "run"
    first = subprocess.Popen(
        [STALEMATE, *SINGLE, f"hydra.run.dir={d}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "STALEMATE_FAILPOINTS": "run.locked=sleep"},  # holds the lock
    )
    lock = tmp_path / ".run.partial" / ".stalemate.lock"
    try:
        deadline = time.time() + 300
        while not (lock.exists() and lock.stat().st_size) and time.time() < deadline:
            assert first.poll() is None, "the first run ended early"
            time.sleep(0.2)
        other = run(STALEMATE, *SINGLE, f"hydra.run.dir={d}", check=False)
        assert other.returncode == 2, other.stderr
        (line,) = other.stderr.strip().splitlines()
        assert f"is busy: a run is running there (pid {first.pid} on" in line
        assert not d.exists()
    finally:
        first.kill()
        first.wait()


@pytest.mark.parametrize("sweeper", ["stalemate", "basic"])
def test_a_failed_merge_exits_1_in_one_line_and_collect_completes_it(tmp_path, sweeper):
    """A full disk while merging (simulated: ENOSPC at the merged table's write): one line,
    exit 1, no temporary left, and stalemate-collect finishes the job once there is room."""
    d = tmp_path / "sweep"
    args = ["-m", "assurance=0,1", "seeds=5", "rounds=10", "progress=false", f"hydra.sweep.dir={d}"]
    if sweeper == "basic":
        args.append("hydra/sweeper=basic")
    res = run(STALEMATE, *args, failpoints="write:runs.parquet=enospc", check=False)
    assert res.returncode == 1, res.stderr
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("stalemate:")]
    assert "could not merge the sweep" in line and "No space left on device" in line
    assert "stalemate-collect" in line and "Traceback" not in res.stderr
    assert not (d / "runs.parquet").exists() and leftovers(d) == []
    assert run(COLLECT, str(d)).returncode == 0 and len(pd.read_parquet(d / "runs.parquet")) == 10


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (needs root: mount); skipped otherwise, saying why."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("the full-disk test mounts a small tmpfs, which needs root; not root here")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}): full-disk test skipped")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_fails_the_job_in_one_line_and_the_rerun_completes(small_disk):
    d = small_disk / "sweep"
    cmd = [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"]
    res = run(*cmd, check=False)
    assert res.returncode == 1, res.stderr
    assert "No space left on device" in res.stderr and "Traceback" not in res.stderr
    assert "MISSING 6 points; to complete them, run:" in res.stderr
    assert leftovers(d) == []  # no half-written file left behind
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    run(*cmd)
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())


def test_a_second_sweep_into_a_busy_directory_is_refused_and_the_first_completes(tmp_path):
    d = tmp_path / "sweep"
    first = subprocess.Popen(
        [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "STALEMATE_FAILPOINTS": "job.block=sleep"},  # holds the lock
    )
    try:
        deadline = time.time() + 120
        while not (d / "0" / "blocks.json").exists() and time.time() < deadline:
            time.sleep(0.2)
        other = run(
            STALEMATE, "-m", "assurance=0,0.3", "seeds=4", f"hydra.sweep.dir={d}", check=False
        )
        assert other.returncode == 2
        (line,) = other.stderr.strip().splitlines()[-1:]
        assert f"is busy: a sweep is running there (pid {first.pid} on" in line
        busy = run(COLLECT, str(d), check=False)
        assert busy.returncode == 2 and "is busy" in busy.stderr
        assert not (d / "runs.parquet").exists()
    finally:
        first.kill()
        first.communicate()
    resumed = run(STALEMATE, *SWEEP, f"hydra.sweep.dir={d}")
    assert "ended without releasing its lock" in resumed.stderr
    pd.testing.assert_frame_equal(table(d / "runs.parquet"), reference())
    different = run(
        STALEMATE, "-m", "assurance=0,0.3", "seeds=4", f"hydra.sweep.dir={d}", check=False
    )
    assert different.returncode == 2 and "holds a different sweep" in different.stderr


def test_joblib_workers_die_with_a_killed_sweep(tmp_path):
    d = tmp_path / "sweep"
    proc = subprocess.Popen(
        [
            STALEMATE,
            *SWEEP,
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "hydra.sweeper.points_per_job=3",
            f"hydra.sweep.dir={d}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "stderr.txt", "w"),  # noqa: SIM115 - closed with the process
        env={**os.environ, "STALEMATE_FAILPOINTS": "job.start=sleep"},  # jobs that stay busy
    )
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while len(workers) < 2 and time.time() < deadline:
            time.sleep(0.5)
            out = subprocess.run(
                ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(proc.pid)],
                capture_output=True,
                text=True,
            ).stdout
            workers = [int(ln.split()[0]) for ln in out.splitlines() if "popen_loky" in ln]
        assert len(workers) == 2, (tmp_path / "stderr.txt").read_text()
        locks = [d / str(n) / ".stalemate.lock" for n in (0, 1)]
        while not all(p.exists() and p.stat().st_size for p in locks) and time.time() < deadline:
            time.sleep(0.2)  # both jobs are running (asleep at their failpoint)
    finally:
        proc.kill()  # the sweep only, not its process group
        proc.wait()
    deadline = time.time() + 15
    alive = list(workers)
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [w for w in alive if _alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert alive == [], "joblib workers outlived their sweep"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


REFUSED = [
    ([STALEMATE, "name=../../../../outside", "seeds=2"], "name = '../../../../outside'"),
    ([STALEMATE, "-m", "scenario=baseline_2018,relief_first", "name=../x"], "name = '../x'"),
    ([STALEMATE, "+foo=1"], "foo is not a known key"),
    ([STALEMATE, "assurance=${oc.env:HOME}"], "assurance = ${oc.env:HOME} cannot be used"),
    ([STALEMATE, "scenaro=grit"], "did you mean 'scenario'"),
    ([STALEMATE, "seeds=abc"], "seeds = 'abc' must be a whole number"),
    ([STALEMATE, "-m", "assurance=range(0,1,1e-9)", "relief=0,1"], "hydra.sweeper.max_points"),
    ([STALEMATE, "hydra.run.dir=afile"], "is a file, not a directory"),
    ([COLLECT, "."], "holds no sweep"),
    ([PLOT, "nowhere"], "is not a directory"),
    ([COLLECT], "the following arguments are required"),
]


@pytest.mark.parametrize(
    ("argv", "words"), REFUSED, ids=[" ".join([Path(a[0]).name, *a[1:]]) for a, _ in REFUSED]
)
def test_a_refusal_is_one_line_exit_2_and_leaves_no_file(tmp_path, argv, words):
    (tmp_path / "afile").write_text("occupied")
    res = run(*argv, check=False, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert words in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile"]

"""Refusals, verified blocks, locks, bounded sweeps and the Python API, checked in-process
(fast). The same defects end to end, with real processes killed and disks filled, are in
``tests/test_faults.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim import ConfigError, NegotiationModel, make_config, run_batch
from sim.hydra import cli
from sim.hydra.blocks import BLOCKS_FILE, check_job
from sim.hydra.compose import compose
from sim.hydra.lock import LOCK_FILE, DirLock, LockBusy
from sim.hydra.refuse import Refusal, check_output_dir, preflight
from sim.hydra.schema import MAX_SEED
from sim.model.params import ModelConfig
from sim.report.io import failpoint, remove_leftovers, write_parquet

# ------------------------------------------------------------------ refusals (defect 7)

# (command line, words the one-line refusal must contain). Each was a multi-line Hydra
# error with exit code 1, or passed Hydra and failed after its output dir was made.
REFUSED = [
    (["colour=red"], ["colour is not a known key"]),
    (["scenaro=grit"], ["scenaro", "did you mean 'scenario'"]),
    (["+foo=1"], ["foo is not a known key"]),
    (["++foo=1"], ["foo is not a known key"]),
    (["seeds=abc"], ["seeds = 'abc' must be a whole number in [1, 10000000]"]),
    (["seeds=1.5"], ["seeds = '1.5' must be a whole number"]),
    (["assurance=[1,2]"], ["assurance", "must be a number in [0, 1]"]),
    (["relief=null"], ["relief cannot be null"]),
    (["narrate=maybe"], ["narrate = 'maybe' must be true or false"]),
    (["scenario=nowhere"], ["scenario = 'nowhere' is not a known option", "baseline_2018"]),
    (["+sweep=nope"], ["sweep = 'nope' is not a known option", "stalemate_map"]),
    (["hydra/launcher=nope"], ["hydra/launcher = 'nope'", "slurm"]),
    (["actors.XYZ.trust=0.5"], ["actors.XYZ is not one of the states", "+actors.XYZ="]),
    (["actors.DPRK.polcy=grit"], ["actors.DPRK.polcy", "did you mean 'policy'"]),
    (["actors.DPRK.concede.packge=1"], ["did you mean 'package'"]),
    (["assurance=0.5)"], ["cannot read the override 'assurance=0.5)'"]),
    (["assurance=0,1"], ["is a sweep", "add -m"]),
    (["+seeds=3"], ["seeds is already a key"]),
    (["~seeds"], ["~seeds: keys of the config cannot be deleted"]),
    (["assurance=${oc.env:HOME}"], ["assurance = ${oc.env:HOME} cannot be used"]),
    (["assurance=${oc.env:STALEMATE_NOT_SET}"], ["assurance", "STALEMATE_NOT_SET"]),
    (["name=../../../../outside"], ["name = '../../../../outside' must be one safe path"]),
    (["name=a\nb"], ["cannot read the override 'name=a\\nb'"]),
    (["name='a\nb'"], ["must be one safe path component"]),
    (["scenario=../sweep/demo_map"], ["scenario = '../sweep/demo_map' must be one safe path"]),
    (["seed=9223372036854775807", "seeds=2"], ["past the largest allowed seed"]),
    (["detect_prob=1.5"], ["detect_prob = 1.5 is outside the allowed range [0, 1]"]),
    (["--cfg", "nope"], ["--cfg/-c: invalid choice"]),
    (["--bogus"], ["unrecognized arguments: --bogus"]),
    (["--resolve"], ["--resolve only goes with --cfg"]),
    (["-m", "colour=red"], ["colour is not a known key"]),
    (["-m", "name=../x", "assurance=0,1"], ["name = '../x'"]),
]


@pytest.mark.parametrize(("argv", "words"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_every_refusal_is_one_line_naming_the_problem_and_writes_nothing(tmp_path, argv, words):
    out = tmp_path / "out"
    key = "hydra.sweep.dir" if "-m" in argv else "hydra.run.dir"
    with pytest.raises(Refusal) as err:
        preflight([*argv, f"{key}={out}"])
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message, (w, message)
    assert list(tmp_path.iterdir()) == []


def test_valid_command_lines_pass_the_preflight(tmp_path):
    for argv in (
        ["scenario=relief_first", "seeds=3"],
        ["+actors.JPN={role: ally, trust: 0.3}"],
        ["-m", "assurance=0,0.5", "relief=range(0,1,0.5)"],
        ["-m", "scenario=grit,relief_first", "seeds=2"],
        ["--cfg", "job", "assurance=0.7"],
        ["assurance=${oc.decode:'0.5'}"],
        ["hydra.run.dir=" + str(tmp_path / "a" / "b")],
    ):
        preflight([*argv, f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 's'}"])
    assert list(tmp_path.iterdir()) == []  # the probe of the output dir left nothing


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["hydra.output_subdir=../../.."], "hydra.output_subdir = '../../..' leads outside hydra.run.dir"),
        (["hydra.output_subdir=/tmp/elsewhere"], "hydra.output_subdir = '/tmp/elsewhere' leads outside"),
        (["hydra.output_subdir=a/../../b"], "leads outside hydra.run.dir"),
        (["-m", "assurance=0,1", "hydra.output_subdir=../.."], "leads outside hydra.sweep.dir"),
        (["-m", "assurance=0,1", "hydra.sweep.subdir=../x"], "hydra.sweep.subdir = '../x' is not allowed"),
        (["-m", "assurance=0,1", "hydra.sweep.subdir=same"], "a sweep keeps job N in DIR/N"),
    ],
)  # fmt: skip
def test_hydra_paths_that_lead_outside_the_output_directory_are_refused(tmp_path, argv, words):
    """``hydra.output_subdir=../../..`` wrote Hydra's record of the config outside the run."""
    out = [f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    with pytest.raises(Refusal) as err:
        preflight([*argv, *out])
    assert words in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["hydra.run.dir="], ["-m", "assurance=0,1", "hydra.sweep.dir="]])
def test_an_empty_output_directory_is_refused_not_the_current_one(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Refusal, match=r"dir = '' is empty: give the directory to write into"):
        preflight(argv)
    assert list(tmp_path.iterdir()) == []
    for fine in (["hydra.output_subdir=null"], ["hydra.output_subdir=meta/config"]):
        preflight([*fine, f"hydra.run.dir={tmp_path / 'run'}"])


def test_unusable_output_directories_are_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text("{}")
    run = tmp_path / "run"
    run.mkdir()
    (run / "runs.parquet").write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    cases = [
        (tmp_path / "afile", "run", "is a file, not a directory"),
        (tmp_path / "afile" / "sub", "run", "cannot be written: Not a directory"),
        (Path("/proc/stalemate-test"), "run", "cannot be written"),
        (sweep, "run", "holds a sweep"),
        (run, "sweep", "holds a single run"),
        (other, "sweep", "is not empty and holds no sweep"),
        (other, "run", "holds files but no stalemate run"),
    ]
    for path, kind, words in cases:
        with pytest.raises(Refusal, match=words):
            check_output_dir(path, kind)
    check_output_dir(sweep, "sweep")  # a sweep's own directory: resuming
    check_output_dir(run, "run")  # a previous single run is replaced, as Hydra does


# ------------------------------------------------------------------ verified blocks (defect 1)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _job(tmp_path, points=(["assurance=0"], ["assurance=1"])):
    job = tmp_path / "0"
    (job / "blocks").mkdir(parents=True)
    path = write_parquet(pd.DataFrame({"a": range(10)}), job / "blocks" / "0000.parquet")
    from sim.report.io import file_digest

    entry = {"file": "blocks/0000.parquet", "points": list(points), **file_digest(path)}
    (job / BLOCKS_FILE).write_text(json.dumps({"points": list(points), "blocks": {"0000": entry}}))
    return job, [list(p) for p in points]


def test_a_block_that_checks_out_is_trusted(tmp_path):
    job, points = _job(tmp_path)
    assert list(check_job(job, points).good) == ["0000"] and check_job(job, points).problems == []


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda p: p.unlink(), "blocks/0000.parquet is missing"),
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "unreadable (truncated, or not Parquet)"),
        (
            lambda p: p.write_bytes(_flip(p.read_bytes(), 40)),
            "differs from its checksum",
        ),
    ],
    ids=["missing", "truncated", "one byte changed"],
)
def test_a_damaged_block_is_named_not_trusted(tmp_path, damage, words):
    job, points = _job(tmp_path)
    damage(job / "blocks" / "0000.parquet")
    found = check_job(job, points)
    assert found.good == {} and len(found.problems) == 1
    assert words in found.problems[0] and "its 2 points must be run again" in found.problems[0]


def test_an_unreadable_manifest_or_one_for_other_points_is_named(tmp_path):
    job, points = _job(tmp_path)
    assert "made for other points" in check_job(job, [["assurance=0.5"]]).problems[0]
    (job / BLOCKS_FILE).write_text('{"blocks": ')
    assert "blocks.json is unreadable" in check_job(job, points).problems[0]


def test_leftover_temporaries_are_removed_at_one_level_or_below(tmp_path):
    (tmp_path / "0" / "blocks").mkdir(parents=True)
    top = tmp_path / ".sweep.json.abc.tmp"
    deep = tmp_path / "0" / "blocks" / ".0000.parquet.x.tmp"
    for p in (top, deep):
        p.write_text("half")
    assert remove_leftovers(tmp_path, recursive=False) == [top] and deep.exists()
    assert remove_leftovers(tmp_path) == [deep]


# ------------------------------------------------------------------ the lock (defects 4, 10)


def test_a_busy_directory_is_refused_naming_its_holder_and_a_dead_holder_is_stale(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from sim.hydra.lock import DirLock; "
            f"DirLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(
            LockBusy, match=rf"is busy: a sweep is running there \(pid {holder.pid} on "
        ):
            DirLock(tmp_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no chance to release
        holder.wait()
    lock = DirLock(tmp_path).acquire()  # the kernel released it with the process
    try:
        assert lock.stale and lock.stale["pid"] == holder.pid
        assert "ended without releasing its lock" in lock.stale_note()
    finally:
        lock.release()
    assert (tmp_path / LOCK_FILE).read_text() == ""  # a clean release leaves no record
    assert DirLock(tmp_path).acquire().stale is None


def test_a_directory_holding_another_sweep_is_refused_untouched(tmp_path):
    """A second, different sweep into a sweep's directory is refused in one line before
    anything is written there: not even the lock file is made."""
    d = tmp_path / "sweep"
    exe = str(Path(sys.executable).with_name("stalemate"))
    common = ["seeds=2", "rounds=5", "progress=false", f"hydra.sweep.dir={d}"]
    subprocess.run([exe, "-m", "assurance=0,1", *common], check=True, capture_output=True)
    assert (d / LOCK_FILE).read_text() == ""  # the finished sweep's (released) lock file
    before = sorted((p.relative_to(d), p.stat().st_mtime_ns) for p in d.rglob("*"))
    other = subprocess.run([exe, "-m", "relief=0,1", *common], capture_output=True, text=True)
    assert other.returncode == 2
    (line,) = other.stderr.strip().splitlines()
    assert "holds a different sweep" in line
    assert sorted((p.relative_to(d), p.stat().st_mtime_ns) for p in d.rglob("*")) == before


def test_a_sweep_key_below_a_single_value_is_named():
    """``assurance.x`` descends into a number: the message says so (it was a TypeError)."""
    from sim.hydra.schema import AppConfig, _validated, apply_point

    app, _ = _validated(AppConfig())
    with pytest.raises(ConfigError, match="assurance is a single value, not a group of keys"):
        apply_point(app, ["assurance.x=0.5"])


def test_checking_a_lock_touches_nothing(tmp_path):
    """DirLock.check refuses a held lock by name and passes a free one, without creating
    or writing the lock file."""
    DirLock(tmp_path).check()  # no lock file: free, and none is made
    assert not (tmp_path / LOCK_FILE).exists()
    held = DirLock(tmp_path).acquire()
    try:
        stamp = (tmp_path / LOCK_FILE).stat().st_mtime_ns, (tmp_path / LOCK_FILE).read_text()
        with pytest.raises(
            LockBusy, match=rf"is busy: a sweep is running there \(pid {os.getpid()} on"
        ):
            DirLock(tmp_path).check()
        assert (
            (tmp_path / LOCK_FILE).stat().st_mtime_ns,
            (tmp_path / LOCK_FILE).read_text(),
        ) == stamp
    finally:
        held.release()
    stamp = (tmp_path / LOCK_FILE).stat().st_mtime_ns
    DirLock(tmp_path).check()  # released: free
    assert (tmp_path / LOCK_FILE).stat().st_mtime_ns == stamp
    DirLock(tmp_path).acquire().release()  # and the probe left no lock behind


def test_a_process_orphaned_by_its_parent_ends_itself(tmp_path):
    """What keeps joblib workers from outliving a killed sweep: the parent dies, the child
    (which called die_with_parent) exits within a second; and a child that starts
    watching only after its parent died exits at once."""
    ready = tmp_path / "ready"
    (tmp_path / "child.py").write_text(
        "import pathlib, sys, time\n"
        "from sim.hydra.cli import die_with_parent\n"
        "die_with_parent(0.1)\n"
        "pathlib.Path(sys.argv[1]).write_text('watching')\n"
        "time.sleep(60)\n"
    )
    (tmp_path / "parent.py").write_text(
        "import os, subprocess, sys, time\n"
        "os.environ['STALEMATE_SWEEP_PID'] = str(os.getpid())\n"
        "child = subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    code = [sys.executable, str(tmp_path / "parent.py"), str(tmp_path / "child.py"), str(ready)]
    for wait_until_watching in (True, False):
        ready.unlink(missing_ok=True)
        parent = subprocess.Popen(code, stdout=subprocess.PIPE, text=True)
        child = int(parent.stdout.readline())
        deadline = time.time() + 60
        while wait_until_watching and not ready.exists() and time.time() < deadline:
            time.sleep(0.05)
        parent.kill()
        parent.wait()
        deadline = time.time() + 60
        while time.time() < deadline and Path(f"/proc/{child}").exists():
            if "zombie" in Path(f"/proc/{child}/status").read_text().lower():
                break
            time.sleep(0.1)
        else:
            if Path(f"/proc/{child}").exists():
                os.kill(child, 9)
                pytest.fail("the orphaned child kept running")


# ------------------------------------------------------------------ bounded sweeps (defect 9)


def _plan(*overrides, max_points=100_000):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from hydra_plugins.stalemate_sweeper.sweeper import plan_sweep

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return plan_sweep(parsed, lambda key: key == "scenario", max_points)


def test_a_huge_sweep_is_counted_not_listed_and_refused_with_its_size():
    from hydra_plugins.stalemate_sweeper.sweeper import SweepError

    t0 = time.perf_counter()
    with pytest.raises(SweepError) as err:
        _plan("assurance=range(0,1,1e-9)", "relief=range(0,1,1e-6)")
    assert time.perf_counter() - t0 < 1
    msg = str(err.value)
    assert "1,000,000,000,000,000 parameter points" in msg
    assert "hydra.sweeper.max_points = 100,000" in msg
    with pytest.raises(SweepError, match="step 0 never ends"):
        _plan("assurance=range(0,1,0)")
    keys, _, combos, values = _plan("assurance=range(0,1,0.25)", "scenario=grit,relief_first")
    assert keys == ["assurance"] and len(combos) == 2 and len(values[0]) == 4


def test_pieces_do_not_change_the_table(monkeypatch):
    """Runs streamed in pieces (what keeps memory flat for any number of seeds) give the
    same rows, ids and labels as one piece."""
    app = compose(["rounds=20", "seeds=23", "seed=5"])
    from sim.hydra.schema import to_app_config

    app, model = to_app_config(app)
    points = [["assurance=0.2"], ["assurance=0.9"]]

    def table(limit):
        monkeypatch.setitem(cli.PIECE_RUNS, "batch", limit)
        parts = []
        cli.stream_runs(app, model, points, "batch", False, lambda k, t: parts.append(t), {})
        return pa.concat_tables(parts).to_pandas()

    whole, pieces = table(1 << 20), table(7)
    pd.testing.assert_frame_equal(whole, pieces)
    assert list(whole["run_id"]) == list(range(46)) and whole["seed"].dtype == np.int64
    assert list(whole["assurance"]) == [0.2] * 23 + [0.9] * 23


# ------------------------------------------------------------------ seeds (defect 6)


def test_every_seed_is_range_checked_and_seed_columns_are_int64():
    runs = run_batch([make_config(rounds=3)] * 2, [MAX_SEED - 1, MAX_SEED], progress=False).runs
    assert runs["seed"].dtype == np.int64 and runs["seed"].iloc[-1] == MAX_SEED
    with pytest.raises(ConfigError, match="past the largest allowed seed"):
        compose([f"seed={MAX_SEED}", "seeds=2"])
    for seeds in (range(MAX_SEED, MAX_SEED + 2), np.array([0, 2**63], dtype=np.uint64), [-1]):
        with pytest.raises(ConfigError, match=r"seeds\[\d\] = .* must be a whole number"):
            run_batch([make_config(rounds=3)] * 2 if len(seeds) == 2 else [make_config()], seeds)


# ------------------------------------------------------------------ the Python API (defect 8)


@pytest.mark.parametrize(
    ("kw", "cli_override"),
    [
        ({"assurance": float("nan")}, "assurance=nan"),
        ({"rounds": 0}, "rounds=0"),
        ({"detect_prob": 1.5}, "detect_prob=1.5"),
        ({"regime": "peace_first"}, "regime=peace_first"),
    ],
)
def test_the_python_api_refuses_what_the_cli_refuses_with_the_same_message(kw, cli_override):
    with pytest.raises(ConfigError) as from_cli:
        compose([cli_override])
    for call in (
        lambda: run_batch([kw], [0], progress=False),
        lambda: run_batch([ModelConfig(**kw)], [0], progress=False),  # built unchecked
        lambda: NegotiationModel(rng=0, **kw),
    ):
        with pytest.raises(ConfigError) as from_api:
            call()
        assert str(from_api.value) == str(from_cli.value)


def test_the_python_api_accepts_numpy_scalars():
    kw = {"rounds": np.int64(10), "assurance": np.float32(0.5), "detect_prob": np.float64(0.3)}
    a = run_batch([kw] * 3, np.arange(3, dtype=np.int64), progress=False).runs
    b = run_batch([make_config(rounds=10, assurance=0.5, detect_prob=0.3)] * 3, [0, 1, 2]).runs
    pd.testing.assert_frame_equal(a, b)
    m = NegotiationModel(rng=np.int64(1), **kw)
    m.run()
    assert m.config.rounds == 10 and isinstance(m.config.rounds, int)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: run_batch([make_config()], [0], processes="x"), "processes = 'x' must be 'auto'"),
        (lambda: run_batch([make_config()], [0], processes=0), "processes = 0 must be 'auto'"),
        (lambda: run_batch([make_config()], [0], chunk_size=-1), "chunk_size = -1"),
        (lambda: run_batch([], []), "configs and seeds are empty"),
        (lambda: run_batch([make_config()], [0, 1]), "1 configs but 2 seeds"),
    ],
)
def test_run_batch_refuses_bad_arguments_by_name(call, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        call()


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: run_batch([make_config(rounds=3)], 5), "seeds = 5 must be a sequence with one item per run"),
        (lambda: run_batch(None, [0]), "configs = None must be a sequence with one item per run"),
        (lambda: run_batch(make_config(rounds=3), [0]), "for one run: [config]"),
        (lambda: run_batch({"rounds": 3}, [0]), "configs = {'rounds': 3} must be a sequence"),
        (lambda: run_batch([make_config(rounds=3)], "0"), "seeds = '0' must be a sequence"),
        (lambda: run_batch([make_config(rounds=3)], np.zeros((1, 1), int)), "must be one-dimensional"),
    ],
)  # fmt: skip
def test_run_batch_given_a_single_value_says_which_argument_and_what_it_needs(call, words):
    """They raised TypeError ('int' object is not iterable) from deep inside."""
    with pytest.raises(ConfigError) as err:
        call()
    assert words in str(err.value) and "\n" not in str(err.value)


EVENT_WORDS = "does not say when and what: an event needs at least round and kind"


@pytest.mark.parametrize("event", [{}, {"round": 3}, {"kind": "summit"}, {"label": "talks"}])
def test_an_event_that_does_not_say_when_and_what_is_refused_everywhere(event):
    """events=[{}] became a summit in round 1 (the dataclass defaults)."""
    calls = [
        lambda: run_batch([{"rounds": 5, "events": [event]}], [0], progress=False),
        lambda: NegotiationModel(rng=0, rounds=5, events=[event]),
    ]
    for call in calls:
        with pytest.raises(ConfigError, match=EVENT_WORDS):
            call()
    text = "events=[{" + ", ".join(f"{k}: {v}" for k, v in event.items()) + "}]"
    with pytest.raises(Refusal, match=EVENT_WORDS):
        preflight([text])
    with pytest.raises(Refusal, match=EVENT_WORDS):
        preflight(["-m", f"{text},[]"])
    run_batch([{"rounds": 5, "events": [{"round": 3, "kind": "summit"}]}], [0], progress=False)


@pytest.mark.parametrize("name", ["J\nP", "J P", "J-P", "1JP", "_JP", "JP.X", "Ü", "J" * 33])
def test_an_actor_name_that_would_break_column_names_is_refused(name):
    with pytest.raises(ConfigError, match="cannot be an actor name"):
        run_batch([{"rounds": 3, "actors": {name: {"role": "ally"}}}], [0], progress=False)
    with pytest.raises(ConfigError, match="cannot be an actor name"):
        NegotiationModel(rng=0, rounds=3, actors={name: {"role": "ally"}})


def test_an_actor_name_on_the_command_line_is_checked_too(tmp_path):
    with pytest.raises(Refusal, match="'J-P' cannot be an actor name"):
        preflight(["+actors.J-P={role: ally}", f"hydra.run.dir={tmp_path / 'out'}"])
    assert list(tmp_path.iterdir()) == []
    runs = run_batch([{"rounds": 3, "actors": {"JPN_2": {"role": "ally"}}}], [0], progress=False)
    assert "hedge_share_JPN_2" in runs.runs.columns


def test_failpoints_do_nothing_unless_asked(monkeypatch):
    monkeypatch.delenv("STALEMATE_FAILPOINTS", raising=False)
    failpoint("write:runs.parquet")
    monkeypatch.setenv("STALEMATE_FAILPOINTS", "write:*.parquet=enospc")
    with pytest.raises(OSError, match="No space left"):
        failpoint("write:runs.parquet")

"""A fingerprint that knows the code (sim/engines/provenance.py): every result records the hash
of the compiled sources beside the version, and a sweep or a search resumed by other code
is refused in one line naming both hashes — here with a copy of the package whose kernel
source was edited, as after an upgrade."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.engines.provenance import check_same_code, code_hash, describe, provenance
from sim.hydra.blocks import BLOCKS_FILE, check_job
from sim.model.validation import ConfigError
from sim.report.io import FAILPOINTS_ENV, read_metadata

PACKAGE = Path(sim.__file__).resolve().parent
PLUGINS = PACKAGE.parent / "hydra_plugins"
STALEMATE = str(Path(sys.executable).with_name("stalemate"))
SEARCH = str(Path(sys.executable).with_name("stalemate-search"))
SWEEP = ["-m", "assurance=0,1", "seeds=5", "rounds=10", "progress=false"]
#: The edited copies' compile cache: apart from the package's (``~/.cache/stalemate``), so
#: nothing of an edit reaches it, but kept between test runs. Inside it the kernels sit in a
#: folder named by the hash of the sources they were compiled from (sim/model/jit.py), so
#: the edited copy of other sources never finds them, and the edited copy of the same
#: sources loads what the last run compiled instead of compiling the whole model again
#: (about 40 s of CPU: the refused resume loads the kernels before the sweeper refuses it).
EDITED_CACHE = Path(tempfile.gettempdir()) / f"stalemate-tests-edited-kernels-{os.getuid()}"


def test_the_hash_is_of_the_compiled_sources_and_a_mismatch_names_both():
    p = provenance()
    assert p == {"version": sim.__version__, "code": code_hash()} and len(p["code"]) == 16
    check_same_code(dict(p), "here")  # the same code: nothing to say
    with pytest.raises(ConfigError) as err:
        check_same_code({"version": p["version"], "code": "f" * 16}, "hydra.sweep.dir = /x")
    text = str(err.value)
    assert f"code {'f' * 16} (stalemate {p['version']})" in text and f"code {p['code']}" in text
    assert "\n" not in text and "a resume across different code" in text
    assert "made before results recorded the code's hash" in describe({"version": "0.1.0"})


def test_tables_carry_the_code_beside_the_version(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [
            STALEMATE,
            "seeds=3",
            "rounds=5",
            "narrate=false",
            "progress=false",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["code"]) == {code_hash()} and set(runs["version"]) == {sim.__version__}
    for name in ("runs", "states", "actions"):
        assert read_metadata(out / f"{name}.parquet")["code"] == code_hash(), name


def test_blocks_made_by_other_code_are_not_merged(tmp_path):
    """A job whose blocks.json records another code hash than the sweep's: named, its points
    missing (so nothing of another model enters the merged table)."""
    from sim.hydra.sweep import collect

    d = tmp_path / "sweep"
    done = subprocess.run(
        [STALEMATE, *SWEEP, f"hydra.sweep.dir={d}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((d / "sweep.json").read_text())["provenance"] == provenance()
    assert read_metadata(d / "runs.parquet")["provenance"] == provenance()
    record = json.loads((d / "0" / BLOCKS_FILE).read_text())
    assert record["provenance"]["code"] == code_hash()
    record["provenance"]["code"] = "0" * 16
    (d / "0" / BLOCKS_FILE).write_text(json.dumps(record))
    found = check_job(d / "0", record["points"], code=code_hash())
    assert found.good == {} and "made by code 0000000000000000" in found.problems[0]
    c = collect(d, write=False)
    assert c.runs.empty and len(c.missing) == 2
    assert "not the sweep's code" in c.problems[0]


# ------------------------------------------------------------------ an edited kernel, resumed


def edited_copy(tmp_path: Path) -> tuple[dict, str]:
    """A copy of the package with one equation of a compiled source changed (felt relief,
    used by the decisions), as after an upgrade; the environment that runs it, and its hash."""
    root = tmp_path / "edited"
    shutil.copytree(PACKAGE, root / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PLUGINS, root / "hydra_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    source = root / "sim" / "model" / "decisions.py"
    text = source.read_text()
    old = "return 1.0 - (1.0 - relief) * enforcement\n"
    assert text.count(old) == 1
    source.write_text(text.replace(old, "return 1.0 - (1.0 - relief) * enforcement**0.9\n"))
    # its own compile cache: nothing of the edit reaches the shared one
    env = {**os.environ, "PYTHONPATH": str(root), "STALEMATE_CACHE_DIR": str(EDITED_CACHE)}
    env.pop(FAILPOINTS_ENV, None)
    probe = subprocess.run(
        [sys.executable, "-c", "from sim.engines.provenance import code_hash; print(code_hash())"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    edited = probe.stdout.strip()
    assert len(edited) == 16 and edited != code_hash()
    return env, edited


def tree(d: Path) -> list:
    return sorted((str(p.relative_to(d)), p.stat().st_mtime_ns) for p in d.rglob("*"))


@pytest.mark.slow
def test_a_sweep_resumed_by_an_edited_kernel_is_refused_naming_both_hashes(tmp_path):
    d = tmp_path / "sweep"
    cmd = [*SWEEP, f"hydra.sweep.dir={d}"]
    env = {**os.environ, FAILPOINTS_ENV: "job.block"}  # killed after its block, before the merge
    killed = subprocess.run([STALEMATE, *cmd], env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = tree(d)
    env, edited = edited_copy(tmp_path)
    code = "import sys; sys.argv[0] = 'stalemate'; from sim.hydra.cli import main; main()"
    fresh = tmp_path / "fresh-cache"  # a compile cache the edited kernels were never put in
    other = subprocess.run(
        [sys.executable, "-c", code, *cmd],
        env={**env, "STALEMATE_CACHE_DIR": str(fresh)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert other.returncode == 2, other.stderr
    # refused before any kernel was loaded or compiled: nothing put in the compile cache
    assert not [p for p in fresh.rglob("*") if p.suffix in (".nbi", ".nbc")]
    (line,) = other.stderr.strip().splitlines()
    assert f"hydra.sweep.dir = {d} was made by code {code_hash()}" in line
    assert f"this is code {edited}" in line and "a resume across different code" in line
    assert tree(d) == before  # refused untouched: not even the lock file is written
    done = subprocess.run([STALEMATE, *cmd], capture_output=True, text=True)  # the same code
    assert done.returncode == 0, done.stderr
    assert set(pd.read_parquet(d / "runs.parquet")["code"]) == {code_hash()}


@pytest.mark.slow
def test_a_search_resumed_by_an_edited_kernel_is_refused_naming_both_hashes(tmp_path):
    out = tmp_path / "search"
    cmd = ["+policy_search=smoke", "progress=false", f"hydra.run.dir={out}"]
    env = {**os.environ, FAILPOINTS_ENV: "search.generation.1"}
    killed = subprocess.run([SEARCH, *cmd], env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = tmp_path / ".search.partial"
    before = tree(partial)
    env, edited = edited_copy(tmp_path)
    code = "import sys; sys.argv[0] = 'stalemate-search'; from sim.search.cli import main; main()"
    other = subprocess.run(
        [sys.executable, "-c", code, *cmd], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert other.returncode == 2, other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert f"hydra.run.dir = {out} was made by code {code_hash()}" in line
    assert f"this is code {edited}" in line
    assert tree(partial) == before and not out.exists()
    done = subprocess.run([SEARCH, *cmd], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["code"] == code_hash()
    # the runs of the generations before the kill are counted too: distinct policies x scenarios
    policies, runs = (out / "convergence.csv").read_text().strip().splitlines()[-1].split(",")[2:4]
    assert (
        summary["budget"]["search_runs"]
        == int(runs)
        == int(policies) * summary["budget"]["scenarios"]
    )
    assert int(policies) > 3 * 8
    assert read_metadata(out / "pareto.parquet")["code"] == code_hash()

"""The compiled kernels' disk cache (sim/model/jit.py): found again by any copy of the same
sources, never by a copy with different ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import sim

PACKAGE = Path(sim.__file__).resolve().parent

#: Prints where numba caches a few kernels (folder and index file), one per package folder.
PROBE = """
import json
from sim.engines import kernels
from sim.model import decisions, dynamics
from sim.model.policies import logit
out = {}
for name, fn in [("draw", decisions.draw), ("play", dynamics.play),
                 ("simulate_batch", kernels.simulate_batch),
                 ("logit", logit.Logit.probabilities)]:
    out[name] = [fn._cache._cache_path, fn._cache._impl.filename_base]
print(json.dumps(out))
"""


def cache_paths(root: Path, cache: Path) -> dict[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(root), "STALEMATE_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def copy_package(dest: Path) -> Path:
    shutil.copytree(PACKAGE, dest / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_a_copy_of_the_package_elsewhere_uses_the_same_cache(tmp_path):
    cache = tmp_path / "cache"
    here = cache_paths(PACKAGE.parent, cache)
    there = cache_paths(copy_package(tmp_path / "elsewhere" / "clone"), cache)
    assert here == there  # a fresh clone or an installed wheel finds the compiled kernels
    for folder, _ in here.values():
        assert Path(folder).is_relative_to(cache)
        assert str(tmp_path / "elsewhere") not in folder  # nothing of where the copy sits


def test_a_copy_with_an_edited_equation_gets_its_own_cache(tmp_path):
    cache = tmp_path / "cache"
    root = copy_package(tmp_path / "edited")
    original = cache_paths(root, cache)
    decisions = root / "sim" / "model" / "decisions.py"
    decisions.write_text(decisions.read_text() + "\n# an edit\n")
    edited = cache_paths(root, cache)
    # every kernel moves, even those in files that were not edited (they inline decisions)
    for name in original:
        assert Path(original[name][0]).parent != Path(edited[name][0]).parent, name


def test_caches_of_other_sources_unused_for_a_month_are_removed(tmp_path):
    """Only folders named like a source hash and unused for STALE_DAYS go; the current
    one is marked used, and anything else in the folder is left alone."""
    import time

    from sim.model.jit import STALE_DAYS, prune

    current, old, recent = (tmp_path / h for h in ("a" * 16, "b" * 16, "c" * 16))
    other = tmp_path / "notes"  # not a cache folder
    for d in (current, old, recent, other):
        (d / "model").mkdir(parents=True)
    month_ago = time.time() - (STALE_DAYS + 1) * 86400
    for d in (current, old, other):
        os.utime(d, (month_ago, month_ago))
    assert prune(current) == [old]
    assert current.is_dir() and recent.is_dir() and other.is_dir() and not old.exists()
    assert current.stat().st_mtime > month_ago + 86400  # used now: not removed by the next version

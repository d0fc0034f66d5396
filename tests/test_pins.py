"""A dependency whose private API (or error texts) we rely on has an upper bound.

A release of such a dependency may break us without a deprecation, so the bound keeps
an install on the versions we have run, and ``make newest`` runs the fast tests on the
newest versions the bounds allow. :data:`PRIVATE` says what each relies on; a scan
of the sources finds a private name imported from, or read off, a third-party module
that this table does not cover.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

#: distribution -> what of its private API (or its texts) the project relies on.
PRIVATE = {
    "numba": "sim/model/jit.py subclasses numba.core.caching._CacheLocator and "
    "_SourceFileBackedLocatorMixin and inserts it into CacheImpl._locator_classes; "
    "tests/test_jit.py reads a kernel's _cache._cache_path; sim/model/jit.py answers "
    "numba.np.linalg.ensure_blas once (numba.np.arraymath's one-time BLAS check) by the "
    "extension file being there, so loading the kernels imports no scipy.linalg",
    "mesa": "sim/engines/mesa_model.py: HistoryCollector fills DataCollector's "
    "_collection_steps, _validated, _agent_records and model_vars from the history; "
    "mesa.experimental.scenarios.Scenario",
    "hydra-core": "sim/hydra/refuse.py parses Hydra's error texts ('Ambiguous value for "
    "argument', 'Could not append to config', 'Error parsing override') and reads "
    "MissingConfigException.missing_cfg_file/options; hydra.core's override parser, "
    "setup_globals, GlobalHydra, Plugins",
    "omegaconf": "sim/hydra/refuse.py parses OmegaConf's error texts by regex ('Value … "
    "could not be converted to …', 'is not Optional', 'is not a valid bool', "
    "'Invalid value …, expected one of', 'Key … not in', 'While dereferencing "
    "interpolation') and reads full_key and msg",
    "ema-workbench": "sim/analysis/discovery.py calls scenario_discovery_util._make_box",
    "pymoo": "sim/search/moea.py builds on pymoo.core.evaluator.Evaluator and "
    "pymoo.problems.static.StaticProblem",
    "solara": "scripts/fetch-solara-assets.py reads solara's own sources for the CDN "
    "files its page loads; sim/classroom reads solara.settings.assets",
    "submitit": "tests/fake_slurm.py sets submitit.core.core.Job._results_timeout_s; "
    "tests/test_cluster.py expects '-m submitit.core._submit' in the job script",
}


def _requirements() -> dict[str, Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    out: dict[str, Requirement] = {}
    for text in reqs:
        r = Requirement(text)
        out.setdefault(canonicalize_name(r.name), r)
    return out


def _bounded(req: Requirement) -> bool:
    return any(s.operator in {"<", "<=", "~=", "==", "==="} for s in req.specifier)


def test_every_private_api_dependency_is_declared_with_an_upper_bound():
    reqs = _requirements()
    missing = [d for d in PRIVATE if canonicalize_name(d) not in reqs]
    loose = [str(reqs[canonicalize_name(d)]) for d in PRIVATE if d not in missing]
    assert missing == [], f"declare them in pyproject.toml: {missing}"
    assert [r for r in loose if not _bounded(Requirement(r))] == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(path: Path) -> set[str]:
    """Top-level third-party modules from which ``path`` imports a private name, or off
    whose imported names it reads a private attribute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    uses: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            top = node.module.split(".")[0]
            for alias in node.names:
                imported[alias.asname or alias.name] = top
                if _private(alias.name) or any(map(_private, node.module.split("."))):
                    uses.add(top)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                imported[alias.asname or top] = top
                if any(map(_private, alias.name.split("."))):
                    uses.add(top)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in imported:
                uses.add(imported[base.id])
    return uses


def test_private_names_of_other_packages_are_in_the_table():
    dists = packages_distributions()
    ours = {"sim", "hydra_plugins"}
    bad = []
    for folder in ("sim", "hydra_plugins", "scripts", "tests", "experiments"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for top in _private_uses(path) - ours - set(sys.stdlib_module_names):
                owners = {canonicalize_name(d) for d in dists.get(top, [])}
                if owners and not owners & {canonicalize_name(d) for d in PRIVATE}:
                    bad.append(f"{path.relative_to(ROOT)}: {top} ({', '.join(sorted(owners))})")
    assert bad == [], "add these to PRIVATE and bound them in pyproject.toml:\n" + "\n".join(bad)


def test_the_scan_finds_a_private_import(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "from numba.core.caching import CacheImpl, _CacheLocator\n"
        "import numpy as np\n"
        "x = np._core\n"
        "import os\n"
        "os._exit\n"
    )
    assert _private_uses(src) == {"numba", "numpy", "os"}

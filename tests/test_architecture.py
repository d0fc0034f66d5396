"""The package's shape: layers that only import downward, no import cycles, no reach-ins.

The layer order is declared once, in ``pyproject.toml`` (``[tool.importlinter]``):
classroom > search > analysis > hydra > report > engines > model. import-linter checks it
over every import, including those inside functions.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import grimp
import networkx as nx
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"


def _python_files(*dirs: Path):
    for d in dirs:
        yield from sorted(d.rglob("*.py"))


def test_layers_only_import_downward():
    """The contract in pyproject.toml holds for the package as it is."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_layer_check_fails_on_an_upward_import(tmp_path, monkeypatch):
    """The same kind of contract fails on a toy package whose model imports its engine:
    the check can fail."""
    pkg = tmp_path / "toypkg"
    for sub in ("model", "engines"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engines" / "run.py").write_text("from toypkg.model import maths\n")
    (pkg / "model" / "maths.py").write_text(
        textwrap.dedent(
            """
            def f():
                from toypkg.engines import run  # upward, hidden inside a function
                return run
            """
        )
    )
    config = tmp_path / "contracts.toml"
    config.write_text(
        textwrap.dedent(
            """
            [tool.importlinter]
            root_packages = ["toypkg"]

            [[tool.importlinter.contracts]]
            name = "toy layers"
            type = "layers"
            layers = ["toypkg.engines", "toypkg.model"]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert lint_imports(config_filename=str(config), no_cache=True) == 1


def test_no_import_cycles_between_modules():
    """No two modules of sim/ import each other, directly or through others."""
    graph = grimp.build_graph("sim", cache_dir=None)
    g = nx.DiGraph()
    for m in graph.modules:
        for imported in graph.find_modules_directly_imported_by(m):
            if imported != m and not m.startswith(
                imported + "."
            ):  # a package's __init__ is not a cycle
                g.add_edge(m, imported)
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == []


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_no_private_hydra_or_cross_module_private_imports():
    """Public seams only: nothing imports ``hydra._internal``, and no module imports a
    ``_private`` name from another module of the package."""
    bad = []
    for path in _python_files(SIM, ROOT / "hydra_plugins", ROOT / "experiments"):
        for module, names in _imports(path):
            if module.startswith("hydra._internal"):
                bad.append(f"{path.relative_to(ROOT)}: {module}")
            if module.startswith("sim"):
                bad += [
                    f"{path.relative_to(ROOT)}: {module}.{n}" for n in names if n.startswith("_")
                ]
    assert bad == []


def test_no_getattr_serves_parameters():
    """Parameters are typed fields, not served by ``__getattr__``: the only one in the
    package is the lazy import of the public API in ``sim/__init__.py``."""
    hits = []
    for path in _python_files(SIM):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
                hits.append(str(path.relative_to(ROOT)))
    assert hits == ["sim/__init__.py"]


@pytest.mark.parametrize("heavy", ["mesa", "pandas", "matplotlib", "numba", "solara"])
def test_importing_sim_and_the_config_schema_stays_light(heavy):
    """``import sim`` and the Hydra schema (what ``stalemate --cfg job`` needs) load no
    engine, table or plotting library: checked in a fresh interpreter."""
    import subprocess
    import sys

    code = f"import sys, sim, sim.hydra.schema, sim.hydra.compose; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

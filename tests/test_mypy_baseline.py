"""The mypy baseline only shrinks: new errors fail, fixed ones fail until the baseline
shrinks, and ``--update`` never adds one (``scripts/mypy-baseline.py``; mypy itself is
faked here, ``make typecheck`` runs it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "mypy_baseline", ROOT / "scripts" / "mypy-baseline.py"
)
mb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mb)

A = ("sim/a.py", "arg-type", 'sim/a.py:10: error: Argument 1 has type "int"  [arg-type]')
A2 = ("sim/a.py", "arg-type", 'sim/a.py:20: error: Argument 2 has type "str"  [arg-type]')
B = ("sim/b.py", "index", "sim/b.py:3: error: Invalid index  [index]")


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mb, "BASELINE", tmp_path / "baseline.txt")

    def run(errors, *args):
        monkeypatch.setattr(mb, "run_mypy", lambda: list(errors))
        code = mb.main(list(args))
        return code, capsys.readouterr().out

    return run


def baseline_lines() -> list[str]:
    return mb.read_baseline()


def test_the_baseline_only_shrinks(run):
    mb.BASELINE.write_text("".join(f"{mb.key_line(*e)}\n" for e in (A, A2, B)))
    assert run([A, A2, B])[0] == 0
    moved = (A[0], A[1], A[2].replace(":10:", ":99:"))  # the same error after an edit above it
    assert run([moved, A2, B])[0] == 0
    code, out = run([A, A2, B, ("sim/c.py", "misc", "sim/c.py:1: error: New  [misc]")])
    assert code == 1 and "sim/c.py:1: error: New" in out and "new mypy errors" in out
    code, out = run([A, B])  # one fixed: fail until the baseline shrinks
    assert code == 1 and "make typecheck-baseline" in out and "sim/a.py: 1 fewer [arg-type]" in out
    assert run([A, B], "--update")[0] == 0
    assert baseline_lines() == [mb.key_line(*A), mb.key_line(*B)]
    assert run([A, B])[0] == 0


def test_update_never_adds(run):
    mb.BASELINE.write_text(f"{mb.key_line(*A)}\n")
    code, _ = run([A, A2, B], "--update")
    assert code == 1
    assert baseline_lines() == [mb.key_line(*A)]

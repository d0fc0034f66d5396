"""docs/model.md says what the code is: every module, function and parameter it cites.

The ODD document points at the code ("`sim/model/dynamics.py` (`start_run`, …)",
"`sim.model.decisions.felt_relief`") and tables every parameter with its default and
range. These tests read the document as it stands and check each claim against the
code, so a renamed function, a moved constant or a changed default fails here, and a
parameter added to the code without a row in the tables is named. Nothing below is a
copy of the document: add a row or a reference and it is checked too.

What is checked:

- a path ``sim/…/x.py`` exists, and each name in the parentheses after it is
  *defined* in that file (a ``def``, a ``class`` or an assignment at its top level:
  a name the module only imports does not count, so the row points at where the
  code lives);
- a folder ``sim/…/`` exists, and each name after it is a module inside it;
- a dotted name ``sim.a.b.c`` is a module, or a name defined in the longest module
  prefix (then attributes of it);
- ``Name (`sim/…/x.py`)`` (a name, then the file in parentheses) likewise;
- the parameter tables of §8.1 (:class:`~sim.model.params.ModelConfig`) and §8.2
  (:class:`~sim.model.params.ActorConfig`): each parameter is a field with the
  documented default; a numeric range ``lo – hi`` is the field's declared range (and
  a field with a declared range must show it); a list of words is the set of allowed
  values, or part of it (asked of the validation itself); and every field has a row.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from sim.model.params import ActorConfig, ModelConfig, make_config
from sim.model.validation import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "model.md"
TEXT = DOC.read_text(encoding="utf-8")

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
#: `sim/model/x.py` or `sim/model/policies/`, then optionally (`a`, `b`, …).
_PATH_REF = re.compile(
    rf"`(?P<path>sim/[A-Za-z0-9_/]+(?:\.py|/))`(?:\s*\((?P<names>(?:`{_IDENT}`(?:,\s*)?)+)\))?"
)
#: `Name` (`sim/model/x.py`): a name, then the file that defines it.
_NAME_THEN_PATH = re.compile(rf"`(?P<name>{_IDENT})`\s*\(`(?P<path>sim/[A-Za-z0-9_/]+\.py)`\)")
#: sim.a.b.c anywhere (backticked, in code blocks and their comments).
_DOTTED = re.compile(r"(?<![\w./])sim(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _line(pos: int) -> int:
    return TEXT.count("\n", 0, pos) + 1


@cache
def _defined(path: Path) -> frozenset[str]:
    """Names a Python file defines at its top level (not the ones it imports), including in
    either branch of a top-level ``if`` (``if TYPE_CHECKING: … else: …``)."""
    out: set[str] = set()
    body = list(ast.parse(path.read_text(encoding="utf-8")).body)
    for node in body:
        if isinstance(node, ast.If):
            body += [*node.body, *node.orelse]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                out.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
    return frozenset(out)


def _module_file(dotted: str) -> Path | None:
    """The source file of module ``dotted`` (a package's ``__init__.py``), or None."""
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _has(obj, name: str) -> bool:
    if hasattr(obj, name):
        return True
    return is_dataclass(obj) and name in {f.name for f in fields(obj)}


def _resolve(dotted: str) -> str | None:
    """None if ``sim.a.b.c`` names a module or something defined there, else why not."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        path = _module_file(module)
        if path is None:
            continue
        rest = parts[i:]
        if not rest:
            return None
        if rest[0] not in _defined(path):
            return f"{rest[0]!r} is not defined in {module} ({path.relative_to(ROOT)})"
        obj = getattr(importlib.import_module(module), rest[0])
        for j, attr in enumerate(rest[1:], start=1):
            if not _has(obj, attr):
                return f"{'.'.join([module, *rest[:j]])} has no {attr!r}"
            obj = getattr(obj, attr, None)
        return None
    return "no such module"


def _references() -> list[tuple[int, str, str]]:
    """(line, what the document says, why it is wrong or '') for every code reference."""
    refs = []
    for m in _PATH_REF.finditer(TEXT):
        path, names = m["path"], re.findall(_IDENT, m["names"] or "")
        where = ROOT / path
        if not where.exists():
            refs.append((_line(m.start()), path, "no such file or folder"))
            continue
        for name in names:
            if path.endswith("/"):
                ok = (where / f"{name}.py").exists() or (where / name / "__init__.py").exists()
                why = "" if ok else f"no module {name!r} in {path}"
            else:
                why = "" if name in _defined(where) else f"{name!r} is not defined in {path}"
            refs.append((_line(m.start()), f"{path} ({name})", why))
        if not names:
            refs.append((_line(m.start()), path, ""))
    for m in _NAME_THEN_PATH.finditer(TEXT):
        where = ROOT / m["path"]
        why = (
            "" if where.exists() and m["name"] in _defined(where) else f"not defined in {m['path']}"
        )
        refs.append((_line(m.start()), f"{m['name']} ({m['path']})", why))
    for m in _DOTTED.finditer(TEXT):
        refs.append((_line(m.start()), m[0], _resolve(m[0]) or ""))
    return refs


def test_the_document_cites_code():
    """The parser finds the references (a document rewritten out of its reach fails here)."""
    refs = _references()
    assert len(refs) >= 50, refs
    assert any(what.startswith("sim/model/dynamics.py (") for _, what, _ in refs)
    assert any(what.startswith("sim.model.") for _, what, _ in refs)


def test_every_module_and_name_the_document_cites_exists_there():
    bad = [f"docs/model.md:{line}: {what}: {why}" for line, what, why in _references() if why]
    assert bad == [], "\n".join(bad)


# --- the parameter tables ---------------------------------------------------------------


def _table_after(heading: str) -> list[dict[str, str]]:
    """The first Markdown table after ``heading``, as one dict per row (by header)."""
    start = TEXT.index(heading)
    lines = TEXT[start:].splitlines()[1:]
    rows, header = [], None
    for ln in lines:
        if not ln.startswith("|"):
            if header is not None:
                break
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _names(cell: str) -> list[str]:
    """The parameter names of a first cell: `a` or `a`, `b`, `c`."""
    return re.findall(r"`(" + _IDENT + r")`", cell) or [cell]


_NUMBER = r"[−-]?\d[\d ]*(?:\.\d+)?"


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace(" ", ""))


def _doc_default(cell: str):
    """The value a Default cell states: its first literal (a trailing note in
    parentheses is dropped), read as YAML (``200``, ``true``, ``{}``, ``''``)."""
    cell = re.sub(r"\s*\(.*\)\s*$", "", cell).strip()
    literal = cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell
    return yaml.safe_load(literal)


def _code_default(f):
    return f.default_factory() if f.default is MISSING else f.default


def _allowed(cls, name: str) -> list[str] | None:
    """The values the validation allows for a field that takes one of several words,
    read from its refusal (``… is not allowed; choose one of: a, b``), or None."""
    probe = "__docs_check__"
    try:
        if cls is ModelConfig:
            make_config(**{name: probe})
        else:
            make_config(actors={"DPRK": {name: probe}})
    except ConfigError as e:
        m = re.search(r"choose one of: (.*?)(?: \(did you mean|$)", str(e))
        return [w.strip() for w in m[1].split(",")] if m else None
    return None


def _param_rows():
    for heading, cls in (
        ("### 8.1 Model parameters", ModelConfig),
        ("### 8.2 Actor parameters", ActorConfig),
    ):
        for row in _table_after(heading):
            first = next(iter(row))
            for name in _names(row[first]):
                yield pytest.param(cls, name, row, id=f"{cls.__name__}.{name}")


def _check_row(cls, name: str, row: dict[str, str]) -> list[str]:
    by_name = {f.name: f for f in fields(cls)}
    if name not in by_name:
        return [f"{name} is in the table but is no field of {cls.__name__}"]
    f, bad = by_name[name], []
    code = _code_default(f)
    doc = _doc_default(row["Default"])
    if isinstance(code, dict) and isinstance(doc, str) and "," in doc:
        same = [k.strip() for k in doc.split(",")] == list(code)  # actors: the keys, in order
    elif isinstance(code, bool) or isinstance(doc, bool):
        same = code is doc
    elif isinstance(code, int | float) and isinstance(doc, int | float):
        same = float(code) == float(doc)
    elif isinstance(code, dict | list):
        same = doc == code if isinstance(doc, dict | list) else False
    else:
        same = doc == code
    if not same:
        bad.append(f"default: the document says {row['Default']}, the code has {code!r}")
    lo, hi = f.metadata.get("range", (None, None))
    rng = row["Range"]
    m = re.fullmatch(rf"({_NUMBER})\s*[–-]\s*({_NUMBER})", rng)
    if m:
        doc_range = (_number(m[1]), _number(m[2]))
        if (lo, hi) != doc_range:
            bad.append(f"range: the document says {rng}, the code has [{lo}, {hi}]")
    elif lo is not None or hi is not None:
        bad.append(f"range: the code has [{lo}, {hi}], the document says {rng!r}")
    elif re.fullmatch(r"`?" + _IDENT + r"`?(?:,\s*`?" + _IDENT + r"`?)+", rng):
        allowed = _allowed(cls, name)
        words = [w.strip(" `") for w in rng.split(",")]
        if allowed is None:
            bad.append(f"range: the document lists {rng}, but the code takes any value")
        elif not set(words) <= set(allowed):
            bad.append(f"range: the document lists {rng}; the code allows {', '.join(allowed)}")
    return bad


@pytest.mark.parametrize(("cls", "name", "row"), list(_param_rows()))
def test_each_documented_parameter_has_its_default_and_range(cls, name, row):
    assert _check_row(cls, name, row) == []


def test_every_parameter_has_a_row():
    """A parameter added to the code is documented too (§8.1 for the model, §8.2 for actors)."""
    documented = {(p.values[0], p.values[1]) for p in _param_rows()}
    missing = [
        f"{cls.__name__}.{f.name}"
        for cls in (ModelConfig, ActorConfig)
        for f in fields(cls)
        if (cls, f.name) not in documented
    ]
    assert missing == [], f"add a row to docs/model.md §8 for: {', '.join(missing)}"


def test_the_row_check_catches_a_wrong_default_and_range():
    """The check can fail: a row with another default, range or word is refused."""
    row = {"Default": "0.3", "Range": "0 – 1"}
    assert _check_row(ModelConfig, "detect_prob", row) == []
    assert _check_row(ModelConfig, "detect_prob", {**row, "Default": "0.4"})
    assert _check_row(ModelConfig, "detect_prob", {**row, "Range": "0 – 2"})
    assert _check_row(ModelConfig, "no_such_parameter", row)
    words = {"Default": "`beliefs`", "Range": "beliefs, trust_rule"}
    assert _check_row(ModelConfig, "model", words) == []
    assert _check_row(ModelConfig, "model", {**words, "Range": "beliefs, hunches"})
    assert _resolve("sim.model.decisions.felt_relief") is None
    assert _resolve("sim.model.StateAgent") is not None
    assert _resolve("sim.model.no_such_module") is not None


def test_the_documents_python_examples_run(capsys):
    """Every ```python block of docs/model.md runs as printed."""
    blocks = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
    assert capsys.readouterr().out

"""mypy with a baseline that only shrinks (``make typecheck``; CI runs it).

mypy runs with the lenient settings of ``[tool.mypy]`` in ``pyproject.toml``. The
errors it found when type checking started are recorded in ``.mypy-baseline.txt``,
one per line as ``path: [code] message`` (no line numbers: editing a file moves
them). The check counts errors per file and error code, so rewording by a newer
mypy or a dependency's type stubs, and errors moving inside a file, do not fail it:

- more errors of a code in a file than the baseline allows: they are new; fix them
  (the check fails and prints them with their line numbers);
- fewer: some were fixed; the check fails until the baseline shrinks with them:
  ``make typecheck-baseline`` rewrites it, and commit the smaller file.

``--update`` never adds an error: where there are more than recorded, the recorded
lines stay. An error that cannot be fixed is added by hand, in a commit that says why.

Usage:
    python scripts/mypy-baseline.py            # check (exit 1 on new or fixed errors)
    python scripts/mypy-baseline.py --update   # shrink the baseline to what is left
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".mypy-baseline.txt"
HEADER = (
    "# mypy's known errors (scripts/mypy-baseline.py): path: [code] message, sorted.\n"
    "# This file may only shrink: fix an error, then `make typecheck-baseline`.\n"
)
_ERROR = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<msg>.*?)(?:  \[(?P<code>[a-z-]+)\])?$"
)


def run_mypy() -> list[tuple[str, str, str]]:
    """(path, code, 'path:line: error: message') for every error mypy reports."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"typecheck: mypy failed (exit {proc.returncode})")
    out = []
    for line in proc.stdout.splitlines():
        m = _ERROR.match(line)
        if m:
            out.append((m["path"], m["code"] or "misc", line))
    return out


def key_line(path: str, code: str, line: str) -> str:
    """The baseline's form of an error: no line number."""
    msg = _ERROR.match(line)["msg"]  # type: ignore[index]
    return f"{path}: [{code}] {msg}"


def read_baseline() -> list[str]:
    if not BASELINE.exists():
        return []
    return [ln for ln in BASELINE.read_text().splitlines() if ln and not ln.startswith("#")]


def _group(path_code_of, items) -> dict[tuple[str, str], list]:
    out: dict[tuple[str, str], list] = defaultdict(list)
    for item in items:
        out[path_code_of(item)].append(item)
    return out


def _path_code(baseline_line: str) -> tuple[str, str]:
    path, _, rest = baseline_line.partition(": [")
    return path, rest.partition("]")[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="shrink the baseline to what is left")
    args = ap.parse_args(argv)

    errors = run_mypy()
    now = _group(lambda e: (e[0], e[1]), errors)
    base = _group(_path_code, read_baseline())
    new, fixed = [], Counter()
    for key in sorted(set(now) | set(base)):
        have, allowed = len(now.get(key, [])), len(base.get(key, []))
        if have > allowed:
            new += [e[2] for e in now[key]]
            new.append(f"  ^ {have} [{key[1]}] errors in {key[0]}, the baseline allows {allowed}")
        elif have < allowed:
            fixed[key] = allowed - have

    if args.update:
        kept = []
        for key in set(now) | set(base):
            mine, theirs = now.get(key, []), base.get(key, [])
            kept += theirs if len(mine) > len(theirs) else [key_line(*e) for e in mine]
        before = sum(map(len, base.values()))
        BASELINE.write_text(HEADER + "".join(f"{ln}\n" for ln in sorted(kept)))
        print(f"typecheck: baseline {before} -> {len(kept)} errors ({BASELINE.name})")
        fixed, base = Counter(), _group(_path_code, kept)

    total, allowed = len(errors), sum(map(len, base.values()))
    if new:
        print("typecheck: new mypy errors (fix them; the baseline only shrinks):")
        print("\n".join(new))
    if fixed:
        print(f"typecheck: {sum(fixed.values())} baseline errors are fixed — shrink the baseline: "
              "make typecheck-baseline, and commit .mypy-baseline.txt")  # fmt: skip
        for (path, code), n in sorted(fixed.items()):
            print(f"  {path}: {n} fewer [{code}]")
    if not new and not fixed:
        print(f"typecheck: {total} mypy errors, none new (baseline: {allowed})")
    return 1 if new or fixed else 0


if __name__ == "__main__":
    raise SystemExit(main())

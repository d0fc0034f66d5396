"""A sweep job's blocks and their manifest: what is trusted is what checks out.

A job runs its grid points in blocks. Each finished block is written as
``blocks/NNNN.parquet`` (and, when rounds are recorded, ``NNNN.states.parquet``
and ``NNNN.actions.parquet``), then recorded in the job's ``blocks.json`` with
each file's row count and SHA-256. A block is trusted — skipped on a re-run,
merged by the collector — only if every one of its files is present with the
recorded row count and checksum. Anything else (missing, truncated, corrupt,
made for another plan) is named and redone.

Example:
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> check_job(d, [["assurance=0"]])
    JobCheck(good={}, problems=[])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

#: Runs per block of a sweep job: the unit that is written, checked and resumed.
BLOCK_RUNS = 20_000
#: The job-level record of finished blocks.
BLOCKS_FILE = "blocks.json"


def plan_blocks(
    points: list[list[str]], n_seeds: int, block_runs: int = BLOCK_RUNS
) -> list[list[list[str]]]:
    """Cut a job's points into blocks of about ``block_runs`` runs (at least one point each).

    Example:
        >>> [len(b) for b in plan_blocks([[f"a={i}"] for i in range(5)], 100, block_runs=200)]
        [2, 2, 1]
    """
    per = max(1, block_runs // max(1, n_seeds))
    return [points[k : k + per] for k in range(0, len(points), per)]


@dataclass
class JobCheck:
    """The blocks of a job that check out (by key) and one line per problem found."""

    good: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _file_problem(job_dir: Path, entry: dict) -> str | None:
    """What is wrong with one recorded file, or None if it checks out."""
    from sim.report.io import file_digest

    name = entry.get("file", "?")
    path = job_dir / name
    if not path.exists():
        return f"{name} is missing"
    try:
        digest = file_digest(path)
    except Exception:  # noqa: BLE001 - pyarrow's ArrowInvalid, OSError, …
        return f"{name} is unreadable (truncated, or not Parquet)"
    if digest.get("rows") != entry.get("rows"):
        return f"{name} has {digest.get('rows')} rows, {BLOCKS_FILE} recorded {entry.get('rows')}"
    if digest["sha256"] != entry.get("sha256"):
        return f"{name} differs from its checksum in {BLOCKS_FILE} (corrupt or changed)"
    return None


def check_job(
    job_dir: Path, points: list[list[str]], plan: str | None = None, code: str | None = None
) -> JobCheck:
    """The blocks of ``job_dir`` that are complete and intact for these ``points``
    (and, if given, this ``plan`` fingerprint and blocks made by this ``code``: the hash
    of :mod:`sim.engines.provenance`), and what is wrong with the rest."""
    job_dir = Path(job_dir)
    path = job_dir / BLOCKS_FILE
    out = JobCheck()
    if not path.exists():
        return out  # not started (or killed before its first block): nothing to distrust
    try:
        record = json.loads(path.read_text())
        blocks = record["blocks"]
        assert isinstance(blocks, dict)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as err:
        out.problems.append(
            f"{BLOCKS_FILE} is unreadable ({type(err).__name__}): the whole job must be run again"
        )
        return out
    if record.get("points") != points or (plan is not None and record.get("plan") != plan):
        if blocks:
            out.problems.append(
                f"{BLOCKS_FILE} records blocks made for other points or another configuration "
                "or code: the whole job must be run again"
            )
        return out
    made_by = (record.get("provenance") or {}).get("code")
    if code is not None and made_by != code:
        if blocks:
            out.problems.append(
                f"{BLOCKS_FILE} records blocks made by code {made_by or 'of unknown hash'}, "
                f"not the sweep's code {code}: the whole job must be run again"
            )
        return out
    for key, entry in sorted(blocks.items()):
        files = [entry, *entry.get("extra", {}).values()]
        wrong = [p for p in (_file_problem(job_dir, f) for f in files) if p]
        if wrong:
            n = len(entry.get("points", []))
            out.problems.append(
                f"{'; '.join(wrong)}: its {n} point{'s' * (n != 1)} must be run again"
            )
        else:
            out.good[key] = entry
    return out


def covered_points(check: JobCheck) -> set[str]:
    """The points (as JSON) the good blocks of a job hold."""
    return {json.dumps(p) for entry in check.good.values() for p in entry.get("points", [])}

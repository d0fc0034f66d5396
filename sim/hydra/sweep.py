"""Sweeps: merge a Hydra multirun into one table, summarise it, plot it.

``stalemate -m ...`` runs jobs into a sweep directory; at the end the sweeper
(or ``stalemate-collect DIR``) merges the verified blocks of every job
(:mod:`sim.hydra.blocks`) into ``DIR/runs.parquet`` with each swept parameter as
a column, writes ``DIR/summary.csv`` (outcome shares and 95% CIs per parameter
point), names every block it could not trust and says which points are missing
and the command that completes them. ``stalemate-plot DIR`` draws the figures.

Both commands refuse — one line, exit code 2, nothing written — a directory that
holds no sweep or one a sweep is still running in; they exit 1 when points are
missing or a file cannot be written.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim.hydra.blocks import check_job, covered_points
from sim.hydra.schema import GROUPS
from sim.report.io import failpoint, skip_final_collection, write_parquet, write_text
from sim.report.labels import axis_label
from sim.report.phases import mark
from sim.report.summary import outcome_shares


class NotASweep(ValueError):
    """The directory holds no sweep (no ``sweep.json`` or ``multirun.yaml``) or an unreadable one."""


@dataclass
class Collected:
    """A merged sweep: the runs, the per-point summary, the swept keys, what is missing,
    the blocks found wrong (one line each) and the command that completes the sweep."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    keys: list[str]
    missing: list[list[str]]
    n_jobs: int
    problems: list[str] = field(default_factory=list)
    command: str | None = None
    blocks: list[tuple[Path, dict]] = field(default_factory=list)
    #: the runs of a complete runs.parquet kept instead of writing a partial merge over it
    kept: int | None = None


def basic_sweeper_jobs(task_overrides: list[str]) -> tuple[list[str], list[list[str]]]:
    """The swept keys and the jobs (override lists, in job-number order) of a sweep made
    with Hydra's *basic* sweeper: the product of every override's values, in the order
    the keys first appear, the last value of a key winning (as ``BasicSweeper.split_arguments``
    does; re-stated here with Hydra's public override parser rather than imported from
    ``hydra._internal``).

    Example:
        >>> basic_sweeper_jobs(["assurance=0,1", "seeds=5", "relief=0.5,1"])[1][1]
        ['assurance=0', 'seeds=5', 'relief=1']
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    final: dict[str, list[str]] = {}
    swept: list[str] = []
    for o in OverridesParser.create().parse_overrides(list(task_overrides)):
        key = o.get_key_element()
        if o.is_sweep_override():
            final[key] = [f"{key}={v}" for v in o.sweep_string_iterator()]
            swept.append(key)
        else:
            final[key] = [f"{key}={o.get_value_element_as_str()}"]
    jobs = [list(x) for x in itertools.product(*final.values())]
    return [k for k in dict.fromkeys(swept)], jobs


def _manifest(sweep_dir: Path) -> dict:
    """The sweep's plan: from sweep.json (stalemate sweeper) or multirun.yaml (basic sweeper).

    Raises:
        NotASweep: neither file is there, or the one there cannot be read.
    """
    path = sweep_dir / "sweep.json"
    if path.exists():
        try:
            man = json.loads(path.read_text())
            man["jobs"], man["value_keys"], man["group_keys"]  # noqa: B018 - must be there
            return man
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise NotASweep(
                f"{path} is unreadable ({type(err).__name__}): re-run the sweep's command to plan it again"
            ) from None
    if not sweep_dir.is_dir():
        raise NotASweep(f"{sweep_dir} is not a directory")
    if not (sweep_dir / "multirun.yaml").exists():
        raise NotASweep(f"{sweep_dir} holds no sweep (no sweep.json or multirun.yaml)")
    try:
        saved = OmegaConf.load(sweep_dir / "multirun.yaml").hydra
        task = list(saved.overrides.task)
        hydra_overrides = [o for o in saved.overrides.hydra if not o.startswith("hydra.sweep.dir=")]
    except Exception as err:  # noqa: BLE001 - YAML or key errors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NotASweep(f"{sweep_dir / 'multirun.yaml'} is unreadable: {first}") from None
    keys, jobs = basic_sweeper_jobs(task)
    return {
        "value_keys": [k for k in keys if k not in GROUPS],
        "group_keys": [k for k in keys if k in GROUPS],
        # each basic-sweeper job is one point given as plain overrides (no ``points`` key)
        "jobs": [{"num": i, "overrides": j, "points": [[]]} for i, j in enumerate(jobs)],
        "command": shlex.join(
            ["stalemate", "-m", *hydra_overrides, *task, f"hydra.sweep.dir={sweep_dir}"]
        ),
    }


def job_results(job_dir: Path, job_points: list[list[str]], code: str | None = None):
    """The verified block entries of one job, the points they do not cover, and one line
    per block found wrong.

    A block counts only if ``blocks.json`` lists it for exactly this job's points
    (made by the sweep's ``code``, if given) and each of its files is present with the
    recorded row count and checksum; anything else (missing, truncated, corrupt, from
    another sweep or other code) is named, and its points reported missing, so a
    re-run redoes them.
    """
    found = check_job(job_dir, job_points, code=code)
    done = covered_points(found)
    left = [p for p in job_points if json.dumps(p) not in done]
    return list(found.good.values()), left, found.problems


def collect(sweep_dir, write: bool = True) -> Collected:
    """Merge the jobs of a sweep directory (complete or partial) into one table.

    Args:
        sweep_dir: a Hydra multirun directory.
        write: also write ``runs.parquet`` and ``summary.csv`` into it.

    Raises:
        NotASweep: the directory holds no (readable) sweep.
        OSError: the merged table cannot be written (e.g. a full disk).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sweep_dir = Path(sweep_dir)
    man = _manifest(sweep_dir)
    # a swept config group is a column named after the group (scenario, actors, policy)
    keys = [k for k in man["group_keys"] if k in GROUPS] + list(man["value_keys"])
    swept = {*man["group_keys"], *man["value_keys"]}
    tables, missing, problems, blocks = [], [], [], []
    made_by = man.get("provenance")  # the code that planned the sweep (None: not recorded)
    code = made_by.get("code") if isinstance(made_by, dict) else None
    for job in man["jobs"]:
        job_dir = sweep_dir / str(job["num"])
        entries, left, wrong = job_results(job_dir, job["points"], code)
        tables += [pq.read_table(job_dir / e["file"]) for e in entries]
        blocks += [(job_dir, e) for e in entries]
        problems += [f"job {job['num']}: {w}" for w in wrong]
        label = [o for o in job["overrides"] if o.split("=")[0] in swept]
        missing += [label + p for p in left]
    runs = pd.DataFrame()
    if tables:
        runs = tables_to_runs(pa.concat_tables(tables, promote_options="permissive"))
        runs = runs.sort_values([*keys, "seed"], kind="stable", ignore_index=True)
        runs["run_id"] = range(len(runs))  # one id per run across the whole sweep
    summary = _summarise(runs, keys) if not runs.empty else pd.DataFrame()
    kept = None
    if write and not runs.empty:
        kept = _complete_table(sweep_dir / "runs.parquet") if missing else None
        if kept is None:  # never a partial merge over a complete one
            meta = {"sweep_dir": str(sweep_dir), "keys": keys, "missing": missing}
            write_parquet(runs, sweep_dir / "runs.parquet", {**meta, "provenance": made_by})
            failpoint("collect.between")  # runs.parquet written, summary.csv not yet
            write_text(summary.to_csv(index=False), sweep_dir / "summary.csv")
    return Collected(
        runs, summary, keys, missing, len(man["jobs"]), problems, man.get("command"), blocks, kept
    )


def _complete_table(path: Path) -> int | None:
    """The number of runs in ``path`` if it is a complete merged table (its metadata lists no
    missing point), else None (absent, partial or unreadable)."""
    import pyarrow.parquet as pq

    from sim.report.io import read_metadata

    try:
        if not path.exists() or read_metadata(path).get("missing", [None]) != []:
            return None
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - unreadable: not something worth keeping over a merge
        return None


def pointed_at(command: str | None, sweep_dir) -> str | None:
    """A sweep's recorded command with ``hydra.sweep.dir`` set to the directory as it is now
    (it may have been moved or renamed since the sweep began).

    Example:
        >>> pointed_at("stalemate -m assurance=0,1 hydra.sweep.dir=/old/place", "/new/place")
        'stalemate -m assurance=0,1 hydra.sweep.dir=/new/place'
    """
    if not command:
        return command
    import os

    here = os.path.abspath(sweep_dir)
    args = [a for a in shlex.split(command) if not a.startswith("hydra.sweep.dir=")]
    return shlex.join([*args, f"hydra.sweep.dir={here}"])


def tables_to_runs(table) -> pd.DataFrame:
    """A merged Arrow runs table as a DataFrame with the fixed categories."""
    from sim.engines.tables import to_pandas

    return to_pandas(table)


def _summarise(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Outcome shares with 95% CIs and mean metrics per parameter point."""
    by = keys or ["scenario"]
    shares = outcome_shares(runs, by)
    extra = [c for c in runs.columns if c.startswith("hedge_share_")]
    means = (
        runs.groupby(by, observed=True, sort=True)[
            ["rounds_to_agreement", "peak_tension", "final_undeclared", *extra]
        ]
        .mean()
        .add_prefix("mean_")
        .reset_index()
    )
    return shares.merge(means, on=by).merge(time_quantiles(runs, by), on=by)


def time_quantiles(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per point: the quartiles of the rounds to agreement and to breakdown (over the runs
    that ended so; NaN where none did), e.g. ``rounds_to_agreement_q50``."""
    g = runs.groupby(by, observed=True, sort=True)
    parts = []
    for col in ("rounds_to_agreement", "rounds_to_breakdown"):
        if col not in runs.columns:
            continue
        q = g[col].quantile([0.25, 0.5, 0.75]).unstack()
        q.columns = [f"{col}_q{int(round(c * 100))}" for c in q.columns]
        parts.append(q)
    if not parts:
        return g.size().reset_index()[by]
    return pd.concat(parts, axis=1).reset_index()


def report(c: Collected, sweep_dir, command: str | None = None) -> str:
    """What the collector prints: what was merged, what was found wrong, what is missing
    and the command that completes it."""
    n_points = len(c.summary)
    written = f" -> {Path(sweep_dir) / 'runs.parquet'}, summary.csv" if len(c.runs) else ""
    if c.kept is not None:
        written = (
            f"; the complete runs.parquet ({c.kept} runs) is kept, not replaced by this partial "
            "merge"
        )
    lines = [
        f"Collected {len(c.runs)} runs at {n_points} parameter points from {c.n_jobs} jobs{written}"
    ]
    lines += [f"  {p}" for p in c.problems]
    if c.missing:
        command = (
            command
            or pointed_at(c.command, sweep_dir)
            or f"the sweep's command with hydra.sweep.dir={sweep_dir}"
        )
        lines.append(f"MISSING {len(c.missing)} points; to complete them, run:\n  {command}")
        lines += [f"  {' '.join(p)}" for p in c.missing[:20]]
        if len(c.missing) > 20:
            lines.append(f"  … and {len(c.missing) - 20} more")
    return "\n".join(lines)


def plot_sweep(sweep_dir, c: Collected | None = None, worker=None) -> list[Path]:
    """Draw the figures a sweep supports into its directory; return their paths.

    With ``worker`` (a :class:`sim.report.drawing.FigureWorker`) they are drawn by that
    helper process, side by side where there are cores; otherwise here.
    """
    from sim.report.drawing import FigureWorker

    sweep_dir = Path(sweep_dir)
    c = c or collect(sweep_dir)
    figures = sweep_figures(sweep_dir, c)
    if not figures:
        return []
    worker = worker or FigureWorker(start=False)
    worker.draw(figures)
    return worker.finish()


def sweep_figures(sweep_dir, c: Collected) -> list:
    """The figures a collected sweep supports (:class:`sim.report.drawing.Figure`: what to
    draw with which data, and where), not yet drawn."""
    from sim.report import fans
    from sim.report.drawing import Figure

    # what travels to the figures' helper is numpy arrays where the figure allows it (the
    # map, the action shares, the fan charts): the helper then needs no pandas
    sweep_dir = Path(sweep_dir)
    if c.runs.empty:
        return []
    runs, summary, keys = c.runs, c.summary, c.keys
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(runs[k])]
    categorical = [k for k in keys if k not in numeric]
    actors = [
        col.removeprefix("hedge_share_") for col in runs.columns if col.startswith("hedge_share_")
    ]
    n_seeds = int(summary["n"].median())
    out = []
    if len(numeric) >= 2:
        x, y = numeric[:2]
        sub = summary
        note = ""
        if len(keys) > 2:  # average over the other swept keys
            sub = _summarise(runs, [x, y])
            note = f", pooled over {', '.join(k for k in keys if k not in (x, y))}"
        title = f"Outcomes over {x} x {y} ({n_seeds} seeds per point{note})"
        sub = fans.columns(sub, [x, y, "agreement", "stalemate", "hedged_stalemate", "breakdown"])
        out.append(Figure("plot_outcome_map", sweep_dir / "outcome_map.png", (sub, x, y, title)))
    elif len(numeric) == 1:
        by = categorical[0] if categorical else None
        note = f", pooled over {', '.join(categorical[1:])}" if len(categorical) > 1 else ""
        title = f"Outcomes against {axis_label(numeric[0])} ({n_seeds} seeds per point{note})"
        sub = _summarise(runs, [*([by] if by else []), numeric[0]])
        out.append(
            Figure(
                "plot_outcome_lines", sweep_dir / "outcome_lines.png", (sub, numeric[0], title, by)
            )
        )
    for k in categorical:
        out.append(
            Figure(
                "plot_outcome_bars", sweep_dir / f"outcome_bars_{k}.png", (_summarise(runs, [k]), k)
            )
        )
    if keys:
        k = categorical[0] if categorical else numeric[0]
        # the means the figure draws travel to the helper, not the runs
        cols = [f"{a}_share_{n}" for n in actors for a in ("concede", "hedge", "escalate")]
        means = fans.group_means(runs, k, cols)
        out.append(
            Figure("plot_action_shares", sweep_dir / "action_shares.png", (means, k, actors))
        )
    if "scenario" in keys:  # one fan chart per scenario whose rounds were recorded
        for scenario, states, actions in _recorded_by_scenario(c.blocks):
            title = f"{scenario}: shared state over rounds"
            n_runs = states["run_id"].nunique()
            states = fans.columns(states, fans.STATE_COLUMNS)
            args = (states, fans.columns(actions, fans.ACTION_COLUMNS), title, n_runs)
            out.append(
                Figure("plot_trajectories", sweep_dir / f"fan_{scenario}.png", args, dpi=100)
            )
    return out


def _recorded_by_scenario(blocks: list[tuple[Path, dict]]):
    """(scenario, states, actions) for each job whose verified blocks recorded their rounds
    (``trajectories=true``); a scenario that is not a safe file name is skipped."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.engines.tables import to_pandas
    from sim.hydra.schema import check_name
    from sim.model.validation import ConfigError

    by_job: dict[Path, list[dict]] = {}
    for job, entry in blocks:
        if "states" in entry.get("extra", {}):
            by_job.setdefault(job, []).append(entry)
    for job, entries in sorted(by_job.items()):
        first = pq.read_table(job / entries[0]["file"], columns=["scenario"])
        scenario = str(first.column("scenario")[0])
        try:
            check_name("scenario", scenario)  # it names a file
        except ConfigError as err:
            print(f"stalemate-plot: no fan chart for {job.name}: {err}", file=sys.stderr)
            continue
        states, actions = (
            to_pandas(
                pa.concat_tables([pq.read_table(job / e["extra"][kind]["file"]) for e in entries])
            )
            for kind in ("states", "actions")
        )
        yield scenario, states, actions


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise _ArgError(message)


def _sweep_command(prog: str, doc: str, argv, action) -> None:
    """Run ``action(sweep_dir)`` under the sweep directory's lock, turning refusals into one
    line and exit code 2 and failures into one line and exit code 1."""
    from sim.hydra.lock import DirLock, LockBusy

    ap = _Parser(prog=prog, description=doc)
    ap.add_argument("sweep_dir", type=Path)
    try:
        args = ap.parse_args(argv)
    except _ArgError as err:
        print(f"{prog}: {err} (usage: {prog} SWEEP_DIR)", file=sys.stderr)
        sys.exit(2)
    sweep_dir = args.sweep_dir
    if not sweep_dir.is_dir():
        print(f"{prog}: {sweep_dir} is not a directory", file=sys.stderr)
        sys.exit(2)
    try:
        _manifest(sweep_dir)
    except NotASweep as err:
        print(f"{prog}: {err}", file=sys.stderr)
        sys.exit(2)
    lock = DirLock(sweep_dir, "sweep")
    try:
        lock.acquire()
    except LockBusy as err:
        print(f"{prog}: {err}; run {prog} when it has ended", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        print(f"{prog}: cannot use {sweep_dir}: {err.strerror or err}", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(action(sweep_dir))
    except OSError as err:
        print(
            f"{prog}: error: cannot write {err.filename or sweep_dir}: {err.strerror or err}",
            file=sys.stderr,
        )
        sys.exit(1)
    finally:
        lock.release()


def collect_main(argv=None) -> None:
    """``stalemate-collect DIR``: merge a (possibly partial) sweep into one table; exit 1
    if points are missing (listing them and the command that completes them)."""
    skip_final_collection()

    def action(sweep_dir):
        c = collect(sweep_dir)
        print(report(c, sweep_dir))
        return 1 if c.missing else 0

    _sweep_command("stalemate-collect", collect_main.__doc__, argv, action)


def plot_main(argv=None) -> None:
    """``stalemate-plot DIR``: draw a sweep's figures (outcome map, lines, bars, action shares)."""
    skip_final_collection()

    def action(sweep_dir):
        c = collect(sweep_dir, write=False)
        if c.runs.empty:
            print(f"stalemate-plot: {sweep_dir} has no finished runs to plot yet", file=sys.stderr)
            return 1
        from sim.report.drawing import FigureWorker, idle_core

        for p in plot_sweep(sweep_dir, c, worker=FigureWorker(start=idle_core())):
            print(p)
        return 0

    _sweep_command("stalemate-plot", plot_main.__doc__, argv, action)


def one_line(err: BaseException) -> str:
    """An error as one line: its type and the first lines of its message (a cluster's
    errors say what happened on their second line), at most 300 characters."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()][:2]
    text = " ".join(lines)
    text = text if len(text) <= 300 else text[:299] + "…"
    return f"{type(err).__name__}: {text}" if type(err).__name__ != "JobError" else text


def finish(sweep_dir: Path, failed: list[str] | None = None, command: str | None = None) -> None:
    """Merge the sweep, write its summary and figures; exit 1 if anything is missing or
    failed, saying what and the command that completes it."""
    failed = failed or []
    try:
        failpoint("sweep.merge")
        mark("jobs")
        c = collect(sweep_dir)
        mark("collect")
    except Exception as err:  # noqa: BLE001 - e.g. a full disk
        for line in failed:
            print(f"stalemate: failed: {line}", file=sys.stderr)
        print(
            f"stalemate: error: could not merge the sweep in {sweep_dir}: {one_line(err)}; "
            f"the jobs' results are kept: once fixed, run  stalemate-collect {shlex.quote(str(sweep_dir))}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    print(report(c, sweep_dir, command), file=sys.stderr)
    try:
        from sim.report.drawing import FigureWorker

        # drawn by the helper the command started (on an idle core), else here
        figs = plot_sweep(sweep_dir, c, worker=FigureWorker.take(start=False))
        mark("plot")
        if figs:
            print("Figures: " + ", ".join(p.name for p in figs), file=sys.stderr)
    except Exception as err:  # noqa: BLE001
        failed.append(
            f"figures: {one_line(err)} (redraw them with  stalemate-plot {shlex.quote(str(sweep_dir))})"
        )
    for line in failed:
        print(f"stalemate: failed: {line}", file=sys.stderr)
    if c.missing or failed:
        if failed and not c.missing:
            print(f"stalemate: to retry, run  {command or 'the same command'}", file=sys.stderr)
        raise SystemExit(1)

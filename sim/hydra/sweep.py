"""Sweeps: merge a Hydra multirun into one table, summarise it, plot it.

``stalemate -m ...`` runs jobs into a sweep directory; at the end the
:class:`CollectCallback` (or ``stalemate-collect DIR``) merges every job's
``runs.parquet`` into ``DIR/runs.parquet`` with each swept parameter as a
column, writes ``DIR/summary.csv`` (outcome shares and 95% CIs per parameter
point) and says which points are missing. ``stalemate-plot DIR`` draws the
figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim.hydra.schema import GROUPS
from sim.report.io import save_figure, write_parquet, write_text
from sim.report.summary import outcome_shares


@dataclass
class Collected:
    """A merged sweep: the runs, the per-point summary, the swept keys, what is missing."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    keys: list[str]
    missing: list[list[str]]
    n_jobs: int


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
    """The sweep's plan: from sweep.json (stalemate sweeper) or multirun.yaml (basic sweeper)."""
    path = sweep_dir / "sweep.json"
    if path.exists():
        return json.loads(path.read_text())
    task = OmegaConf.load(sweep_dir / "multirun.yaml").hydra.overrides.task
    keys, jobs = basic_sweeper_jobs(list(task))
    return {
        "value_keys": [k for k in keys if k not in GROUPS],
        "group_keys": [k for k in keys if k in GROUPS],
        # each basic-sweeper job is one point given as plain overrides (no ``points`` key)
        "jobs": [{"num": i, "overrides": j, "points": [[]]} for i, j in enumerate(jobs)],
    }


def job_results(job_dir: Path, job_points: list[list[str]]) -> tuple[list[Path], list[list[str]]]:
    """The verified block files of one job and the points they do not cover.

    A block counts only if ``blocks.json`` lists it for exactly this job's points
    and its file is present with the recorded row count and checksum; anything
    else (missing, truncated, corrupt, from another sweep) is reported missing,
    so a re-run redoes it.
    """
    from sim.hydra.cli import BLOCKS_FILE
    from sim.report.io import file_digest

    try:
        record = json.loads((job_dir / BLOCKS_FILE).read_text())
    except (OSError, ValueError):
        return [], list(job_points)
    if record.get("points") != job_points:
        return [], list(job_points)
    files, covered = [], []
    for entry in record.get("blocks", {}).values():
        try:
            digest = file_digest(job_dir / entry["file"])
        except Exception:  # noqa: BLE001 - missing or unreadable: the block is missing
            continue
        if digest.get("rows") == entry.get("rows") and digest["sha256"] == entry.get("sha256"):
            files.append(job_dir / entry["file"])
            covered += [json.dumps(p) for p in entry["points"]]
    done = set(covered)
    return files, [p for p in job_points if json.dumps(p) not in done]


def collect(sweep_dir, write: bool = True) -> Collected:
    """Merge the jobs of a sweep directory (complete or partial) into one table.

    Args:
        sweep_dir: a Hydra multirun directory.
        write: also write ``runs.parquet`` and ``summary.csv`` into it.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sweep_dir = Path(sweep_dir)
    man = _manifest(sweep_dir)
    # a swept config group is a column named after the group (scenario, actors, policy)
    keys = [k for k in man["group_keys"] if k in GROUPS] + list(man["value_keys"])
    tables, missing = [], []
    for job in man["jobs"]:
        files, left = job_results(sweep_dir / str(job["num"]), job["points"])
        tables += [pq.read_table(f) for f in files]
        swept = {*man["group_keys"], *man["value_keys"]}
        label = [o for o in job["overrides"] if o.split("=")[0] in swept]
        missing += [label + p for p in left]
    runs = pd.DataFrame()
    if tables:
        runs = tables_to_runs(pa.concat_tables(tables, promote_options="permissive"))
        runs = runs.sort_values([*keys, "seed"], kind="stable", ignore_index=True)
        runs["run_id"] = range(len(runs))  # one id per run across the whole sweep
    summary = _summarise(runs, keys) if not runs.empty else pd.DataFrame()
    if write and not runs.empty:
        meta = {"sweep_dir": str(sweep_dir), "keys": keys, "missing": missing}
        write_parquet(runs, sweep_dir / "runs.parquet", meta)
        write_text(summary.to_csv(index=False), sweep_dir / "summary.csv")
    return Collected(runs, summary, keys, missing, len(man["jobs"]))


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
    return shares.merge(means, on=by)


def report(c: Collected, sweep_dir) -> str:
    """What the collector prints."""
    n_points = len(c.summary)
    lines = [
        f"Collected {len(c.runs)} runs at {n_points} parameter points "
        f"from {c.n_jobs} jobs -> {Path(sweep_dir) / 'runs.parquet'}, summary.csv"
    ]
    if c.missing:
        lines.append(
            f"MISSING {len(c.missing)} points (re-run the same command with "
            f"hydra.sweep.dir={sweep_dir} to complete them):"
        )
        lines += [f"  {' '.join(p)}" for p in c.missing[:20]]
        if len(c.missing) > 20:
            lines.append(f"  … and {len(c.missing) - 20} more")
    return "\n".join(lines)


def plot_sweep(sweep_dir, c: Collected | None = None) -> list[Path]:
    """Draw the figures a sweep supports into its directory; return their paths."""
    from sim.report import plots

    sweep_dir = Path(sweep_dir)
    c = c or collect(sweep_dir)
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
        fig = plots.plot_outcome_map(
            sub, x, y, f"Outcomes over {x} x {y} ({n_seeds} seeds per point{note})"
        )
        out.append(save_figure(fig, sweep_dir / "outcome_map.png", dpi=110))
    elif len(numeric) == 1:
        by = categorical[0] if categorical else None
        note = f", pooled over {', '.join(categorical[1:])}" if len(categorical) > 1 else ""
        fig = plots.plot_outcome_lines(
            _summarise(runs, [*([by] if by else []), numeric[0]]),
            numeric[0],
            f"Outcomes against {plots.axis_label(numeric[0])} ({n_seeds} seeds per point{note})",
            by,
        )
        out.append(save_figure(fig, sweep_dir / "outcome_lines.png", dpi=110))
    for k in categorical:
        fig = plots.plot_outcome_bars(_summarise(runs, [k]), k)
        out.append(save_figure(fig, sweep_dir / f"outcome_bars_{k}.png", dpi=110))
    if keys:
        k = categorical[0] if categorical else numeric[0]
        fig = plots.plot_action_shares(runs, k, actors)
        out.append(save_figure(fig, sweep_dir / "action_shares.png", dpi=110))
    if "scenario" in keys:  # one fan chart per scenario whose rounds were recorded
        for scenario, states, actions in _recorded_by_scenario(sweep_dir):
            fig = plots.plot_trajectories(
                states, actions, f"{scenario}: shared state over rounds", states["run_id"].nunique()
            )
            out.append(save_figure(fig, sweep_dir / f"fan_{scenario}.png", dpi=100))
    return out


def _recorded_by_scenario(sweep_dir: Path):
    """(scenario, states, actions) for each job that recorded its rounds (``trajectories=true``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.engines.tables import to_pandas
    from sim.hydra.cli import BLOCKS_FILE
    from sim.hydra.schema import check_name

    for record_path in sorted(sweep_dir.glob(f"*/{BLOCKS_FILE}")):
        record = json.loads(record_path.read_text())
        blocks = [b for b in record.get("blocks", {}).values() if "states" in b]
        if not blocks:
            continue
        job = record_path.parent
        first = pq.read_table(job / blocks[0]["file"], columns=["scenario"])
        scenario = str(first.column("scenario")[0])
        check_name("scenario", scenario)  # it names a file
        states = to_pandas(
            pa.concat_tables([pq.read_table(job / "blocks" / b["states"]) for b in blocks])
        )
        actions = to_pandas(
            pa.concat_tables([pq.read_table(job / "blocks" / b["actions"]) for b in blocks])
        )
        yield scenario, states, actions


def collect_main(argv=None) -> None:
    """``stalemate-collect DIR``: merge a (possibly partial) sweep into one table."""
    ap = argparse.ArgumentParser(prog="stalemate-collect", description=collect_main.__doc__)
    ap.add_argument("sweep_dir", type=Path)
    args = ap.parse_args(argv)
    c = collect(args.sweep_dir)
    print(report(c, args.sweep_dir))
    sys.exit(1 if c.missing else 0)


def plot_main(argv=None) -> None:
    """``stalemate-plot DIR``: draw a sweep's figures (outcome map, lines, bars, action shares)."""
    ap = argparse.ArgumentParser(prog="stalemate-plot", description=plot_main.__doc__)
    ap.add_argument("sweep_dir", type=Path)
    args = ap.parse_args(argv)
    for p in plot_sweep(args.sweep_dir):
        print(p)

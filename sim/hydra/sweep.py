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
from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from sim.hydra.schema import GROUPS
from sim.report.io import read_metadata, save_figure, write_parquet, write_text
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
        "jobs": [
            {"num": i, "overrides": j, "points": [[o for o in j if o.split("=")[0] in keys]]}
            for i, j in enumerate(jobs)
        ],
    }


def collect(sweep_dir, write: bool = True) -> Collected:
    """Merge the jobs of a sweep directory (complete or partial) into one table.

    Args:
        sweep_dir: a Hydra multirun directory.
        write: also write ``runs.parquet`` and ``summary.csv`` into it.
    """
    sweep_dir = Path(sweep_dir)
    man = _manifest(sweep_dir)
    # a swept config group is a column named after the group (scenario, actors, policy)
    keys = [k for k in man["group_keys"] if k in GROUPS] + list(man["value_keys"])
    frames, missing = [], []
    for job in man["jobs"]:
        path = sweep_dir / str(job["num"]) / "runs.parquet"
        meta = read_metadata(path) if path.exists() else {}
        # only this sweep's results: the same grid points and the same overrides
        if (
            meta
            and meta.get("points") in (job["points"], [[]])
            and meta.get("overrides", job["overrides"]) == job["overrides"]
        ):
            frames.append(pd.read_parquet(path).assign(job=job["num"]))
        else:
            groups = [o for o in job["overrides"] if o.split("=")[0] in man["group_keys"]]
            missing += [groups + p for p in job["points"]] or [groups]
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not runs.empty:
        runs = runs.drop_duplicates(subset=[*keys, "seed"], keep="last")
        runs = runs.sort_values([*keys, "seed"], kind="stable", ignore_index=True)
        runs["run_id"] = range(len(runs))  # one id per run across the whole sweep
    summary = _summarise(runs, keys) if not runs.empty else pd.DataFrame()
    if write and not runs.empty:
        meta = {"sweep_dir": str(sweep_dir), "keys": keys, "missing": missing}
        write_parquet(runs, sweep_dir / "runs.parquet", meta)
        write_text(summary.to_csv(index=False), sweep_dir / "summary.csv")
    return Collected(runs, summary, keys, missing, len(man["jobs"]))


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
    trajs = sorted(sweep_dir.glob("*/trajectories.parquet"))
    if trajs and "scenario" in keys:
        for path in trajs:
            t = pd.read_parquet(path)
            name = read_metadata(path)["config"]["name"]
            fig = plots.plot_trajectories(
                t, f"{name}: shared state over rounds", t["run_id"].nunique()
            )
            out.append(save_figure(fig, sweep_dir / f"fan_{name}.png", dpi=100))
    return out


class CollectCallback(Callback):
    """At the end of a multirun: merge the jobs, write the summary and the figures."""

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        c = collect(sweep_dir)
        print(report(c, sweep_dir), file=sys.stderr)
        figs = plot_sweep(sweep_dir, c)
        if figs:
            print("Figures: " + ", ".join(p.name for p in figs), file=sys.stderr)


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

"""The ``stalemate`` sweeper: Hydra's sweep syntax, grid points run in batches.

It reads sweeps exactly as Hydra's basic sweeper does (``key=a,b,c``,
``key='range(0,1.01,0.05)'``, presets in ``hydra.sweeper.params``) and forms
their cartesian product, but hands each job *many* grid points (the ``points``
key) that the app runs through the batch engine on every core:

- on this machine (the basic, joblib or submitit-local launcher) all the points
  of a config-group combination go to one job, which runs them in blocks on
  every core — one process, no per-job start-up;
- with a launcher for other machines (SLURM, Ray) the points are cut into jobs
  of ``hydra.sweeper.points_per_job`` points each.

Config-group sweeps (``scenario=a,b``) make separate jobs. Before any job
starts, every grid point is composed and validated; a bad key, an empty range or
an out-of-range value stops the sweep with one message. The sweep's plan is
written to ``sweep.json``; at the end the sweeper merges the jobs
(:func:`sim.hydra.sweep.collect`), draws the figures, and exits non-zero if any
point is missing. A re-run into the same directory redoes only what is missing.
"""

import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf


@dataclass
class StalemateSweeperConf:
    _target_: str = "hydra_plugins.stalemate_sweeper.sweeper.StalemateSweeper"
    params: dict[str, str] | None = None
    points_per_job: int | None = None  # points per job (None: all on this machine, 25 elsewhere)
    max_batch_size: int | None = None  # jobs handed to the launcher at once (None: all)


ConfigStore.instance().store(
    group="hydra/sweeper", name="stalemate", node=StalemateSweeperConf, provider="stalemate"
)


class SweepError(ValueError):
    """A malformed sweep, found before any job starts."""


def plan_sweep(overrides, is_group):
    """Split parsed overrides into the fixed part, group sweeps and value sweeps.

    Returns:
        (value keys, group keys, job-level override lists, points per group combo)
    """
    from sim.hydra.schema import APP_ONLY

    fixed: list[str] = []
    group_lists: list[list[str]] = []
    value_lists: list[list[str]] = []
    value_keys: list[str] = []
    group_keys: list[str] = []
    last = {o.get_key_element(): o for o in overrides}  # as in Hydra: the last value of a key wins
    for o in last.values():
        key = o.get_key_element()
        if o.is_sweep_override() and key.lstrip("+~") in APP_ONLY:
            raise SweepError(
                f"{key}: only model parameters and config groups can be swept; "
                f"{key} is a setting of the run (give one value, e.g. {key}=…)"
            )
        if o.is_sweep_override():
            if not o.is_discrete_sweep():
                raise SweepError(
                    f"{key}: only lists and range() sweeps are supported, got {o.input_line}"
                )
            values = [f"{key}={v}" for v in o.sweep_string_iterator()]
            if not values:
                raise SweepError(
                    f"{key}: the sweep {o.input_line!r} is empty; give at least one value"
                )
            if is_group(o.key_or_group):
                group_lists.append(values)
                group_keys.append(key)
            else:
                value_lists.append(values)
                value_keys.append(key)
        else:
            fixed.append(f"{key}={o.get_value_element_as_str()}")
    combos = [fixed + list(c) for c in itertools.product(*group_lists)] or [fixed]
    points = [list(p) for p in itertools.product(*value_lists)] if value_lists else [[]]
    return value_keys, group_keys, combos, [points] * len(combos)


class StalemateSweeper(Sweeper):
    #: Launchers that run jobs on this machine: there, one job per group combination.
    LOCAL = ("BasicLauncher", "JoblibLauncher", "LocalLauncher")

    def __init__(self, params=None, points_per_job: int | None = None, max_batch_size=None) -> None:
        self.params = params or {}
        self.points_per_job = points_per_job
        self.max_batch_size = max_batch_size

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _is_group(self, key: str) -> bool:
        """True for a config group (``scenario``, ``hydra/launcher``), through the public loader API."""
        parent, _, name = key.lstrip("+~").replace(".", "/").rpartition("/")
        return name in self.hydra_context.config_loader.list_groups(parent)

    def _validate(self, combos, points) -> None:
        """Compose each group combination once, then check every point's values."""
        from sim.hydra.schema import validate_point

        loader = self.hydra_context.config_loader
        for combo, pts in zip(combos, points):
            base = loader.load_sweep_config(self.config, list(combo))
            validate_point(base, pts)

    def sweep(self, arguments: list[str]) -> Any:
        from tqdm.auto import tqdm

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        args = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        target = str(self.config.hydra.launcher.get("_target_", ""))
        local = any(name in target for name in self.LOCAL)
        try:
            if self.points_per_job is not None and self.points_per_job < 1:
                raise SweepError(
                    f"hydra.sweeper.points_per_job = {self.points_per_job} must be 1 or more"
                )
            overrides = parser.parse_overrides(args)
            value_keys, group_keys, combos, points = plan_sweep(overrides, self._is_group)
            self._validate(combos, points)
        except Exception as err:  # noqa: BLE001 - one clear line for any malformed sweep
            msg = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            print(f"stalemate: sweep error: {msg}", file=sys.stderr)
            raise SystemExit(2) from None

        per_job = self.points_per_job or (max(len(p) for p in points) if local else 25)
        jobs = []
        for combo, pts in zip(combos, points):
            n_blocks = max(1, math.ceil(len(pts) / per_job))
            size = math.ceil(len(pts) / n_blocks)
            for b in range(n_blocks):
                block = pts[b * size : (b + 1) * size]
                job = list(combo)
                if value_keys:
                    job.append(f"++points='{json.dumps(block)}'")
                jobs.append((job, block))
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        manifest = {
            "value_keys": value_keys,
            "group_keys": group_keys,
            "jobs": [{"num": i, "overrides": j, "points": p} for i, (j, p) in enumerate(jobs)],
            "n_points": sum(max(1, len(p)) for _, p in jobs),
        }
        from sim.report.io import write_text

        write_text(json.dumps(manifest, indent=1), sweep_dir / "sweep.json")
        n_points = manifest["n_points"]
        print(
            f"Sweep: {n_points} parameter points in {len(jobs)} jobs -> {sweep_dir}",
            file=sys.stderr,
        )

        batch = self.max_batch_size
        if batch is None:  # a sequential launcher runs jobs one by one: report each
            batch = 1 if "BasicLauncher" in target else len(jobs)
        returns = []
        seeds = int(self.config.get("seeds", 1))
        size = [max(1, len(p)) * seeds for _, p in jobs]
        # one bar over the sweep's runs; a single local job shows its own bar over blocks
        with tqdm(
            total=sum(size), unit="run", desc="sweep", file=sys.stderr, disable=len(jobs) == 1
        ) as bar:
            bar.set_postfix_str(f"0/{len(jobs)} jobs")
            for start in range(0, len(jobs), batch):
                chunk = [j for j, _ in jobs[start : start + batch]]
                results = self.launcher.launch(chunk, initial_job_idx=start)
                for r in results:
                    _ = r.return_value  # re-raises a failed job's exception
                returns.append(results)
                bar.update(sum(size[start : start + batch]))
                bar.set_postfix_str(f"{min(start + batch, len(jobs))}/{len(jobs)} jobs")
        finish(sweep_dir)
        return returns


def finish(sweep_dir: Path) -> None:
    """Merge the sweep, write its summary and figures, and exit non-zero if anything is missing."""
    from sim.hydra.sweep import collect, plot_sweep, report

    c = collect(sweep_dir)
    print(report(c, sweep_dir), file=sys.stderr)
    figs = plot_sweep(sweep_dir, c)
    if figs:
        print("Figures: " + ", ".join(p.name for p in figs), file=sys.stderr)
    if c.missing:
        raise SystemExit(1)

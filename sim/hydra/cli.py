"""The ``stalemate`` command: run a scenario over many seeds, summarise, write tables and a figure.

Usage::

    stalemate scenario=baseline_2018 seeds=200
    stalemate scenario=relief_first seeds=200 assurance=0.6 engine=mesa
    stalemate --help          # Hydra's help: config groups and overrides
    stalemate --cfg job       # print the composed config without running

Writes into the Hydra output directory (``results/<scenario>/<time>/``):
``runs.parquet``, ``trajectories.parquet``, ``config.yaml`` and
``trajectories.png``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import sim
from sim.hydra.compose import CONFIG_MODULE
from sim.hydra.schema import GROUPS, apply_point, lookup, parse_point, to_app_config
from sim.model.params import ConfigError, config_dict
from sim.report.io import save_figure, write_parquet, write_text


def _job_points(app) -> list[list[str]]:
    """This job's grid points (set by the stalemate sweeper), or one empty point."""
    return json.loads(app.points) if app.points else [[]]


def _done_already(out: Path, meta: dict) -> bool:
    """True when ``out`` holds the complete results of exactly this job (re-run of a sweep)."""
    from sim.report.io import read_metadata

    path = out / "runs.parquet"
    if not path.exists():
        return False
    old = read_metadata(path)
    return {k: old.get(k) for k in ("points", "seeds", "version", "config")} == {
        k: meta.get(k) for k in ("points", "seeds", "version", "config")
    }


#: Above this many runs a single run records no trajectories unless asked (memory, file size).
TRAJECTORY_LIMIT = 1000


def run_app(
    cfg: DictConfig,
    out: Path,
    multirun: bool = False,
    choices: dict | None = None,
    overrides: list[str] | None = None,
) -> dict:
    """Run the configured scenario (or this job's block of grid points); write results into ``out``.

    Args:
        cfg: the composed config.
        out: the output directory.
        multirun: part of a sweep (quieter; no narrative or trajectories unless asked).
        choices: the config-group options chosen (``scenario``, ``actors``, ``policy``),
            recorded as columns.
        overrides: the job's command-line overrides, recorded in the metadata.
    """
    t_job = time.perf_counter()
    app, base_model = to_app_config(cfg)
    points = _job_points(app)
    narrate = app.narrate if app.narrate is not None else not multirun
    record = app.trajectories
    if record is None:
        record = not multirun and app.seeds <= TRAJECTORY_LIMIT
        if not multirun and not record:
            print(
                f"({app.seeds} runs: trajectories not recorded; add trajectories=true to record them)"
            )
    seeds = list(range(app.seed, app.seed + app.seeds))
    engine = (
        app.engine if app.engine != "auto" else ("batch" if app.seeds * len(points) > 1 else "mesa")
    )
    meta = {
        "config": json.loads(json.dumps(asdict(app), default=str)),
        "points": points,
        "seeds": [seeds[0], seeds[-1]],
        "version": sim.__version__,
        "engine": engine,
        "overrides": list(overrides or []),
    }
    if multirun and _done_already(out, meta):
        print(f"{out.name}: already complete, skipped")
        return {}
    say = print if app.progress and not multirun else (lambda *a, **k: None)
    say(f"Stalemate {sim.__version__} — {app.description or app.name}")
    what = f" x {len(points)} parameter points" if app.points else ""
    say(
        f"{app.seeds} seeds{what} of {app.rounds} rounds (seeds {seeds[0]}–{seeds[-1]}), {engine} engine"
    )

    configs, run_seeds, swept = [], [], []
    for point in points:
        point_app, model_cfg = apply_point(app, point) if point else (app, base_model)
        configs += [model_cfg] * len(seeds)
        run_seeds += seeds
        swept += [{k: lookup(point_app, k) for k, _ in parse_point(point)}] * len(seeds)
    t0 = time.perf_counter()
    kw = dict(record=record, progress=app.progress and not multirun)
    if engine == "batch":
        res = sim.run_batch(configs, run_seeds, processes=app.processes, **kw)
    else:
        res = sim.run_mesa(configs, run_seeds, **kw)
    elapsed = time.perf_counter() - t0
    runs = res.runs
    runs.insert(0, "scenario", app.name)
    for g in GROUPS[1:]:  # which actors/policy option (scenario is the name above)
        if choices and g in choices:
            runs.insert(1, g, str(choices[g]))
    for key in swept[0]:  # nested swept keys (e.g. actors.DPRK.trust) become columns too
        runs[key] = [s[key] for s in swept]
    runs["version"] = sim.__version__
    written = {
        "config": write_text(
            OmegaConf.to_yaml(OmegaConf.create(meta["config"])), out / "config.yaml"
        )
    }
    if res.trajectories is not None:
        written["trajectories"] = write_parquet(
            res.trajectories, out / "trajectories.parquet", meta
        )
        from sim.report.plots import plot_trajectories

        fig = plot_trajectories(res.trajectories, app.description or app.name, len(seeds))
        written["figure"] = save_figure(fig, out / "trajectories.png", dpi=110)
    # last: a sweep's re-run takes a job's runs.parquet as the sign it finished
    meta["timing"] = {"simulate_s": elapsed, "job_s": time.perf_counter() - t_job}
    written["runs"] = write_parquet(runs, out / "runs.parquet", meta)
    if not multirun:
        from sim.report.summary import format_summary

        actors = [n for n, a in configs[0].actors.items() if a.enabled]
        print()
        print(format_summary(runs, actors))
    if narrate:
        from sim.report.narrate import narrate as tell

        m = sim.NegotiationModel(rng=seeds[0], **config_dict(configs[0]))
        m.run()
        print(f"\nThe run with seed {seeds[0]}, round by round:")
        print(tell(m, color=sys.stdout.isatty()))
    say(f"\n{len(configs)} runs simulated in {elapsed:.1f} s. Results in {out}/:")
    for path in written.values():
        say(f"  {Path(path).name}")
    return written


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Entry point of the ``stalemate`` console script (also ``python -m sim``)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        hc = HydraConfig.get()
        run_app(
            cfg,
            Path(hc.runtime.output_dir),
            multirun=hc.mode == RunMode.MULTIRUN,
            choices=dict(hc.runtime.choices),
            overrides=list(hc.overrides.task),
        )
    except ConfigError as err:  # normally caught earlier by the ValidateConfig callback
        print(f"stalemate: config error: {err}", file=sys.stderr)
        raise SystemExit(2) from None

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

import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

import sim
from sim.config import CONFIG_DIR, to_app_config
from sim.io import save_figure, write_parquet, write_text
from sim.params import ConfigError, config_dict


def run_app(cfg: DictConfig, out: Path) -> dict:
    """Run the configured scenario; write results into ``out``; return what was written."""
    app, model_cfg = to_app_config(cfg)
    seeds = list(range(app.seed, app.seed + app.seeds))
    engine = app.engine if app.engine != "auto" else ("batch" if app.seeds > 1 else "mesa")
    say = print if app.progress else (lambda *a, **k: None)
    say(f"Stalemate {sim.__version__} — {app.description or app.name}")
    say(f"{app.seeds} runs of {app.rounds} rounds (seeds {seeds[0]}–{seeds[-1]}), {engine} engine")
    t0 = time.perf_counter()
    configs = [model_cfg] * len(seeds)
    if engine == "batch":
        res = sim.run_batch(configs, seeds, record=app.trajectories, processes=app.processes,
                            progress=app.progress)
    else:
        res = sim.run_mesa(configs, seeds, record=app.trajectories, progress=app.progress)
    elapsed = time.perf_counter() - t0
    runs = res.runs
    runs.insert(0, "scenario", app.name)
    runs["version"] = sim.__version__
    meta = {"config": asdict(app), "seeds": [seeds[0], seeds[-1]], "version": sim.__version__,
            "engine": engine}
    written = {"runs": write_parquet(runs, out / "runs.parquet", meta)}
    write_text(OmegaConf.to_yaml(OmegaConf.create(asdict(app))), out / "config.yaml")
    written["config"] = out / "config.yaml"
    if res.trajectories is not None:
        written["trajectories"] = write_parquet(res.trajectories, out / "trajectories.parquet", meta)
        from sim.plots import plot_trajectories

        fig = plot_trajectories(res.trajectories, app.description or app.name, len(seeds))
        written["figure"] = save_figure(fig, out / "trajectories.png", dpi=110)
    from sim.summary import format_summary

    actors = [n for n, a in model_cfg.actors.items() if a.enabled]
    print()
    print(format_summary(runs, actors))
    if app.narrate:
        from sim.narrate import narrate

        m = sim.NegotiationModel(rng=seeds[0], **config_dict(model_cfg))
        m.run()
        print(f"\nThe run with seed {seeds[0]}, round by round:")
        print(narrate(m, color=sys.stdout.isatty()))
    print(f"\nDone in {elapsed:.1f} s. Results in {out}/:")
    for path in written.values():
        print(f"  {Path(path).name}")
    return written


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Entry point of the ``stalemate`` console script (also ``python -m sim``)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        run_app(cfg, Path(HydraConfig.get().runtime.output_dir))
    except ConfigError as err:  # normally caught earlier by the ValidateConfig callback
        print(f"stalemate: config error: {err}", file=sys.stderr)
        raise SystemExit(2) from None

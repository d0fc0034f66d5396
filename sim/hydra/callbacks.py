"""Hydra callbacks named in ``sim/configs/config.yaml``: light to import, they load the rest when used.

- :class:`ValidateConfig` refuses a bad config with one line before Hydra writes anything;
- :class:`CollectCallback` merges a sweep made with Hydra's *basic* sweeper (the
  ``stalemate`` sweeper merges its own sweeps and sets the exit code).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.hydra.schema import to_app_config
from sim.model.validation import ConfigError


class ValidateConfig(Callback):
    """Reject a bad config with one clear line before Hydra writes anything."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            to_app_config(config)
        except ConfigError as err:
            print(f"stalemate: config error: {err}", file=sys.stderr)
            raise SystemExit(2) from None


class CollectCallback(Callback):
    """At the end of a basic-sweeper multirun: merge the jobs, write the summary and the figures."""

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if (sweep_dir / "sweep.json").exists():
            return  # the stalemate sweeper has merged its own sweep (and set the exit code)
        from sim.hydra.sweep import collect, plot_sweep, report

        c = collect(sweep_dir)
        print(report(c, sweep_dir), file=sys.stderr)
        figs = plot_sweep(sweep_dir, c)
        if figs:
            print("Figures: " + ", ".join(p.name for p in figs), file=sys.stderr)

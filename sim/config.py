"""Hydra side of the configuration: the structured schema and validation.

The schema :class:`AppConfig` extends :class:`sim.params.ModelConfig` (every
model parameter, default and range) with what a run of the app needs (seeds,
engine, …). It is registered in Hydra's ConfigStore as ``stalemate_schema``;
``configs/config.yaml`` builds on it. :class:`ValidateConfig` is a Hydra
callback that checks the composed config before Hydra creates any directory.

Example (from Python, without the command line):
    >>> from sim.config import compose
    >>> app = compose(["scenario=relief_first", "seeds=10"])
    >>> app.regime, app.seeds
    ('relief_first', 10)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.params import ConfigError, ModelConfig, _check_choice, _check_fields, _p, make_config

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
ENGINES = ("auto", "batch", "mesa")


@dataclass
class AppConfig(ModelConfig):
    """A run of the ``stalemate`` app: a scenario, many seeds, where results go."""

    name: str = _p("custom", doc="scenario name (set by the scenario file)")
    description: str = _p("", doc="one line on the scenario")
    seeds: int = _p(100, 1, 10_000_000, "number of runs (seeds seed .. seed+seeds-1)")
    seed: int = _p(0, 0, 2**63 - 1, "first seed")
    engine: str = _p("auto", doc="auto | batch | mesa")
    narrate: bool = _p(True, doc="print a round-by-round story of one run")
    trajectories: bool = _p(True, doc="write trajectories.parquet and trajectories.png")
    processes: int = _p(1, 1, 256, "worker processes for the batch engine")
    progress: bool = _p(True, doc="show progress bars")


MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig))

ConfigStore.instance().store(name="stalemate_schema", node=AppConfig)


def _without_hydra(config: DictConfig) -> dict:
    return {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in config.items_ex(resolve=False)
        if k != "hydra"
    }


def to_app_config(cfg: DictConfig | AppConfig) -> tuple[AppConfig, ModelConfig]:
    """Validate a composed config; return it and the model config it describes.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    if isinstance(cfg, AppConfig):
        app = cfg
    else:
        merged = OmegaConf.merge(OmegaConf.structured(AppConfig), _without_hydra(cfg))
        app = OmegaConf.to_object(merged)
    _check_fields(app, "")
    _check_choice("engine", app.engine, ENGINES)
    model = make_config(**{k: getattr(app, k) for k in MODEL_FIELDS})
    return app, model


class ValidateConfig(Callback):
    """Reject a bad config with one clear line before Hydra writes anything."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            to_app_config(config)
        except ConfigError as err:
            print(f"stalemate: config error: {err}", file=sys.stderr)
            raise SystemExit(2) from None


def compose(overrides: list[str] | None = None) -> AppConfig:
    """Compose and validate the app config from Python, as the command line would."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose("config", overrides=overrides or [])
    return to_app_config(cfg)[0]


def scenario_kwargs(name: str, **changes) -> dict:
    """Keyword arguments of :class:`sim.NegotiationModel` for a named scenario.

    Example:
        >>> from sim import NegotiationModel
        >>> m = NegotiationModel(**scenario_kwargs("relief_first", rounds=30), rng=1)
        >>> m.config.regime
        'relief_first'
    """
    from dataclasses import asdict

    app = compose([f"scenario={name}"])
    kw = {k: v for k, v in asdict(app).items() if k in MODEL_FIELDS}
    kw.update(changes)
    return kw

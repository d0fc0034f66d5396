"""Composing configs from the packaged YAML, from Python as the command line does.

The YAML lives in the package (``sim/configs/``, shipped as package data and found
through :mod:`importlib.resources`, so a wheel install works as well as a source
checkout; the top-level ``configs/`` is a link to it). Composition goes through
Hydra's public compose API; results are cached and each caller gets its own copy.

Example:
    >>> app = compose(["scenario=relief_first", "seeds=10"])
    >>> app.regime, app.seeds
    ('relief_first', 10)
    >>> scenario_names()[0], "relief_first" in scenario_names()
    ('baseline_2018', True)
"""

from __future__ import annotations

import copy
import functools
import threading
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path

from sim.hydra.schema import MODEL_FIELDS, AppConfig, to_app_config

#: Where the YAML lives: ``sim/configs`` inside the installed package.
CONFIG_DIR = Path(str(files("sim") / "configs"))
#: The Hydra search-path form of the same directory (``hydra.main``'s ``config_path``).
CONFIG_MODULE = "sim.configs"
#: The scenario a page or a game starts from.
DEFAULT_SCENARIO = "baseline_2018"

#: Hydra's global state is not thread-safe: every composition in this process takes this lock.
hydra_lock = threading.Lock()


@functools.lru_cache(maxsize=64)
def _compose(overrides: tuple[str, ...]) -> AppConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    # Hydra's global state is not thread-safe (the classroom page steps in threads)
    with hydra_lock, initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        cfg = hydra_compose("config", overrides=list(overrides))
    return to_app_config(cfg)[0]


def compose(overrides: list[str] | None = None) -> AppConfig:
    """Compose and validate the app config from Python, as the command line would.

    Compositions are cached; each call returns its own copy.
    """
    return copy.deepcopy(_compose(tuple(overrides or ())))


def scenario_kwargs(name: str, **changes) -> dict:
    """Keyword arguments of :class:`sim.NegotiationModel` for a named scenario.

    Example:
        >>> from sim import NegotiationModel
        >>> m = NegotiationModel(**scenario_kwargs("relief_first", rounds=30), rng=1)
        >>> m.config.regime
        'relief_first'
    """
    app = compose([f"scenario={name}"])
    kw = {k: v for k, v in asdict(app).items() if k in MODEL_FIELDS}
    kw.update(changes)
    return kw


def scenario_names() -> list[str]:
    """The scenarios in ``sim/configs/scenario/``, the default (the 2018 baseline) first."""
    names = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    return sorted(names, key=lambda n: (n != DEFAULT_SCENARIO, n))


def scenario_description(name: str) -> str:
    """The one-line description of scenario ``name``.

    Example:
        >>> scenario_description("relief_first")
        'Relief first: assurances and relief delivered up front'
    """
    return compose([f"scenario={name}"]).description

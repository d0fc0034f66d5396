"""Stalemate: agent-based simulation of negotiations between states.

Each state (USA, DPRK, ROK, PRC, …) concedes, hedges or escalates every round,
driven by security assurances and sanctions relief. See ``docs/model.md``.

The package is layered; a lower layer never imports a higher one
(``tests/test_architecture.py``):

1. :mod:`sim.model` — the mathematics (no Mesa, Hydra or I/O);
2. :mod:`sim.engines` — the Mesa model, the batch engine, result tables;
3. :mod:`sim.report` — summaries, narration, figures, file writing;
4. :mod:`sim.hydra` — configs, the ``stalemate`` command, sweeps;
5. :mod:`sim.analysis` — replay, screening, sensitivity, scenario discovery, stage game;
6. :mod:`sim.search` — robust policy search (``stalemate-search``);
7. :mod:`sim.classroom` — the classroom page and the terminal game.

The names below are the public API. The engines are imported on first use, so
``import sim`` stays light (no Mesa, pandas or compiler until they are needed).

Example:
    >>> import sim
    >>> cfg = sim.make_config(assurance=0.6)
    >>> cfg.assurance, sim.Action.HEDGE.name
    (0.6, 'HEDGE')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sim.model.names import Action, Outcome
from sim.model.params import make_config
from sim.model.validation import ConfigError

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from sim.engines.batch import Results, run_batch
    from sim.engines.mesa_model import NegotiationModel, StateAgent, run_mesa

#: Public names imported on first use: name -> module.
_LAZY = {
    "NegotiationModel": "sim.engines.mesa_model",
    "StateAgent": "sim.engines.mesa_model",
    "Results": "sim.engines.batch",
    "run_batch": "sim.engines.batch",
    "run_mesa": "sim.engines.mesa_model",
}

__all__ = [
    "Action",
    "ConfigError",
    "NegotiationModel",
    "Outcome",
    "Results",
    "StateAgent",
    "__version__",
    "make_config",
    "run_batch",
    "run_mesa",
]


def _version() -> str:
    # read on first use: importlib.metadata costs every command ~0.08 s to import
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stalemate")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


def __getattr__(name: str):
    """Import the engines on first use (PEP 562): ``sim.NegotiationModel`` loads Mesa then;
    ``sim.__version__`` is read from the installed metadata then."""
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})

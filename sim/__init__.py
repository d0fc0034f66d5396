"""Stalemate: agent-based simulation of negotiations between states.

Each state (USA, DPRK, ROK, PRC, …) concedes, hedges or escalates every round,
driven by security assurances and sanctions relief. See ``docs/model.md``.
"""

from importlib.metadata import PackageNotFoundError, version

from sim.actors import Action, Outcome
from sim.batch import Results, run_batch, run_mesa
from sim.model import NegotiationModel, StateAgent
from sim.params import ConfigError, make_config

try:
    __version__ = version("stalemate")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

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

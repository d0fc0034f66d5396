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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the schema (and the model's parameters) are imported when composing
    from sim.hydra.schema import AppConfig

#: Where the YAML lives: ``sim/configs`` inside the installed package.
CONFIG_DIR = Path(str(files("sim") / "configs"))
#: The Hydra search-path form of the same directory (``hydra.main``'s ``config_path``).
CONFIG_MODULE = "sim.configs"
#: The scenario a page or a game starts from.
DEFAULT_SCENARIO = "baseline_2018"

#: Hydra's global state is not thread-safe: every composition in this process takes this lock.
hydra_lock = threading.Lock()


def _share_config_store() -> None:
    """Let Hydra's ConfigStore, a process-wide singleton, be shared instead of deep-copied.

    Hydra 1.3 deep-copies its config repository before every composition and every
    listing of a config group's options (``CachingConfigRepository``), and with it the
    ConfigStore its structured-config source holds: every schema registered in the
    process (``stalemate_schema`` with every actor, ``fit_schema``, Hydra's own). The
    store is never written through those copies (its ``load`` hands out copies of what
    it holds), so sharing it changes nothing but the time: a group listing 15-25 ms ->
    1-2 ms (``--help`` lists 70 of them), a composition about 15 ms less.
    """
    from hydra.core.config_store import ConfigStore

    if "__deepcopy__" not in ConfigStore.__dict__:
        ConfigStore.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]


_share_config_store()

#: The job name ``hydra.main`` gives the ``stalemate`` command (its module, ``sim/hydra/cli.py``):
#: a composition that must match the command's (its pre-flight check) uses it too.
JOB_NAME = "cli"


def compose_once() -> None:
    """Let this process compose each command line once instead of twice.

    The ``stalemate`` command composes its config before Hydra does (the pre-flight
    check, :mod:`sim.hydra.refuse`), and ``hydra.main`` then composes the same
    command line again, twice (once to learn the run mode, once to run). From here
    on, a composition with exactly the same inputs as one before it — the search
    path, config name, overrides, run mode, flags, job name and working directory —
    is handed a copy of that earlier result once, instead of composing again:
    the config files do not change within a command. Composition is Hydra's
    costliest step (about 0.15 s each); a copy costs a third of that.

    Only the loader's ``load_configuration`` is wrapped — the method of Hydra's public
    :class:`hydra.core.config_loader.ConfigLoader` interface, in the classes that
    implement it — and only in this process; an implementation whose signature is not
    the interface's (another Hydra version) is left alone.
    """
    import inspect

    from hydra.core.config_loader import ConfigLoader

    interface = list(inspect.signature(ConfigLoader.load_configuration).parameters)
    for cls in ConfigLoader.__subclasses__():
        original = cls.load_configuration
        if getattr(original, "_compose_once", False):
            continue
        if list(inspect.signature(original).parameters) != interface:
            continue
        cls.load_configuration = _reusing(original)  # type: ignore[method-assign]


#: The compositions each wrapped loader keeps for its next identical call (key -> config).
_KEPT: list[dict[tuple, Any]] = []


def restage(before: list[str], after: list[str], run_dir: str) -> None:
    """The command line's overrides go from ``before`` to ``after`` = ``before`` plus
    ``hydra.run.dir=<run_dir>`` (a run staged in its partial directory,
    :func:`sim.hydra.cli.main`): the compositions kept for ``before`` are kept for
    ``after``, with the run directory and Hydra's record of its overrides as composing
    ``after`` would have made them, so Hydra's own compositions still reuse them."""
    from omegaconf import open_dict

    n, extra = len(before), after[len(before) :]
    if after[:n] != before or len(extra) != 1 or not extra[0].startswith("hydra.run.dir="):
        return
    for kept in _KEPT:
        for key in [k for k in kept if k[2][:n] == tuple(before)]:
            cfg = kept.pop(key)
            rest = key[2][n:]  # what the composition added after the command line (hydra.mode)
            with open_dict(cfg):
                cfg.hydra.run.dir = run_dir
                listed = list(cfg.hydra.overrides.hydra)
                tail = sum(1 for o in rest if o.lstrip("+~").startswith(("hydra.", "hydra/")))
                at = len(listed) - tail
                cfg.hydra.overrides.hydra = [*listed[:at], extra[0], *listed[at:]]
            kept[(key[0], key[1], (*after, *rest), *key[3:])] = cfg


def _reusing(original):
    """``original`` (a loader's ``load_configuration``), handing out each result's copy once."""
    kept: dict[tuple, object] = {}
    _KEPT.append(kept)

    def load_configuration(
        self, config_name, overrides, run_mode, from_shell=True, validate_sweep_overrides=True
    ):
        import os

        from hydra.core.utils import JobRuntime

        key = (
            str(self.get_search_path()),
            config_name,
            tuple(overrides),
            run_mode,
            from_shell,
            validate_sweep_overrides,
            JobRuntime().get("name"),
            os.getcwd(),
        )
        if key in kept:
            return kept.pop(key)
        from sim.hydra.compose_cache import load_or_compose

        args = (config_name, overrides, run_mode, from_shell, validate_sweep_overrides)
        cfg = load_or_compose(original, self, args)  # kept on disk by every input
        kept[key] = copy.deepcopy(cfg)  # the caller may change its own
        return cfg

    load_configuration._compose_once = True
    load_configuration.__wrapped__ = original
    return load_configuration


@functools.lru_cache(maxsize=64)
def _compose(overrides: tuple[str, ...]) -> AppConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from sim.hydra.schema import to_app_config

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
    from sim.hydra.schema import MODEL_FIELDS

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

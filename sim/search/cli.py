"""``stalemate-search``: which offer breaks the stalemate? A robust policy search, one command.

Usage::

    stalemate-search +policy_search=default      # the presets are in sim/configs/policy_search/
    stalemate-search +policy_search=smoke        # seconds
    stalemate-search +policy_search=default policy_search.seed=1 policy_search.generations=80
    stalemate-search +policy_search=default hydra.run.dir=results/my_search   # run again: resumes

It writes into ``results/policy_search/<preset>/<time>/`` (or ``hydra.run.dir``)
what :func:`sim.search.pipeline.policy_search` lists; the directory appears complete,
in one rename, when the search ends (until then it is built, with the search's lock
and checkpoint, in ``.<time>.partial`` beside it). One search per directory: a second
one is refused while the first runs.

The command line is checked before anything runs or is written (:func:`preflight`):
an unknown preset or key (``+`` included), a name that is not one safe path
component, a population, number of generations or scenarios outside its stated
range, more runs than ``max_runs`` (100 million by default, counted before any
work), a lever or an uncertainty the model does not have, a range outside a
parameter's limits, an unknown objective, a directory holding something else, a
busy one, or a checkpoint of another search or of other code — each is one line on
stderr naming the key, the value and what is allowed, and exit code 2.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.hydra.compose import CONFIG_MODULE
from sim.hydra.refuse import (
    INFO_FLAGS,
    Refusal,
    argv_parser,
    check_hydra_paths,
    check_output_dir,
    explain,
    quote_value,
)
from sim.model.validation import ConfigError, Once, refusal
from sim.search.spec import LeverSpec, ObjectiveSpec, PolicySearch, RangeSpec, SearchApp

ConfigStore.instance().store(name="search_schema", node=SearchApp)

#: The config group of the presets.
GROUP = "policy_search"


def presets() -> list[str]:
    """The presets in ``sim/configs/policy_search/``."""
    from sim.hydra.compose import CONFIG_DIR

    return sorted(p.stem for p in (CONFIG_DIR / GROUP).glob("*.yaml"))


def to_search_app(cfg: DictConfig) -> SearchApp:
    """The typed and validated app config of a composed config: unknown keys (``+``
    included) are refused by :func:`check_keys`, types by OmegaConf, and every value by
    its :func:`~sim.model.validation.param` metadata and rules
    (:func:`sim.model.validation.validate`), the search's size included. The same values
    are validated once per process (the pre-flight check, then the run).

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    import copy

    from sim.model.validation import validate

    plain = {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in cfg.items()
        if k != "hydra"
    }

    def typed_and_validated() -> SearchApp:
        check_keys(cfg)
        made = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SearchApp), plain))
        assert isinstance(made, SearchApp)
        validate(made)
        return made

    return copy.deepcopy(_VALIDATED(plain, typed_and_validated))


#: Apps validated in this process, by their values (see :func:`to_search_app`).
_VALIDATED = Once()


#: The dataclass each part of the app config must match, by path (``[]``: every item of a list).
_SHAPES = {
    "": SearchApp,
    "policy_search": PolicySearch,
    "policy_search.levers[]": LeverSpec,
    "policy_search.uncertainties[]": RangeSpec,
    "policy_search.objectives[]": ObjectiveSpec,
}


def check_keys(cfg) -> None:
    """Every key of a composed config is a field of the app's schema: ``+policy_search.colour=red``
    composes (a ``+`` may add any key) and must be refused here, by name.

    Raises:
        ConfigError: naming the key and the keys allowed there.
    """
    from dataclasses import fields

    from sim.model.validation import suggest

    plain = OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else cfg
    assert isinstance(plain, dict)
    plain = {k: v for k, v in plain.items() if k != "hydra"}

    def walk(node, path: str, shape: str) -> None:
        cls = _SHAPES[shape]
        if not isinstance(node, dict):
            return  # a wrong type is named when the config is typed
        allowed = [f.name for f in fields(cls)]
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in allowed:
                raise ConfigError(
                    f"{where} is not a known key{suggest(key, allowed)}; allowed"
                    f"{' in ' + path if path else ''}: {', '.join(allowed)}"
                )
            sub = f"{shape}.{key}" if shape else str(key)
            if sub in _SHAPES:
                walk(value, where, sub)
            elif f"{sub}[]" in _SHAPES and isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, f"{where}[{i}]", f"{sub}[]")

    walk(plain, "", "")


def with_group_plus(overrides: list[str]) -> list[str]:
    """``policy_search=x`` adds the group as ``+policy_search=x`` does (it has no default)."""
    return [f"+{o}" if o.startswith(f"{GROUP}=") else o for o in overrides]


@dataclass
class Plan:
    """What :func:`preflight` found: the overrides for Hydra, the search's directory and
    whether it already holds this search, complete (then nothing runs)."""

    overrides: list[str]
    target: Path | None = None
    complete: bool = False


def preflight(argv: list[str]) -> Plan:
    """Check a ``stalemate-search`` command line before Hydra acts on it, before any
    directory or file is made.

    In order: the flags; the preset's keys (``+`` included); its counts and the number
    of runs against ``max_runs`` (before the base model is composed); the preset
    against the model; Hydra's paths; the directory (new, empty, a finished copy of
    this search, or its partial directory: not busy, and its checkpoint from this
    search and this code).

    Raises:
        Refusal: with a one-line message.
    """
    try:
        args = argv_parser().parse_args(argv)
    except Exception as err:  # noqa: BLE001 - argparse's message, one line
        raise Refusal(f"command line: {err}") from None
    overrides = with_group_plus(list(args.overrides))
    if args.version or args.cfg or any(getattr(args, f) for f in INFO_FLAGS):
        return Plan(overrides)  # Hydra shows these
    if args.multirun:
        raise Refusal(
            "--multirun: stalemate-search runs one search per command (its generations run in "
            "turn, each on every core); give one preset and run the command again for another"
        )
    if args.config_path or args.config_dir or args.config_name:
        raise Refusal(
            "--config-path, --config-dir and --config-name are not supported: presets live in "
            f"sim/configs/{GROUP}/; give +{GROUP}=<preset> and change its keys on the command line"
        )
    chosen = [o for o in overrides if o.lstrip("+").startswith(f"{GROUP}=")]
    if not chosen:
        raise Refusal(
            f"{GROUP} is not chosen: run stalemate-search +{GROUP}=<preset>; presets: {', '.join(presets())}"
        )
    # the search's own modules only for a command line that names a preset, and the
    # pipeline's (pandas, the evaluator) only for a search whose every value is allowed
    from sim.hydra.lock import DirLock, LockBusy
    from sim.report.staging import partial_dir
    from sim.search.moea import CHECKPOINT, CheckpointMismatch, fingerprint, read_checkpoint
    from sim.search.spec import base_dict, check

    try:
        cfg = _compose(overrides)
        app = to_search_app(cfg)  # every value, and the size counted, before any work
        out = check_hydra_paths(cfg, multirun=False)
        base = base_dict(app.policy_search)
        checked = check(app.policy_search, base, app.max_runs)
        target = Path(os.path.abspath(out))
        fp = fingerprint(checked, base)
        from sim.search.pipeline import search_status

        state = search_status(target, fp)
        if state == "complete":
            return Plan(overrides, target, complete=True)
        work = partial_dir(target)
        DirLock(work, "search").check()  # a running search: refused, touching nothing
        read_checkpoint(work / CHECKPOINT, fp, f"hydra.run.dir = {target}")
    except Refusal:
        raise
    except LockBusy as err:
        raise Refusal(f"{err}; wait for it to end, or choose another hydra.run.dir") from None
    except (ConfigError, CheckpointMismatch) as err:
        raise Refusal(str(err)) from None
    except Exception as err:  # noqa: BLE001 - any error composing or checking is a refusal
        raise Refusal(explain(err)) from None
    if not work.exists():
        check_output_dir(target, "run")  # can it be made and written? (nothing is left)
    return Plan(overrides, target)


def _compose(overrides: list[str]):
    """Compose as ``hydra.main`` will (its config loader), with Hydra's own keys."""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.utils import setup_globals
    from hydra.types import RunMode

    from sim.hydra.compose import hydra_lock

    with hydra_lock, initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        cfg = loader.load_configuration("search", overrides, run_mode=RunMode.RUN)
    setup_globals()  # the ${now:} resolver, as Hydra registers it
    HydraConfig.instance().set_config(cfg)
    return cfg


#: The search's directory, set by :func:`main` once the command line is checked (Hydra
#: itself writes into the search's partial directory, which becomes this one at the end).
_TARGET: Path | None = None
#: The command line as the user gave it (recorded in the search's lock).
_COMMAND: str | None = None


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="search", version_base="1.3")
def _main(cfg: DictConfig) -> None:
    from sim.search.moea import CheckpointMismatch
    from sim.search.pipeline import policy_search

    try:
        app = to_search_app(cfg)  # validated by the pre-flight check: not again
        policy_search(
            app.policy_search,
            _TARGET or Path(HydraConfig.get().runtime.output_dir),
            processes=app.processes,  # (canonical: validated)
            progress=app.progress and sys.stderr.isatty(),
            max_runs=app.max_runs,
            command=_COMMAND,
        )
    except (ConfigError, CheckpointMismatch) as err:  # normally refused before, by preflight
        print(f"stalemate-search: {explain(err)}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as err:  # a full disk, a directory that gained files meanwhile
        print(
            f"stalemate-search: error: cannot write {err.filename or ''}: {err.strerror or err}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stalemate-search`` console script."""
    global _TARGET, _COMMAND
    import shlex

    from sim.report.io import skip_final_collection
    from sim.report.staging import partial_dir

    skip_final_collection()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        plan = preflight(argv)
    except Refusal as err:
        print(refusal("stalemate-search", err), file=sys.stderr)
        raise SystemExit(2) from None
    overrides = plan.overrides
    if plan.complete:
        assert plan.target is not None
        print((plan.target / "summary.txt").read_text(), end="")
        print(
            f"stalemate-search: {plan.target} already holds this search, complete: nothing to do",
            file=sys.stderr,
        )
        return
    if plan.target is not None:  # Hydra writes into the partial directory, renamed at the end
        _TARGET, _COMMAND = plan.target, shlex.join(["stalemate-search", *argv])
        overrides = [o for o in overrides if not o.lstrip("+").startswith("hydra.run.dir=")]
        overrides.append(f"hydra.run.dir={quote_value(str(partial_dir(plan.target)))}")
    sys.argv = [sys.argv[0], *argv_with(argv, overrides)]
    _main()


def argv_with(argv: list[str], overrides: list[str]) -> list[str]:
    """``argv`` with its overrides replaced by ``overrides`` (flags and their values kept)."""
    parsed = set(argv_parser().parse_args(argv).overrides)
    rest = [a for a in argv if a not in parsed]
    return [*rest, *overrides]


if __name__ == "__main__":
    main()

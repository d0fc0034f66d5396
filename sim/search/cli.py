"""``stalemate-search``: which offer breaks the stalemate? A robust policy search, one command.

Usage::

    stalemate-search +policy_search=default      # the presets are in sim/configs/policy_search/
    stalemate-search +policy_search=smoke        # seconds
    stalemate-search +policy_search=default policy_search.seed=1 policy_search.generations=80
    stalemate-search +policy_search=default hydra.run.dir=results/my_search   # run again: resumes

It writes into ``results/policy_search/<preset>/<time>/`` (or ``hydra.run.dir``)
what :func:`sim.search.pipeline.policy_search` lists. The command line is checked
before anything runs or is written (:func:`preflight`): an unknown preset, a lever
or an uncertainty the model does not have, a range outside a parameter's limits,
an unknown objective — each is one line on stderr naming the key, the value and
what is allowed, and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.hydra.compose import CONFIG_MODULE
from sim.hydra.refuse import INFO_FLAGS, Refusal, argv_parser, check_output_dir, explain
from sim.hydra.schema import check_processes
from sim.model.validation import ConfigError
from sim.search.spec import SearchApp

ConfigStore.instance().store(name="search_schema", node=SearchApp)

#: The config group of the presets.
GROUP = "policy_search"


def presets() -> list[str]:
    """The presets in ``sim/configs/policy_search/``."""
    from sim.hydra.compose import CONFIG_DIR

    return sorted(p.stem for p in (CONFIG_DIR / GROUP).glob("*.yaml"))


def to_search_app(cfg: DictConfig) -> SearchApp:
    """The typed app config of a composed config (OmegaConf checks the types)."""
    plain = {k: v for k, v in cfg.items() if k != "hydra"}
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SearchApp), plain))


def with_group_plus(overrides: list[str]) -> list[str]:
    """``policy_search=x`` adds the group as ``+policy_search=x`` does (it has no default)."""
    return [f"+{o}" if o.startswith(f"{GROUP}=") else o for o in overrides]


def preflight(argv: list[str]) -> list[str]:
    """Check a ``stalemate-search`` command line before Hydra acts on it; return the
    overrides to hand to Hydra.

    Raises:
        Refusal: with a one-line message.
    """
    from sim.search.moea import CHECKPOINT, CheckpointMismatch, fingerprint, read_checkpoint
    from sim.search.spec import base_dict, check

    try:
        args = argv_parser().parse_args(argv)
    except Exception as err:  # noqa: BLE001 - argparse's message, one line
        raise Refusal(f"command line: {err}") from None
    overrides = with_group_plus(list(args.overrides))
    if args.version or args.cfg or any(getattr(args, f) for f in INFO_FLAGS):
        return overrides  # Hydra shows these
    if args.multirun:
        raise Refusal(
            "--multirun: stalemate-search runs one search per command (its generations run in "
            "turn, each on every core); give one preset and run the command again for another"
        )
    chosen = [o for o in overrides if o.lstrip("+").startswith(f"{GROUP}=")]
    if not chosen:
        raise Refusal(
            f"{GROUP} is not chosen: run stalemate-search +{GROUP}=<preset>; presets: {', '.join(presets())}"
        )
    try:
        cfg = _compose(overrides)
        app = to_search_app(cfg)
        check_processes(app.processes)
        base = base_dict(app.policy_search)
        checked = check(app.policy_search, base)
        out = Path(str(cfg.hydra.run.dir)).expanduser()
    except Exception as err:  # noqa: BLE001 - any error composing or checking is a refusal
        raise Refusal(explain(err)) from None
    check_output_dir(out, "run")
    try:
        read_checkpoint(out / CHECKPOINT, fingerprint(checked, base))
    except CheckpointMismatch as err:
        raise Refusal(f"hydra.run.dir = {out}: {err}") from None
    return overrides


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


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="search", version_base="1.3")
def _main(cfg: DictConfig) -> None:
    from sim.search.moea import CheckpointMismatch
    from sim.search.pipeline import policy_search

    try:
        app = to_search_app(cfg)
        policy_search(
            app.policy_search,
            Path(HydraConfig.get().runtime.output_dir),
            processes=check_processes(app.processes),
            progress=app.progress and sys.stderr.isatty(),
        )
    except (ConfigError, CheckpointMismatch) as err:
        print(f"stalemate-search: config error: {explain(err)}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stalemate-search`` console script."""
    from sim.report.io import skip_final_collection

    skip_final_collection()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        overrides = preflight(argv)
    except Refusal as err:
        text = str(err)
        prefix = "" if text.startswith(("hydra.", "command line", "--")) else "config error: "
        print(f"stalemate-search: {prefix}{text}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.argv = [sys.argv[0], *argv_with(argv, overrides)]
    _main()


def argv_with(argv: list[str], overrides: list[str]) -> list[str]:
    """``argv`` with its overrides replaced by ``overrides`` (flags and their values kept)."""
    parsed = set(argv_parser().parse_args(argv).overrides)
    rest = [a for a in argv if a not in parsed]
    return [*rest, *overrides]


if __name__ == "__main__":
    main()

"""Refusals: one line on stderr, exit code 2, nothing written.

Hydra creates its output directory (with ``.hydra/`` and the job's log) before
the app's code runs, and reports its own errors (a misspelt key, a value of the
wrong type, a missing config group option, an override it cannot parse) as
several lines of text and exit code 1. The ``stalemate`` command therefore
checks a command line *before* handing it to Hydra (:func:`preflight`), with
Hydra's public compose API: the same composition Hydra will do, followed by the
app's own validation and a check that the output directory can be used. Every
error found there is one line (:func:`explain`) and exit code 2, and nothing is
left on disk.

Example:
    >>> explain(ConfigError("detect_prob = 1.5 is outside the allowed range [0, 1]"))
    'detect_prob = 1.5 is outside the allowed range [0, 1]'
    >>> argv_parser().parse_args(["-m", "assurance=0,1"]).multirun
    True
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, NamedTuple

from sim.hydra.lock import LOCK_FILE
from sim.model.validation import ConfigError, field_types, suggest

# The schema (Hydra's ConfigStore, OmegaConf) is imported by the functions that use it:
# the command parses its flags here (argv_parser) before it imports them.

#: Files that mark a directory as holding a sweep (stalemate sweeper, basic sweeper).
SWEEP_MARKERS = ("sweep.json", "multirun.yaml")
#: Files that mark a directory as holding a single run.
RUN_MARKERS = ("runs.parquet", "config.yaml", ".hydra")
#: Hydra's own command-line flags that do not run the app (Hydra handles them).
INFO_FLAGS = ("help", "hydra_help", "info", "shell_completion", "experimental_rerun")


class Refusal(Exception):
    """A command line or a directory the app will not use; the message is one line."""


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise _ArgError(message)


def argv_parser() -> argparse.ArgumentParser:
    """The flags of a Hydra app's command line, as ``hydra.main`` reads them."""
    p = _Parser(prog="stalemate", add_help=False)
    p.add_argument("--help", "-h", action="store_true")
    p.add_argument("--hydra-help", action="store_true")
    p.add_argument("--version", action="store_true")
    p.add_argument("overrides", nargs="*")
    p.add_argument("--cfg", "-c", choices=["job", "hydra", "all"])
    p.add_argument("--resolve", action="store_true")
    p.add_argument("--package", "-p")
    p.add_argument("--run", "-r", action="store_true")
    p.add_argument("--multirun", "-m", action="store_true")
    p.add_argument("--shell-completion", "-sc", action="store_true")
    p.add_argument("--config-path", "-cp")
    p.add_argument("--config-name", "-cn")
    p.add_argument("--config-dir", "-cd")
    p.add_argument("--experimental-rerun")
    p.add_argument(
        "--info",
        "-i",
        const="all",
        nargs="?",
        choices=["all", "config", "defaults", "defaults-tree", "plugins", "searchpath"],
    )
    return p


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


# ---------------------------------------------------------------- explaining errors

_KIND = {
    "Integer": "a whole number",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "text",
}


def _field_range(key: str) -> str:
    """``" in [lo, hi]"`` for a top-level field of the schema with a range, else ``""``."""
    from sim.hydra.schema import AppConfig

    for f in fields(AppConfig):
        if f.name == key:
            lo, hi = f.metadata.get("range", (None, None))
            if lo is not None or hi is not None:
                return f" in [{'-∞' if lo is None else lo}, {'∞' if hi is None else hi}]"
    return ""


def known_keys(parent: str) -> list[str]:
    """The keys allowed under ``parent`` (``""`` for the top level) of the app's config."""
    from sim.hydra.schema import AppConfig

    node: Any = asdict(AppConfig())
    if parent:
        for part in parent.split("."):
            if not isinstance(node, dict) or part not in node:
                if parent.startswith("actors.") and parent.count(".") == 1:
                    node = asdict(AppConfig())["actors"]["USA"]  # any actor: same fields
                    break
                return []
            node = node[part]
    if not isinstance(node, dict):
        return []
    if parent.count(".") == 2 and parent.startswith("actors."):
        from sim.model.names import FEATURES  # weights: keyed by feature

        return list(FEATURES)
    return list(node)


def _unknown_key(full_key: str) -> str:
    from sim.hydra.schema import GROUPS

    parent, _, last = full_key.rpartition(".")
    allowed = known_keys(parent)
    if not parent:  # config groups are set the same way: scenario=…, actors=…, policy=…
        allowed = [*allowed, *GROUPS]
    hint = suggest(last, allowed) if allowed else ""
    if parent == "actors":
        return (
            f"actors.{last} is not one of the states at the table ({', '.join(allowed)}){hint}; "
            f"add a state with '+actors.{last}={{role: ally}}'"
        )
    if full_key.startswith("hydra."):
        return f"{full_key} is not a Hydra setting{hint}"
    listed = f"; allowed: {', '.join(allowed)}" if 0 < len(allowed) <= 12 else ""
    return f"{full_key} is not a known key{hint}{listed}"


def explain(err: BaseException) -> str:
    """One line saying what is wrong with a command line, from any error composing or
    validating it (Hydra's, OmegaConf's or the app's)."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import (
        ConfigAttributeError,
        ConfigKeyError,
        InterpolationResolutionError,
        OmegaConfBaseException,
        ValidationError,
    )

    if isinstance(err, ConfigError | Refusal):
        return str(err)
    if isinstance(err, OverrideParseException):
        rest = str(err).replace(f"Error parsing override '{err.override}'", "", 1)
        lines = [ln.strip() for ln in rest.splitlines() if ln.strip()]
        why = next((ln for ln in lines if not ln.startswith("See https")), "")
        return (
            f"cannot read the override {err.override!r}: {why} "
            "(syntax: https://hydra.cc/docs/advanced/override_grammar/basic/)"
        )
    if isinstance(err, MissingConfigException):
        missing = err.missing_cfg_file or ""
        group, _, option = missing.rpartition("/")
        if option.startswith("submitit"):
            return (
                f"{group} = {option!r} needs Hydra's submitit launcher: "
                "pip install 'stalemate-sim[slurm]' (or pip install hydra-submitit-launcher)"
            )
        if err.options and group:
            return (
                f"{group} = {option!r} is not a known option; choose one of: "
                f"{', '.join(err.options)}{suggest(option, err.options)}"
            )
        first = _first_line(str(err))
        if group and "Could not find" in first:
            return f"{group} has no option {option!r} ({first})"
        return first
    cause = err.__cause__ if isinstance(err.__cause__, OmegaConfBaseException) else None
    inner = cause or (err if isinstance(err, OmegaConfBaseException) else None)
    text = _first_line(str(err))
    m = re.match(r"Ambiguous value for argument '(.*)'", text)
    if m:
        key = m.group(1).partition("=")[0]
        return (
            f"{m.group(1)} is a sweep (several values): add -m to run one job per value, "
            f"or write {key}=[…] for a list"
        )
    m = re.match(r"Could not append to config\. An item is already at '(.*)'", text)
    if m:
        return f"{m.group(1)} is already a key: set it without the '+' ({m.group(1)}=…)"
    if inner is not None:
        key = getattr(inner, "full_key", None) or ""
        msg = _first_line(getattr(inner, "msg", None) or str(inner))
        if isinstance(inner, InterpolationResolutionError):
            m = re.match(r"While dereferencing interpolation '(.*)': (.*)", msg)
            if m:
                return f"{key} = {m.group(1)} cannot be used: {m.group(2)}"
            return f"{key}: cannot resolve its interpolation: {msg}"
        if isinstance(inner, ConfigKeyError | ConfigAttributeError) and (
            "not in" in msg or "is not in struct" in msg
        ):
            m = re.match(r"Key '(.*)' (?:not in|is not in struct)", msg)
            full = key or (m.group(1) if m else "")
            if key and m and not key.endswith(m.group(1)):
                full = f"{key}.{m.group(1)}"
            return _unknown_key(full)
        if isinstance(inner, ValidationError):
            m = re.match(r"Value '(.*)' of type '(\w+)' could not be converted to (\w+)", msg)
            if m:
                kind = _KIND.get(m.group(3), m.group(3))
                return f"{key} = {m.group(1)!r} must be {kind}{_field_range(key)}"
            m = re.match(r"field '(.*)' is not Optional", msg)
            if m:
                kind = _type_words(key)
                return f"{key} cannot be null; give {kind}{_field_range(key)}"
            m = re.match(r"Value '(.*)' is not a valid bool", msg)
            if m:
                return f"{key} = {m.group(1)!r} must be true or false"
            m = re.match(r"Invalid value '(.*)', expected one of \[(.*)\]", msg)
            if m:
                return f"{key} = {m.group(1)!r} is not allowed; choose one of: {m.group(2)}"
        where = f"{key}: " if key and key not in msg else ""
        head = "" if text.startswith(("Error merging", "Could not override")) else ""
        return f"{head}{where}{msg}"
    if isinstance(err, OSError):
        return f"{err.filename or ''}: {err.strerror or err}".lstrip(": ")
    return text or type(err).__name__


def _type_words(key: str) -> str:
    from sim.hydra.schema import AppConfig

    t = field_types(AppConfig).get(key)
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text"}.get(
        t, "a value"
    )


# ---------------------------------------------------------------- output directories


def check_output_dir(path: Path, kind: str) -> None:
    """Refuse a directory a run (``kind="run"``) or a sweep (``"sweep"``) cannot use.

    It must be a directory (or creatable as one) that this process can write; a
    single run only into a new or empty directory or one holding a previous run (which
    it replaces whole), and a sweep only into a new or empty directory or one holding
    a sweep. Nothing is left behind: directories
    made to test the path are removed again.

    Raises:
        Refusal: one line naming the key, the path and the reason.
    """
    key = f"hydra.{kind}.dir"
    path = Path(os.path.abspath(path))
    if path.exists() and not path.is_dir():
        raise Refusal(f"{key} = {path} is a file, not a directory; choose another directory")
    if path.is_dir():
        holds_sweep = any((path / m).exists() for m in SWEEP_MARKERS)
        holds_run = any((path / m).exists() for m in RUN_MARKERS)
        if kind == "run" and holds_sweep:
            raise Refusal(
                f"{key} = {path} holds a sweep; a single run there would replace its "
                "runs.parquet: choose another directory"
            )
        if kind == "run" and not holds_run and any(path.iterdir()):
            raise Refusal(
                f"{key} = {path} holds files but no stalemate run: choose a new or empty "
                "directory (a run's directory is replaced whole by its next run)"
            )
        if kind == "sweep" and not holds_sweep and holds_run:
            raise Refusal(f"{key} = {path} holds a single run, not a sweep: choose a new directory")
        if kind == "sweep" and not holds_sweep and not (path / LOCK_FILE).exists():
            if any(path.iterdir()):
                raise Refusal(
                    f"{key} = {path} is not empty and holds no sweep: choose a new or empty "
                    "directory (a sweep owns its directory)"
                )
    # can we create it and write there? Try, then remove what the test made.
    made: list[Path] = []
    probe = path
    while not probe.exists():
        made.append(probe)
        probe = probe.parent
    try:
        for d in reversed(made):
            d.mkdir()
        fd, tmp = tempfile.mkstemp(prefix=".stalemate-probe.", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise Refusal(
            f"{key} = {path} cannot be written: {err.strerror or err}"
            + (f" ({err.filename})" if err.filename and str(err.filename) != str(path) else "")
        ) from None
    finally:
        if made:  # the outermost directory the test created, with what is inside
            shutil.rmtree(made[-1], ignore_errors=True)


def quote_value(value: str) -> str:
    """A value as Hydra's override grammar reads it back unchanged.

    Example:
        >>> quote_value("/tmp/a b"), quote_value("results/x")
        ("'/tmp/a b'", 'results/x')
    """
    if all(c.isalnum() or c in "/._-:" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


#: Where a sweep's job N writes: DIR/N (``hydra.sweep.subdir``; collect reads it there).
JOB_SUBDIR = "${hydra.job.num}"


def check_hydra_paths(cfg, multirun: bool) -> Path:
    """Hydra's own paths keep everything inside the output directory; return that directory.

    - ``hydra.run.dir`` (``hydra.sweep.dir`` for a sweep) must name a directory: an empty
      one would write into the current directory;
    - ``hydra.output_subdir`` (where Hydra records the config, ``.hydra``) must be null or
      a relative path inside the output directory (``../../..`` wrote outside it);
    - for a sweep, ``hydra.sweep.subdir`` stays ``${hydra.job.num}``: job N writes into
      ``DIR/N``, where a resumed sweep and ``stalemate-collect`` look for it.

    Raises:
        Refusal: one line naming the key, the value and what is allowed.
    """
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    out = str(cfg.hydra.sweep.dir if multirun else cfg.hydra.run.dir)
    if not out.strip():
        raise Refusal(
            f"{key} = {out!r} is empty: give the directory to write into (an empty one would "
            "write into the current directory); leave it out for the default"
        )
    if cfg.hydra.output_subdir is not None:
        inside("hydra.output_subdir", str(cfg.hydra.output_subdir), key)
    if multirun:
        from omegaconf import OmegaConf

        sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
        subdir = sweep.get("subdir") if isinstance(sweep, dict) else None
        if subdir != JOB_SUBDIR:
            raise Refusal(
                f"hydra.sweep.subdir = {subdir!r} is not allowed: a sweep keeps job N in DIR/N, "
                f"where resuming and stalemate-collect look for it; leave it at {JOB_SUBDIR}"
            )
    return Path(out).expanduser()


def inside(name: str, value: str, parent_key: str) -> None:
    """``value`` is a relative path that stays inside the directory ``parent_key`` names.

    Example:
        >>> inside("hydra.output_subdir", "../../..", "hydra.run.dir")
        Traceback (most recent call last):
        ...
        sim.hydra.refuse.Refusal: hydra.output_subdir = '../../..' leads outside hydra.run.dir: give a relative path inside it without '..' (default .hydra), or null for none
    """
    parts = Path(value).parts
    if not value.strip() or Path(value).is_absolute() or ".." in parts or "~" in value[:1]:
        allowed = (
            "(default .hydra), or null for none"
            if "output" in name
            else "(default: the job number)"
        )
        raise Refusal(
            f"{name} = {value!r} leads outside {parent_key}: give a relative path inside it "
            f"without '..' {allowed}"
        )


# ---------------------------------------------------------------- the pre-flight check


def preflight(argv: list[str]) -> Output | None:
    """Check a ``stalemate`` command line before Hydra acts on it.

    Composes the config exactly as Hydra will (its public compose API), validates
    it, checks every config-group option is a safe name and the output directory
    can be used. A sweep's own values are checked by the sweeper, also before
    anything is written. Flags that only show information are left to Hydra.

    Returns:
        Where the command writes (None for a command that only shows information).

    Raises:
        Refusal: with a one-line message.
    """
    from sim.hydra.schema import GROUPS, check_name, to_app_config

    try:
        args = argv_parser().parse_args(argv)
    except _ArgError as err:
        hint = (
            " (give overrides before options such as --cfg)" if "unrecognized" in str(err) else ""
        )
        raise Refusal(f"command line: {err}{hint}") from None
    if args.version or any(getattr(args, f) for f in INFO_FLAGS) or args.config_path:
        return None  # Hydra shows these (a custom --config-path is resolved by Hydra itself)
    if args.resolve and not args.cfg:
        raise Refusal("--resolve only goes with --cfg (e.g. --cfg job --resolve)")
    if sum([args.run, args.multirun, args.cfg is not None]) > 1:
        raise Refusal("give only one of --run, --multirun (-m) and --cfg")
    overrides = list(args.overrides)
    for o in overrides:
        key = o.partition("=")[0]
        if key.startswith("~") and key.lstrip("~").partition("@")[0] not in (*GROUPS, "sweep"):
            raise Refusal(
                f"{o}: keys of the config cannot be deleted; set a value instead "
                "(to take a state from the table: actors.<NAME>.enabled=false)"
            )
    try:
        check_raw_events(overrides)
    except ConfigError as err:
        raise Refusal(str(err)) from None
    if args.config_dir:
        config_dir = Path(args.config_dir).absolute()
        if not config_dir.is_dir():
            raise Refusal(f"--config-dir {args.config_dir}: no such directory")
        if any(o.lstrip("+~").startswith("hydra.searchpath") for o in overrides):
            return None  # two search-path changes: let Hydra combine them
        overrides.append(f"hydra.searchpath=[file://{config_dir}]")
    try:
        cfg, multirun = compose_like_hydra(
            args.config_name or "config", overrides, args.multirun, show=bool(args.cfg)
        )
        if args.cfg:
            return None  # shown as composed, not validated as a run
        to_app_config(cfg)
        choices = cfg.hydra.runtime.choices
        for group in GROUPS:
            if choices.get(group) is not None:
                check_name(group, str(choices[group]))
        out = check_hydra_paths(cfg, multirun)
    except Refusal:
        raise
    except Exception as err:  # noqa: BLE001 - any error composing the config is a refusal
        raise Refusal(explain(err)) from None
    check_output_dir(out, "sweep" if multirun else "run")
    if not multirun:  # a run is built in its partial directory: is another run there now?
        from sim.hydra.lock import DirLock, LockBusy
        from sim.report.staging import partial_dir

        try:
            DirLock(partial_dir(out), "run").check()
        except LockBusy as err:
            raise Refusal(f"hydra.run.dir = {out}: {err}; wait for it to end") from None
    return Output(Path(os.path.abspath(out)), multirun)


class Output(NamedTuple):
    """Where a checked command line writes: the directory and whether it is a sweep's."""

    directory: Path
    multirun: bool


def check_raw_events(overrides: list[str]) -> None:
    """Events given on the command line say when and what (``round`` and ``kind``), checked
    as typed: composing fills in what an event leaves out (``events=[{}]`` would become a
    summit in round 1). Overrides that do not parse are left to the composition to name.

    Raises:
        ConfigError: naming the event and what it lacks.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.engines.inputs import check_events

    for text in overrides:
        if text.partition("=")[0].lstrip("+") != "events":
            continue
        try:
            (o,) = OverridesParser.create().parse_overrides([text])
            values = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
        except Exception:  # noqa: BLE001 - a syntax error is explained by the composition
            continue
        for value in values:
            check_events(value)


def compose_like_hydra(config_name: str, overrides: list[str], multirun: bool, show: bool = False):
    """Compose as ``hydra.main`` will: the run mode decided the same way (a mode the
    config asks for, else ``-m`` or not, given as a ``hydra.mode`` override), or with
    ``show`` (``--cfg``) once in run mode, as Hydra shows it. Returns the config and
    whether it is a multirun. (The same compositions, so the command hands them to
    Hydra: :func:`sim.hydra.compose.compose_once`.)"""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from sim.hydra.compose import CONFIG_MODULE, JOB_NAME, hydra_lock

    # under the command's own job name: ${hydra.job.name} is what Hydra will make of it
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        extra = []
        if not show:  # a preset may ask for a mode in its config (hydra.main's get_mode)
            asked = loader.load_configuration(
                config_name, overrides, run_mode=RunMode.MULTIRUN, validate_sweep_overrides=False
            ).hydra.mode
            if asked is None or (multirun and asked == RunMode.RUN):
                extra = [f"hydra.mode={'MULTIRUN' if multirun else 'RUN'}"]
            else:
                multirun = asked == RunMode.MULTIRUN
        mode = RunMode.MULTIRUN if multirun else RunMode.RUN
        cfg = loader.load_configuration(config_name, [*overrides, *extra], run_mode=mode)
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import setup_globals

    setup_globals()  # the ${now:} and ${hydra:} resolvers, as Hydra registers them
    HydraConfig.instance().set_config(cfg)  # what ${hydra:…} reads
    return cfg, multirun

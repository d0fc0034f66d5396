"""Compositions kept on disk: a command line composed before is loaded, not composed.

Composing a config with Hydra costs about 0.15 s of CPU, and a command composes two
or three times (the run mode, the run, a sweep's job config): most of the fixed cost
of ``stalemate --cfg job``, ``stalemate seeds=1`` and ``stalemate -m …``. A composition
depends only on its inputs, so it is kept (pickled, about 30 kB; loading it costs
3 ms) under a key made of *every* input:

- the loader's arguments (config name, overrides, run mode, the two flags), the job
  name and Hydra's ``version_base``;
- the versions of Python, Hydra, OmegaConf and PyYAML;
- the contents of every config source on the search path: each ``pkg://`` and
  ``file://`` directory's files, and for ``structured://`` (Hydra's ConfigStore, filled
  by the modules imported so far) the names it holds and the sources of the modules
  that fill it (the ``sim`` package and every ``hydra_plugins`` directory).

A change to any of them is another key: nothing stale can be loaded. A config's
validation (:func:`sim.hydra.schema.to_app_config`, about 0.1 s) is kept the same way,
by its values, the ``sim`` package's sources and the versions
(:func:`kept_validation`); not when it reads a posterior file or a plug-in rule. What cannot be
keyed is not kept: a composition that reads a source not on the search path
(``hydra.searchpath`` set in a config), copies environment variables
(``hydra.job.env_copy``), or a search path with another kind of source. A failed
composition is never kept (it raises, and is composed again next time).

The working directory is not part of the key either: composing reads it only into
``hydra.runtime.cwd``, which is set to this process's own (a relative ``file://`` source
is keyed by its contents, read from where this process is).

The output directory (``hydra.run.dir=…``, ``hydra.sweep.dir=…``, a new one for every
run) is not part of the key when its value is a plain string: the composition is kept
with a placeholder in its place, which a later command's own directory replaces (in
``hydra.run.dir``/``hydra.sweep.dir`` and Hydra's record of its overrides, the only
places an override's value goes).

``STALEMATE_COMPOSE_CACHE=0`` turns it off (an absolute path there names the folder to
use instead); the files live in ``$STALEMATE_CACHE_DIR/compose`` (else ``$XDG_CACHE_HOME/stalemate/compose``, else
``~/.cache/stalemate/compose``); at most :data:`KEEP` of them are kept, the least
recently used removed first.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

#: How many compositions and validations are kept on disk (about 30 kB and 4 kB each): a
#: run of the test suite or of experiments/bad_inputs.py makes several hundred.
KEEP = 1024
#: The placeholder an output directory is kept under (its number: the override's position).
PLACEHOLDER = "stalemate-compose-cache-dir-{}"
#: Overrides whose plain value is replaced by a placeholder in the key.
_DIR_OVERRIDE = re.compile(r"(hydra\.(?:run|sweep)\.dir)=([A-Za-z0-9/._\-]+)")


def enabled() -> bool:
    """Off with ``STALEMATE_COMPOSE_CACHE=0`` (or ``off``, ``false``, ``no``)."""
    return os.environ.get("STALEMATE_COMPOSE_CACHE", "1").lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    """``STALEMATE_COMPOSE_CACHE`` if it names a directory (an absolute path), else
    ``compose`` in the package's cache directory."""
    own = os.environ.get("STALEMATE_COMPOSE_CACHE", "")
    if os.path.isabs(own):
        return Path(own)
    env = os.environ.get("STALEMATE_CACHE_DIR")
    if env:
        return Path(env) / "compose"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "stalemate" / "compose"


# ---------------------------------------------------------------- fingerprints

_tree_hashes: dict[tuple[str, str], str] = {}


def _tree(root: str, suffix: str = "") -> str:
    """A hash of the names and contents of the files under ``root`` (those ending in
    ``suffix``), memoised in this process: within one command the files do not change."""
    if (root, suffix) in _tree_hashes:
        return _tree_hashes[root, suffix]
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")) or not name.endswith(suffix):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                data = b"\0unreadable"
            h.update(os.path.relpath(path, root).encode() + b"\0" + data + b"\0")
    _tree_hashes[root, suffix] = h.hexdigest()
    return _tree_hashes[root, suffix]


def _package_dirs(name: str) -> list[str] | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return sorted(p for p in spec.submodule_search_locations if os.path.isdir(p))


def _structured() -> list[str]:
    """What the ConfigStore holds (its entries' names) and the sources that fill it."""
    from hydra.core.config_store import ConfigStore

    names: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        for key in sorted(node):
            value = node[key]
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}/")
            else:
                names.append(f"{prefix}{key}:{value.group}:{value.package}:{value.provider}")

    walk(ConfigStore.instance().repo, "")
    import sim

    trees = [_tree(os.path.dirname(sim.__file__), ".py")]
    trees += [_tree(d, ".py") for d in _package_dirs("hydra_plugins") or []]
    return [*names, *trees]


def _canonical(path: str) -> str:
    """A search path's entry with its scheme (a plain path is a ``file://`` one)."""
    return path if "://" in path else f"file://{path}"


def _sources(search_path) -> list[str] | None:
    """The fingerprint of every source on a search path; None if one cannot be keyed."""
    out: list[str] = []
    for element in search_path.get_path():
        path = _canonical(str(element.path))
        scheme, _, rest = path.partition("://")
        if scheme == "pkg":
            dirs = _package_dirs(rest.replace("/", "."))
            if not dirs:
                return None
            out += [f"{element.provider} {path}", *(_tree(d) for d in dirs)]
        elif scheme == "file":
            if not os.path.isdir(rest):
                return None
            out += [f"{element.provider} {path}", _tree(os.path.abspath(rest))]
        elif scheme == "structured":
            out += [f"{element.provider} {path}", *_structured()]
        else:
            return None
    return out


# ---------------------------------------------------------------- the output directory


def _plain_string(text: str) -> bool:
    """The override's value is read by Hydra as exactly this string (not a number, a
    boolean, null, a sweep, an interpolation or a quoted string)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        (o,) = OverridesParser.create().parse_overrides([text])
    except Exception:  # noqa: BLE001 - the composition will say what is wrong
        return False
    value = o.value()
    return (
        not o.is_sweep_override()
        and o.is_hydra_override()
        and isinstance(value, str)
        and value == text.partition("=")[2]
    )


def normalise(overrides: list[str]) -> tuple[list[str], dict[str, str]]:
    """The overrides with each plain output directory replaced by a placeholder, and the
    placeholders' overrides -> the overrides they stand for.

    Example:
        >>> normalise(["seeds=1", "hydra.run.dir=/tmp/a"])
        (['seeds=1', 'hydra.run.dir=stalemate-compose-cache-dir-1'], {'hydra.run.dir=stalemate-compose-cache-dir-1': 'hydra.run.dir=/tmp/a'})
    """
    out, swap = [], {}
    for i, text in enumerate(overrides):
        m = _DIR_OVERRIDE.fullmatch(text)
        if m and _plain_string(text):
            stand_in = f"{m.group(1)}={PLACEHOLDER.format(i)}"
            swap[stand_in] = text
            out.append(stand_in)
        else:
            out.append(text)
    return out, swap


def _put_back(cfg, swap: dict[str, str]) -> None:
    """Replace the placeholders of ``swap`` by the directories they stand for."""
    from omegaconf import OmegaConf, open_dict

    if not swap:
        return
    with open_dict(cfg):
        for stand_in, real in swap.items():
            key, _, placeholder = stand_in.partition("=")
            kind = key.split(".")[1]  # run or sweep
            node = OmegaConf.to_container(cfg.hydra[kind], resolve=False)
            if isinstance(node, dict) and node.get("dir") == placeholder:
                cfg.hydra[kind].dir = real.partition("=")[2]
        listed = list(cfg.hydra.overrides.hydra)
        cfg.hydra.overrides.hydra = [swap.get(o, o) for o in listed]


# ---------------------------------------------------------------- the cache


def _key(loader, args: tuple, swapped: list[str]) -> str | None:
    import hydra
    import omegaconf
    import yaml
    from hydra import version
    from hydra.core.utils import JobRuntime

    sources = _sources(loader.get_search_path())
    if sources is None:
        return None
    config_name, _, run_mode, from_shell, validate = args
    parts = [
        sys.version,
        hydra.__version__,
        omegaconf.__version__,
        yaml.__version__,
        str(version.getbase()),
        repr((config_name, swapped, str(run_mode), from_shell, validate)),
        str(JobRuntime().get("name")),
        *sources,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _keyable(cfg, search_path) -> bool:
    """The composition read only keyed sources and copied no environment variable."""
    known = {_canonical(str(e.path)) for e in search_path.get_path()}
    used = {f"{s.schema}://{s.path}" for s in cfg.hydra.runtime.config_sources}
    return used <= known and not list(cfg.hydra.job.env_copy)


def load_or_compose(original, loader, args: tuple):
    """``original(loader, *args)`` (a loader's ``load_configuration``), from disk when this
    composition was kept, else composed (and kept when its inputs can be keyed)."""
    if not enabled():
        return original(loader, *args)
    overrides = list(args[1])
    swapped, swap = normalise(overrides)
    try:
        key = _key(loader, args, swapped)
    except Exception:  # noqa: BLE001 - a source that cannot be read: compose as always
        key = None
    if key is None:
        return original(loader, *args)
    path = cache_dir() / f"{key}.pickle"
    # what resolvers returned is not kept: Hydra's ${now:} caches its value in the config
    # (use_cache), so a kept one would name every later sweep's directory by the time of
    # the first (a second `stalemate -m` found "1 of 1 jobs already complete")
    cfg = _read(path)
    if cfg is not None:
        cfg = _without_resolved(cfg)  # (files kept before this rule have them)
    else:
        cfg = original(loader, args[0], swapped, *args[2:])
        if _keyable(cfg, loader.get_search_path()):
            _write(path, _without_resolved(cfg))
    _put_back(cfg, swap)
    cfg.hydra.runtime.cwd = os.getcwd()  # the one value composing takes from the process
    return cfg


def _without_resolved(cfg):
    """``cfg`` with the values its resolvers cached forgotten (a copy when there were any:
    the composition handed back stays as composed)."""
    from omegaconf import OmegaConf

    if not any(OmegaConf.get_cache(cfg).values()):
        return cfg
    out = copy.deepcopy(cfg)
    OmegaConf.clear_cache(out)
    return out


# ---------------------------------------------------------------- validations


def _validation_key(values: dict) -> str | None:
    """What a validation's result depends on: the values, the package's sources (the
    schema, the parameters, the rules and their checks) and the versions; None when it
    also reads what is not keyed here (a posterior's file, a plug-in rule's package)."""
    import json

    import omegaconf

    import sim
    from sim.model.policies import PLUGINS, POLICIES

    if str(values.get("uncertainty", "none")) != "none" or PLUGINS:
        return None
    text = json.dumps(values, sort_keys=True, default=repr)
    if "<" in text:  # a value without a faithful text (an object's repr): not keyed
        return None
    parts = [
        "validation",
        sys.version,
        omegaconf.__version__,
        _numpy_version(),
        _tree(os.path.dirname(sim.__file__), ".py"),
        ",".join(POLICIES),
        text,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _numpy_version() -> str:
    import numpy

    return numpy.__version__


def kept_validation(values: dict, validate):
    """``validate()`` (a config's typing and validation: :func:`sim.hydra.schema.to_app_config`),
    or its result kept on disk by an earlier command with the same values and code.
    A failed validation is not kept (it raises)."""
    if not enabled():
        return validate()
    try:
        key = _validation_key(values)
    except Exception:  # noqa: BLE001 - not keyed: validated as always
        key = None
    if key is None:
        return validate()
    path = cache_dir() / f"v-{key}.pickle"
    result = _read(path)
    if result is None:
        result = validate()
        _write(path, result)
    return result


def _read(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            cfg = pickle.load(f)
        os.utime(path)  # recently used: pruned last
        return cfg
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - unreadable (a half-written file cannot be: see _write)
        try:
            path.unlink()
        except OSError:
            pass
        return None


def _write(path: Path, cfg) -> None:
    """Write atomically (a temporary file renamed into place), then prune."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(cfg, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        _prune(path.parent)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass


def _prune(folder: Path, keep: int = KEEP) -> None:
    files = [p for p in folder.glob("*.pickle")]
    if len(files) <= keep:
        return
    files.sort(key=lambda p: p.stat().st_mtime)
    for p in files[: len(files) - keep]:
        try:
            p.unlink()
        except OSError:
            pass

"""Checking values before any work starts: one clear message naming the key, the value and what is allowed.

**One mechanism for every command.** A setting is a dataclass field declared with
:func:`param`: its default, its range (``lo``/``hi``, open with ``strict``), its
allowed ``choices`` (a tuple, or a function giving the registry's names), the
allowed ``keys`` and value range of a mapping, the fewest ``min_items`` of a list,
or a ``check`` function for what a range cannot say (a safe file name). One
walker, :func:`validate`, checks a whole tree of such dataclasses (nested
dataclasses, lists and mappings of them) against that metadata, then calls each
class's ``__validate__(prefix)`` for the rules that tie fields together
(``burn < steps``, ``lo < hi``, one actor per role). The model's parameters
(:class:`sim.model.params.ModelConfig`), the ``stalemate`` app
(:class:`sim.hydra.schema.AppConfig`), the fit (:class:`sim.analysis.fit.FitApp`), the
policy search (:class:`sim.search.spec.PolicySearch`), the game
(``stalemate-play``) and the room (``stalemate-room``) are all checked this way,
once, before any work; :func:`refusal` is the one line every command prints.

Example:
    >>> check_choice("regime", "relief_frist", ("relief_first", "action_for_action"))
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: regime = 'relief_frist' is not allowed; choose one of: relief_first, action_for_action (did you mean 'relief_first'?)
    >>> check_number("weight", float("nan"))
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: weight = nan must be a finite number
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import typing
from dataclasses import asdict, field, fields, is_dataclass
from typing import Any


class ConfigError(ValueError):
    """A parameter has a value the model does not allow; raised before any run."""


def param(
    default,
    lo=None,
    hi=None,
    doc: str = "",
    kind: str = "",
    *,
    strict: bool = False,
    choices=None,
    keys=None,
    min_items: int = 0,
    check=None,
    **kw,
):
    """A dataclass field with what it may hold, its meaning and its kind.

    Args:
        default: the default value, or a callable making it (lists, dicts).
        lo, hi: the allowed range of a number (None: unbounded on that side); of each
            item of a list of numbers, or of each value of a mapping.
        doc: one line on what it means (shown in docs and errors).
        kind: how the engines use it: ``"run"`` for a per-run scalar of the
            mathematics (compiled into :class:`sim.model.compile.Compiled`),
            ``"state"`` for the starting value of a state variable, ``""`` else.
        strict: the range is open: ``lo < value < hi``.
        choices: the values allowed (a tuple, or a function returning it: a registry).
        keys: the keys a mapping may have (a tuple or a function), as ``choices``.
        min_items: the fewest items of a list.
        check: ``check(key, value)`` for what the above cannot say; it raises
            :class:`ConfigError`, or returns the value in its canonical form.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Walk:
        ...     pace: float = param(1.0, 0, 5, "steps a second", strict=True)
        ...     gait: str = param("walk", choices=("walk", "run"))
        >>> validate(Walk(pace=0.0), "walk.")
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: walk.pace = 0.0 is outside the allowed range (0, 5)
        >>> validate(Walk(gait="rnu"), "walk.")
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: walk.gait = 'rnu' is not allowed; choose one of: walk, run (did you mean 'run'?)
    """
    meta = {
        "range": (lo, hi),
        "doc": doc,
        "kind": kind,
        "strict": strict,
        "choices": choices,
        "keys": keys,
        "min_items": min_items,
        "check": check,
    }
    if callable(default):
        return field(default_factory=default, metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


def suggest(value: Any, allowed) -> str:
    """``" (did you mean 'x'?)"`` for the closest allowed value, or ``""``."""
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_choice(key: str, value: Any, allowed) -> None:
    """``value`` must be one of ``allowed``."""
    allowed = tuple(allowed)
    if not isinstance(value, str | int) or value not in allowed:
        raise ConfigError(
            f"{key} = {value!r} is not allowed; choose one of: {', '.join(map(str, allowed))}"
            + suggest(value, allowed)
        )


@functools.cache
def field_types(cls) -> dict[str, Any]:
    """The resolved type hints of a dataclass's fields."""
    return typing.get_type_hints(cls)


_AS_IS = frozenset({bool, int, float, str, type(None), dict, list})


def plain_number(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (other values unchanged).

    Example:
        >>> import numpy as np
        >>> plain_number(np.int64(3)), plain_number(np.float32(0.5)), plain_number("a")
        (3, 0.5, 'a')
    """
    if type(value) in _AS_IS:  # the common case, without the slower ABC checks below
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _range_text(lo, hi, strict: bool = False) -> str:
    left = "(" if strict or lo is None else "["  # an infinite end is never included
    right = ")" if strict or hi is None else "]"
    return f"{left}{lo if lo is not None else '-∞'}, {hi if hi is not None else '∞'}{right}"


def _allowed(spec) -> tuple:
    return tuple(spec() if callable(spec) else spec)


def check_range(key: str, value: Any, lo, hi, whole: bool = False, strict: bool = False) -> None:
    """A number (a whole one if ``whole``) within ``[lo, hi]`` (``(lo, hi)`` if ``strict``).

    Example:
        >>> check_range("k", 2.5, 0, 10, whole=True)
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: k = 2.5 must be a whole number in [0, 10]
    """
    allowed = _range_text(lo, hi, strict)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key} = {value!r} must be a number in {allowed}")
    if whole and not isinstance(value, int):
        raise ConfigError(f"{key} = {value!r} must be a whole number in {allowed}")
    if value != value:  # NaN
        raise ConfigError(f"{key} = nan is not a number; allowed: {allowed}")
    below = lo is not None and (value <= lo if strict else value < lo)
    above = hi is not None and (value >= hi if strict else value > hi)
    if below or above:
        raise ConfigError(f"{key} = {value!r} is outside the allowed range {allowed}")


def validate(obj: Any, prefix: str = "", name=None, only=None) -> None:
    """Check a dataclass and every dataclass inside it against their :func:`param`
    metadata, then each class's own ``__validate__(prefix)`` (rules between fields).

    Args:
        obj: the dataclass instance (checked in place; a ``check`` may canonicalise a value).
        prefix: what goes before a field's name in a message (``"policy_search."``).
        name: how a field is named in messages, ``name(field_name) -> str`` (a command's
            flags: ``lambda f: "--" + f.replace("_", "-")``); default: the field name.
        only: the names of the fields to check (default: all); the class's rules still run.

    Raises:
        ConfigError: for the first value that is not allowed, naming its key.
    """
    types = field_types(type(obj))  # type: ignore[arg-type]
    for f in fields(obj):
        if only is not None and f.name not in only:
            continue
        meta = f.metadata
        value = getattr(obj, f.name)
        key = f"{prefix}{name(f.name) if name else f.name}"
        if value is None and type(None) in typing.get_args(types[f.name]):
            continue  # an optional setting left out
        lo, hi = meta.get("range", (None, None))
        ranged = lo is not None or hi is not None
        strict = meta.get("strict", False)
        shape = typing.get_origin(types[f.name])
        if shape in (dict, list) and not isinstance(value, shape):
            what = "a mapping" if shape is dict else "a list"
            raise ConfigError(
                f"{key} = {value!r} must be {what}"
                + (f": {meta['doc']}" if meta.get("doc") else "")
            )
        if is_dataclass(value) and not isinstance(value, type):
            validate(value, key + ".")
        elif isinstance(value, dict) and any(is_dataclass(v) for v in value.values()):
            for k, v in value.items():
                validate(v, f"{key}.{k}.")
        elif isinstance(value, list):
            if len(value) < meta.get("min_items", 0):
                raise ConfigError(
                    f"{key} = {value!r} has {len(value)} item(s); give at least {meta['min_items']}"
                )
            for i, item in enumerate(value):
                if is_dataclass(item) and not isinstance(item, type):
                    validate(item, f"{key}[{i}].")
                    continue
                if meta.get("choices") is not None:
                    check_choice(f"{key}[{i}]", item, _allowed(meta["choices"]))
                if ranged:
                    whole = typing.get_args(types[f.name])[:1] == (int,)
                    check_range(f"{key}[{i}]", item, lo, hi, whole, strict)
        elif isinstance(value, dict) and (meta.get("keys") is not None or ranged):
            for k, v in value.items():
                if meta.get("keys") is not None:
                    check_choice(f"{key} key", k, _allowed(meta["keys"]))
                if ranged:
                    low, high = -math.inf if lo is None else lo, math.inf if hi is None else hi
                    check_number(f"{key}.{k}", v, low, high)
        else:
            if meta.get("choices") is not None:
                check_choice(key, value, _allowed(meta["choices"]))
            if ranged:
                check_range(key, value, lo, hi, types[f.name] is int, strict)
        if meta.get("check") is not None:
            canonical = meta["check"](key, value)
            if canonical is not None:
                setattr(obj, f.name, canonical)
    rules = getattr(obj, "__validate__", None)
    if rules is not None:
        rules(prefix)


class Once:
    """Results of a check kept by the values checked: a command meets the same config
    more than once (its pre-flight check, Hydra's callback, the run), and a later call
    with equal values gets the first result instead of a second check. A failed check
    keeps nothing (it raises).

    Example:
        >>> once, calls = Once(), []
        >>> once({"a": 1}, lambda: calls.append(1) or "checked"), once({"a": 1}, lambda: "again")
        ('checked', 'checked')
        >>> calls
        [1]
    """

    def __init__(self, size: int = 64):
        self.size = size
        self.done: dict[str, Any] = {}

    def __call__(self, values: Any, make):
        import json

        key = json.dumps(values, sort_keys=True, default=repr)
        if key not in self.done:
            result = make()
            if len(self.done) >= self.size:
                self.done.clear()
            self.done[key] = result
        return self.done[key]


def refusal(prog: str, message: Any) -> str:
    """The one line a command prints when it refuses: ``prog: config error: …`` (a
    message about the command line or a flag says so itself: ``prog: --port = …``).

    Example:
        >>> refusal("stalemate-fit", ConfigError("fit.tau = -1.0 is outside the allowed range (0, ∞)"))
        'stalemate-fit: config error: fit.tau = -1.0 is outside the allowed range (0, ∞)'
    """
    text = str(message).strip().splitlines()[0] if str(message).strip() else repr(message)
    plain = text.startswith(("hydra.", "command line", "--", "config error", "sweep error"))
    return f"{prog}: {'' if plain else 'config error: '}{text}"


def check_number(key: str, value: Any, lo: float = -math.inf, hi: float = math.inf) -> None:
    """A finite number within [lo, hi], or a ConfigError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{key} = {value!r} must be a finite number")
    if not lo <= value <= hi:
        raise ConfigError(f"{key} = {value!r} is outside the allowed range [{lo:g}, {hi:g}]")


def coerce_numbers(obj: Any) -> None:
    """Give fields their declared types: numpy scalars become Python numbers and a
    whole number given for a float field becomes a float (``assurance=1``), as Hydra does."""
    types = field_types(type(obj))
    for f in fields(obj):
        value = plain_number(getattr(obj, f.name))
        if types[f.name] is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(value, dict):
            value = {k: _plain_nested(v) for k, v in value.items()}
        elif isinstance(value, list):
            value = [_plain_nested(v) for v in value]
        setattr(obj, f.name, value)


def _plain_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_nested(v) for k, v in value.items()}
    value = plain_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # weights, pushes and shifts are floats
    return value


def to_dataclass(cls, data: Any, key: str):
    """Build ``cls`` from a mapping (or return it), refusing unknown keys by name."""
    if isinstance(data, cls):
        return data
    if is_dataclass(data):
        data = asdict(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{key} = {data!r} must be a mapping of {cls.__name__} fields")
    names = [f.name for f in fields(cls)]
    for k in data:
        if k not in names:
            raise ConfigError(
                f"{key}.{k} is not a known key; allowed: {', '.join(names)}" + suggest(k, names)
            )
    return cls(**data)

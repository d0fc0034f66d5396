"""Checking values before any work starts: one clear message naming the key, the value and what is allowed.

These helpers are public: the Hydra layer checks its run settings with the same
functions (and so the same messages) as the model checks its parameters.

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


def param(default, lo=None, hi=None, doc: str = "", kind: str = "", **kw):
    """A dataclass field with its allowed range, its meaning and its kind.

    Args:
        default: the default value, or a callable making it (lists, dicts).
        lo, hi: the allowed range of a number (None: unbounded on that side).
        doc: one line on what it means (shown in docs and errors).
        kind: how the engines use it: ``"run"`` for a per-run scalar of the
            mathematics (compiled into :class:`sim.model.compile.Compiled`),
            ``"state"`` for the starting value of a state variable, ``""`` else.
    """
    meta = {"range": (lo, hi), "doc": doc, "kind": kind}
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


def _range_text(lo, hi) -> str:
    return f"[{lo if lo is not None else '-∞'}, {hi if hi is not None else '∞'}]"


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check every numeric field of a dataclass against its declared range."""
    types = field_types(type(obj))
    for f in fields(obj):
        lo, hi = f.metadata.get("range", (None, None))
        value = getattr(obj, f.name)
        if lo is None and hi is None:
            continue
        key = f"{prefix}{f.name}"
        allowed = _range_text(lo, hi)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} = {value!r} must be a number in {allowed}")
        if types[f.name] is int and not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r} must be a whole number in {allowed}")
        if value != value:  # NaN
            raise ConfigError(f"{key} = nan is not a number; allowed: {allowed}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(f"{key} = {value!r} is outside the allowed range {allowed}")


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

"""Model parameters as plain dataclasses, with their defaults, ranges and validation.

These dataclasses are the single description of every parameter. The Hydra app
registers them as structured configs (see :mod:`sim.config`); the Mesa model and
the batch engine build them from plain keyword arguments, so neither needs Hydra.

Example:
    >>> from sim.params import make_config
    >>> cfg = make_config(assurance=0.6, relief=0.2)
    >>> cfg.regime
    'denuclearization_first'
    >>> make_config(detect_prob=1.5)
    Traceback (most recent call last):
    ...
    sim.params.ConfigError: detect_prob = 1.5 is outside the allowed range [0, 1]
"""

from __future__ import annotations

import difflib
import functools
import math
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from typing import Any

from sim.actors import (
    ACTION_NAMES,
    FEATURES,
    POLICIES,
    ROLES,
    STATE_VARS,
    default_actors,
)
from sim.sequencing import REGIMES


class ConfigError(ValueError):
    """A parameter has a value the model does not allow; raised before any run."""


def _p(default, lo=None, hi=None, doc="", **kw):
    """A dataclass field with an allowed range and a one-line meaning."""
    meta = {"range": (lo, hi), "doc": doc}
    if callable(default):
        return field(default_factory=default, metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


@dataclass
class ActorConfig:
    """One state at the table: its role, decision policy and preferences.

    ``concede``, ``hedge`` and ``escalate`` map utility features (see
    :data:`sim.actors.FEATURES`) to weights: the utility of an action is the sum
    of weight x feature. ``effects`` overrides the role's default effect of each
    action on the shared state (see :data:`sim.actors.ROLE_EFFECTS`).
    """

    role: str = _p("ally", doc="target | principal | ally | enforcer")
    enabled: bool = _p(True, doc="set false to remove a default actor")
    policy: str = _p("logit", doc="logit | tit_for_tat | grit | scripted")
    trust: float = _p(0.5, 0, 1, "initial trust in every other actor")
    concede: dict[str, float] = _p(dict, doc="utility weights of conceding")
    hedge: dict[str, float] = _p(dict, doc="utility weights of hedging")
    escalate: dict[str, float] = _p(dict, doc="utility weights of escalating")
    effects: dict[str, dict[str, float]] = _p(dict, doc="action -> state var -> push (replaces the role's)")
    script: list[str] = _p(list, doc="actions for scripted play, one per round")
    grit_period: int = _p(4, 1, 1000, "GRIT: rounds between unilateral concessions")


@dataclass
class EventConfig:
    """A scheduled shock: at the start of ``round`` the shared state shifts.

    ``kind`` picks preset shifts (see :data:`sim.events.EVENT_KINDS`); ``shift``
    adds to or overrides them; ``force`` makes actors play a given action that
    round (e.g. ``{DPRK: escalate}`` for a test).
    """

    round: int = _p(1, 1, None, "round at whose start the event happens")
    kind: str = _p("summit", doc="summit | cancelled_meeting | report | test | relief_offer | custom")
    label: str = _p("", doc="words for the narrative and plots")
    shift: dict[str, float] = _p(dict, doc="state var (or trust) -> added amount")
    force: dict[str, str] = _p(dict, doc="actor -> action forced this round")


@dataclass
class ModelConfig:
    """Every parameter of one negotiation run (defaults: the 2018 baseline)."""

    rounds: int = _p(200, 1, 100_000, "rounds in the horizon")
    regime: str = _p("denuclearization_first", doc="sequencing regime")
    assurance: float = _p(0.4, 0, 1, "security assurance on the table at the start")
    relief: float = _p(0.0, 0, 1, "nominal sanctions relief on the table at the start")
    enforcement: float = _p(0.9, 0, 1, "nominal sanctions enforcement by enforcers")
    denuclearization: float = _p(0.0, 0, 1, "verified denuclearization at the start")
    undeclared: float = _p(0.3, 0, 1, "undeclared (hidden) capability at the start")
    tension: float = _p(0.3, 0, 1, "tension at the start; also its resting level")
    detect_prob: float = _p(0.3, 0, 1, "P(covert hedging is caught) per round")
    false_alarm_prob: float = _p(0.05, 0, 1, "P(a false alarm) per round without hedging")
    detection_response: float = _p(1.0, 0, 10, "principal's urge to escalate after a detection")
    snapback: float = _p(0.5, 0, 1, "share of conditional relief withdrawn on a detection")
    stalemate_cost: float = _p(0.0, 0, 5, "how much stalemate hurts (ripeness)")
    rationality: float = _p(5.0, 0, 100, "logit precision: 0 random, large = best reply")
    step_size: float = _p(0.1, 0, 1, "how far one action moves the shared state")
    reversion: float = _p(0.02, 0, 1, "per-round pull of assurance/relief/enforcement back to their start")
    tension_decay: float = _p(0.05, 0, 1, "per-round pull of tension back to its resting level")
    reversibility: float = _p(0.01, 0, 1, "per-round decay of verified denuclearization")
    trust_gain: float = _p(0.1, 0, 1, "trust gained when the other concedes")
    trust_loss: float = _p(0.2, 0, 1, "trust lost when the other escalates or is caught hedging")
    agreement_threshold: float = _p(0.6, 0, 1, "denuclearization and package needed for agreement")
    breakdown_threshold: float = _p(0.8, 0, 1, "tension at which talks break down")
    hedged_margin: float = _p(0.05, 0, 1, "growth of undeclared capability marking a hedged stalemate")
    actors: dict[str, ActorConfig] = _p(default_actors, doc="the states at the table")
    events: list[EventConfig] = _p(list, doc="scheduled shocks")


MODEL_KEYS = tuple(f.name for f in fields(ModelConfig))


def _suggest(value: str, allowed) -> str:
    close = difflib.get_close_matches(str(value), list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_choice(key: str, value: Any, allowed) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{key} = {value!r} is not allowed; choose one of: {', '.join(allowed)}"
            + _suggest(value, allowed)
        )


@functools.cache
def _field_types(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce_floats(obj: Any) -> None:
    """Turn integers given for float fields (``assurance=1``) into floats, as Hydra does."""
    types = _field_types(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if types[f.name] is float and isinstance(value, int) and not isinstance(value, bool):
            setattr(obj, f.name, float(value))
        elif types[f.name] == dict[str, float] and isinstance(value, dict):
            setattr(obj, f.name, {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                                  for k, v in value.items()})


def _check_fields(obj: Any, prefix: str) -> None:
    """Check every numeric field of a dataclass against its metadata range."""
    for f in fields(obj):
        lo, hi = f.metadata.get("range", (None, None))
        value = getattr(obj, f.name)
        if lo is None and hi is None:
            continue
        key = f"{prefix}{f.name}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} = {value!r} must be a number in [{lo}, {hi}]")
        if _field_types(type(obj))[f.name] is int and not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r} must be a whole number in [{lo}, {hi if hi is not None else '∞'}]")
        if value != value:  # NaN
            raise ConfigError(f"{key} = nan is not a number; allowed: [{lo}, {hi}]")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            allowed = f"[{lo}, {hi if hi is not None else '∞'}]"
            raise ConfigError(f"{key} = {value!r} is outside the allowed range {allowed}")


def _check_number(key: str, value: Any, lo: float = -math.inf, hi: float = math.inf) -> None:
    """A finite number within [lo, hi], or a ConfigError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{key} = {value!r} must be a finite number")
    if not lo <= value <= hi:
        raise ConfigError(f"{key} = {value!r} is outside the allowed range [{lo:g}, {hi:g}]")


def _to_dataclass(cls, data: Any, key: str):
    """Build ``cls`` from a dict (or return it), rejecting unknown keys by name."""
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
                f"{key}.{k} is not a known key; allowed: {', '.join(names)}" + _suggest(k, names)
            )
    return cls(**data)


def make_config(**params: Any) -> ModelConfig:
    """Build and validate a :class:`ModelConfig` from plain keyword arguments.

    ``actors`` entries are merged over the default actors (so ``actors={"JPN":
    {"role": "ally"}}`` adds Japan); ``events`` is a list of dicts.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    for k in params:
        if k not in MODEL_KEYS:
            raise ConfigError(
                f"{k} is not a model parameter; allowed: {', '.join(MODEL_KEYS)}"
                + _suggest(k, MODEL_KEYS)
            )
    params = dict(params)
    actors = default_actors()
    for name, spec in (params.pop("actors", None) or {}).items():
        if not (is_dataclass(spec) or isinstance(spec, dict)):
            raise ConfigError(f"actors.{name} = {spec!r} must be a mapping of actor settings "
                              f"(role, policy, trust, concede, hedge, escalate, …)")
        spec = asdict(spec) if is_dataclass(spec) else dict(spec)
        if name in actors:
            base = asdict(actors[name])
            # weights merge key by key so one preference can be changed alone
            for action in ACTION_NAMES:
                if action in spec and spec[action] is not None:
                    spec[action] = {**base[action], **spec[action]}
            spec = {**base, **spec}
        actors[name] = _to_dataclass(ActorConfig, spec, f"actors.{name}")
    events = [
        _to_dataclass(EventConfig, e, f"events[{i}]")
        for i, e in enumerate(params.pop("events", None) or [])
    ]
    cfg = ModelConfig(**params, actors=actors, events=events)
    for obj in (cfg, *actors.values(), *events):
        _coerce_floats(obj)
    validate(cfg)
    return cfg


def validate(cfg: ModelConfig) -> None:
    """Raise :class:`ConfigError` for the first value the model does not allow."""
    _check_fields(cfg, "")
    _check_choice("regime", cfg.regime, tuple(REGIMES))
    active = {n: a for n, a in cfg.actors.items() if a.enabled}
    for name, actor in cfg.actors.items():
        key = f"actors.{name}"
        _check_fields(actor, key + ".")
        _check_choice(key + ".role", actor.role, ROLES)
        _check_choice(key + ".policy", actor.policy, POLICIES)
        for action in ACTION_NAMES:
            for feat, w in (getattr(actor, action) or {}).items():
                _check_choice(f"{key}.{action} feature", feat, FEATURES)
                _check_number(f"{key}.{action}.{feat}", w, -100, 100)
        for action, pushes in (actor.effects or {}).items():
            _check_choice(f"{key}.effects action", action, ACTION_NAMES)
            for var, push in pushes.items():
                _check_choice(f"{key}.effects.{action} state var", var, STATE_VARS)
                _check_number(f"{key}.effects.{action}.{var}", push, -5, 5)
        for i, a in enumerate(actor.script):
            _check_choice(f"{key}.script[{i}]", a, ACTION_NAMES)
        if actor.policy == "scripted" and actor.enabled and not actor.script:
            raise ConfigError(f"{key}.script = [] but {key}.policy = 'scripted' needs actions")
    for role in ("target", "principal"):
        holders = [n for n, a in active.items() if a.role == role]
        if len(holders) != 1:
            raise ConfigError(
                f"actors: exactly one enabled actor must have role {role!r}, found {holders or 'none'}"
            )
    from sim.events import EVENT_KINDS, SHIFT_KEYS

    for i, ev in enumerate(cfg.events):
        key = f"events[{i}]"
        _check_fields(ev, key + ".")
        if ev.round > cfg.rounds:
            raise ConfigError(
                f"{key}.round = {ev.round} is past the horizon; allowed: 1..{cfg.rounds} (rounds)"
            )
        _check_choice(key + ".kind", ev.kind, tuple(EVENT_KINDS))
        for var, amount in ev.shift.items():
            _check_choice(f"{key}.shift key", var, SHIFT_KEYS)
            _check_number(f"{key}.shift.{var}", amount, -1, 1)
        for name, action in ev.force.items():
            _check_choice(f"{key}.force actor", name, tuple(active))
            _check_choice(f"{key}.force.{name}", action, ACTION_NAMES)


def config_dict(cfg: ModelConfig) -> dict[str, Any]:
    """Plain nested dict of a config (what results record)."""
    return asdict(cfg)


def scalar_params(cfg: ModelConfig) -> dict[str, Any]:
    """The top-level scalar parameters (the columns of a runs table)."""
    return {
        f.name: getattr(cfg, f.name)
        for f in fields(cfg)
        if f.default is not MISSING and not isinstance(getattr(cfg, f.name), dict | list)
    }

"""Model parameters as plain dataclasses: every parameter with its default, range and meaning.

These dataclasses are the single description of every parameter. The Hydra layer
registers them as structured configs (:mod:`sim.hydra.schema`); the Mesa model and
the batch engine build them from plain keyword arguments, so neither needs Hydra.
A field's ``kind`` metadata (see :func:`sim.model.validation.param`) says how the
engines use it; :data:`RUN_PARAMS` and :data:`START_VALUES` are derived from it.

Example:
    >>> from sim.model.params import make_config
    >>> cfg = make_config(assurance=0.6, relief=0.2)
    >>> cfg.regime
    'denuclearization_first'
    >>> make_config(detect_prob=1.5)
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: detect_prob = 1.5 is outside the allowed range [0, 1]
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, asdict, dataclass, fields
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.model.actors import ROLE_EFFECTS
from sim.model.events import EVENT_KINDS, SHIFT_KEYS
from sim.model.names import ACTION_NAMES, ACTION_TABLE, FEATURES, MODELS, ROLES, STATE_VARS, Var
from sim.model.policies import POLICIES
from sim.model.sequencing import REGIMES
from sim.model.validation import (
    ConfigError,
    check_choice,
    check_number,
    coerce_numbers,
    param,
    suggest,
    to_dataclass,
)
from sim.model.validation import validate as validate_tree

__all__ = [
    "ActorConfig",
    "ConfigError",
    "EventConfig",
    "MODEL_KEYS",
    "NO_TYPES",
    "ModelConfig",
    "RUN_PARAMS",
    "P",
    "RunParam",
    "START_VALUES",
    "TYPE_KEYS",
    "config_dict",
    "default_actors",
    "model_defaults",
    "handset_config",
    "make_config",
    "scalar_params",
    "type_priors",
    "validate",
]


def _with_action_weights(cls):
    """Give the class one field per row of the action table, after ``in_kind``: the
    actor's utility weights of that action (``actors.<actor>.concede``, …), so an action
    added to :data:`sim.model.names.ACTION_TABLE` is configured like the others."""
    annotations: dict[str, Any] = {}
    for name, hint in cls.__annotations__.items():
        if name in ACTION_NAMES:
            continue  # declared for type checkers only; made below
        annotations[name] = hint
        if name == "in_kind":
            for action in ACTION_TABLE:
                annotations[action.name] = "dict[str, float]"
                setattr(
                    cls,
                    action.name,
                    param(
                        dict,
                        -100,
                        100,
                        doc=f"utility weights of {action.label.lower()}: feature -> weight",
                        keys=FEATURES,
                    ),
                )
    cls.__annotations__ = annotations
    return cls


@dataclass
@_with_action_weights
class ActorConfig:
    """One state at the table: its role, decision policy and preferences.

    One mapping per action (``concede``, ``hedge``, ``escalate``: the rows of
    :data:`sim.model.names.ACTION_TABLE`) maps utility features (see
    :class:`sim.model.names.Feature`) to weights: the utility of an action is the sum
    of weight x feature. ``effects`` overrides the role's default effect of each
    action on the shared state (see :data:`sim.model.actors.ROLE_EFFECTS`).

    ``inertia`` and ``in_kind`` are the actor's momentum: utility added to the move it
    made last round, and to its counterpart's last move (answering in kind), on top of
    the weighted features (:func:`sim.model.decisions.momentum`).

    ``types`` are the actor's private types (see :data:`TYPE_KEYS`): each run draws
    one from their prior; a type's weights are the actor's weights plus the type's
    own shifts of them, action by action. ``type`` fixes the type instead
    (for a lesson, a test, or the likelihood's check over type profiles).
    """

    role: str = param("ally", doc="target | principal | ally | enforcer", choices=ROLES)
    enabled: bool = param(True, doc="set false to remove a default actor")
    policy: str = param(
        "logit",
        doc="a registered decision policy (sim.model.policies)",
        choices=lambda: tuple(POLICIES),  # plug-ins register theirs when first asked
    )
    trust: float = param(0.5, 0, 1, "initial trust in every other actor")
    inertia: float = param(
        0.0, -10, 10, "utility of repeating its own last move (state dependence)"
    )
    in_kind: float = param(
        0.0, -10, 10, "utility of answering its counterpart's last move in kind (reciprocity)"
    )
    if TYPE_CHECKING:  # one field per action, made from the table (_with_action_weights)
        concede: dict[str, float] = param(dict)
        hedge: dict[str, float] = param(dict)
        escalate: dict[str, float] = param(dict)
    effects: dict[str, dict[str, float]] = param(
        dict, doc="action -> state var -> push (replaces the role's)"
    )
    script: list[str] = param(
        list, doc="actions for scripted play, one per round", choices=ACTION_NAMES
    )
    grit_period: int = param(4, 1, 1000, "GRIT: rounds between unilateral concessions")
    rule: dict[str, float] = param(
        dict, doc="its policy's own parameters by name (a plug-in rule's), read as ctx.params"
    )
    types: dict[str, dict[str, Any] | None] = param(
        dict,
        doc="private types: name -> {prior, trustworthy, covert, shifts of the weights by action}",
    )
    type: str = param(
        "", doc="fix the actor's type to one of its types ('' draws it from the prior)"
    )


#: What a type may declare. ``prior``: its prior probability (one type per actor may
#: leave it out and take the rest, 1 - the others'); ``trustworthy``: 1 if the type
#: keeps its side of a deal (trust in an actor is the belief-weighted mean of its
#: types' ``trustworthy``); ``covert``: for the target, the chance it works at
#: undeclared sites while it concedes or escalates (what imagery can catch);
#: ``inertia``/``in_kind``: the type's own momentum (default: the actor's);
#: ``concede``/``hedge``/``escalate`` (every action of the table): feature -> shift added
#: to the actor's weights.
TYPE_KEYS = ("prior", "trustworthy", "covert", "inertia", "in_kind", *ACTION_NAMES)
#: Type keys that are utilities (any sign) rather than probabilities in [0, 1].
TYPE_MOMENTUM = ("inertia", "in_kind")


#: An ``actors`` override that removes the default actors' private types (the
#: trust-rule model of earlier versions: ``make_config(model="trust_rule", actors=NO_TYPES)``).
NO_TYPES: dict[str, dict] = {
    "DPRK": {"types": {"dealmaker": None, "holdout": None}},
    "USA": {"types": {"conciliatory": None, "resolved": None}},
}


def type_priors(types: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each type's prior, the one left out taking the rest.

    Example:
        >>> type_priors({"dealmaker": {"prior": 0.3}, "holdout": {}})
        {'dealmaker': 0.3, 'holdout': 0.7}
        >>> type_priors({})
        {}
    """
    given = {n: t.get("prior") for n, t in types.items()}
    rest = 1.0 - sum(p for p in given.values() if p is not None)
    return {n: (rest if p is None else float(p)) for n, p in given.items()}


#: Where the model's default preferences live: ``estimated.yaml`` (the default, written by
#: ``experiments/calibrate.py`` from the pooled fit of the coded records) and
#: ``handset.yaml`` (the preferences set by hand, ``actors=handset``).
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


@functools.cache
def _defaults_file(name: str) -> dict:
    import yaml  # (PyYAML, through omegaconf)

    path = DEFAULTS_DIR / f"{name}.yaml"
    if name == "estimated" and not path.exists():  # before the first calibration
        path = DEFAULTS_DIR / "handset.yaml"
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def model_defaults(name: str = "estimated") -> dict:
    """The default preferences: ``rationality`` and the four default ``actors`` (a copy).

    ``estimated`` (the default) is the model fitted to the coded records; ``handset`` the
    preferences set by hand before it (docs/model.md §8.3).

    Example:
        >>> sorted(model_defaults()["actors"]), model_defaults("handset")["rationality"]
        (['DPRK', 'PRC', 'ROK', 'USA'], 5.0)
    """
    import copy

    return copy.deepcopy(_defaults_file(name))


def default_actors(name: str = "estimated") -> dict[str, ActorConfig]:
    """The four default actors with their preferences (tabled in ``docs/model.md`` §8.3):
    the estimated ones, or with ``name="handset"`` those set by hand."""
    return {n: ActorConfig(**spec) for n, spec in model_defaults(name)["actors"].items()}


@dataclass
class EventConfig:
    """A scheduled shock: at the start of ``round`` the shared state shifts.

    ``kind`` picks preset shifts (see :data:`sim.model.events.EVENT_KINDS`); ``shift``
    adds to or overrides them; ``force`` makes actors play a given action that
    round (e.g. ``{DPRK: escalate}`` for a test).
    """

    round: int = param(1, 1, None, "round at whose start the event happens")
    kind: str = param(
        "summit",
        doc="summit | cancelled_meeting | report | test | relief_offer | custom",
        choices=lambda: tuple(EVENT_KINDS),
    )
    label: str = param("", doc="words for the narrative and plots")
    shift: dict[str, float] = param(
        dict, -1, 1, "state var (or trust) -> added amount", keys=SHIFT_KEYS
    )
    force: dict[str, str] = param(dict, doc="actor -> action forced this round")


def _with_start_values(cls):
    """Give the class one field per state variable, after ``regime``: its starting value
    (``kind="state"``, in [0, 1]), with the default and meaning of its row of
    :class:`sim.model.names.Var`. A variable added to the table is a parameter at once."""
    annotations: dict[str, Any] = {}
    for name, hint in cls.__annotations__.items():
        if name in STATE_VARS:
            continue  # declared for type checkers only; made below
        annotations[name] = hint
        if name == "regime":
            for v in Var:
                annotations[v.name] = "float"
                setattr(cls, v.name, param(v.start, 0, 1, f"{v.doc} at the start", kind="state"))
    cls.__annotations__ = annotations
    return cls


@dataclass
@_with_start_values
class ModelConfig:
    """Every parameter of one negotiation run (defaults: the 2018 baseline).

    The starting value of each state variable (``assurance``, ``relief``, …; the rows of
    :class:`sim.model.names.Var`) is a parameter of the same name; assurance, relief,
    enforcement and tension also revert to it (:func:`sim.model.dynamics.transition`).
    """

    rounds: int = param(200, 1, 100_000, "rounds in the horizon")
    model: str = param(
        "beliefs",
        doc="beliefs (Bayesian beliefs over private types set trust) | trust_rule (the heuristic rule)",
        choices=MODELS,
    )
    regime: str = param(
        "denuclearization_first", doc="sequencing regime", choices=lambda: tuple(REGIMES)
    )
    if TYPE_CHECKING:  # one field per state variable, made from the table (_with_start_values)
        assurance: float = param(0.4)
        relief: float = param(0.0)
        enforcement: float = param(0.9)
        denuclearization: float = param(0.0)
        undeclared: float = param(0.3)
        tension: float = param(0.3)
    detect_prob: float = param(0.3, 0, 1, "P(covert hedging is caught) per round", kind="run")
    false_alarm_prob: float = param(
        0.05, 0, 1, "P(a false alarm) per round without hedging", kind="run"
    )
    detection_response: float = param(
        1.0, 0, 10, "principal's urge to escalate after a detection", kind="run"
    )
    snapback: float = param(
        0.5, 0, 1, "share of conditional relief withdrawn on a detection", kind="run"
    )
    stalemate_cost: float = param(0.0, 0, 5, "how much stalemate hurts (ripeness)", kind="run")
    rationality: float = param(
        _defaults_file("estimated")["rationality"], 0, 100,
        "logit precision: 0 random, large = best reply (the estimated default; hand-set: 5)", kind="run",
    )  # fmt: skip
    step_size: float = param(0.1, 0, 1, "how far one action moves the shared state", kind="run")
    reversion: float = param(
        0.02, 0, 1, "per-round pull of assurance/relief/enforcement back to their start", kind="run"
    )
    tension_decay: float = param(
        0.05, 0, 1, "per-round pull of tension back to its resting level", kind="run"
    )
    reversibility: float = param(
        0.01, 0, 1, "per-round decay of verified denuclearization", kind="run"
    )
    trust_gain: float = param(0.1, 0, 1, "trust gained when the other concedes", kind="run")
    trust_loss: float = param(
        0.2, 0, 1, "trust lost when the other escalates or is caught hedging", kind="run"
    )
    agreement_threshold: float = param(
        0.6, 0, 1, "denuclearization and package needed for agreement", kind="run"
    )
    breakdown_threshold: float = param(0.8, 0, 1, "tension at which talks break down", kind="run")
    hedged_margin: float = param(
        0.05, 0, 1, "growth of undeclared capability marking a hedged stalemate", kind="run"
    )
    stalemate_window: float = param(
        50.0,
        1,
        100_000,
        "rounds without progress after which undecided talks are a stalemate",
        kind="run",
    )
    progress_step: float = param(
        0.01,
        0,
        1,
        "rise of min(denuclearization, delivered package) that counts as progress",
        kind="run",
    )
    actors: dict[str, ActorConfig] = param(default_actors, doc="the states at the table")
    events: list[EventConfig] = param(list, doc="scheduled shocks")


#: Every top-level key of a model config.
MODEL_KEYS = tuple(f.name for f in fields(ModelConfig))
#: Per-run scalars of the mathematics (``kind="run"``), in declaration order.
RUN_PARAMS = tuple(f.name for f in fields(ModelConfig) if f.metadata.get("kind") == "run")
#: Starting values of the state variables (``kind="state"``), one per :class:`~sim.model.names.Var`.
START_VALUES = tuple(f.name for f in fields(ModelConfig) if f.metadata.get("kind") == "state")
assert START_VALUES == STATE_VARS, "every state variable needs a start value, in Var order"

#: Positions of the per-run scalars in a compiled ``theta`` array, by name:
#: ``theta[P.detect_prob]``. Derived from the ``kind="run"`` declarations above,
#: plus ``kappa``, the conditionality of the sequencing regime
#: (:func:`sim.model.sequencing.conditionality`).
RunParam = IntEnum("RunParam", [*RUN_PARAMS, "kappa"], start=0)
P: type[IntEnum] = RunParam  # (a functional enum: members by name, ``P[name]``)


def handset_config(**params: Any) -> ModelConfig:
    """:func:`make_config` on the hand-set model (``actors=handset``): the preferences and
    rationality set by hand before the model was estimated, with ``params`` over them.

    Example:
        >>> handset_config().rationality, handset_config().actors["DPRK"].concede["bias"]
        (5.0, -1.6)
    """
    params.setdefault("rationality", model_defaults("handset")["rationality"])
    return _make_config(default_actors("handset"), params)


def make_config(**params: Any) -> ModelConfig:
    """Build and validate a :class:`ModelConfig` from plain keyword arguments.

    ``actors`` entries are merged over the default actors (so ``actors={"JPN":
    {"role": "ally"}}`` adds Japan, and ``actors={"DPRK": {"concede": {"package": 5}}}``
    changes one weight); ``events`` is a list of dicts. numpy scalars are accepted
    wherever a number is.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    return _make_config(default_actors(), params)


def _make_config(actors: dict[str, ActorConfig], params: dict[str, Any]) -> ModelConfig:
    for k in params:
        if k not in MODEL_KEYS:
            raise ConfigError(
                f"{k} is not a model parameter; allowed: {', '.join(MODEL_KEYS)}"
                + suggest(k, MODEL_KEYS)
            )
    params = dict(params)
    given = params.pop("actors", None) or {}
    if not isinstance(given, dict):
        raise ConfigError(f"actors = {given!r} must be a mapping of actor name -> settings")
    for name, spec in given.items():
        if not (is_dataclass_instance(spec) or isinstance(spec, dict)):
            raise ConfigError(
                f"actors.{name} = {spec!r} must be a mapping of actor settings "
                f"(role, policy, trust, concede, hedge, escalate, …)"
            )
        complete = is_dataclass_instance(spec)  # a whole ActorConfig replaces; a dict merges
        spec = asdict(spec) if complete else dict(spec)
        if complete and isinstance(spec.get("types"), dict):  # a type set to None is removed
            spec["types"] = {k: v for k, v in spec["types"].items() if v is not None}
        if name in actors and not complete:
            base = asdict(actors[name])
            # weights merge key by key so one preference can be changed alone
            for action in ACTION_NAMES:
                if action in spec and spec[action] is not None:
                    if not isinstance(spec[action], dict):
                        raise ConfigError(
                            f"actors.{name}.{action} = {spec[action]!r} must be a mapping feature -> weight"
                        )
                    spec[action] = {**base[action], **spec[action]}
            if isinstance(spec.get("types"), dict) and spec["types"]:  # {} removes every type
                spec["types"] = merge_types(base["types"], spec["types"], f"actors.{name}.types")
            spec = {**base, **spec}
        actors[name] = to_dataclass(ActorConfig, spec, f"actors.{name}")
    events = params.pop("events", None) or []
    if not isinstance(events, list | tuple):
        raise ConfigError(f"events = {events!r} must be a list of events")
    events = [to_dataclass(EventConfig, e, f"events[{i}]") for i, e in enumerate(events)]
    cfg = ModelConfig(**params, actors=actors, events=events)
    for obj in (cfg, *actors.values(), *events):
        coerce_numbers(obj)
    validate(cfg)
    return cfg


def merge_types(base: dict, given: dict, key: str) -> dict:
    """Types merged type by type and key by key (``types.holdout.covert=0.8`` changes one
    number); a type set to None is removed, and an empty mapping (``types: {}``) given
    for an actor removes all of them (see :func:`make_config`)."""
    out = {n: dict(t) for n, t in base.items()}
    for name, spec in given.items():
        if spec is None:
            out.pop(name, None)
            continue
        if not isinstance(spec, dict):
            raise ConfigError(
                f"{key}.{name} = {spec!r} must be a mapping of {', '.join(TYPE_KEYS)}"
            )
        merged = dict(out.get(name, {}))
        for k, v in spec.items():
            if k in ACTION_NAMES and isinstance(v, dict) and isinstance(merged.get(k), dict):
                v = {**merged[k], **v}
            merged[k] = v
        out[name] = merged
    return out


def validate_types(actor: ActorConfig, key: str) -> None:
    """Types: known keys, numbers in range, priors in [0, 1] that sum to 1."""
    if not isinstance(actor.types, dict):
        raise ConfigError(f"{key}.types = {actor.types!r} must be a mapping type name -> settings")
    missing = []
    for name, spec in actor.types.items():
        tkey = f"{key}.types.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{tkey} = {spec!r} must be a mapping of {', '.join(TYPE_KEYS)}")
        for k, v in spec.items():
            check_choice(f"{tkey} key", k, TYPE_KEYS)
            if k in ACTION_NAMES:
                if not isinstance(v, dict):
                    raise ConfigError(f"{tkey}.{k} = {v!r} must be a mapping feature -> shift")
                for feat, w in v.items():
                    check_choice(f"{tkey}.{k} feature", feat, FEATURES)
                    check_number(f"{tkey}.{k}.{feat}", w, -100, 100)
            elif k == "prior" and v is None:
                missing.append(name)
            elif k in TYPE_MOMENTUM:
                check_number(f"{tkey}.{k}", v, -10, 10)
            else:
                check_number(f"{tkey}.{k}", v, 0, 1)
        if "prior" not in spec:
            missing.append(name)
    if len(missing) > 1:
        raise ConfigError(
            f"{key}.types: only one type may leave out its prior (it takes the rest); "
            f"{', '.join(missing)} do"
        )
    priors = type_priors(actor.types)
    total = sum(priors.values())
    if actor.types and (min(priors.values()) < -1e-9 or abs(total - 1.0) > 1e-9):
        shown = ", ".join(f"{n}={p:g}" for n, p in priors.items())
        raise ConfigError(
            f"{key}.types priors ({shown}) must be in [0, 1] and sum to 1"
            + (" (the type without a prior takes the rest)" if missing else "")
        )
    if actor.type:
        check_choice(f"{key}.type", actor.type, tuple(actor.types) or ("",))


def is_dataclass_instance(obj: Any) -> bool:
    """True for an instance (not a class) of a dataclass."""
    return hasattr(type(obj), "__dataclass_fields__")


def validate(cfg: ModelConfig) -> None:
    """Raise :class:`ConfigError` for the first value the model does not allow: every
    field against its :func:`param` metadata (:func:`sim.model.validation.validate`), then
    the rules between fields (:func:`actor_rules`, :func:`model_rules`)."""
    validate_tree(cfg)


def actor_rules(actor: ActorConfig, prefix: str) -> None:
    """What an actor's fields must satisfy together: effects by action and state
    variable, its rule's declared parameters, its types, a script for scripted play."""
    key = prefix.rstrip(".")
    for action, pushes in (actor.effects or {}).items():
        check_choice(f"{key}.effects action", action, ACTION_NAMES)
        if not isinstance(pushes, dict):
            raise ConfigError(
                f"{key}.effects.{action} = {pushes!r} must be a mapping state var -> push"
            )
        for var, push in pushes.items():
            check_choice(f"{key}.effects.{action} state var", var, STATE_VARS)
            check_number(f"{key}.effects.{action}.{var}", push, -5, 5)
    if actor.rule:
        from sim.model.policies import policy_class

        declared = tuple(policy_class(actor.policy).parameters)
        for name, value in actor.rule.items():
            check_choice(f"{key}.rule ({actor.policy}'s parameters)", name, declared)
            check_number(f"{key}.rule.{name}", value, -1e6, 1e6)
    validate_types(actor, key)
    if actor.policy == "scripted" and actor.enabled and not actor.script:
        raise ConfigError(f"{key}.script = [] but {key}.policy = 'scripted' needs actions")


def model_rules(cfg: ModelConfig, prefix: str = "") -> None:
    """What the model's fields must satisfy together: one enabled target and one
    principal; events within the horizon, forcing enabled actors' known actions."""
    active = {n: a for n, a in cfg.actors.items() if a.enabled}
    for role in ("target", "principal"):
        holders = [n for n, a in active.items() if a.role == role]
        if len(holders) != 1:
            raise ConfigError(
                f"actors: exactly one enabled actor must have role {role!r}, found {holders or 'none'}"
            )
    for i, ev in enumerate(cfg.events):
        key = f"events[{i}]"
        if ev.round > cfg.rounds:
            raise ConfigError(
                f"{key}.round = {ev.round} is past the horizon; allowed: 1..{cfg.rounds} (rounds)"
            )
        for name, action in ev.force.items():
            check_choice(f"{key}.force actor", name, tuple(active))
            check_choice(f"{key}.force.{name}", action, ACTION_NAMES)


ActorConfig.__validate__ = actor_rules  # type: ignore[attr-defined]
ModelConfig.__validate__ = model_rules  # type: ignore[attr-defined]


def role_effects(actor: ActorConfig) -> dict[str, dict[str, float]]:
    """The push of each action on each state variable for ``actor``: its role's
    defaults (:data:`sim.model.actors.ROLE_EFFECTS`), replaced action by action by its own ``effects``."""
    return {**ROLE_EFFECTS[actor.role], **(actor.effects or {})}


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

"""Configs compiled to arrays: the input of every engine and of the likelihood.

Runs that share a :class:`Structure` (the same actors, roles, policies,
scripts, events and horizon) are computed together. Their numeric parameters
live in :class:`Compiled` with a leading axis over *distinct* parameter sets,
and ``slot[r]`` says which set run r uses, so 100 seeds of one parameter point
store their parameters once.

Per-run scalars are one ``theta`` row each, indexed by name
(``theta[:, P.detect_prob]``), in the order of their ``kind="run"``
declarations in :class:`~sim.model.params.ModelConfig`; nothing here lists them
again.

Example:
    >>> from sim.model.params import P, make_config
    >>> c = compile_configs([make_config(detect_prob=0.5)] * 3)
    >>> c.n_runs, c.n_sets, float(c.theta[0, P.detect_prob]), c.structure.names
    (3, 1, 0.5, ('USA', 'DPRK', 'ROK', 'PRC'))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.decisions import utility_terms
from sim.model.events import SHIFT_KEYS, event_effects
from sim.model.names import ACTION_NAMES, FEATURES, MODELS, N_ACTIONS, STATE_VARS, TP, TypeParam
from sim.model.params import RUN_PARAMS, ModelConfig, P, role_effects, type_priors
from sim.model.policies import code as policy_code
from sim.model.policies import policy_class
from sim.model.rng import IMAGERY, stream_id
from sim.model.sequencing import conditionality

_ACTION_CODE = {name: i for i, name in enumerate(ACTION_NAMES)}


@dataclass(frozen=True, eq=False)
class Structure:
    """What runs computed together share: who sits at the table and what is scheduled.

    Attributes:
        names: the enabled actors, in actor order.
        roles: each actor's role.
        rounds: the horizon.
        target: the target's index.
        principal: the principal's index.
        counterpart: (A,) whom each actor watches: the target, or for it the principal.
        policy: (A,) each actor's policy code (:mod:`sim.model.policies`).
        rule_params: (A, M) each actor's rule parameters, in the order its policy declares
            them (:attr:`sim.model.policies.Policy.parameters`; a GRIT period, …): what a
            rule reads as ``ctx.params`` (M: the most any actor's rule has, at least 1).
        script: (rounds, A) scripted action code, -1 where the actor is not scripted.
        forced: (rounds, A) action code forced by an event, -1 for none.
        report: (rounds,) a published report flags the target's hedging that round.
        shift: (rounds, len(SHIFT_KEYS)) event shifts at the start of each round.
        streams: (A + 1,) uint64 random-stream ids: one per actor (by name), then imagery.
        model: the code of the model of what actors know (index in :data:`~sim.model.names.MODELS`).
        type_names: each actor's type names (empty: one implicit type).
        n_types: (A,) each actor's number of declared types (0: one implicit type, whose
            trust follows ``actors.<actor>.trust`` and is never learned).
        fixed_type: (A,) the type an actor is fixed to, -1 where it is drawn from the prior.
        rest_type: (A,) the type whose prior is the rest (1 - the others'), -1 for none.
    """

    names: tuple[str, ...]
    roles: tuple[str, ...]
    rounds: int
    target: int
    principal: int
    counterpart: np.ndarray
    policy: np.ndarray
    rule_params: np.ndarray
    script: np.ndarray
    forced: np.ndarray
    report: np.ndarray
    shift: np.ndarray
    streams: np.ndarray
    model: int = 0
    type_names: tuple[tuple[str, ...], ...] = ()
    n_types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fixed_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rest_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_actors(self) -> int:
        return len(self.names)

    @property
    def model_name(self) -> str:
        return MODELS[self.model]

    def type_name(self, actor: int, k: int) -> str:
        """The name of type ``k`` of actor ``actor`` ('' for an actor without types)."""
        names = self.type_names[actor]
        return names[k] if names else ""

    def tracked(self, full_trust: bool = False) -> np.ndarray:
        """The trust columns the engines update: those decisions read (trust in the
        target and in the principal), or every column with ``full_trust``."""
        if full_trust:
            return np.arange(self.n_actors, dtype=np.int64)
        return np.array(sorted({self.target, self.principal}), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Compiled:
    """Parameters of a group of runs with one :class:`Structure`, as arrays.

    Attributes:
        structure: what the runs share.
        theta: (U, len(P)) per-run scalars by name, e.g. ``theta[:, P.rationality]``.
        initial: (U, V) the state at round 0 (and the resting levels for drift).
        trust0: (U, A) each actor's initial trust in every other actor.
        weights: (U, A, N, K) utility weights ``weights[u, actor, action, feature]``
            (N = :data:`~sim.model.names.N_ACTIONS`, the rows of the action table).
        effects: (U, A, N, V) each action's push on each state variable.
        tshift: (U, A, Kt, N, K) each type's shift of the weights (a type's weights are
            ``weights + tshift[..., type, :, :]``); Kt is the most types any actor has.
        tparams: (U, A, Kt, len(TypeParam)) each type's prior, trustworthiness,
            covert work and momentum (:class:`~sim.model.names.TypeParam`); padding types
            have prior 0.
        slot: (R,) which parameter set each run uses.
        coef, terms: (U, A, Kt, N, M) the weights plus each type's shift, as the
            engines read them: the nonzero ones and their features
            (:func:`sim.model.decisions.utility_terms`), derived when the object is made.
    """

    structure: Structure
    theta: np.ndarray
    initial: np.ndarray
    trust0: np.ndarray
    weights: np.ndarray
    effects: np.ndarray
    tshift: np.ndarray
    tparams: np.ndarray
    slot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coef: np.ndarray = field(init=False, repr=False)
    terms: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        # the weights as the engines read them: nonzero terms only (utility_terms)
        coef, terms = utility_terms(self.weights, self.tshift)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "terms", terms)

    @property
    def n_runs(self) -> int:
        return int(self.slot.shape[0])

    @property
    def n_sets(self) -> int:
        return int(self.theta.shape[0])

    def param(self, name: str) -> np.ndarray:
        """One per-run scalar for every run, e.g. ``c.param("detect_prob")``."""
        return self.theta[self.slot, P[name]]


def rule_values(actor) -> tuple[float, ...]:
    """An actor's rule parameters in the order its policy declares them: each from
    ``actors.<actor>.rule.<name>``, else the actor's field of that name (``grit_period``),
    else the rule's default (:attr:`sim.model.policies.Policy.parameters`).

    Example:
        >>> from sim.model.params import ActorConfig
        >>> rule_values(ActorConfig(role="principal", policy="grit", grit_period=6))
        (6.0,)
    """
    spec = policy_class(actor.policy).parameters
    return tuple(
        float(actor.rule[name] if name in actor.rule else getattr(actor, name, default))
        for name, default in spec.items()
    )


def rule_params(actors: list) -> np.ndarray:
    """(A, M) the actors' :func:`rule_values`, zero-padded to the longest (M at least 1)."""
    rows = [rule_values(a) for a in actors]
    out = np.zeros((len(rows), max([1, *map(len, rows)])))
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def structure_key(cfg: ModelConfig) -> tuple:
    """What must be equal for configs to share one batch."""
    actors = tuple(
        (n, a.role, a.policy, tuple(a.script), rule_values(a), tuple(a.types), a.type)
        for n, a in cfg.actors.items()
        if a.enabled
    )
    events = tuple(
        (e.round, e.kind, tuple(sorted(e.shift.items())), tuple(sorted(e.force.items())))
        for e in cfg.events
    )
    return (cfg.rounds, actors, events, cfg.model)


def compile_structure(cfg: ModelConfig) -> Structure:
    """The :class:`Structure` of a validated config."""
    actors = {n: a for n, a in cfg.actors.items() if a.enabled}
    names = tuple(actors)
    roles = tuple(a.role for a in actors.values())
    A, R = len(names), cfg.rounds
    target, principal = roles.index("target"), roles.index("principal")
    script = np.full((R, A), -1, dtype=np.int64)
    for i, a in enumerate(actors.values()):
        if a.policy == "scripted":
            seq = [_ACTION_CODE[s] for s in a.script]
            script[:, i] = (seq + [seq[-1]] * R)[:R]  # after the script: repeat its last action
    forced = np.full((R, A), -1, dtype=np.int64)
    report = np.zeros(R, dtype=np.bool_)
    shift = np.zeros((R, len(SHIFT_KEYS)))
    for ev in cfg.events:
        s, force, flagged = event_effects(ev, names[target])
        for k, v in s.items():
            shift[ev.round - 1, SHIFT_KEYS.index(k)] += v
        for n, act in force.items():
            forced[ev.round - 1, names.index(n)] = _ACTION_CODE[act]
        report[ev.round - 1] |= flagged
    return Structure(
        names=names,
        roles=roles,
        rounds=R,
        target=target,
        principal=principal,
        counterpart=np.array(
            [principal if i == target else target for i in range(A)], dtype=np.int64
        ),
        policy=np.array([policy_code(a.policy) for a in actors.values()], dtype=np.int64),
        rule_params=rule_params(list(actors.values())),
        script=script,
        forced=forced,
        report=report,
        shift=shift,
        streams=np.array([stream_id(n) for n in (*names, IMAGERY)], dtype=np.uint64),
        model=MODELS.index(cfg.model),
        type_names=tuple(tuple(a.types) for a in actors.values()),
        n_types=np.array([len(a.types) for a in actors.values()], dtype=np.int64),
        fixed_type=np.array(
            [list(a.types).index(a.type) if a.type else -1 for a in actors.values()],
            dtype=np.int64,
        ),
        rest_type=np.array(
            [_rest_type(a.types) for a in actors.values()],
            dtype=np.int64,
        ),
    )


def _rest_type(types: dict) -> int:
    """The index of the type that takes the rest of the prior, or -1."""
    for k, t in enumerate(types.values()):
        if t.get("prior") is None:
            return k
    return -1


def compile_configs(cfgs: list[ModelConfig]) -> Compiled:
    """Compile validated configs with one structure into arrays (one slot per run).

    Configs repeated in the list (the same object, e.g. many seeds of one point)
    are compiled once.

    Raises:
        ValueError: if the configs do not share a structure (group them first
            with :func:`structure_key`).
    """
    first = cfgs[0]
    distinct: dict[int, int] = {}
    slot = np.array([distinct.setdefault(id(c), len(distinct)) for c in cfgs], dtype=np.int64)
    first_of: dict[int, ModelConfig] = {}
    for c in cfgs:
        first_of.setdefault(id(c), c)
    unique = [first_of[k] for k in distinct]
    key = structure_key(first)  # one check per distinct config, not per run
    if any(structure_key(c) != key for c in unique[1:]):
        raise ValueError("configs differ in structure; group them by structure_key first")
    structure = compile_structure(first)
    names = structure.names
    U, A = len(unique), len(names)
    theta = np.zeros((U, len(P)))
    initial = np.zeros((U, len(STATE_VARS)))
    trust0 = np.zeros((U, A))
    weights = np.zeros((U, A, N_ACTIONS, len(FEATURES)))
    effects = np.zeros((U, A, N_ACTIONS, len(STATE_VARS)))
    Kt = max(1, int(structure.n_types.max()))
    tshift = np.zeros((U, A, Kt, N_ACTIONS, len(FEATURES)))
    tparams = np.zeros((U, A, Kt, len(TypeParam)))
    feat_ix = {f: k for k, f in enumerate(FEATURES)}
    var_ix = {v: j for j, v in enumerate(STATE_VARS)}
    for u, cfg in enumerate(unique):
        for name in RUN_PARAMS:
            theta[u, P[name]] = getattr(cfg, name)
        theta[u, P["kappa"]] = conditionality(cfg.regime)
        for j, v in enumerate(STATE_VARS):
            initial[u, j] = getattr(cfg, v)
        for i, n in enumerate(names):
            actor = cfg.actors[n]
            trust0[u, i] = actor.trust
            pushes = role_effects(actor)
            for a, action in enumerate(ACTION_NAMES):
                for f, w in getattr(actor, action).items():
                    weights[u, i, a, feat_ix[f]] = w
                for v, push in pushes.get(action, {}).items():
                    effects[u, i, a, var_ix[v]] = push
            for k in range(Kt):  # every type row (padding too) has the actor's momentum
                tparams[u, i, k, TP.inertia] = actor.inertia
                tparams[u, i, k, TP.in_kind] = actor.in_kind
            if not actor.types:  # one implicit type: prior 1, trust as configured
                tparams[u, i, 0, TP.prior] = 1.0
                tparams[u, i, 0, TP.trustworthy] = actor.trust
                continue
            types = {n: t or {} for n, t in actor.types.items()}  # (validated: mappings)
            priors = type_priors(types)
            for k, (tname, spec) in enumerate(types.items()):
                tparams[u, i, k, TP.prior] = priors[tname]
                tparams[u, i, k, TP.trustworthy] = spec.get("trustworthy", 0.5)
                tparams[u, i, k, TP.covert] = spec.get("covert", 0.0)
                tparams[u, i, k, TP.inertia] = spec.get("inertia", actor.inertia)
                tparams[u, i, k, TP.in_kind] = spec.get("in_kind", actor.in_kind)
                for a, action in enumerate(ACTION_NAMES):
                    for f, w in (spec.get(action) or {}).items():
                        tshift[u, i, k, a, feat_ix[f]] = w
    return Compiled(structure, theta, initial, trust0, weights, effects, tshift, tparams, slot)


@dataclass(frozen=True)
class Slot:
    """Where a numeric config key lives in a :class:`Compiled`: an array and an index.

    Attributes:
        key: the dotted config key, as ``stalemate`` accepts it (``rationality``,
            ``actors.DPRK.concede.package``, ``actors.USA.trust``, ``tension``), or a
            key naming several actors at once (:func:`slot`).
        array: ``theta``, ``initial``, ``trust0``, ``weights``, ``effects``, ``tshift`` or
            ``tparams``.
        index: the index within one parameter set.
        bounds: the allowed range (None: unbounded on that side).
        also: further indices in the same array that take the same value (a key shared
            by several actors, or an actor's momentum in each of its type rows).
    """

    key: str
    array: str
    index: tuple
    bounds: tuple[float | None, float | None]
    also: tuple[tuple, ...] = ()

    @property
    def indices(self) -> tuple[tuple, ...]:
        """Every index the key's value is written to."""
        return (self.index, *self.also)

    def write(self, arrays: dict, column) -> None:
        """Write ``column`` (one value per parameter set) into every index of the key."""
        for idx in self.indices:
            arrays[self.array][(slice(None), *idx)] = column


#: Actor-level keys that are numbers of every type row (``tparams``), with their range.
_MOMENTUM = {"inertia": (-10.0, 10.0), "in_kind": (-10.0, 10.0)}


def actor_keys(structure: Structure, key: str) -> list[str]:
    """The concrete per-actor keys a key stands for: itself, or for a key naming a role
    (``target.concede.bias``) or every actor (``actors.*.inertia``) one key per actor.

    Example:
        >>> from sim.model.params import make_config
        >>> s = compile_configs([make_config()]).structure
        >>> actor_keys(s, "target.concede.bias"), actor_keys(s, "actors.*.inertia")[:2]
        (['actors.DPRK.concede.bias'], ['actors.USA.inertia', 'actors.DPRK.inertia'])
    """
    from sim.model.names import ROLES
    from sim.model.validation import ConfigError

    parts = key.split(".")
    if parts[0] in ROLES and len(parts) >= 2:
        names = [n for n, r in zip(structure.names, structure.roles) if r == parts[0]]
        if not names:
            raise ConfigError(
                f"{key}: no actor of these runs has the role {parts[0]!r}; roles: "
                + ", ".join(f"{n} {r}" for n, r in zip(structure.names, structure.roles))
            )
        return [".".join(["actors", n, *parts[1:]]) for n in names]
    if len(parts) >= 3 and parts[0] == "actors" and parts[1] == "*":
        return [".".join(["actors", n, *parts[2:]]) for n in structure.names]
    return [key]


def slot(structure: Structure, key: str) -> Slot:
    """Resolve a dotted config key to its place in the compiled arrays.

    A key may name one actor (``actors.DPRK.concede.bias``), every actor of a role
    (``target.concede.bias``, ``ally.inertia``) or every actor (``actors.*.inertia``):
    the last two tie the actors to one value (:func:`actor_keys`).

    Example:
        >>> from sim.model.params import make_config
        >>> s = compile_configs([make_config()]).structure
        >>> slot(s, "actors.DPRK.concede.package").index, slot(s, "rationality").array
        ((1, 0, 1), 'theta')
        >>> len(slot(s, "actors.*.inertia").indices)   # 4 actors x 2 type rows
        8

    Raises:
        ConfigError: for a key that is not a numeric parameter of these runs.
    """
    keys = actor_keys(structure, key)
    if keys != [key]:
        subs = [_one_slot(structure, k) for k in keys]
        first = subs[0]
        indices = tuple(idx for sub in subs for idx in sub.indices)
        return Slot(key, first.array, indices[0], first.bounds, indices[1:])
    return _one_slot(structure, key)


def _one_slot(structure: Structure, key: str) -> Slot:
    from dataclasses import fields as dc_fields

    from sim.model.names import Feature, Var
    from sim.model.validation import ConfigError

    ranges = {f.name: f.metadata.get("range", (None, None)) for f in dc_fields(ModelConfig)}
    parts = key.split(".")
    if key in RUN_PARAMS:
        return Slot(key, "theta", (int(P[key]),), ranges[key])
    if key in STATE_VARS:
        return Slot(key, "initial", (int(Var[key]),), (0.0, 1.0))
    if parts[0] == "actors" and len(parts) >= 3:
        name = parts[1]
        if name not in structure.names:
            raise ConfigError(
                f"{key}: {name!r} is not an actor of these runs; actors: {', '.join(structure.names)}"
            )
        i = structure.names.index(name)
        if len(parts) == 3 and parts[2] == "trust":
            return Slot(key, "trust0", (i,), (0.0, 1.0))
        if len(parts) == 3 and parts[2] in _MOMENTUM:
            rows = max(1, int(structure.n_types.max(initial=0)))
            tp = int(TypeParam[parts[2]])
            return Slot(key, "tparams", (i, 0, tp), _MOMENTUM[parts[2]],
                        tuple((i, k, tp) for k in range(1, rows)))  # fmt: skip
        types = structure.type_names[i]
        if len(parts) >= 5 and parts[2] == "types" and parts[3] in types:
            k = types.index(parts[3])
            if len(parts) == 5 and parts[4] in TypeParam.__members__:
                if parts[4] == "prior" and structure.rest_type[i] == k:
                    raise ConfigError(
                        f"{key}: this type takes the rest of the prior; set the other types' priors"
                    )
                bounds = _MOMENTUM.get(parts[4], (0.0, 1.0))
                return Slot(key, "tparams", (i, k, int(TypeParam[parts[4]])), bounds)
            if len(parts) == 6 and parts[4] in ACTION_NAMES and parts[5] in FEATURES:
                return Slot(
                    key,
                    "tshift",
                    (i, k, ACTION_NAMES.index(parts[4]), int(Feature[parts[5]])),
                    (-100.0, 100.0),
                )
        if len(parts) == 4 and parts[2] in ACTION_NAMES and parts[3] in FEATURES:
            return Slot(
                key,
                "weights",
                (i, ACTION_NAMES.index(parts[2]), int(Feature[parts[3]])),
                (-100.0, 100.0),
            )
        if (
            len(parts) == 5
            and parts[2] == "effects"
            and parts[3] in ACTION_NAMES
            and parts[4] in STATE_VARS
        ):
            return Slot(
                key, "effects", (i, ACTION_NAMES.index(parts[3]), int(Var[parts[4]])), (-5.0, 5.0)
            )
    raise ConfigError(
        f"{key} is not a numeric parameter that can be set per run; allowed: a per-run parameter "
        f"({', '.join(RUN_PARAMS)}), a starting value ({', '.join(STATE_VARS)}), actors.<actor>.trust, "
        "actors.<actor>.inertia, actors.<actor>.in_kind, "
        "actors.<actor>.<action>.<feature>, actors.<actor>.effects.<action>.<state var>, "
        "actors.<actor>.types.<type>.(prior|trustworthy|covert|inertia|in_kind) or "
        "actors.<actor>.types.<type>.<action>.<feature>; <role>.… or actors.*.… for every "
        "actor of a role or every actor"
    )


def with_values(c: Compiled, slots: list[Slot], values: np.ndarray, base: int = 0) -> Compiled:
    """Copies of parameter set ``base`` with ``values[u, k]`` written into ``slots[k]``,
    one set per row of ``values``, one run per set.

    Example:
        >>> from sim.model.params import make_config
        >>> c = compile_configs([make_config()])
        >>> s = [slot(c.structure, "rationality")]
        >>> v = with_values(c, s, np.array([[1.0], [9.0]]))
        >>> v.n_sets, v.theta[:, P.rationality].tolist()
        (2, [1.0, 9.0])
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n = values.shape[0]
    arrays = {
        name: np.repeat(getattr(c, name)[base : base + 1], n, axis=0).copy() for name in ARRAYS
    }
    for k, sl in enumerate(slots):
        sl.write(arrays, values[:, k])
    rest_of_prior(c.structure, arrays["tparams"])
    return Compiled(c.structure, slot=np.arange(n, dtype=np.int64), **arrays)


#: The parameter arrays of a :class:`Compiled`, one row per parameter set.
ARRAYS = ("theta", "initial", "trust0", "weights", "effects", "tshift", "tparams")


def rest_of_prior(structure: Structure, tparams: np.ndarray) -> None:
    """Give each actor's rest type 1 - the other types' priors (after priors were set)."""
    for i, k in enumerate(structure.rest_type):
        if k >= 0:
            n = max(1, structure.n_types[i])
            others = tparams[:, i, :n, TP.prior].sum(axis=1) - tparams[:, i, k, TP.prior]
            tparams[:, i, k, TP.prior] = np.clip(1.0 - others, 0.0, 1.0)


def with_run_values(c: Compiled, slots: list[Slot], values: np.ndarray) -> Compiled:
    """One parameter set per run: each run's own set (``c.slot``) with ``values[r, k]``
    written into ``slots[k]`` (per-run draws of what we do not know)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[0] != c.n_runs:
        raise ValueError(f"{values.shape[0]} rows of values for {c.n_runs} runs")
    arrays = {name: getattr(c, name)[c.slot].copy() for name in ARRAYS}
    for k, sl in enumerate(slots):
        sl.write(arrays, values[:, k])
    rest_of_prior(c.structure, arrays["tparams"])
    return Compiled(c.structure, slot=np.arange(c.n_runs, dtype=np.int64), **arrays)

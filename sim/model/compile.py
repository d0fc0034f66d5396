"""Configs compiled to arrays with a trailing runs axis (the engines' input).

Several :class:`~sim.model.params.ModelConfig` objects that share a *structure*
(the same actors, roles, policies, scripts, events and horizon) compile into one
:class:`Compiled`, where every numeric parameter is an array whose last axis is
the run. The Mesa model compiles its single config the same way (runs = 1), so
both engines feed the same functions the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.actors import ROLE_EFFECTS
from sim.model.events import SHIFT_KEYS, event_effects
from sim.model.names import ACTION_NAMES, FEATURES, STATE_VARS
from sim.model.params import ModelConfig
from sim.model.policies import POLICIES
from sim.model.sequencing import conditionality

#: Scalar parameters copied to per-run arrays (float64, shape (runs,)).
RUN_PARAMS = (
    "detect_prob",
    "false_alarm_prob",
    "detection_response",
    "snapback",
    "stalemate_cost",
    "rationality",
    "step_size",
    "reversion",
    "tension_decay",
    "reversibility",
    "trust_gain",
    "trust_loss",
    "agreement_threshold",
    "breakdown_threshold",
    "hedged_margin",
)


@dataclass
class Compiled:
    """Parameters of a group of runs, as arrays (runs axis last)."""

    names: tuple[str, ...]
    roles: tuple[str, ...]
    rounds: int
    target: int
    principal: int
    counterpart: np.ndarray  # (A,) whom each actor watches: the target, or for it the principal
    policy: np.ndarray  # (A,) index into POLICIES
    grit_period: np.ndarray  # (A,)
    script: np.ndarray  # (T, A) action code, -1 where the actor is not scripted
    forced: np.ndarray  # (T, A) action code forced by an event, -1 none
    flag: np.ndarray  # (T,) a report flags the target's hedging
    shift: np.ndarray  # (T, len(SHIFT_KEYS)) event shifts at the start of each round
    kappa: np.ndarray  # (R,) conditionality of the sequencing regime
    initial: np.ndarray  # (V, R) the state at round 0
    trust0: np.ndarray  # (A, R) each actor's initial trust in the others
    weights: np.ndarray  # (3, K, A, R) utility weights
    effects: np.ndarray  # (3, V, A, R) pushes of each action on each state variable
    run: dict[str, np.ndarray]  # RUN_PARAMS -> (R,)

    @property
    def n_actors(self) -> int:
        return len(self.names)

    @property
    def n_runs(self) -> int:
        return self.kappa.shape[0]

    def __getattr__(self, key):  # p.detect_prob etc.
        run = self.__dict__.get("run")
        if run is not None and key in run:
            return run[key]
        raise AttributeError(key)


def structure_key(cfg: ModelConfig) -> tuple:
    """What must be equal for configs to share one vectorized batch."""
    actors = tuple(
        (n, a.role, a.policy, tuple(a.script), a.grit_period)
        for n, a in cfg.actors.items()
        if a.enabled
    )
    events = tuple(
        (e.round, e.kind, tuple(sorted(e.shift.items())), tuple(sorted(e.force.items())))
        for e in cfg.events
    )
    return (cfg.rounds, actors, events)


def compile_configs(cfgs: list[ModelConfig]) -> Compiled:
    """Compile validated configs with one structure into arrays over runs.

    Raises:
        ValueError: if the configs do not share a structure (group them first
            with :func:`structure_key`).
    """
    first = cfgs[0]
    key = structure_key(first)
    if any(structure_key(c) != key for c in cfgs[1:]):
        raise ValueError("configs differ in structure; group them by structure_key first")
    actors = {n: a for n, a in first.actors.items() if a.enabled}
    names = tuple(actors)
    roles = tuple(a.role for a in actors.values())
    A, T = len(names), first.rounds
    target, principal = roles.index("target"), roles.index("principal")
    counterpart = np.array([principal if i == target else target for i in range(A)])
    code = {n: i for i, n in enumerate(ACTION_NAMES)}

    script = np.full((T, A), -1, dtype=np.int8)
    for i, a in enumerate(actors.values()):
        if a.policy == "scripted":
            seq = [code[s] for s in a.script]
            seq = (seq + [seq[-1]] * T)[:T]  # after the script: repeat its last action
            script[:, i] = seq
    forced = np.full((T, A), -1, dtype=np.int8)
    flag = np.zeros(T, dtype=bool)
    shift = np.zeros((T, len(SHIFT_KEYS)))
    for ev in first.events:
        s, force, flagged = event_effects(ev, names[target])
        for k, v in s.items():
            shift[ev.round - 1, SHIFT_KEYS.index(k)] += v
        for n, act in force.items():
            forced[ev.round - 1, names.index(n)] = code[act]
        flag[ev.round - 1] |= flagged

    # configs are often repeated (many seeds per parameter point): fill each distinct one once
    distinct: dict[int, int] = {}
    slot = np.array([distinct.setdefault(id(c), len(distinct)) for c in cfgs])
    uniq = [cfgs[int(np.flatnonzero(slot == k)[0])] for k in range(len(distinct))]
    U = len(uniq)
    weights = np.zeros((3, len(FEATURES), A, U))
    effects = np.zeros((3, len(STATE_VARS), A, U))
    trust0 = np.zeros((A, U))
    initial = np.zeros((len(STATE_VARS), U))
    feat_ix = {f: k for k, f in enumerate(FEATURES)}
    var_ix = {v: j for j, v in enumerate(STATE_VARS)}
    for r, cfg in enumerate(uniq):
        for i, n in enumerate(names):
            a = cfg.actors[n]
            trust0[i, r] = a.trust
            eff = {**ROLE_EFFECTS[a.role], **(a.effects or {})}
            for ai, action in enumerate(ACTION_NAMES):
                for f, w in getattr(a, action).items():
                    weights[ai, feat_ix[f], i, r] = w
                for v, push in eff.get(action, {}).items():
                    effects[ai, var_ix[v], i, r] = push
        for j, v in enumerate(STATE_VARS):
            initial[j, r] = getattr(cfg, v)

    def spread(a):  # distinct configs -> runs, contiguous along the runs axis
        return np.ascontiguousarray(a[..., slot])

    weights, effects, trust0, initial = map(spread, (weights, effects, trust0, initial))
    return Compiled(
        names=names,
        roles=roles,
        rounds=T,
        target=target,
        principal=principal,
        counterpart=counterpart,
        policy=np.array([POLICIES.index(a.policy) for a in actors.values()]),
        grit_period=np.array([a.grit_period for a in actors.values()]),
        script=script,
        forced=forced,
        flag=flag,
        shift=shift,
        kappa=spread(np.array([conditionality(c.regime) for c in uniq], dtype=float)),
        initial=initial,
        trust0=trust0,
        weights=weights,
        effects=effects,
        run={k: spread(np.array([float(getattr(c, k)) for c in uniq])) for k in RUN_PARAMS},
    )

"""Estimation on a record: exact likelihood, maximum likelihood, posterior, held-out scores.

:class:`RecordModel` evaluates the exact log-likelihood of a record
(:mod:`sim.model.likelihood`) for many parameter vectors at once, on every core.
Free parameters are dotted config keys (``rationality``,
``actors.DPRK.concede.bias``, ``trust_loss``); each has a transform to the real
line (logit for [0, 1], log for positive, none for weights) and a weak prior
(:func:`sim.model.uncertainty.prior_for`).

- :func:`fit_mle`: maximum likelihood with restarts (L-BFGS-B on the transformed
  scale, central-difference gradients evaluated in one batch), and 95% intervals
  from the observed information (Wald on the transformed scale, mapped back, so
  they respect the bounds);
- :func:`sample_posterior`: emcee's affine-invariant ensemble sampler on the
  transformed scale; :func:`diagnose` gives autocorrelation times, effective
  sample sizes and R-hat (walkers as chains, rank-normalized split R-hat from
  arviz-stats) and refuses a posterior that has not converged;
- :func:`held_out_scores`: one-step-ahead log score and Brier score of the fitted
  model, the hand-set model, persistence and training-window frequencies.

Example:
    >>> from sim.analysis.record import load_record
    >>> rm = RecordModel(load_record("us_dprk_2018_2019"), ["rationality", "actors.DPRK.concede.bias"])
    >>> ll = rm.loglik(np.array([[5.0, -1.6], [2.0, 0.0]]), rm.record.window("2018-01:2019-02"))
    >>> ll.shape, bool(np.all(np.isfinite(ll)))
    ((2,), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

# SciPy's optimisers and the compiled kernels are imported where used: a fit refused for
# a parameter it does not know (checked when a RecordModel is made) needs neither
from sim.analysis.record import Record
from sim.engines.state import State
from sim.model.compile import Slot, compile_configs, rest_of_prior, slot, with_values
from sim.model.names import N_ACTIONS
from sim.model.params import P
from sim.model.uncertainty import Prior, prior_for
from sim.model.validation import ConfigError

ROLE_NAMES = ("target", "principal", "ally", "enforcer")
#: Each role's standing preferences for conceding and escalating (hedging is the zero).
ROLE_BIASES = tuple(f"{r}.{a}.bias" for r in ROLE_NAMES for a in ("concede", "escalate"))
#: Last month's moves as features: the actor's own (``conceded``, ``escalated``: state
#: dependence) and its counterpart's (``concession``, ``provocation``: reciprocity).
LAG_FEATURES = ("conceded", "escalated", "concession", "provocation")
#: Each role's response to last month's moves, for conceding and for escalating.
ROLE_LAGS = tuple(
    f"{r}.{a}.{f}" for r in ROLE_NAMES for a in ("concede", "escalate") for f in LAG_FEATURES
)
#: What a pooled fit shares across cases: rationality (the weight of the model's fixed
#: mechanisms) and the roles' responses to last month's moves.
SHARED_PARAMS = ("rationality", *ROLE_LAGS)
#: What each case has its own value of (partially pooled by role): standing preferences.
CASE_PARAMS = ROLE_BIASES
#: The free parameters fitted by default, by role (so any record's actors take them,
#: whatever they are called), chosen by rolling-origin forecasts over four cases
#: (experiments/structure.py, docs/calibration.md): rationality, which scales the
#: model's fixed mechanisms (the package, trust, tension, alarm, exposure, …), each
#: role's standing preferences and each role's response to its own and its
#: counterpart's last move. Keys of a role a record lacks are left out (:func:`params_for`).
DEFAULT_PARAMS = (*SHARED_PARAMS, *CASE_PARAMS)


def params_for(record: Record, keys=DEFAULT_PARAMS) -> list[str]:
    """``keys`` without those naming a role the record has no actor in.

    Example:
        >>> from sim.analysis.record import load_record
        >>> len(params_for(load_record("libya_2002_2004")))  # no enforcer
        31
    """
    roles = set(record.roles.values())
    return [k for k in keys if k.split(".")[0] not in set(ROLE_NAMES) - roles]


#: The prior of a free utility weight, on the logit scale (rationality x weight: the
#: change in log-odds it makes): Normal(0, 2.5), the weakly informative scale for
#: logistic-regression coefficients (Gelman, Jakulin, Pittau & Su 2008).
LOGIT_PRIOR = Prior("normal", 0.0, 2.5)


def is_utility(s: Slot) -> bool:
    """True for a slot holding a utility term (a weight, a type's shift, momentum), which
    the estimation reads on the logit scale."""
    from sim.model.names import TP

    return s.array in ("weights", "tshift") or (
        s.array == "tparams" and s.index[-1] in (TP.inertia, TP.in_kind)
    )


@dataclass
class FreeParam:
    """A parameter to estimate: its place in the compiled arrays, transform and prior."""

    key: str
    slot: Slot
    transform: str  # "logit", "log" or "identity"
    prior: Prior

    @classmethod
    def of(cls, structure, key: str) -> FreeParam:
        s = slot(structure, key)
        lo, hi = s.bounds
        if s.array in ("weights", "effects"):
            transform = "identity"
        elif lo == 0 and hi == 1:
            transform = "logit"
        elif lo == 0:
            transform = "log"
        else:
            transform = "identity"
        prior = LOGIT_PRIOR if is_utility(s) else prior_for(key)
        return cls(key, s, transform, prior)

    def to_free(self, x):
        x = np.asarray(x, dtype=float)
        if self.transform == "logit":
            x = np.clip(x, 1e-9, 1 - 1e-9)
            return np.log(x) - np.log1p(-x)
        if self.transform == "log":
            return np.log(np.maximum(x, 1e-12))
        return x

    def from_free(self, z):
        z = np.asarray(z, dtype=float)
        if self.transform == "logit":
            from scipy import special

            return special.expit(z)
        if self.transform == "log":
            return np.exp(np.minimum(z, 700.0))  # (a walker far out must not overflow)
        return z

    def log_jacobian(self, z):
        """log |dx/dz| (for densities on the transformed scale)."""
        z = np.asarray(z, dtype=float)
        if self.transform == "logit":
            return -np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)
        if self.transform == "log":
            return z
        return np.zeros_like(z)


#: Parameter sets at or above which a replay spreads over every core; below, the
#: calling thread replays them (an optimiser's or a sampler's step is a few dozen sets,
#: and a thread pool costs more than it saves there).
PARALLEL_SETS = 512


class Replayer:
    """The exact likelihood's replay for many parameter vectors at once, without Python
    overhead: the record's structure and every fixed parameter are compiled once, and a
    call only writes the free values into reused arrays and runs the compiled replay.

    Numbers are bit for bit those of :func:`~sim.model.compile.with_values` followed by
    the replay: a weight that is free keeps its place in the engines' short weight lists
    even where its value is 0, and a zero term adds exactly 0.

    Args:
        compiled: one parameter set (:func:`~sim.model.compile.compile_configs`).
        slots: where each free parameter lives.
        observed, flagged: the record's moves (months, actors) and flags (months,).
    """

    def __init__(self, compiled, slots, observed, flagged):
        self.c = compiled
        self.slots = list(slots)
        self.observed = np.ascontiguousarray(observed, dtype=np.int64)
        self.flagged = np.ascontiguousarray(flagged, dtype=np.bool_)
        st = compiled.structure
        self.tracked = st.tracked()
        self.arrays = ("theta", "initial", "trust0", "effects", "tparams")
        self.base = {name: getattr(compiled, name)[:1].copy() for name in self.arrays}
        # the weights' short lists: fixed terms, with every free weight kept in its list
        self.free_weights = any(sl.array in ("weights", "tshift") for sl in self.slots)
        w, ts = compiled.weights[:1].copy(), compiled.tshift[:1].copy()
        nonzero = (w[..., None, :, :] + ts) != 0.0
        for sl in self.slots:
            for idx in sl.indices:
                if sl.array == "weights":
                    i, a, k = idx
                    nonzero[0, i, :, a, k] = True
                elif sl.array == "tshift":
                    nonzero[(0, *idx)] = True
        M = max(1, int(nonzero.sum(axis=-1).max(initial=0)))
        order = np.argsort(~nonzero, axis=-1, kind="stable")[..., :M]
        self.keep = np.take_along_axis(nonzero, order, axis=-1)
        self.order = order
        self.terms1 = np.ascontiguousarray(np.where(self.keep, order, -1).astype(np.int64))
        self.base_w, self.base_ts = w, ts
        self.coef1 = np.ascontiguousarray(
            np.where(self.keep, np.take_along_axis(w[..., None, :, :] + ts, order, axis=-1), 0.0)
        )
        self._n = 0
        self._months = 0
        self._writes()

    def _writes(self) -> None:
        """The flat writes and weight-term refreshes :func:`~sim.engines.kernels.loglik_sets`
        makes for each free value."""
        from sim.engines.kernels import WRITABLE

        c, st = self.c, self.c.structure
        w_param, w_array, w_offset, refresh = [], [], [], []
        Kt = c.tparams.shape[2]
        for k, sl in enumerate(self.slots):
            shape = getattr(c, sl.array).shape[1:]
            for idx in sl.indices:
                w_param.append(k)
                w_array.append(WRITABLE.index(sl.array))
                w_offset.append(int(np.ravel_multi_index(idx, shape)))
                if sl.array == "weights":
                    i, a, f = idx
                    rows = [(i, ty, a, f) for ty in range(Kt)]
                elif sl.array == "tshift":
                    rows = [tuple(idx)]
                else:
                    rows = []
                for i, ty, a, f in rows:
                    m = int(np.flatnonzero(self.terms1[0, i, ty, a] == f)[0])
                    refresh.append((i, ty, a, m, f))
        self.w_param = np.array(w_param, dtype=np.int64)
        self.w_array = np.array(w_array, dtype=np.int64)
        self.w_offset = np.array(w_offset, dtype=np.int64)
        self.refresh = np.array(sorted(set(refresh)), dtype=np.int64).reshape(-1, 5)
        self.fix_prior = any(sl.array == "tparams" for sl in self.slots)
        self.tracked = st.tracked()

    def loglik(self, values: np.ndarray, months: np.ndarray, flags: bool = True) -> np.ndarray:
        """The log-likelihood of the ``months`` (a boolean mask over the record) under each
        row of ``values``, in one compiled call (:func:`~sim.engines.kernels.loglik_sets`)."""
        from sim.engines.kernels import loglik_sets

        values = np.ascontiguousarray(np.atleast_2d(values), dtype=float)
        out = np.empty(values.shape[0])
        c, s = self.c, self.c.structure
        loglik_sets(
            values, self.w_param, self.w_array, self.w_offset, self.refresh, self.fix_prior,
            c.theta[0], c.initial[0], c.trust0[0], c.weights[0], c.effects[0], c.tshift[0],
            c.tparams[0], self.coef1[0], self.terms1[0], s.rest_type, self.observed,
            self.flagged, np.ascontiguousarray(months, dtype=np.bool_), bool(flags),
            s.counterpart, s.target, s.principal, s.policy, s.rule_params, s.script, s.forced, s.shift,
            self.tracked, s.n_types, s.model, s.report, out,
        )  # fmt: skip
        return out

    def _buffers(self, U: int, months: int) -> None:
        if U <= self._n and months == self._months:
            return
        c, A = self.c, self.c.structure.n_actors
        Kt = c.tparams.shape[2]
        self._n, self._months = max(U, self._n), months
        n = self._n
        self.buf = {name: np.repeat(self.base[name], n, axis=0) for name in self.arrays}
        self.buf["coef"] = np.repeat(self.coef1, n, axis=0)
        self.buf["terms"] = np.repeat(self.terms1, n, axis=0)
        if self.free_weights:
            self.buf["weights"] = np.repeat(self.base_w, n, axis=0)
            self.buf["tshift"] = np.repeat(self.base_ts, n, axis=0)
        self.state = State.empty(n, A, Kt)
        self.logp = np.empty((n, months, A))
        self.probs = np.empty((n, months, A, N_ACTIONS))
        self.logf = np.empty((n, months))

    def __call__(self, values: np.ndarray, months: int | None = None):
        """Replay the first ``months`` months under each row of ``values``:
        (logp (U, months, actors), probs (U, months, actors, actions), state, logf (U, months)),
        views into reused arrays (copy what you keep)."""
        from sim.engines.kernels import replay_batch, replay_serial

        values = np.atleast_2d(np.asarray(values, dtype=float))
        U = values.shape[0]
        M = self.observed.shape[0] if months is None else int(months)
        self._buffers(U, M)
        b = self.buf
        for name in self.arrays:
            b[name][:U] = self.base[name]
        if self.free_weights:
            b["weights"][:U] = self.base_w
            b["tshift"][:U] = self.base_ts
        for k, sl in enumerate(self.slots):
            sl.write({name: arr[:U] for name, arr in b.items()}, values[:, k])
        if any(sl.array == "tparams" for sl in self.slots):
            rest_of_prior(self.c.structure, b["tparams"][:U])
        if self.free_weights:
            total = b["weights"][:U, :, None] + b["tshift"][:U]
            b["coef"][:U] = np.where(self.keep, np.take_along_axis(total, np.broadcast_to(
                self.order, (U, *self.order.shape[1:])), axis=-1), 0.0)  # fmt: skip
        s, st = self.c.structure, self.state
        kernel = replay_batch if U >= PARALLEL_SETS else replay_serial
        kernel(
            self.observed[:M], self.flagged[:M], b["theta"][:U], b["initial"][:U], b["trust0"][:U],
            b["coef"][:U], b["effects"][:U],
            s.counterpart, s.target, s.principal, s.policy, s.rule_params, s.script, s.forced, s.shift,
            self.tracked, st.x[:U], st.trust[:U], st.last[:U], st.tally[:U], st.counts[:U],
            st.peak[:U], self.logp[:U], self.probs[:U],
            b["terms"][:U], b["tparams"][:U], s.n_types, s.model, s.report, st.belief[:U],
            self.logf[:U],
        )  # fmt: skip
        view = State(*(getattr(st, f)[:U] for f in ("x", "trust", "last", "tally", "counts",
                                                    "peak", "types", "belief")))  # fmt: skip
        return self.logp[:U], self.probs[:U], view, self.logf[:U]


class RecordModel:
    """The exact likelihood of a record as a function of some free parameters.

    Args:
        record: a loaded :class:`~sim.analysis.record.Record`.
        params: dotted config keys to estimate (default: :data:`DEFAULT_PARAMS` for the
            record's roles).
        priors: key -> :class:`~sim.model.uncertainty.Prior` replacing a key's weak prior.
        changes: model parameters for the record's config (fixed values).
    """

    def __init__(self, record: Record, params=None, priors=None, **changes):
        self.record = record
        params = params_for(record) if params is None else list(params)
        self.config = record.config(**changes)
        self.compiled = compile_configs([self.config])
        self.free = [FreeParam.of(self.compiled.structure, k) for k in params]
        for p in self.free:  # priors given by key replace the weak defaults
            if priors and p.key in priors:
                p.prior = priors[p.key]
        # utility terms are estimated on the logit scale (rationality x weight), so that
        # rationality scales only the fixed terms and the posterior is not a ridge along
        # the rationality-weight trade-off; everything public stays on the config scale
        self.utility_cols = np.array(
            [k for k, p in enumerate(self.free) if is_utility(p.slot)], dtype=int
        )
        keys = [p.key for p in self.free]
        self.r_col = keys.index("rationality") if "rationality" in keys else None
        self.r0 = float(self.compiled.theta[0, P["rationality"]])
        if len({p.key for p in self.free}) != len(self.free):
            raise ConfigError(f"fit.params = {list(params)} names a parameter twice")
        self.observed = np.ascontiguousarray(record.actions, dtype=np.int64)
        self.flagged = np.ascontiguousarray(record.flagged, dtype=np.bool_)
        self.replayer = Replayer(self.compiled, [p.slot for p in self.free], self.observed,
                                 self.flagged)  # fmt: skip

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.free]

    def default_values(self) -> np.ndarray:
        """The configured values of the free parameters (the model's defaults)."""
        c = self.compiled
        return np.array([getattr(c, p.slot.array)[(0, *p.slot.index)] for p in self.free])

    def compiled_for(self, values: np.ndarray):
        """The compiled parameters with each row of ``values`` as one parameter set."""
        return with_values(self.compiled, [p.slot for p in self.free], np.atleast_2d(values))

    def replay(
        self, values: np.ndarray, months: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, State]:
        """Replay the record's first ``months`` (default: all) under each row of ``values``:
        (logp (U, months, actors), probs (U, months, actors, actions), the state after them)."""
        logp, probs, st, _ = self.replay_with_flags(values, months)
        return logp, probs, st

    def replay_with_flags(
        self, values: np.ndarray, months: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, State, np.ndarray]:
        """:meth:`replay`, and each month's log P(imagery verdict | history, the target's
        move) (U, months): the moves' and the flags' likelihood together are the joint.
        The arrays are the caller's own (copies)."""
        logp, probs, st, logf = self.replayer(values, months)
        return logp.copy(), probs.copy(), st.copy(), logf.copy()

    def forecast(
        self, values: np.ndarray, origin: int, horizon: int, paths: int = 16, seed: int = 0
    ) -> np.ndarray:
        """The model's forecast of the ``horizon`` months after the record's first ``origin``
        months, under each row of ``values``: (U, horizon, actors, actions) probabilities.

        The record is replayed up to the origin; then each of ``paths`` paths per row
        draws every private type from the public belief at the origin and plays on
        (:mod:`sim.model.forecast`). Month 1 is the exact one-step probability; later
        months average the observer's probabilities over the paths. Path p of row u
        uses the random streams of seed ``seed + u * paths + p``.

        Raises:
            ValueError: for an origin or horizon outside the record's months.
        """
        values = np.atleast_2d(values)
        if not (
            0 <= origin and horizon >= 1 and origin + horizon <= self.compiled.structure.rounds
        ):
            raise ValueError(
                f"origin {origin} + horizon {horizon} must lie within the record's "
                f"{self.compiled.structure.rounds} months"
            )
        from sim.engines.kernels import forecast_batch, parallel_lock

        U = values.shape[0]
        _, _, st = self.replay(values, months=origin)
        c = self.compiled_for(values)
        s = c.structure
        out = np.empty((U, horizon, s.n_actors, N_ACTIONS))
        seeds = seed + np.arange(U, dtype=np.int64) * paths
        with parallel_lock:
            forecast_batch(
                horizon, paths, seeds, c.theta, c.initial, c.coef, c.terms, c.effects, c.tparams,
                s.streams, s.counterpart, s.target, s.principal, s.policy, s.rule_params, s.script,
                s.forced, s.report, s.shift, s.tracked(), s.n_types, s.fixed_type, s.model,
                st.x, st.trust, st.last, st.tally, st.counts, st.peak, st.belief, out,
            )  # fmt: skip
        return out

    def loglik(self, values: np.ndarray, months: np.ndarray, flags: bool = True) -> np.ndarray:
        """The log-likelihood of the record's ``months`` (a boolean mask) under each row of
        ``values``: its moves and (with ``flags``) its imagery verdicts, jointly; row by
        row, so the same bits whatever the batch."""
        return self.replayer.loglik(values, months, flags)

    # scales -----------------------------------------------------------------------
    # config scale: the values a run takes (utility weights); sampling scale: utility
    # terms times rationality (log-odds), where the priors are; free scale: each sampling
    # value through its transform to the real line (log, logit or none).
    def _rationality(self, x: np.ndarray) -> np.ndarray:
        return x[:, self.r_col] if self.r_col is not None else np.full(len(x), self.r0)

    def to_config(self, xs: np.ndarray) -> np.ndarray:
        """Sampling-scale values as config values (utility terms divided by rationality)."""
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        if not len(self.utility_cols):
            return xs
        out = xs.copy()
        r = np.maximum(self._rationality(xs), 1e-300)
        out[:, self.utility_cols] = xs[:, self.utility_cols] / r[:, None]
        return out

    def to_sampling(self, xc: np.ndarray) -> np.ndarray:
        """Config values on the sampling scale (utility terms times rationality)."""
        xc = np.atleast_2d(np.asarray(xc, dtype=float))
        if not len(self.utility_cols):
            return xc
        out = xc.copy()
        out[:, self.utility_cols] = xc[:, self.utility_cols] * self._rationality(xc)[:, None]
        return out

    def transform(self, xs: np.ndarray) -> np.ndarray:
        """Sampling-scale values to the free scale."""
        xs = np.atleast_2d(xs)
        return np.column_stack([p.to_free(xs[:, k]) for k, p in enumerate(self.free)])

    def untransform(self, z: np.ndarray) -> np.ndarray:
        """Free-scale values to the sampling scale."""
        z = np.atleast_2d(z)
        return np.column_stack([p.from_free(z[:, k]) for k, p in enumerate(self.free)])

    def from_free(self, z: np.ndarray) -> np.ndarray:
        """Free-scale values as config values."""
        return self.to_config(self.untransform(z))

    def to_free(self, x: np.ndarray) -> np.ndarray:
        """Config values on the free scale."""
        return self.transform(self.to_sampling(x))

    def log_prior(self, x: np.ndarray) -> np.ndarray:
        """The prior density of config values (the priors are on the sampling scale)."""
        xs = self.to_sampling(x)
        return np.asarray(sum(p.prior.logpdf(xs[:, k]) for k, p in enumerate(self.free)))

    def log_posterior_free(self, z: np.ndarray, months: np.ndarray) -> np.ndarray:
        """log posterior density on the free scale (prior x likelihood x Jacobian)."""
        z = np.atleast_2d(z)
        xs = self.untransform(z)
        lp = sum(
            p.prior.logpdf(xs[:, k]) + p.log_jacobian(z[:, k]) for k, p in enumerate(self.free)
        )
        ll = self.loglik(self.to_config(xs), months)
        out = lp + ll
        return np.where(np.isfinite(out), out, -np.inf)


# ----------------------------------------------------------------------------------
# maximum likelihood


@dataclass
class Estimate:
    """A maximum-likelihood fit: estimates, 95% intervals, the training log-likelihood."""

    keys: list[str]
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    loglik: float
    n: int
    se_free: np.ndarray
    converged: bool
    restarts: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.keys, self.values)}

    def intervals(self) -> dict[str, list[float]]:
        return {k: [float(lo), float(hi)] for k, lo, hi in zip(self.keys, self.low, self.high)}


def _gradient(f, z: np.ndarray, h: float = 1e-5) -> tuple[float, np.ndarray]:
    """f(z) and its central-difference gradient, all evaluated in one batch."""
    n = z.size
    pts = np.vstack([z, z + h * np.eye(n), z - h * np.eye(n)])
    vals = f(pts)
    return float(vals[0]), (vals[1 : n + 1] - vals[n + 1 :]) / (2 * h)


def _hessian(f, z: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """The central-difference Hessian of f at z, all points evaluated in one batch."""
    n = z.size
    e = np.eye(n) * h
    pts = [z]
    for i in range(n):
        for j in range(n):
            pts += [z + e[i] + e[j], z + e[i] - e[j], z - e[i] + e[j], z - e[i] - e[j]]
    vals = f(np.vstack(pts))
    H = np.empty((n, n))
    k = 1
    for i in range(n):
        for j in range(n):
            H[i, j] = (vals[k] - vals[k + 1] - vals[k + 2] + vals[k + 3]) / (4 * h * h)
            k += 4
    return 0.5 * (H + H.T)


def fit_mle(
    model: RecordModel, months: np.ndarray, restarts: int = 10, seed: int = 0, start=None
) -> Estimate:
    """Maximum likelihood over ``months`` with ``restarts`` starting points (the defaults,
    then draws from the priors), and 95% intervals from the observed information.

    The search runs on the transformed scale (so bounds hold); a small ridge
    (log-prior weight 1e-3) keeps it finite where the likelihood is flat.
    """
    rng = np.random.default_rng(seed)
    n_obs = (
        model.n_obs() if hasattr(model, "n_obs") else int(months.sum()) * model.observed.shape[1]
    )

    def negll(zs: np.ndarray) -> np.ndarray:
        x = model.from_free(zs)
        ll = model.loglik(x, months) + 1e-3 * model.log_prior(x)
        return np.where(np.isfinite(ll), -ll, 1e12)

    def fg(z):
        v, g = _gradient(negll, z)
        return v, g

    starts = [model.to_free(model.default_values() if start is None else start)[0]]
    for _ in range(max(0, restarts - 1)):
        q = rng.uniform(0.05, 0.95, size=len(model.free))
        x0 = np.array([p.prior.ppf(qk) for p, qk in zip(model.free, q)])
        starts.append(model.transform(x0)[0])
    best, results = _best_start(fg, starts)
    z = best.x
    H = _hessian(negll, z)
    # The observed information; where the likelihood is flat or not concave (a
    # parameter at its bound, a direction the record does not inform), its
    # eigenvalues are floored so the interval spans what the data cannot rule out
    # instead of collapsing to a point.
    evals, evecs = np.linalg.eigh(H)
    ok = bool(np.all(evals > 1e-8))
    cov = (evecs / np.maximum(evals, 1e-8)) @ evecs.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    lo = model.from_free((z - 1.959963984540054 * se)[None])[0]
    hi = model.from_free((z + 1.959963984540054 * se)[None])[0]
    bounds = [p.slot.bounds for p in model.free]
    lo = np.array([v if b[0] is None else max(v, b[0]) for v, b in zip(lo, bounds)])
    hi = np.array([v if b[1] is None else min(v, b[1]) for v, b in zip(hi, bounds)])
    x = model.from_free(z[None])[0]
    ll = float(model.loglik(x[None], months)[0])
    return Estimate(model.keys, x, np.minimum(lo, hi), np.maximum(lo, hi), ll, n_obs, se,
                    bool(best.success) and ok, sorted(results))  # fmt: skip


# ----------------------------------------------------------------------------------
# posterior


@dataclass
class Posterior:
    """Posterior draws (natural scale) and their diagnostics."""

    keys: list[str]
    draws: np.ndarray  # (n, k)
    chains: np.ndarray  # (walkers, steps, k) after burn-in, transformed scale
    tau: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    acceptance: float
    converged: bool
    problems: list[str]

    @classmethod
    def from_laplace(cls, lap: Laplace) -> Posterior:
        """The draws of a Laplace approximation as a posterior (independent draws: the
        effective sample size is their number; there is no chain to diagnose)."""
        k = len(lap.keys)
        n = float(len(lap.draws))
        return cls(list(lap.keys), lap.draws, np.zeros((0, 0, k)), np.full(k, np.nan),
                   np.full(k, n), np.ones(k), float("nan"), True, [])  # fmt: skip

    def summary(self) -> dict:
        return {
            k: {
                "mean": float(self.draws[:, j].mean()),
                "sd": float(self.draws[:, j].std()),
                "q2.5": float(np.quantile(self.draws[:, j], 0.025)),
                "q97.5": float(np.quantile(self.draws[:, j], 0.975)),
                "tau": float(self.tau[j]),
                "ess": float(self.ess[j]),
                "rhat": float(self.rhat[j]),
            }  # fmt: skip
            for j, k in enumerate(self.keys)
        }


@dataclass
class Laplace:
    """A Gaussian approximation of the posterior on the transformed scale: its mode and
    covariance, and draws mapped back to the natural scale."""

    keys: list[str]
    mode: np.ndarray  # natural scale
    z: np.ndarray  # the mode on the transformed scale
    cov: np.ndarray  # covariance on the transformed scale
    draws: np.ndarray  # (n, k) natural scale
    log_posterior: float


def _best_start(fg, starts: list[np.ndarray]):
    """L-BFGS-B from each start (on the free scale, within +-30); the best result and
    every start's final value."""
    from scipy import optimize

    best, results = None, []
    for z0 in starts:
        res = optimize.minimize(fg, z0, jac=True, method="L-BFGS-B", bounds=[(-30, 30)] * len(z0),
                                options={"maxiter": 500})  # fmt: skip
        results.append(float(res.fun))
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None  # (at least one start)
    return best, results


class Fittable(Protocol):
    """What :func:`laplace_posterior` needs of a model: a :class:`RecordModel`, or a
    :class:`~sim.analysis.pooled.PooledModel` (whose ``months`` are None: each case's own)."""

    @property
    def keys(self) -> list[str]: ...
    @property
    def free(self) -> list[Any]: ...
    def log_posterior_free(self, z: np.ndarray, months: Any) -> np.ndarray: ...
    def default_values(self) -> np.ndarray: ...
    def to_free(self, x: np.ndarray) -> np.ndarray: ...
    def from_free(self, z: np.ndarray) -> np.ndarray: ...
    def transform(self, x: np.ndarray) -> np.ndarray: ...


def laplace_posterior(
    model: Fittable,
    months: np.ndarray | None,
    draws: int = 400,
    restarts: int = 4,
    seed: int = 0,
) -> Laplace:
    """The posterior's mode (on the transformed scale, prior and Jacobian included) and
    the Gaussian with the inverse Hessian there as covariance: the posterior in seconds,
    for the many refits of a rolling-origin evaluation. Where the record says nothing,
    the prior's curvature sets the width (the eigenvalues are floored only against
    numerical noise). Draws are sampled from it and mapped back to the natural scale.
    """
    rng = np.random.default_rng(seed)

    def neg(zs: np.ndarray) -> np.ndarray:
        lp = model.log_posterior_free(zs, months)
        return np.where(np.isfinite(lp), -lp, 1e12)

    def fg(z):
        return _gradient(neg, z)

    starts = [model.to_free(model.default_values())[0]]
    for _ in range(max(0, restarts - 1)):
        q = rng.uniform(0.05, 0.95, size=len(model.free))
        starts.append(
            model.transform(np.array([p.prior.ppf(qk) for p, qk in zip(model.free, q)]))[0]
        )
    best, _ = _best_start(fg, starts)
    z = best.x
    H = _hessian(neg, z)
    evals, evecs = np.linalg.eigh(H)
    cov = (evecs / np.maximum(evals, 1e-6)) @ evecs.T
    zs = rng.multivariate_normal(z, cov, size=draws, method="eigh")
    return Laplace(model.keys, model.from_free(z[None])[0], z, cov, model.from_free(zs),
                   float(-best.fun))  # fmt: skip


class NotConverged(RuntimeError):
    """The sampler did not converge; the posterior is not reported."""


def sample_posterior(
    model: RecordModel, months: np.ndarray, start: np.ndarray, walkers: int | None = None,
    steps: int = 20000, burn: int = 500, seed: int = 0, progress: bool = False,
    adaptive: bool = True, check_every: int = 250,
) -> Posterior:  # fmt: skip
    """Sample the posterior with emcee (vectorized over walkers), started in a small ball
    around ``start`` (natural scale, e.g. the MLE); see :func:`diagnose`.

    With ``adaptive`` (the default) the chain stops as soon as it has converged — every
    R-hat < 1.01 and at least 50 autocorrelation times after the ``burn`` steps, checked
    every ``check_every`` steps — or after ``steps`` steps in all, the budget, whichever
    comes first (:attr:`Posterior.converged` says which). Without it, exactly ``steps``.
    """
    import emcee

    k = len(model.free)
    walkers = walkers or max(32, 4 * k)
    rng = np.random.default_rng(seed)
    z0 = model.to_free(start)[0] + 1e-3 * rng.standard_normal((walkers, k))
    sampler = emcee.EnsembleSampler(
        walkers, k, lambda zs: model.log_posterior_free(zs, months), vectorize=True,
        moves=[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)],
    )  # fmt: skip
    state = emcee.State(z0, random_state=np.random.RandomState(seed).get_state())
    if not adaptive:
        sampler.run_mcmc(state, steps, progress=progress)
        return diagnose(model, sampler, burn)
    first = min(steps, burn + max(check_every, 4 * check_every))
    state = sampler.run_mcmc(state, first, progress=progress)
    post = diagnose(model, sampler, burn)
    while not post.converged and sampler.iteration < steps:
        state = sampler.run_mcmc(state, min(check_every, steps - sampler.iteration),
                                 progress=progress)  # fmt: skip
        post = diagnose(model, sampler, burn)
    return post


def diagnose(model: RecordModel, sampler, burn: int) -> Posterior:
    """Autocorrelation time (emcee), effective sample size and R-hat (arviz-stats,
    walkers as chains) of a finished sampler; converged when every R-hat < 1.01 and
    the chain after burn-in is at least 50 autocorrelation times long."""
    from arviz_stats.base import array_stats

    chain = sampler.get_chain(discard=burn)  # (steps, walkers, k)
    steps = chain.shape[0]
    tau = sampler.get_autocorr_time(discard=burn, tol=0)
    per_walker = np.transpose(chain, (1, 0, 2))  # (walkers, steps, k)
    rhat = np.array([float(array_stats.rhat(per_walker[:, :, j], chain_axis=0, draw_axis=1))
                     for j in range(chain.shape[2])])  # fmt: skip
    ess = np.array([float(array_stats.ess(per_walker[:, :, j], chain_axis=0, draw_axis=1))
                    for j in range(chain.shape[2])])  # fmt: skip
    problems = []
    for j, key in enumerate(model.keys):
        if not rhat[j] < 1.01:
            problems.append(f"{key}: R-hat {rhat[j]:.3f} (needs < 1.01)")
        if not steps >= 50 * tau[j]:
            problems.append(
                f"{key}: {steps} steps after burn-in < 50 x autocorrelation time {tau[j]:.0f}"
            )
    flat = chain.reshape(-1, chain.shape[2])
    draws = model.from_free(flat)
    return Posterior(model.keys, draws, per_walker, tau, ess, rhat, float(np.mean(sampler.acceptance_fraction)),
                     not problems, problems)  # fmt: skip


# ----------------------------------------------------------------------------------
# held-out scores and baselines


def brier(probs: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Brier score of each forecast: sum over actions of (p - 1[a = observed])^2."""
    onehot = np.eye(3)[observed]
    return ((probs - onehot) ** 2).sum(axis=-1)


def baseline_probs(record: Record, train: np.ndarray) -> dict[str, np.ndarray]:
    """One-step-ahead probabilities (months, actors, 3) of the naive baselines:

    - ``persistence``: each actor repeats last month's move with its training-window
      repeat rate (Laplace-smoothed: (repeats + 1) / (transitions + 2)), the other
      two moves sharing the rest; the first month gets the training frequencies;
    - ``frequencies``: each actor's training-window action shares, Laplace-smoothed
      ((count + 1) / (months + 3)).
    """
    obs = record.actions
    M, A = obs.shape
    idx = np.flatnonzero(train)
    freq = np.empty((A, 3))
    rho = np.empty(A)
    for i in range(A):
        counts = np.bincount(obs[idx, i], minlength=3)
        freq[i] = (counts + 1) / (len(idx) + 3)
        pairs = [(obs[t - 1, i], obs[t, i]) for t in idx if t - 1 in set(idx)]
        rho[i] = (sum(a == b for a, b in pairs) + 1) / (len(pairs) + 2)
    frequencies = np.broadcast_to(freq, (M, A, 3)).copy()
    persistence = frequencies.copy()
    for t in range(1, M):
        for i in range(A):
            p = np.full(3, (1 - rho[i]) / 2)
            p[obs[t - 1, i]] = rho[i]
            persistence[t, i] = p
    return {"persistence": persistence, "frequencies": frequencies}


def scores(probs: np.ndarray, observed: np.ndarray, months: np.ndarray) -> dict[str, float]:
    """Log score (total log probability), mean Brier score and count over ``months``."""
    p = probs[months]
    o = observed[months]
    chosen = np.take_along_axis(p, o[..., None], axis=-1)[..., 0]
    return {
        "log_score": float(np.log(np.clip(chosen, 1e-300, None)).sum()),
        "brier": float(brier(p, o).mean()),
        "n": int(o.size),
    }


def as_changes(keys, values, structure=None) -> dict:
    """Dotted keys and values as nested ``make_config`` keyword arguments.

    A key naming a role (``target.concede.bias``) or every actor (``actors.*.inertia``)
    is written for each of its actors: those of ``structure`` (a compiled structure, e.g.
    a record's), or the default actors'.

    Example:
        >>> as_changes(["rationality", "actors.DPRK.concede.bias"], [2.0, -1.0])
        {'rationality': 2.0, 'actors': {'DPRK': {'concede': {'bias': -1.0}}}}
        >>> as_changes(["target.escalate.bias"], [0.5])
        {'actors': {'DPRK': {'escalate': {'bias': 0.5}}}}
    """
    from sim.model.compile import actor_keys, compile_structure
    from sim.model.params import make_config

    out: dict = {}
    for key, value in zip(keys, values):
        concrete = [key]
        if key.split(".")[0] in ("target", "principal", "ally", "enforcer") or key.startswith(
            "actors.*."
        ):
            structure = structure or compile_structure(make_config(rounds=1))
            concrete = actor_keys(structure, key)
        for k in concrete:
            node = out
            *path, last = k.split(".")
            for part in path:
                node = node.setdefault(part, {})
            node[last] = float(value)
    return out


def waic(model, draws: np.ndarray, months: np.ndarray) -> dict:
    """The widely applicable information criterion (Watanabe 2010) of ``draws`` on the
    record's ``months``, over the pointwise log-likelihoods of every actor-month's move
    and every month's imagery verdict: ``waic = -2 (lppd - p_waic)`` (lower is better),
    with ``lppd`` the log pointwise predictive density and ``p_waic`` the effective number
    of parameters (the summed posterior variance of the pointwise log-likelihoods)."""
    from scipy.special import logsumexp

    logp, _, _, logf = model.replay_with_flags(draws)
    pts = np.concatenate([logp[:, months, :].reshape(len(draws), -1), logf[:, months]], axis=1)
    lppd = float((logsumexp(pts, axis=0) - np.log(len(draws))).sum())
    p_waic = float(pts.var(axis=0, ddof=1).sum())
    return {"waic": -2.0 * (lppd - p_waic), "lppd": lppd, "p_waic": p_waic, "n": int(pts.shape[1])}


def aic(loglik: float, k: int) -> float:
    return 2 * k - 2 * loglik


__all__ = [
    "DEFAULT_PARAMS",
    "params_for",
    "Estimate",
    "FreeParam",
    "NotConverged",
    "Posterior",
    "Prior",
    "RecordModel",
    "aic",
    "as_changes",
    "baseline_probs",
    "fit_mle",
    "sample_posterior",
    "scores",
]

"""Several records fitted together: structure shared, role preferences partially pooled.

A negotiation tool is judged across cases. :class:`PooledModel` fits several coded
records at once:

- **shared** parameters (rationality, the role's response to last month's moves,
  momentum, type and belief parameters — whatever the structure has) take one value
  for every case: they are what the model claims holds in any negotiation;
- **case** parameters (each role's standing preferences: concede and escalate biases)
  differ between cases but are drawn around a **role mean** with a spread ``tau`` on
  the logit scale (a hierarchical prior, partial pooling): a case with little
  evidence on a role borrows from the others, one with much evidence keeps its own.

The joint log posterior is

    log p = sum_shared log prior + sum_k log N(mean_k | 0, 2.5)
            + sum_c sum_k log N(theta_ck | mean_k, tau) + sum_c log L_c(shared, theta_c)

with ``L_c`` each record's exact likelihood (:class:`~sim.analysis.estimate.RecordModel`).
``tau`` is fixed (default 1: cases' role preferences differ by about one unit of
log-odds), not estimated: four cases cannot pin a spread down, and a fixed tau keeps
the posterior free of the funnel that defeats samplers. docs/calibration.md shows how the
leave-one-case-out scores move with it.

Example:
    >>> from sim.analysis.record import load_record
    >>> pm = PooledModel([load_record("us_dprk_2018_2019"), load_record("libya_2002_2004")],
    ...                  shared=["rationality"], by_case=["target.concede.bias"])
    >>> pm.keys
    ['rationality', 'mean.target.concede.bias', 'us_dprk_2018_2019:target.concede.bias', 'libya_2002_2004:target.concede.bias']
    >>> bool(np.isfinite(pm.loglik(pm.default_values()[None]))[0])
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim.analysis.estimate import LOGIT_PRIOR, RecordModel
from sim.model.uncertainty import Prior
from sim.model.validation import ConfigError

ROLES = ("target", "principal", "ally", "enforcer")


@dataclass
class PoolParam:
    """A parameter of the pooled vector: its key, transform and prior (as FreeParam)."""

    key: str
    transform: str
    prior: Prior
    slot: SimpleNamespace
    log_jacobian = staticmethod(lambda z: np.zeros_like(np.asarray(z, dtype=float)))

    def to_free(self, x):
        return np.asarray(x, dtype=float)

    def from_free(self, z):
        return np.asarray(z, dtype=float)


@dataclass
class Case:
    name: str
    model: RecordModel
    months: np.ndarray
    columns: list[int]  # positions in the pooled vector of the model's free parameters, in order
    own: list[int]  # positions of the case's own parameters
    means: list[int]  # positions of their role means


def applies(key: str, roles: set[str]) -> bool:
    """True unless ``key`` names a role none of ``roles`` is (it does not apply to the case)."""
    return key.split(".")[0] not in set(ROLES) - roles


class PooledModel:
    """Records fitted together (see the module docstring).

    Args:
        records: loaded records.
        shared: keys shared by every case (role keys and ``actors.*`` keys allowed).
        by_case: keys each case has its own value of, partially pooled by role.
        tau: the spread of a case's value around the role mean (logit scale).
        windows: record name -> boolean mask of the months fitted (default: all).
        changes: fixed model parameters for every record's config.
        priors: key -> Prior replacing a shared key's prior.
    """

    def __init__(
        self, records, shared, by_case, tau: float = 1.0, windows=None, changes=None, priors=None
    ):
        if not records:
            raise ConfigError("a pooled fit needs at least one record")
        names = [r.name for r in records]
        if len(set(names)) != len(names):
            raise ConfigError(f"records {names} name a case twice")
        if tau <= 0:
            raise ConfigError(f"tau = {tau} must be > 0 (the spread of cases around the role mean)")
        self.records, self.tau = list(records), float(tau)
        windows = windows or {}
        shared = [k for k in shared if any(applies(k, set(r.roles.values())) for r in records)]
        by_case = [k for k in by_case if any(applies(k, set(r.roles.values())) for r in records)]
        self.keys: list[str] = list(shared) + [f"mean.{k}" for k in by_case]
        self.cases: list[Case] = []
        models = []
        for rec in records:
            roles = set(rec.roles.values())
            mine_shared = [k for k in shared if applies(k, roles)]
            mine_own = [k for k in by_case if applies(k, roles)]
            rm = RecordModel(rec, mine_shared + mine_own, priors=priors, **dict(changes or {}))
            models.append((rec, rm, mine_shared, mine_own))
        for rec, rm, mine_shared, mine_own in models:
            own = []
            for k in mine_own:
                self.keys.append(f"{rec.name}:{k}")
                own.append(len(self.keys) - 1)
            columns = [self.keys.index(k) for k in mine_shared] + own
            means = [self.keys.index(f"mean.{k}") for k in mine_own]
            months = windows.get(rec.name, np.ones(rec.n_months, dtype=bool))
            self.cases.append(
                Case(rec.name, rm, np.asarray(months, dtype=bool), columns, own, means)
            )
        first: dict[str, Any] = {}
        for _, rm, _, _ in models:
            for p in rm.free:
                first.setdefault(p.key, p)
        self.shared = shared
        self.by_case = by_case
        self.free = []
        for key in self.keys:
            if key in first and key in shared:
                self.free.append(first[key])
            elif key.startswith("mean."):
                self.free.append(
                    PoolParam(key, "identity", LOGIT_PRIOR, SimpleNamespace(bounds=(None, None)))
                )
            else:
                self.free.append(PoolParam(key, "identity", Prior("normal", 0.0, self.tau),
                                           SimpleNamespace(bounds=(None, None))))  # fmt: skip
        self.r_col = self.keys.index("rationality") if "rationality" in self.keys else None
        # every mean and own value is a utility term on the logit scale; so may a shared one be
        from sim.analysis.estimate import is_utility

        self.utility_cols = np.array(
            [k for k, key in enumerate(self.keys)
             if key.startswith("mean.") or ":" in key or (key in first and is_utility(first[key].slot))],
            dtype=int,
        )  # fmt: skip
        self.observed = np.zeros((1, sum(c.model.observed.shape[1] for c in self.cases)))

    # the model protocol of sim.analysis.estimate (fit_mle, laplace_posterior, sample_posterior)
    def n_obs(self) -> int:
        return int(sum(c.months.sum() * c.model.observed.shape[1] for c in self.cases))

    def _rationality(self, x):
        return (
            x[:, self.r_col] if self.r_col is not None else np.full(len(x), self.cases[0].model.r0)
        )

    def to_config(self, xs):
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        out = xs.copy()
        if len(self.utility_cols):
            out[:, self.utility_cols] = (
                xs[:, self.utility_cols] / np.maximum(self._rationality(xs), 1e-300)[:, None]
            )
        return out

    def to_sampling(self, xc):
        xc = np.atleast_2d(np.asarray(xc, dtype=float))
        out = xc.copy()
        if len(self.utility_cols):
            out[:, self.utility_cols] = xc[:, self.utility_cols] * self._rationality(xc)[:, None]
        return out

    def transform(self, xs):
        xs = np.atleast_2d(xs)
        return np.column_stack([p.to_free(xs[:, k]) for k, p in enumerate(self.free)])

    def untransform(self, z):
        z = np.atleast_2d(z)
        return np.column_stack([p.from_free(z[:, k]) for k, p in enumerate(self.free)])

    def from_free(self, z):
        return self.to_config(self.untransform(z))

    def to_free(self, x):
        return self.transform(self.to_sampling(x))

    def default_values(self) -> np.ndarray:
        """Config-scale defaults: each case's configured values, role means their average."""
        x = np.zeros(len(self.keys))
        sums: dict[int, list[float]] = {}
        for c in self.cases:
            d = c.model.default_values()
            for pos, v in zip(c.columns, d):
                x[pos] = v
            for m, o in zip(c.means, c.own):
                sums.setdefault(m, []).append(x[o])
        for m, vals in sums.items():
            x[m] = float(np.mean(vals))
        return x

    def case_values(self, xc: np.ndarray, c: Case) -> np.ndarray:
        """Config values of case ``c``'s own model from a pooled config vector."""
        return np.atleast_2d(xc)[:, c.columns]

    def loglik(self, x, months=None, flags: bool = True) -> np.ndarray:
        """The summed exact log-likelihood of every case's fitted months (config values)."""
        x = np.atleast_2d(x)
        total = np.zeros(len(x))
        for c in self.cases:
            total += c.model.loglik(self.case_values(x, c), c.months, flags)
        return total

    def log_prior_sampling(self, xs) -> np.ndarray:
        xs = np.atleast_2d(xs)
        lp = np.zeros(len(xs))
        for k, p in enumerate(self.free):
            if ":" not in p.key:
                lp = lp + p.prior.logpdf(xs[:, k])
        for c in self.cases:
            for m, o in zip(c.means, c.own):
                lp = lp + Prior("normal", 0.0, self.tau).logpdf(xs[:, o] - xs[:, m])
        return lp

    def log_prior(self, x) -> np.ndarray:
        return self.log_prior_sampling(self.to_sampling(x))

    def log_posterior_free(self, z, months=None) -> np.ndarray:
        z = np.atleast_2d(z)
        xs = self.untransform(z)
        lp = self.log_prior_sampling(xs) + sum(
            p.log_jacobian(z[:, k]) for k, p in enumerate(self.free)
        )
        out = lp + self.loglik(self.to_config(xs))
        return np.where(np.isfinite(out), out, -np.inf)

    def case_keys(self, c: Case) -> list[str]:
        return [self.keys[k].split(":", 1)[-1] for k in c.columns]

"""What we do not know, in every run: each run's parameters drawn from a posterior or a prior.

``uncertainty=posterior`` gives run r the posterior draw number
``floor(u * n_draws)``, and ``uncertainty=prior`` the prior quantiles
``ppf(u_k)``, where the uniforms u come from the run's seed through the named
stream ``"uncertainty"`` (:mod:`sim.model.rng`), one per round index k = 1, 2, ….
So a run's parameters are a function of its seed alone: the Mesa model and the
batch engine give the same run, in any order, on any number of threads.

Priors (weak; ``docs/calibration.md``):

============================ =========================================
parameter                    prior
============================ =========================================
utility weights              Normal(0, 5)
rates and probabilities      Uniform(0, 1)
rationality                  LogNormal(log 5, 1): median 5, 95% in [0.7, 35]
other positive values        LogNormal(0, 1.5)
============================ =========================================

Example:
    >>> u = Uncertainty.from_priors(["rationality", "actors.DPRK.concede.bias"])
    >>> v = u.values_for(np.array([0, 1, 0]))
    >>> v.shape, bool((v[0] == v[2]).all()), bool((v[0] != v[1]).any())
    ((3, 2), True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from sim.model.names import STATE_VARS
from sim.model.params import RUN_PARAMS
from sim.model.rng import stream_id, stream_start, uniform

_STD = NormalDist()
#: The random stream the draws come from.
STREAM = "uncertainty"


@dataclass(frozen=True)
class Prior:
    """A weak prior on the natural scale: ``normal(mean, sd)``, ``uniform(lo, hi)`` or
    ``lognormal(log-mean, log-sd)``.

    Example:
        >>> Prior("uniform", 0.0, 1.0).ppf(np.array([0.25]))
        array([0.25])
    """

    kind: str
    a: float
    b: float

    def logpdf(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.kind == "normal":
            return -0.5 * ((x - self.a) / self.b) ** 2 - math.log(self.b * math.sqrt(2 * math.pi))
        if self.kind == "uniform":
            inside = (x >= self.a) & (x <= self.b)
            return np.where(inside, -math.log(self.b - self.a), -np.inf)
        if self.kind == "lognormal":
            with np.errstate(divide="ignore", invalid="ignore"):
                lx = np.log(x)
                out = (
                    -0.5 * ((lx - self.a) / self.b) ** 2
                    - lx
                    - math.log(self.b * math.sqrt(2 * math.pi))
                )
            return np.where(x > 0, out, -np.inf)
        raise ValueError(f"unknown prior kind {self.kind!r}")

    def ppf(self, q) -> np.ndarray:
        """Quantiles: the value below which a share ``q`` of the prior lies."""
        q = np.clip(np.asarray(q, dtype=float), 1e-12, 1 - 1e-12)
        if self.kind == "uniform":
            return self.a + q * (self.b - self.a)
        z = np.vectorize(_STD.inv_cdf, otypes=[float])(q)
        if self.kind == "normal":
            return self.a + self.b * z
        if self.kind == "lognormal":
            return np.exp(self.a + self.b * z)
        raise ValueError(f"unknown prior kind {self.kind!r}")

    def describe(self) -> str:
        return {
            "normal": f"Normal(mean {self.a:g}, sd {self.b:g})",
            "uniform": f"Uniform({self.a:g}, {self.b:g})",
            "lognormal": f"LogNormal(log-mean {self.a:.3g}, log-sd {self.b:g})",
        }[self.kind]


#: Weak priors by kind of parameter.
PRIORS = {
    "weight": Prior("normal", 0.0, 5.0),
    "unit": Prior("uniform", 0.0, 1.0),
    "rationality": Prior("lognormal", math.log(5.0), 1.0),
    "positive": Prior("lognormal", 0.0, 1.5),
}

_UNIT = {"detect_prob", "false_alarm_prob", "snapback", "step_size", "reversion", "tension_decay",
         "reversibility", "trust_gain", "trust_loss", "agreement_threshold", "breakdown_threshold",
         "hedged_margin"}  # fmt: skip


def prior_for(key: str) -> Prior:
    """The weak prior of a dotted parameter key (see the module docstring)."""
    if key == "rationality":
        return PRIORS["rationality"]
    if key.endswith((".prior", ".trustworthy", ".covert")) and ".types." in key:
        return PRIORS["unit"]
    if key in _UNIT or key.endswith(".trust") or key in STATE_VARS:  # every state variable is 0-1
        return PRIORS["unit"]
    if key in RUN_PARAMS:
        return PRIORS["positive"]
    return PRIORS["weight"]


@dataclass(frozen=True)
class Uncertainty:
    """Per-run parameter values drawn from posterior draws or from priors, by seed.

    Attributes:
        keys: the dotted parameter keys.
        draws: (n, k) posterior draws, or None for priors.
        priors: one :class:`Prior` per key, or None for posterior draws.
        source: a label for records (``posterior:<name>`` or ``prior``).
    """

    keys: tuple[str, ...]
    draws: np.ndarray | None = None
    priors: tuple[Prior, ...] | None = None
    source: str = ""

    @classmethod
    def from_draws(cls, keys, draws, source: str = "posterior") -> Uncertainty:
        draws = np.asarray(draws, dtype=float)
        if draws.ndim != 2 or draws.shape[1] != len(keys) or len(draws) == 0:
            raise ValueError(f"posterior draws must be (n, {len(keys)}); got {draws.shape}")
        return cls(tuple(keys), draws, None, source)

    @classmethod
    def from_priors(cls, keys, priors=None) -> Uncertainty:
        priors = tuple(priors) if priors is not None else tuple(prior_for(k) for k in keys)
        return cls(tuple(keys), None, priors, "prior")

    def uniforms(self, seeds: np.ndarray, k: int) -> np.ndarray:
        """(runs, k) uniform numbers from each seed's ``uncertainty`` stream, rounds 1..k."""
        sid = np.uint64(stream_id(STREAM))
        out = np.empty((len(seeds), k))
        for r, s in enumerate(np.asarray(seeds, dtype=np.int64)):
            start = np.uint64(stream_start(int(s), sid))
            for j in range(k):
                out[r, j] = uniform(start, j + 1)
        return out

    def values_for(self, seeds: np.ndarray) -> np.ndarray:
        """(runs, keys) parameter values of the runs with these seeds."""
        seeds = np.asarray(seeds, dtype=np.int64)
        if self.draws is not None:
            pick = np.minimum(
                (self.uniforms(seeds, 1)[:, 0] * len(self.draws)).astype(np.int64),
                len(self.draws) - 1,
            )
            return self.draws[pick]
        q = self.uniforms(seeds, len(self.keys))
        return np.column_stack([p.ppf(q[:, j]) for j, p in enumerate(self.priors)])

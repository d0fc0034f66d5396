"""Scoring candidate policies over uncertainty scenarios, with common random numbers.

A **scenario** is one state of the world and one run's luck: a value for every
ranged uncertainty (a Latin hypercube row), the posterior draw its seed picks,
and that seed. Every candidate policy is played once in every scenario — the
same values and the same seed for all candidates (common random numbers), so two
policies differ only by what the policy changes. The runs go through the batch
engine's compiled kernels (:func:`sim.engines.batch.simulate`) on every core,
many policies at a time.

Each run yields the metrics of :data:`sim.search.spec.METRICS`; an objective is
one metric summarised over the scenarios by its robustness statistic
(:func:`summarise`), with a 95% confidence interval:

- ``mean`` of a 0/1 metric (a share): Wilson's interval;
- ``mean`` of a continuous metric: mean ± 1.96 standard errors;
- percentile ``pNN``: the distribution-free interval between two order statistics
  (binomial ranks), so no assumption on the metric's distribution.

Example:
    >>> import numpy as np
    >>> est, lo, hi = summarise(np.array([[0, 1, 1, 1]]), "p_agreement", "mean")
    >>> float(est[0]), bool(lo[0] < 0.75 < hi[0])
    (0.75, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.search.spec import BINARY, Checked, build_config, model_values

#: 97.5% normal quantile (two-sided 95% intervals).
Z95 = 1.959963984540054
#: Seeds of the search's scenarios and of the re-evaluation's are drawn from disjoint
#: blocks of this size: block 2·seed for the search, 2·seed + 1 for re-evaluation.
SEED_BLOCK = 100_000_000
#: Runs simulated at once (bounds the memory of per-run parameter arrays).
RUNS_PER_BATCH = 32_768


@dataclass(frozen=True)
class Scenarios:
    """States of the world every candidate is played in.

    Attributes:
        seeds: (S,) one run seed per scenario.
        keys: the uncertain keys: the ranged ones, then the posterior's.
        values: (S, len(keys)) their values.
        label: ``search`` or ``reevaluation``.
    """

    seeds: np.ndarray
    keys: tuple[str, ...]
    values: np.ndarray
    label: str

    def __len__(self) -> int:
        return len(self.seeds)


def sample_scenarios(checked: Checked, n: int, out_of_sample: bool = False) -> Scenarios:
    """``n`` scenarios: a Latin hypercube over the ranged uncertainties (seeded by the
    preset's seed; another stream for the re-evaluation) and the posterior draw each
    scenario's seed picks. The search's and the re-evaluation's seeds never overlap."""
    from scipy.stats import qmc

    spec = checked.spec
    block = 2 * spec.seed + (1 if out_of_sample else 0)
    seeds = block * SEED_BLOCK + np.arange(n, dtype=np.int64)
    keys = [r.key for r in checked.ranges]
    cols = []
    if keys:
        lhs = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng([spec.seed, block]))
        unit = lhs.random(n)
        lo = np.array([r.lo for r in checked.ranges], dtype=float)
        hi = np.array([r.hi for r in checked.ranges], dtype=float)
        cols.append(lo + unit * (hi - lo))
    if spec.posterior:
        from sim.report.io import read_posterior

        post = read_posterior(spec.posterior)
        keys += list(post.keys)
        cols.append(post.values_for(seeds))
    values = np.column_stack(cols) if cols else np.zeros((n, 0))
    return Scenarios(seeds, tuple(keys), values, "reevaluation" if out_of_sample else "search")


class Evaluator:
    """Plays candidate policies in a fixed set of scenarios and returns their metrics.

    Args:
        checked: the checked preset.
        base: the base model as a plain app-config dict (:func:`sim.search.spec.base_dict`).
        scenarios: where every policy is played.
        threads: threads of the batch engine (``"auto"``: every core).
    """

    def __init__(self, checked: Checked, base: dict, scenarios: Scenarios, threads="auto"):
        self.checked = checked
        self.base = base
        self.scenarios = scenarios
        self.threads = threads
        self.rounds = int(model_values(base)["rounds"])
        self.runs = 0  # runs played so far

    def config(self, policy: dict):
        """The model config of one policy (lever key -> value)."""
        return build_config(self.base, policy)

    def metrics(self, policies: list[dict]) -> dict[str, np.ndarray]:
        """Every metric of every policy in every scenario: ``{metric: (P, S) array}``."""
        from sim.engines.batch import simulate
        from sim.model.compile import compile_configs, slot, structure_key, with_run_values
        from sim.model.names import Outcome, T, V

        S = len(self.scenarios)
        P = len(policies)
        out = {m: np.empty((P, S)) for m in ("p_agreement", "p_breakdown", "relief_given",
                                             "undeclared_end", "rounds_to_agreement")}  # fmt: skip
        cfgs = [self.config(p) for p in policies]
        groups: dict[tuple, list[int]] = {}
        for i, cfg in enumerate(cfgs):
            groups.setdefault(structure_key(cfg), []).append(i)
        per_batch = max(1, RUNS_PER_BATCH // S)
        for members in groups.values():
            for start in range(0, len(members), per_batch):
                idx = members[start : start + per_batch]
                c = compile_configs([cfgs[i] for i in idx for _ in range(S)])
                seeds = np.tile(self.scenarios.seeds, len(idx))
                if self.scenarios.keys:
                    slots = [slot(c.structure, k) for k in self.scenarios.keys]
                    c = with_run_values(c, slots, np.tile(self.scenarios.values, (len(idx), 1)))
                state, _ = simulate(c, seeds, record=False, threads=self.threads)
                outcome = state.tally[:, T.outcome].reshape(len(idx), S)
                agreed = outcome == Outcome.AGREEMENT
                ended = state.tally[:, T.end_round].reshape(len(idx), S)
                out["p_agreement"][idx] = agreed
                out["p_breakdown"][idx] = outcome == Outcome.BREAKDOWN
                out["relief_given"][idx] = state.x[:, V.relief].reshape(len(idx), S)
                out["undeclared_end"][idx] = state.x[:, V.undeclared].reshape(len(idx), S)
                out["rounds_to_agreement"][idx] = np.where(agreed, ended, self.rounds)
                self.runs += len(seeds)
        return out

    def objectives(self, policies: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """The objectives of each policy: estimates, 95% interval bounds (each (P, m), in
        :attr:`Checked.objectives` order) and the per-run metrics."""
        runs = self.metrics(policies)
        est, lo, hi = [], [], []
        for ob in self.checked.objectives:
            e, a, b = summarise(runs[ob.metric], ob.metric, ob.robustness)
            est.append(e)
            lo.append(a)
            hi.append(b)
        return np.column_stack(est), np.column_stack(lo), np.column_stack(hi), runs


def summarise(values: np.ndarray, metric: str, robustness: str):
    """A robustness statistic of each row of ``values`` (policies x scenarios), with its
    95% confidence interval: (estimate, low, high), each of shape (P,)."""
    from scipy.stats import binom

    values = np.atleast_2d(np.asarray(values, dtype=float))
    n = values.shape[1]
    if robustness == "mean":
        mean = values.mean(axis=1)
        if metric in BINARY:  # Wilson's interval of a share
            denom = 1 + Z95**2 / n
            centre = (mean + Z95**2 / (2 * n)) / denom
            half = Z95 * np.sqrt(mean * (1 - mean) / n + Z95**2 / (4 * n**2)) / denom
            return mean, np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        se = values.std(axis=1, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(len(values))
        return mean, mean - Z95 * se, mean + Z95 * se
    q = int(robustness[1:]) / 100
    ordered = np.sort(values, axis=1)
    est = np.quantile(values, q, axis=1, method="inverted_cdf")
    # ranks k with P(order statistic k <= true quantile) bracketing 95% (1-based ranks)
    k_lo = int(max(1, binom.ppf(0.025, n, q)))
    k_hi = int(min(n, binom.ppf(0.975, n, q) + 1))
    return est, ordered[:, k_lo - 1], ordered[:, k_hi - 1]


def overlap(lo_a, hi_a, lo_b, hi_b) -> np.ndarray:
    """Whether two estimates agree within their 95% intervals: the intervals overlap."""
    return (np.asarray(lo_a) <= np.asarray(hi_b) + 1e-12) & (
        np.asarray(lo_b) <= np.asarray(hi_a) + 1e-12
    )


def agreement(est_a, lo_a, hi_a, est_b, lo_b, hi_b, m: int | None = None) -> np.ndarray:
    """A stricter check than :func:`overlap`: the 95% interval of the difference of two
    independent estimates (standard errors read off each interval, Bonferroni over
    the ``m`` objectives of a policy) holds zero. Shape (P, m)."""
    from statistics import NormalDist

    est_a, est_b = np.asarray(est_a), np.asarray(est_b)
    m = est_a.shape[1] if m is None else m
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * m))
    se_a = (np.asarray(hi_a) - np.asarray(lo_a)) / (2 * Z95)
    se_b = (np.asarray(hi_b) - np.asarray(lo_b)) / (2 * Z95)
    return np.abs(est_a - est_b) <= z * np.sqrt(se_a**2 + se_b**2) + 1e-12

"""Screening before Sobol: which of the model's many parameters matter at all?

A Sobol study costs N(D + 2) points; over every parameter of the model (dozens of
actors' utility weights) most of that budget would go to parameters that do
nothing. Two cheap first passes rank them all, and a Sobol study then varies only
the ones that matter (``experiments/sensitivity.py --factors …``):

- **Morris elementary effects** (Morris 1991; Campolongo et al. 2007) through SALib:
  ``r`` one-at-a-time trajectories through a grid of ``levels`` levels; per
  parameter, μ* (the mean absolute effect: how much it matters) and σ (the spread
  of its effects: how much it interacts or acts non-linearly), with a bootstrap
  interval on μ*. Costs r(D + 1) points.
- **Extra-trees feature scores** through EMA Workbench (``get_ex_feature_scores``):
  an ensemble of extremely randomised trees fitted to a Latin-hypercube sample;
  a parameter's score is its share of the trees' impurity reduction. Any sample
  will do (it can be an existing sweep), and it sees interactions, but the
  scores of correlated or many weak parameters are diluted.

The parameter space (:func:`parameters`) is every numeric parameter of the
default model: the per-run parameters, the starting state, each actor's initial
trust, each actor's non-zero utility weights (default ± 2) and the sequencing
regime (three levels), over the ranges tabled in ``docs/analysis.md`` §3.

Example:
    >>> import numpy as np
    >>> prob = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    >>> table = morris_screening(lambda X: 5 * X[:, 0] + X[:, 1] ** 2, prob, r=10, num_resamples=50)
    >>> list(table["parameter"])[:2], float(table.set_index("parameter").loc["c", "mu_star"])
    (['a', 'b'], 0.0)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import REGIME_LEVELS  # the thirds of ``regime`` in [0, 1]
from sim.model.sequencing import REGIMES

#: Ranges of the per-run parameters and starting values (the rest keep their default).
#: Wider than any scenario sets them, narrower than what the model allows where that
#: is absurd (rationality up to 100, a step of 1).
RANGES: dict[str, tuple[float, float]] = {
    "assurance": (0.0, 1.0),
    "relief": (0.0, 1.0),
    "enforcement": (0.0, 1.0),
    "tension": (0.0, 0.6),
    "undeclared": (0.0, 0.6),
    "denuclearization": (0.0, 0.3),
    "detect_prob": (0.0, 1.0),
    "false_alarm_prob": (0.0, 0.3),
    "detection_response": (0.0, 3.0),
    "snapback": (0.0, 1.0),
    "stalemate_cost": (0.0, 2.0),
    "rationality": (1.0, 10.0),
    "step_size": (0.05, 0.2),
    "reversion": (0.0, 0.1),
    "tension_decay": (0.0, 0.15),
    "reversibility": (0.0, 0.05),
    "trust_gain": (0.0, 0.3),
    "trust_loss": (0.0, 0.5),
    "agreement_threshold": (0.4, 0.8),
    "breakdown_threshold": (0.6, 1.0),
    "hedged_margin": (0.0, 0.2),
}
#: How far each non-zero utility weight varies around its default.
WEIGHT_SPREAD = 2.0
#: Outputs of a point (over its seeds).
OUTPUTS = {
    "p_agreement": "P(agreement)",
    "p_stalemate": "P(stalemate, plain or hedged)",
    "hedge_share_DPRK": "DPRK's share of rounds hedging",
}


@dataclass(frozen=True)
class Parameter:
    """A screened parameter: a dotted config key (``regime`` stands for the sequencing
    regime), uniform on [lo, hi]."""

    key: str
    lo: float
    hi: float


def parameters() -> tuple[Parameter, ...]:
    """Every numeric parameter of the default model, with its screening range."""
    from sim.model.params import default_actors

    out = [Parameter(k, lo, hi) for k, (lo, hi) in RANGES.items()]
    out.append(Parameter("regime", 0.0, 1.0))
    for name, actor in default_actors().items():
        out.append(Parameter(f"actors.{name}.trust", 0.0, 1.0))
        for action in ("concede", "hedge", "escalate"):
            for feature, w in getattr(actor, action).items():
                if w != 0:
                    out.append(
                        Parameter(
                            f"actors.{name}.{action}.{feature}",
                            w - WEIGHT_SPREAD,
                            w + WEIGHT_SPREAD,
                        )
                    )
    return tuple(out)


def problem(params: Sequence[Parameter]) -> dict:
    """SALib's problem definition."""
    return {
        "num_vars": len(params),
        "names": [p.key for p in params],
        "bounds": [[p.lo, p.hi] for p in params],
    }


def evaluate(
    X: np.ndarray,
    params: Sequence[Parameter],
    seeds: int = 16,
    rounds: int = 200,
    threads="auto",
) -> pd.DataFrame:
    """Score every point (row of ``X``, in the parameters' units) over ``seeds`` runs (the
    same seeds at every point), everything else at the default model.

    Returns:
        One row per point: each output of :data:`OUTPUTS`.
    """
    from sim.engines.batch import simulate
    from sim.model.compile import Slot, compile_configs, slot, with_values
    from sim.model.names import Action, Outcome, T
    from sim.model.params import P, make_config

    X = np.atleast_2d(np.asarray(X, dtype=float))
    c = compile_configs([make_config(rounds=rounds)])
    slots, values = [], X.copy()
    for j, p in enumerate(params):
        if p.key == "regime":  # thirds of [0, 1] -> kappa 0, 0.5, 1
            slots.append(Slot("regime", "theta", (int(P.kappa),), (0.0, 1.0)))
            values[:, j] = [REGIMES[REGIME_LEVELS[min(int(u * 3), 2)]] for u in X[:, j]]
        else:
            slots.append(slot(c.structure, p.key))
    n = len(X)
    runs = with_values(c, slots, np.repeat(values, seeds, axis=0))
    state, _ = simulate(
        runs, np.tile(np.arange(seeds, dtype=np.int64), n), record=False, threads=threads
    )
    outcome = state.tally[:, T.outcome].reshape(n, seeds)
    played = np.maximum(state.tally[:, T.end_round], 1)
    dprk = c.structure.names.index("DPRK")
    hedge = (state.counts[:, dprk, Action.HEDGE] / played).reshape(n, seeds)
    stalled = (outcome == Outcome.STALEMATE) | (outcome == Outcome.HEDGED_STALEMATE)
    return pd.DataFrame(
        {
            "p_agreement": (outcome == Outcome.AGREEMENT).mean(axis=1),
            "p_stalemate": stalled.mean(axis=1),
            "hedge_share_DPRK": hedge.mean(axis=1),
        }
    )


def morris_sample(prob: dict, r: int = 20, levels: int = 4, seed: int = 0) -> np.ndarray:
    """Morris trajectories (SALib): ``r * (D + 1)`` points."""
    from SALib.sample import morris as sample

    return sample.sample(prob, r, num_levels=levels, seed=seed)


def morris_indices(
    prob: dict,
    X: np.ndarray,
    y: np.ndarray,
    levels: int = 4,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """μ*, its 95% bootstrap interval, μ and σ of each parameter (SALib), sorted by μ*."""
    from SALib.analyze import morris as analyze

    si = analyze.analyze(prob, X, np.asarray(y, dtype=float), num_levels=levels, conf_level=0.95,
                         num_resamples=num_resamples, seed=seed)  # fmt: skip
    table = pd.DataFrame(
        {
            "parameter": prob["names"],
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "mu": np.asarray(si["mu"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
        }
    )
    return table.sort_values("mu_star", ascending=False, kind="stable", ignore_index=True)


def morris_screening(
    f: Callable[[np.ndarray], np.ndarray],
    prob: dict,
    r: int = 20,
    levels: int = 4,
    seed: int = 0,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Morris screening of a function ``f`` (rows of points -> one output per row)."""
    X = morris_sample(prob, r, levels, seed)
    return morris_indices(prob, X, f(X), levels, num_resamples, seed)


def feature_scores(X: pd.DataFrame, y, seed: int = 0, trees: int = 250) -> pd.Series:
    """Extra-trees feature scores (EMA Workbench), highest first, summing to one.

    ``y`` continuous: regression trees; boolean: classification trees.
    """
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = importlib.import_module("ema_workbench.analysis.feature_scoring")
        y = np.asarray(y)
        mode = (
            fs.RuleInductionType.CLASSIFICATION
            if y.dtype == bool
            else fs.RuleInductionType.REGRESSION
        )
        scores, _ = fs.get_ex_feature_scores(
            X.reset_index(drop=True), y.astype(int) if y.dtype == bool else y.astype(float),
            mode=mode, nr_trees=trees, random_state=seed,
        )  # fmt: skip
    s = scores.iloc[:, 0].sort_values(ascending=False, kind="stable")
    s.name = "score"
    return s

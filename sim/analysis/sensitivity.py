"""The parameter space of the global analyses, and how one point of it is scored.

Both the Sobol sensitivity analysis (``experiments/sensitivity.py``) and the
scenario discovery (``experiments/discovery.py``) vary the same **factors**: the
model's main parameters, one per mechanism of the brief, each over a range
(:data:`FACTORS`). Everything else keeps its default (the 2018 baseline).

A point of the space is scored over many seeds with the batch engine
(:func:`evaluate`); every point uses the same seeds ``0 .. seeds-1`` (common
random numbers), and its **outputs** (:data:`OUTPUTS`) are

- ``p_agreement``: share of runs ending in agreement;
- ``p_stalemate``: share ending in stalemate, plain or hedged;
- ``hedge_share_DPRK``: mean share of rounds in which the DPRK hedged.

The sequencing regime is categorical. It enters as the factor
``conditionality``: a uniform number in [0, 1) split into thirds picks
``relief_first`` (kappa 0), ``action_for_action`` (0.5) or
``denuclearization_first`` (1), so the three regimes are equally likely; the
point's table records kappa. Variance-based indices are defined for independent
inputs of any distribution, discrete ones included.

Example:
    >>> import numpy as np
    >>> X = scale(np.full((1, len(FACTORS)), 0.5))   # the centre of the space
    >>> cfg = to_configs(X, rounds=20)[0]
    >>> cfg.regime, cfg.actors["DPRK"].trust, cfg.rationality
    ('action_for_action', 0.5, 5.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.params import ModelConfig, make_config
from sim.model.sequencing import REGIMES

#: Regimes in increasing conditionality (kappa).
REGIME_LEVELS = tuple(sorted(REGIMES, key=REGIMES.get))


@dataclass(frozen=True)
class Factor:
    """A parameter varied by the global analyses, uniform on [lo, hi]."""

    name: str
    lo: float
    hi: float
    doc: str


FACTORS: tuple[Factor, ...] = (
    Factor("assurance", 0.0, 1.0, "security assurance on the table"),
    Factor("relief", 0.0, 1.0, "nominal sanctions relief on the table"),
    Factor("enforcement", 0.0, 1.0, "sanctions enforcement by enforcers"),
    Factor("conditionality", 0.0, 1.0, "sequencing regime, kappa 0 / 0.5 / 1 in equal thirds"),
    Factor("detect_prob", 0.0, 1.0, "P(covert hedging caught) per round"),
    Factor("false_alarm_prob", 0.0, 0.3, "P(false alarm) per round"),
    Factor("detection_response", 0.0, 3.0, "principal's urge to escalate after a detection"),
    Factor("snapback", 0.0, 1.0, "share of conditional relief withdrawn on a detection"),
    Factor("stalemate_cost", 0.0, 2.0, "how much stalemate hurts (ripeness)"),
    Factor("rationality", 1.0, 10.0, "logit precision"),
    Factor("trust_USA", 0.0, 1.0, "the USA's initial trust"),
    Factor("trust_DPRK", 0.0, 1.0, "the DPRK's initial trust"),
)
FACTOR_NAMES = tuple(f.name for f in FACTORS)

#: Outputs of a point, with their labels.
OUTPUTS = {
    "p_agreement": "P(agreement)",
    "p_stalemate": "P(stalemate, plain or hedged)",
    "hedge_share_DPRK": "DPRK's share of rounds hedging",
}


def select(names: Sequence[str] | None = None) -> tuple[Factor, ...]:
    """The factors called ``names`` (default: all), in :data:`FACTORS` order."""
    if names is None:
        return FACTORS
    unknown = set(names) - set(FACTOR_NAMES)
    if unknown:
        raise ValueError(f"unknown factors {sorted(unknown)}; known: {', '.join(FACTOR_NAMES)}")
    return tuple(f for f in FACTORS if f.name in names)


def problem(factors: Sequence[Factor] = FACTORS) -> dict:
    """SALib's problem definition for ``factors``."""
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[f.lo, f.hi] for f in factors],
    }


def scale(U: np.ndarray, factors: Sequence[Factor] = FACTORS) -> np.ndarray:
    """Map points of the unit cube to the factors' ranges."""
    lo = np.array([f.lo for f in factors])
    hi = np.array([f.hi for f in factors])
    return lo + np.asarray(U) * (hi - lo)


def regime_of(u: float) -> str:
    """The regime of a ``conditionality`` value in [0, 1] (thirds, increasing kappa)."""
    return REGIME_LEVELS[min(int(u * 3), 2)]


def kappa_of(u) -> np.ndarray:
    """kappa of ``conditionality`` values (0, 0.5 or 1)."""
    return np.array([REGIMES[regime_of(float(v))] for v in np.ravel(u)])


def point_params(x: Sequence[float], factors: Sequence[Factor] = FACTORS, **fixed) -> dict:
    """Keyword arguments of :func:`sim.make_config` for one point ``x``."""
    kw: dict = dict(fixed)
    actors: dict = {}
    for f, v in zip(factors, x):
        v = float(v)
        if f.name == "conditionality":
            kw["regime"] = regime_of(v)
        elif f.name.startswith("trust_"):
            actors[f.name.split("_", 1)[1]] = {"trust": v}
        else:
            kw[f.name] = v
    if actors:
        kw["actors"] = actors
    return kw


def to_configs(X: np.ndarray, factors: Sequence[Factor] = FACTORS, **fixed) -> list[ModelConfig]:
    """One validated config per row of ``X`` (values in the factors' units)."""
    return [make_config(**point_params(x, factors, **fixed)) for x in np.atleast_2d(X)]


def evaluate(
    X: np.ndarray,
    factors: Sequence[Factor] = FACTORS,
    seeds: int = 32,
    rounds: int = 200,
    processes: int = 1,
    progress: bool = False,
) -> pd.DataFrame:
    """Score every point of ``X`` over ``seeds`` runs (seeds 0 .. seeds-1 at every point).

    Returns:
        One row per point: the factor values (``conditionality`` as kappa), each
        output of :data:`OUTPUTS`, ``p_breakdown``, and for each output ``<name>_se``,
        its standard error over seeds.
    """
    from sim.engines.batch import run_batch

    X = np.atleast_2d(np.asarray(X, dtype=float))
    cfgs = to_configs(X, factors, rounds=rounds)
    configs = [c for c in cfgs for _ in range(seeds)]
    res = run_batch(
        configs,
        list(range(seeds)) * len(cfgs),
        record=False,
        processes=processes,
        progress=progress,
    )
    runs = res.runs
    point = runs["run_id"].to_numpy() // seeds
    outcome = runs["outcome"].astype(str)
    per_run = pd.DataFrame(
        {
            "point": point,
            "p_agreement": (outcome == "agreement").to_numpy(float),
            "p_stalemate": outcome.isin(["stalemate", "hedged_stalemate"]).to_numpy(float),
            "p_breakdown": (outcome == "breakdown").to_numpy(float),
            "hedge_share_DPRK": runs["hedge_share_DPRK"].to_numpy(float),
        }
    )
    g = per_run.groupby("point", sort=True)
    out = pd.DataFrame(X, columns=[f.name for f in factors])
    if "conditionality" in out:
        out["conditionality"] = kappa_of(out["conditionality"])
    means = g.mean()
    ses = g.std(ddof=1) / np.sqrt(seeds) if seeds > 1 else means * np.nan
    for col in [*OUTPUTS, "p_breakdown"]:
        out[col] = means[col].to_numpy()
    for col in OUTPUTS:
        out[f"{col}_se"] = ses[col].to_numpy()
    return out


def sobol_indices(
    Y: pd.DataFrame,
    factors: Sequence[Factor] = FACTORS,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of each output, with CIs.

    ``Y`` is :func:`evaluate`'s table for a Saltelli sample (SALib's
    ``sobol.sample`` with ``calc_second_order=False``), rows in sample order.
    The intervals are SALib's bootstrap intervals (estimate ± half-width).
    ``noise_share`` estimates how much of an output's variance over points is
    seed noise (mean squared standard error / variance): the part of the
    variance no parameter explains.

    Returns:
        One row per output and factor: ``S1``, ``S1_lo``, ``S1_hi``, ``ST``,
        ``ST_lo``, ``ST_hi``, ``noise_share``; sorted by output then ST.
    """
    from SALib.analyze import sobol

    prob = problem(factors)
    rows = []
    for out in OUTPUTS:
        y = Y[out].to_numpy(float)
        var = y.var()
        noise = float(np.mean(Y[f"{out}_se"].to_numpy(float) ** 2) / var) if var > 0 else np.nan
        if var == 0:
            si = {k: np.full(len(factors), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            si = sobol.analyze(
                prob,
                y,
                calc_second_order=False,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=seed,
            )
        for k, f in enumerate(factors):
            rows.append(
                {
                    "output": out,
                    "parameter": f.name,
                    "S1": si["S1"][k],
                    "S1_lo": si["S1"][k] - si["S1_conf"][k],
                    "S1_hi": si["S1"][k] + si["S1_conf"][k],
                    "ST": si["ST"][k],
                    "ST_lo": si["ST"][k] - si["ST_conf"][k],
                    "ST_hi": si["ST"][k] + si["ST_conf"][k],
                    "noise_share": noise,
                    "variance": var,
                }
            )
    df = pd.DataFrame(rows)
    order = {o: i for i, o in enumerate(OUTPUTS)}
    return df.sort_values(
        ["output", "ST"],
        key=lambda s: s.map(order) if s.name == "output" else -s,
        ignore_index=True,
    )

"""Helpers shared by the tests: sweeps over seeds and 95% confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from sim import make_config, run_batch

#: Thresholds no run can reach, so a run always plays its whole horizon.
FULL_HORIZON = {"agreement_threshold": 1.0, "breakdown_threshold": 1.0}

#: The 97.5% normal quantile (two-sided 95% intervals).
Z = 1.959963984540054

#: ``python -c COUNTED_RUN hydra.run.dir=…``: ``stalemate seeds=1`` (10 rounds, quiet) whose
#: Hydra compositions are counted; it prints ``COMPOSED <n>`` at the end.
COUNTED_RUN = """
import sys
import hydra._internal.config_loader_impl as impl
real = impl.ConfigLoaderImpl.load_configuration
calls = []
def counted(self, config_name, overrides, run_mode, from_shell=True, validate_sweep_overrides=True):
    calls.append(run_mode)
    return real(self, config_name, overrides, run_mode, from_shell, validate_sweep_overrides)
impl.ConfigLoaderImpl.load_configuration = counted
sys.argv = ["stalemate", "seeds=1", "rounds=10", "narrate=false", "progress=false", *sys.argv[1:]]
from sim.hydra.cli import main
main()
print("COMPOSED", len(calls))
"""

#: The five scenarios in ``configs/scenario/``.
SCENARIOS = ("baseline_2018", "maximum_pressure", "grit", "action_for_action", "relief_first")


def shares(
    n: int, rounds: int = 200, seed0: int = 0, handset: bool = False, **params
) -> pd.DataFrame:
    """Runs table of ``n`` runs of one config (seeds ``seed0 .. seed0+n-1``), batch engine.

    Args:
        n: number of runs (seeds).
        rounds: horizon of every run.
        seed0: first seed.
        handset: on the hand-set preferences (:func:`sim.model.params.handset_config`)
            instead of the estimated default.
        **params: model parameters for :func:`sim.make_config`.
    """
    from sim.model.params import handset_config

    cfg = (handset_config if handset else make_config)(rounds=rounds, **params)
    return run_batch([cfg] * n, range(seed0, seed0 + n), record=False, progress=False).runs


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a binomial proportion k / n."""
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def proportion_ci(mask) -> tuple[float, float]:
    """Wilson 95% interval of the share of True in a boolean array."""
    mask = np.asarray(mask, dtype=bool)
    return wilson(int(mask.sum()), mask.size)


def diff_ci(a, b) -> tuple[float, float]:
    """Newcombe's hybrid-score 95% interval for P(a) - P(b) (boolean arrays).

    Built from the two Wilson intervals, so it stays sensible at 0% or 100%.
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    p1, p2 = a.mean(), b.mean()
    l1, u1 = proportion_ci(a)
    l2, u2 = proportion_ci(b)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def mean_diff_ci(a, b) -> tuple[float, float]:
    """Normal-approximation (Welch) 95% interval for mean(a) - mean(b)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a.mean() - b.mean()
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return d - Z * se, d + Z * se


def agreed(runs: pd.DataFrame) -> np.ndarray:
    """Boolean array: which runs ended in agreement."""
    return (runs["outcome"] == "agreement").to_numpy()


def stalemated(runs: pd.DataFrame) -> np.ndarray:
    """Boolean array: which runs ended in a stalemate (plain or hedged)."""
    return runs["outcome"].isin(["stalemate", "hedged_stalemate"]).to_numpy()


def broke_down(runs: pd.DataFrame) -> np.ndarray:
    """Boolean array: which runs ended in breakdown."""
    return (runs["outcome"] == "breakdown").to_numpy()

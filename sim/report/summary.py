"""Summaries of a runs table: outcome shares with confidence intervals, mean metrics.

Intervals are Wilson score intervals in closed form (vectorized over groups),
identical to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
(``tests/test_report.py`` checks it) at a fraction of the cost.

:class:`RunningSummary` accumulates the same numbers chunk by chunk, so a
command can summarise millions of runs without holding their table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from sim.engines.tables import OUTCOME_ORDER

if TYPE_CHECKING:
    import pandas as pd


def wilson(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (low, high) of k successes in n trials (arrays broadcast).

    Example:
        >>> [round(float(v), 3) for v in wilson(30, 100)]
        [0.219, 0.396]
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = np.clip(np.minimum(centre - half, p), 0.0, 1.0)  # rounding must not push p outside
    hi = np.clip(np.maximum(centre + half, p), 0.0, 1.0)
    return lo, hi


def share_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share k/n with its Wilson score interval.

    Example:
        >>> [round(v, 3) for v in share_ci(30, 100)]
        [0.3, 0.219, 0.396]
    """
    if n == 0:
        return (np.nan, np.nan, np.nan)
    lo, hi = wilson(k, n, level)
    return (k / n, float(lo), float(hi))


def outcome_shares(runs: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Share of each outcome with 95% Wilson intervals, per group of ``by`` columns.

    Columns: the ``by`` columns, ``n``, and for each outcome ``<outcome>``,
    ``<outcome>_lo``, ``<outcome>_hi``.
    """
    import pandas as pd

    outcome = runs["outcome"].astype(pd.CategoricalDtype(OUTCOME_ORDER))
    if by:
        counts = pd.crosstab([runs[b] for b in by], outcome, dropna=False).reindex(
            columns=OUTCOME_ORDER, fill_value=0
        )
        counts = counts[counts.sum(axis=1) > 0]
        out = counts.index.to_frame(index=False)
    else:
        counts = outcome.value_counts().reindex(OUTCOME_ORDER, fill_value=0).to_frame().T
        out = pd.DataFrame(index=[0])
    k = counts.to_numpy()
    n = k.sum(axis=1)
    out["n"] = n
    lo, hi = wilson(k, n[:, None])
    for j, o in enumerate(OUTCOME_ORDER):
        out[o] = k[:, j] / n
        out[f"{o}_lo"] = lo[:, j]
        out[f"{o}_hi"] = hi[:, j]
    return out.reset_index(drop=True)


#: The outcomes that end a run before its horizon (the survival analysis' events).
ENDINGS = ("agreement", "breakdown")


@dataclass
class RunningSummary:
    """Outcome counts and metric sums accumulated over chunks of a runs table.

    Example:
        >>> import pandas as pd
        >>> s = RunningSummary(["USA"])
        >>> s.add(pd.DataFrame({"outcome": ["agreement", "stalemate"], "rounds_to_agreement": [5.0, None],
        ...     "peak_tension": [0.4, 0.5], "final_undeclared": [0.3, 0.6], "undeclared_growth": [0.0, 0.3],
        ...     "detections": [1, 2], "false_alarms": [0, 1], "concede_share_USA": [0.5, 0.1],
        ...     "hedge_share_USA": [0.5, 0.9], "escalate_share_USA": [0.0, 0.0], "rounds_played": [5, 20]}))
        >>> s.n, s.counts["agreement"], s.mean("peak_tension")
        (2, 1, 0.45)
        >>> float(s.survival()["talking"][4]), float(s.survival()["talking"][5])
        (1.0, 0.5)
    """

    actors: list[str]
    n: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_ORDER, 0))
    sums: dict[str, float] = field(default_factory=dict)
    agreements: int = 0
    agreement_rounds: float = 0.0
    grew: int = 0
    horizon: int = 0
    #: runs that ended in agreement / breakdown in each round (index: the round)
    ended_at: dict[str, np.ndarray] = field(
        default_factory=lambda: {o: np.zeros(1, dtype=np.int64) for o in ENDINGS}
    )

    def metrics(self) -> list[str]:
        cols = ["peak_tension", "final_undeclared", "detections", "false_alarms"]
        for a in self.actors:
            cols += [f"{x}_share_{a}" for x in ("concede", "hedge", "escalate")]
        return cols

    def add(self, runs) -> None:
        """Add a chunk of a runs table (an Arrow table or a DataFrame)."""

        def col(name):
            if hasattr(runs, "column"):  # Arrow, read without pandas
                from sim.engines.arrow import to_numpy

                return to_numpy(runs.column(name))
            c = runs[name]
            return c.to_numpy() if hasattr(c, "to_numpy") else np.asarray(c)

        outcome = np.asarray(col("outcome")).astype(str)
        self.n += len(outcome)
        for o in OUTCOME_ORDER:
            self.counts[o] += int((outcome == o).sum())
        for name in self.metrics():
            self.sums[name] = self.sums.get(name, 0.0) + float(np.sum(col(name)))
        rounds = np.asarray(col("rounds_to_agreement"), dtype=float)
        agreed = rounds[~np.isnan(rounds)]
        self.agreements += len(agreed)
        self.agreement_rounds += float(agreed.sum())
        self.grew += int((col("undeclared_growth") > 0).sum())
        played = np.asarray(col("rounds_played"), dtype=np.int64)
        if len(played):
            self.horizon = max(self.horizon, int(played.max()))
        for o in ENDINGS:
            t = played[outcome == o]
            counts = np.bincount(t, minlength=len(self.ended_at[o]))
            if len(counts) > len(self.ended_at[o]):
                self.ended_at[o] = np.pad(
                    self.ended_at[o], (0, len(counts) - len(self.ended_at[o]))
                )
            self.ended_at[o] += counts

    def survival(self, horizon: int | None = None) -> dict[str, np.ndarray]:
        """Round by round (0 .. horizon): the share of runs still talking (Kaplan–Meier with
        every run censored at the horizon, which is this empirical share), and the
        cumulative share that ended in agreement and in breakdown."""
        h = self.horizon if horizon is None else int(horizon)
        out = {}
        for o in ENDINGS:
            c = np.zeros(h + 1, dtype=np.int64)
            k = min(len(self.ended_at[o]), h + 1)
            c[:k] = self.ended_at[o][:k]
            out[o] = np.cumsum(c) / max(self.n, 1)
        out["talking"] = 1.0 - sum(out[o] for o in ENDINGS)
        out["round"] = np.arange(h + 1)
        return out

    def horizons(self) -> list[int]:
        """Three horizons to report shares at: a quarter, half and all of the horizon."""
        h = self.horizon
        return sorted({max(1, h // 4), max(1, h // 2), h}) if h else []

    def mean(self, col: str) -> float:
        return self.sums[col] / self.n if self.n else float("nan")

    def format(self) -> str:
        """The readable block the CLI prints: outcomes with CIs, then mean metrics."""
        n = self.n
        lines = [f"Outcomes over {n:,} runs (share, 95% CI):"]
        for o in OUTCOME_ORDER:
            share, lo, hi = share_ci(self.counts[o], n)
            lines.append(f"  {o.replace('_', ' '):<17} {share:6.1%}   [{lo:5.1%} – {hi:5.1%}]")
        if self.horizon:
            surv = self.survival()
            lines.append("Over time (share of runs ended by each round; the rest still talking):")
            lines.append("  by round   agreement  breakdown  still talking")
            for h in self.horizons():
                lines.append(
                    f"  {h:>8}   {surv['agreement'][h]:9.1%}  {surv['breakdown'][h]:9.1%}"
                    f"  {surv['talking'][h]:13.1%}"
                )
        lines.append("Mean metrics:")
        if self.agreements:
            lines.append(
                f"  rounds to agreement      {self.agreement_rounds / self.agreements:6.1f}"
                f"  (in the {self.agreements:,} agreements)"
            )
        lines.append(f"  peak tension             {self.mean('peak_tension'):6.2f}")
        lines.append(
            f"  undeclared capability    {self.mean('final_undeclared'):6.2f} at the end"
            f"  (grew in {self.grew / n:.0%} of runs)"
        )
        lines.append(
            f"  detections per run       {self.mean('detections'):6.1f}"
            f"  (+{self.mean('false_alarms'):.1f} false alarms)"
        )
        lines.append("  share of rounds          concede   hedge  escalate")
        for a in self.actors:
            c, h, e = (self.mean(f"{x}_share_{a}") for x in ("concede", "hedge", "escalate"))
            lines.append(f"    {a:<22} {c:6.1%}  {h:6.1%}  {e:6.1%}")
        return "\n".join(lines)


def format_summary(runs: pd.DataFrame, actors: list[str]) -> str:
    """The readable block the CLI prints for a whole runs table."""
    s = RunningSummary(list(actors))
    s.add(runs)
    return s.format()

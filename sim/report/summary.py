"""Summaries of a runs table: outcome shares with confidence intervals, mean metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from sim.engines.tables import OUTCOME_ORDER


def share_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share k/n with its Wilson score interval.

    Example:
        >>> [round(v, 3) for v in share_ci(30, 100)]
        [0.3, 0.219, 0.396]
    """
    if n == 0:
        return (np.nan, np.nan, np.nan)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return (k / n, float(ci.low), float(ci.high))


def outcome_shares(runs: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Share of each outcome with 95% Wilson intervals, per group of ``by`` columns.

    Columns: the ``by`` columns, ``n``, and for each outcome ``<outcome>``,
    ``<outcome>_lo``, ``<outcome>_hi``.
    """
    groups = runs.groupby(by, observed=True, sort=True) if by else [((), runs)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by or [], key))
        n = len(g)
        row["n"] = n
        counts = g["outcome"].astype(str).value_counts()
        for o in OUTCOME_ORDER:
            row[o], row[f"{o}_lo"], row[f"{o}_hi"] = share_ci(int(counts.get(o, 0)), n)
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(runs: pd.DataFrame, actors: list[str]) -> str:
    """The readable block the CLI prints: outcomes with CIs, then mean metrics."""
    s = outcome_shares(runs).iloc[0]
    n = int(s["n"])
    lines = [f"Outcomes over {n} runs (share, 95% CI):"]
    for o in OUTCOME_ORDER:
        lines.append(
            f"  {o.replace('_', ' '):<17} {s[o]:6.1%}   [{s[o + '_lo']:5.1%} – {s[o + '_hi']:5.1%}]"
        )
    agreed = runs["rounds_to_agreement"].dropna()
    lines.append("Mean metrics:")
    if len(agreed):
        lines.append(
            f"  rounds to agreement      {agreed.mean():6.1f}  (in the {len(agreed)} agreements)"
        )
    lines.append(f"  peak tension             {runs['peak_tension'].mean():6.2f}")
    lines.append(
        f"  undeclared capability    {runs['final_undeclared'].mean():6.2f} at the end"
        f"  (grew in {(runs['undeclared_growth'] > 0).mean():.0%} of runs)"
    )
    lines.append(
        f"  detections per run       {runs['detections'].mean():6.1f}"
        f"  (+{runs['false_alarms'].mean():.1f} false alarms)"
    )
    lines.append("  share of rounds          concede   hedge  escalate")
    for a in actors:
        c, h, e = (runs[f"{x}_share_{a}"].mean() for x in ("concede", "hedge", "escalate"))
        lines.append(f"    {a:<22} {c:6.1%}  {h:6.1%}  {e:6.1%}")
    return "\n".join(lines)

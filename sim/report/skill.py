"""Figures of forecast skill: the model against the baselines, month by month.

Example:
    >>> import pandas as pd
    >>> rows = [dict(horizon=1, period=p, actor=a, model=m, log=v)
    ...         for p in ("2019-01", "2019-02") for a in ("X", "Y")
    ...         for m, v in (("model", -1.0), ("persistence", -1.2))]
    >>> fig = plot_cumulative_skill(pd.DataFrame(rows), "model", ["persistence"])
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: A colour per baseline (colour-blind safe, Okabe-Ito).
BASELINE_COLORS = {
    "persistence": "#D55E00",
    "frequencies": "#0072B2",
    "markov": "#009E73",
    "lagged_logit": "#CC79A7",
}


def plot_cumulative_skill(scores, model: str, baselines, score: str = "log", title: str = ""):
    """Cumulative difference of the model's score and each baseline's, month by month
    (summed over actors; log score: model − baseline, so a line that climbs is a model
    that forecasts better), one panel per horizon.

    Args:
        scores: the rolling-origin table (:func:`sim.analysis.forecast.rolling_origin`).
        model: the model's name in the table.
        baselines: the baselines to draw.
        score: ``log``, ``brier`` or ``rps`` (for the last two the sign is flipped so
            that up is still better for the model).
    """
    horizons = sorted(scores["horizon"].unique())
    fig, axes = plt.subplots(1, len(horizons), figsize=(5.2 * len(horizons) + 0.6, 3.8),
                             sharey=True, squeeze=False)  # fmt: skip
    sign = 1.0 if score == "log" else -1.0
    for ax, h in zip(axes[0], horizons):
        at = scores[scores["horizon"] == h]
        mine = at[at["model"] == model].groupby("period")[score].sum()
        months = list(mine.index)
        x = np.arange(len(months))
        for b in baselines:
            theirs = at[at["model"] == b].groupby("period")[score].sum().reindex(months)
            diff = sign * (mine - theirs).cumsum()
            ax.plot(x, diff.to_numpy(), marker="o", ms=3.5, lw=2,
                    color=BASELINE_COLORS.get(b, "grey"), label=b.replace("_", " "))  # fmt: skip
            ax.annotate(f"{diff.iloc[-1]:+.1f}", (x[-1], diff.iloc[-1]), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8,
                        color=BASELINE_COLORS.get(b, "grey"))  # fmt: skip
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_title(f"{h} month{'s' if h > 1 else ''} ahead", fontsize=11)
        step = max(1, len(months) // 6)
        ax.set_xticks(x[::step], [months[k] for k in x[::step]], rotation=30, ha="right")
        ax.grid(axis="y", alpha=0.3)
        ax.margins(x=0.12)
    label = {"log": "log score", "brier": "Brier score", "rps": "ranked probability score"}[score]
    axes[0][0].set_ylabel(f"cumulative {label}:\nmodel ahead (+) / behind (−)")
    axes[0][-1].legend(title="against", fontsize=8, title_fontsize=8, loc="best")
    fig.suptitle(title or f"{model}: cumulative {label} difference against each baseline",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    return fig


def plot_loco(table, k: int, title: str = ""):
    """Leave one case out: for each case (rows) the model's mean log score per actor-month
    minus each baseline's (dots, 95% interval as a bar); right of zero the model forecast
    the case it never saw better than the baseline did.

    Args:
        table: :func:`sim.analysis.loco.loco_table` output.
        k: the months of the left-out case the model's parameters could use.
    """
    t = table[table["score"] == "log"]
    cases = list(dict.fromkeys(t["case"]))
    baselines = list(dict.fromkeys(t["baseline"]))
    fig, ax = plt.subplots(figsize=(8.2, 0.9 * len(cases) + 1.6))
    step = 0.8 / max(1, len(baselines))
    for j, b in enumerate(baselines):
        rows = t[t["baseline"] == b].set_index("case").reindex(cases)
        y = np.arange(len(cases)) - 0.4 + step * (j + 0.5)
        ax.errorbar(rows["mean_diff"], y, xerr=[rows["mean_diff"] - rows["lo"], rows["hi"] - rows["mean_diff"]],
                    fmt="o", ms=5, lw=1.6, capsize=2, color=BASELINE_COLORS.get(b, "grey"),
                    label=b.replace("_", " "))  # fmt: skip
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(np.arange(len(cases)), cases)
    ax.invert_yaxis()
    ax.set_xlabel("mean log score per actor-month: model − baseline (+ = model better)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="against", fontsize=8, title_fontsize=8, loc="best")
    ax.set_title(title or f"Each case predicted by a model fitted on the others (+ its first {k} months)",
                 fontsize=10.5)  # fmt: skip
    fig.tight_layout()
    return fig

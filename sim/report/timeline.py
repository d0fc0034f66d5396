"""A record as a timeline: each actor's action per month, the flagged months, and what happened.

Example:
    >>> import numpy as np
    >>> fig = plot_timeline(["2020-01", "2020-02"], ["A", "B"], np.array([[0, 1], [2, 1]]),
    ...                     np.array([False, True]), {("2020-02", "B"): "a test"}, "toy")
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.model.names import ACTION_NAMES, ACTION_TABLE  # noqa: E402

#: The actions' colours (the action table's, as in the other figures).
COLORS = {a.name: a.colour for a in ACTION_TABLE}


def plot_timeline(periods, actors, actions, flagged, labels=None, title: str = "", roles=None):
    """One row per actor, one cell per month coloured by the action; a black triangle
    above each flagged month; each cell's first event label written inside it, turned,
    where it fits.

    Args:
        periods: the months ("YYYY-MM").
        actors: the actors, in row order.
        actions: (months, actors) action codes.
        flagged: (months,) the months the target was flagged.
        labels: (period, actor) -> the events of that actor-month, in words.
        title: the figure's title.
        roles: actor -> role, shown beside the name.
    """
    labels = labels or {}
    M, A = len(periods), len(actors)
    width = min(28.0, max(8.0, 0.42 * M + 2.5))
    fig, ax = plt.subplots(figsize=(width, 1.15 * A + 1.6))
    for i, actor in enumerate(actors):
        y = A - 1 - i
        for t in range(M):
            name = ACTION_NAMES[int(actions[t, i])]
            ax.add_patch(plt.Rectangle((t, y), 0.94, 0.9, color=COLORS[name], lw=0))
            text = labels.get((periods[t], actor), "")
            if text:
                first = text.split(" | ")[0]
                short = first if len(first) <= 24 else first[:22] + "…"
                ax.text(t + 0.47, y + 0.45, short, rotation=90, ha="center", va="center",
                        fontsize=5.2, color="#222222", clip_on=True)  # fmt: skip
    for f in np.flatnonzero(np.asarray(flagged)):
        ax.plot(f + 0.47, A + 0.12, marker="v", color="black", ms=7, clip_on=False)
    names = [f"{a}\n({roles[a]})" if roles else a for a in actors]
    ax.set_yticks([A - 1 - i + 0.45 for i in range(A)], names, fontsize=9)
    step = max(1, M // 18)
    ax.set_xticks([t + 0.47 for t in range(0, M, step)], [periods[t] for t in range(0, M, step)],
                  rotation=45, ha="right", fontsize=8)  # fmt: skip
    ax.set_xlim(0, M)
    ax.set_ylim(0, A + 0.35)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles: list[Artist] = [Patch(color=COLORS[a], label=a) for a in ACTION_NAMES]
    handles.append(plt.Line2D([], [], marker="v", color="black", ls="", label="flagged month"))
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )
    ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig

"""Figures: fan charts of the shared state and each actor's action shares over rounds."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.actors import ACTION_NAMES, STATE_VARS  # noqa: E402

ACTION_COLORS = {"concede": "#2a9d8f", "hedge": "#e9c46a", "escalate": "#e76f51"}
STATE_LABELS = {
    "assurance": "Security assurance",
    "relief": "Sanctions relief (nominal)",
    "felt_relief": "Sanctions relief (felt)",
    "enforcement": "Sanctions enforcement",
    "denuclearization": "Verified denuclearization",
    "undeclared": "Undeclared capability",
    "tension": "Tension",
}


def state_matrix(traj: pd.DataFrame, var: str) -> np.ndarray:
    """(runs, rounds) values of ``var``; a run that ended keeps its final value."""
    first = traj[traj["actor"] == traj["actor"].cat.categories[0]]
    wide = first.pivot(index="run_id", columns="round", values=var)
    return wide.ffill(axis=1).to_numpy()


def action_shares(traj: pd.DataFrame) -> pd.DataFrame:
    """Share of live runs playing each action, per actor and round."""
    counts = traj.groupby(["actor", "round", "action"], observed=False).size()
    shares = counts / counts.groupby(["actor", "round"], observed=False).transform("sum")
    return shares.unstack("action").fillna(0.0)


def plot_trajectories(traj: pd.DataFrame, title: str = "", n_runs: int | None = None):
    """Fan charts (median, 10–90% band) of the shared state and action shares per actor.

    Args:
        traj: a trajectories table (one row per run x round x actor).
        title: the figure title, e.g. the scenario description.
        n_runs: shown in the title.

    Returns:
        The matplotlib figure.
    """
    actors = list(traj["actor"].cat.categories)
    panels = [*STATE_VARS[:4], "felt_relief", *STATE_VARS[4:]]
    ncol = 4
    nrow_state = int(np.ceil(len(panels) / ncol))
    nrow = nrow_state + int(np.ceil(len(actors) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.9 * nrow), squeeze=False,
                             constrained_layout=True)
    for ax in axes.flat:
        ax.set_visible(False)
    rounds = np.sort(traj["round"].unique())
    for k, var in enumerate(panels):
        ax = axes.flat[k]
        ax.set_visible(True)
        m = state_matrix(traj, var)
        lo, med, hi = np.nanpercentile(m, [10, 50, 90], axis=0)
        ax.fill_between(rounds, lo, hi, color="#457b9d", alpha=0.25, lw=0, label="10–90% of runs")
        ax.plot(rounds, med, color="#1d3557", lw=1.8, label="median")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(STATE_LABELS[var], fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("level (0–1)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(loc="upper right", fontsize=8, frameon=False)
    shares = action_shares(traj)
    for k, actor in enumerate(actors):
        ax = axes[nrow_state + k // ncol, k % ncol]
        ax.set_visible(True)
        s = shares.loc[actor].reindex(columns=list(ACTION_NAMES))
        ax.stackplot(s.index, *(s[a] for a in ACTION_NAMES), labels=list(ACTION_NAMES),
                     colors=[ACTION_COLORS[a] for a in ACTION_NAMES], alpha=0.9)
        ax.set_ylim(0, 1)
        ax.set_xlim(rounds[0], rounds[-1])
        ax.set_title(f"{actor}: share of runs playing each action", fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("share of live runs")
        if k == 0:
            ax.legend(loc="lower left", fontsize=8, frameon=True)
    n = f" — {n_runs} runs" if n_runs else ""
    fig.suptitle(f"{title}{n}", fontsize=13, fontweight="bold")
    return fig

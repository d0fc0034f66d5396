"""Figures: fan charts of the shared state and each actor's action shares over rounds."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.model.names import ACTION_NAMES, ACTION_TABLE, DERIVED, Var  # noqa: E402
from sim.report import fans  # noqa: E402
from sim.report.labels import PARAM_LABELS, axis_label  # noqa: E402, F401 - plots' own names

if TYPE_CHECKING:  # pandas is not imported to draw: the tables arrive as DataFrames or arrays
    import pandas as pd

#: Each action's colour and each state variable's panel title: from the tables of
#: :mod:`sim.model.names` (``ACTION_TABLE``, ``Var``, ``DERIVED``).
ACTION_COLORS = {a.name: a.colour for a in ACTION_TABLE}
STATE_LABELS = {v.name: v.title for v in Var} | {k: d.title for k, d in DERIVED.items()}


def _unit(var: str) -> str:
    return DERIVED[var].unit if var in DERIVED else Var[var].unit


def close(fig) -> None:
    """Let go of a figure drawn here (pyplot keeps every figure it made until closed)."""
    plt.close(fig)


def state_matrix(states: pd.DataFrame, var: str) -> np.ndarray:
    """(runs, rounds) values of ``var`` from a states table (or a joined long table);
    a run that ended keeps its final value."""
    if "actor" in states:  # the long table repeats the state on every actor's row
        states = states[states["actor"] == states["actor"].cat.categories[0]]
    wide = states.pivot(index="run_id", columns="round", values=var)
    return wide.ffill(axis=1).to_numpy()


def fan(
    ax, x, m: np.ndarray, color: str = "#1d3557", label: str | None = "median", alpha: float = 0.25
) -> None:
    """Median line and 10–90% band over runs of a (runs, rounds) matrix ``m`` against ``x``."""
    lo, med, hi = fans.quantiles(m, (10, 50, 90))
    ax.fill_between(
        x, lo, hi, color=color, alpha=alpha, lw=0, label="10–90% of runs" if label else None
    )
    ax.plot(x, med, color=color, lw=1.8, label=label)


def action_shares(actions: pd.DataFrame) -> pd.DataFrame:
    """Share of live runs playing each action, per actor and round (from an actions table)."""
    counts = actions.groupby(["actor", "round", "action"], observed=False).size()
    shares = counts / counts.groupby(["actor", "round"], observed=False).transform("sum")
    return shares.unstack("action").fillna(0.0)


def plot_trajectories(states, actions, title: str = "", n_runs: int | None = None):
    """Fan charts (median, 10–90% band) of the shared state and action shares per actor.

    Args:
        states: a states table (one row per run x round): a DataFrame, an Arrow table or
            :class:`sim.report.fans.Columns` (what the command line sends its helper).
        actions: an actions table (one row per run x round x actor), the same.
        title: the figure title, e.g. the scenario description.
        n_runs: shown in the title.

    Returns:
        The matplotlib figure (drawn into the frame :func:`prepare_trajectories` made
        for the same actors and title, if it made one: :func:`save` then draws only
        the data onto the frame it rendered).
    """
    states = fans.columns(states, fans.STATE_COLUMNS)
    actions = fans.columns(actions, fans.ACTION_COLUMNS)
    actors = list(actions.categories["actor"])
    rounds = np.unique(states["round"])
    key = (tuple(actors), title, n_runs)
    fig, state_axes, actor_axes = _PREPARED.pop(key, None) or _trajectories_frame(*key)
    for ax, var in zip(state_axes, fans.PANELS):
        fan(ax, rounds, fans.state_matrix(states, var))
    state_axes[0].legend(loc="upper right", fontsize=8, frameon=False)
    played, shares = fans.action_shares(actions, list(ACTION_NAMES))
    for k, ax in enumerate(actor_axes):
        ax.stackplot(
            played,
            *shares[k].T,
            labels=list(ACTION_NAMES),
            colors=[ACTION_COLORS[a] for a in ACTION_NAMES],
            alpha=0.9,
        )
        ax.set_xlim(0, rounds[-1])
        if k == 0:
            ax.legend(loc="lower left", fontsize=8, frameon=True)
    return fig


#: Frames of trajectories figures made before their data came (:func:`prepare_trajectories`),
#: by (actors, title, n_runs); each is used once.
_PREPARED: dict[tuple, tuple] = {}


def prepare_trajectories(
    actors, title: str = "", n_runs: int | None = None, dpi: float = 110, rounds: int | None = None
):
    """Make the frame of :func:`plot_trajectories`' figure — panels, titles, labels, ticks —
    and render it at ``dpi`` before its data are there: a process that waits for the data
    (the figure helper, :mod:`sim.report.drawing`) then paints the data only. The figure
    is the same as without it (the frame is what :func:`plot_trajectories` makes first);
    a frame whose actors or title the data do not match is not used.

    What a whole draw paints before the data — backgrounds, the levels' axes and grids,
    labels — is rendered now and kept (:func:`save` paints the rest onto it, in the order
    a whole draw would, and writes the same PNG as ``savefig``). The rounds' axes wait
    for the rounds played, unless they end at ``rounds`` (the horizon, where a run that
    did not end stops): those axes are rendered now too, and used if the data agree.
    After the data come, :func:`save` takes about a quarter of a whole draw's time when
    the rounds were foreseen, two thirds when not."""
    key = (tuple(actors), title, n_runs)
    frame = _trajectories_frame(*key)
    _render_frame(frame, dpi, rounds)
    for old in _PREPARED.values():
        close(old[0])
    _PREPARED.clear()
    _PREPARED[key] = frame


def _trajectories_frame(actors: tuple, title: str, n_runs: int | None):
    """The trajectories figure without its data: (figure, state panels, actor panels)."""
    panels = fans.PANELS
    ncol = 4
    nrow_state = int(np.ceil(len(panels) / ncol))
    nrow = nrow_state + int(np.ceil(len(actors) / ncol))
    height = 2.9 * nrow
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, height), squeeze=False)
    # a fixed layout (in inches: the same margins whatever the rows), as in plot_outcome_map
    fig.subplots_adjust(
        left=0.045, right=0.99, bottom=0.5 / height, top=1 - 0.75 / height, hspace=0.55, wspace=0.25
    )
    for ax in axes.flat:
        ax.set_visible(False)
        ax.set_axisbelow(True)  # grid lines under the data (and a frame drawn before them)
    state_axes = []
    for k, var in enumerate(panels):
        ax = axes.flat[k]
        ax.set_visible(True)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(STATE_LABELS[var], fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel(f"level ({_unit(var)})")
        ax.grid(alpha=0.3)
        state_axes.append(ax)
    actor_axes = []
    for k, actor in enumerate(actors):
        ax = axes[nrow_state + k // ncol, k % ncol]
        ax.set_visible(True)
        ax.set_ylim(0, 1)
        ax.set_title(f"{actor}: share of runs playing each action", fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("share of live runs")
        actor_axes.append(ax)
    n = f" — {n_runs} runs" if n_runs else ""
    fig.suptitle(f"{title}{n}", fontsize=13, fontweight="bold", y=1 - 0.2 / height)
    return fig, state_axes, actor_axes


@dataclass
class _Rendered:
    """A frame rendered before its data (:func:`_render_frame`): its pixels without the
    rounds' axes, and with them for the rounds foreseen (their limits, per panel), at
    ``dpi`` for panels of these levels (y limits)."""

    pixels: object
    dpi: float
    levels: list
    with_rounds: object = None
    rounds: list | None = None


def _layers(fig, rounds_axes: bool = True):
    """What a whole draw paints after a panel's background and its levels' axis (y:
    ticks, labels, grid), in its order: per visible panel (in the figure's order) the
    rounds' axis (x, if ``rounds_axes``), then every other child by z-order; then the
    figure's own texts. None if a child would be painted under the axes (the panels
    draw their axes first, ``axisbelow``: otherwise the frame cannot be reused)."""
    layers = []
    for ax in sorted(fig.axes, key=lambda a: a.zorder):
        if not ax.get_visible():
            continue
        rest = sorted(
            (a for a in ax.get_children() if a not in (ax.patch, ax.xaxis, ax.yaxis)),
            key=lambda a: a.zorder,
        )
        if rest and rest[0].zorder < max(ax.xaxis.zorder, ax.yaxis.zorder):
            return None
        layers += [ax.xaxis, *rest] if rounds_axes else rest
    return layers + sorted(fig.texts, key=lambda a: a.zorder)


def _limits(fig, which: str) -> list:
    return [tuple(getattr(ax, f"get_{which}lim")()) for ax in fig.axes]


def _render_frame(frame: tuple, dpi: float, rounds: int | None = None) -> None:
    """Render a trajectories frame now — everything but :func:`_layers` — and keep its
    pixels; with ``rounds``, also with the rounds' axes of data that end there."""
    fig, state_axes, actor_axes = frame
    fig.dpi = dpi
    top = _layers(fig) or []
    for a in top:
        a.set_animated(True)  # left out of a canvas draw (matplotlib's blitting)
    try:
        fig.canvas.draw()
        rendered = _Rendered(fig.canvas.copy_from_bbox(fig.bbox), dpi, _limits(fig, "y"))
    finally:
        for a in top:
            a.set_animated(False)
    if rounds:
        for ax in state_axes:  # the limits autoscaling gives rounds 0..rounds
            y = ax.get_ylim()[0]
            ax.update_datalim([(0, y), (rounds, y)], updatey=False)
            ax.autoscale_view(scaley=False)
        for ax in actor_axes:
            ax.set_xlim(0, rounds)  # as plot_trajectories sets them
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            if ax.get_visible():
                ax.xaxis.draw(renderer)
        rendered.with_rounds = fig.canvas.copy_from_bbox(fig.bbox)
        rendered.rounds = _limits(fig, "x")
        for ax in state_axes:  # the data's rounds decide, as without a frame
            ax.relim()
            ax.set_autoscalex_on(True)
    fig._stalemate_frame = rendered


def save(fig, path, dpi: float = 110) -> Path:
    """Save ``fig`` as :func:`sim.report.io.save_figure` would. A figure drawn into a frame
    rendered before its data (:func:`prepare_trajectories`), at this dpi and with the
    levels it was rendered for, is finished by painting only what comes after the frame
    onto the kept pixels: the same bytes as a whole ``savefig`` (``tests/test_fans.py``),
    in about a third of the time."""
    from sim.report.io import atomic_path, save_figure

    frame = getattr(fig, "_stalemate_frame", None)
    path = Path(path)
    if (
        frame is None
        or path.suffix != ".png"
        or frame.dpi != dpi
        or fig.dpi != dpi
        or _limits(fig, "y") != frame.levels
    ):
        return save_figure(fig, path, dpi=dpi)
    foreseen = frame.rounds is not None and _limits(fig, "x") == frame.rounds
    layers = _layers(fig, rounds_axes=not foreseen)
    if layers is None:
        return save_figure(fig, path, dpi=dpi)
    canvas = fig.canvas
    renderer = canvas.get_renderer()  # the one the frame was rendered with (same size)
    canvas.restore_region(frame.with_rounds if foreseen else frame.pixels)
    for a in layers:
        a.draw(renderer)
    with atomic_path(path) as tmp:  # what savefig's PNG writer does after a whole draw
        matplotlib.image.imsave(
            tmp, canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi
        )
    return path


def plot_outcome_map(summary, x: str, y: str, title: str = ""):
    """Heatmaps of P(agreement), P(stalemate or hedged stalemate), P(breakdown).

    Shared colour scale 0–1 and the 50% contour on each panel. ``summary`` is a
    DataFrame or :class:`sim.report.fans.Columns` with one row per (``x``, ``y``) point.
    """
    summary = fans.columns(summary, [x, y, *OUTCOME_MAP_COLUMNS])
    summary.values["any_stalemate"] = summary["stalemate"] + summary["hedged_stalemate"]
    panels = [
        ("agreement", "P(agreement)"),
        ("any_stalemate", "P(stalemate, plain or hedged)"),
        ("breakdown", "P(breakdown)"),
    ]
    # a fixed layout: the panels and labels are always the same, and matplotlib's
    # constrained layout would measure every text twice more (about half the drawing time)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    fig.subplots_adjust(left=0.045, right=0.9, bottom=0.12, top=0.84, wspace=0.2)
    for ax, (col, label) in zip(axes, panels):
        ys, xs, grid = fans.pivot(summary, index=y, columns=x, values=col)
        im = ax.pcolormesh(xs, ys, grid, vmin=0, vmax=1, cmap="viridis", shading="nearest")
        if np.nanmin(grid) < 0.5 < np.nanmax(grid):
            ax.contour(xs, ys, grid, levels=[0.5], colors="white", linewidths=2)
        ax.set_title(label, fontsize=12)
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(axis_label(y))
    cax = fig.add_axes((0.915, 0.12, 0.012, 0.72))
    fig.colorbar(im, cax=cax, label="share of runs (white line: 50%)")
    fig.suptitle(title, fontsize=13, fontweight="bold", y=0.97)
    return fig


#: The columns of a sweep's summary :func:`plot_outcome_map` reads, besides its two keys.
OUTCOME_MAP_COLUMNS = ["agreement", "stalemate", "hedged_stalemate", "breakdown"]

OUTCOME_COLORS = {
    "agreement": "#2a9d8f",
    "stalemate": "#8d99ae",
    "hedged_stalemate": "#e9c46a",
    "breakdown": "#e76f51",
    "undecided": "#cfcfcf",
}


def plot_outcome_lines(summary: pd.DataFrame, x: str, title: str = "", by: str | None = None):
    """Outcome shares (95% CI bands) against one numeric swept parameter.

    With ``by`` (a categorical swept key such as ``regime``), one panel per category.
    """
    from sim.engines.tables import OUTCOME_ORDER

    cats = list(summary[by].drop_duplicates()) if by else [None]
    fig, axes = plt.subplots(
        1,
        len(cats),
        figsize=(7 * len(cats), 4.8),
        sharey=True,
        squeeze=False,
        constrained_layout=True,
    )
    for ax, cat in zip(axes[0], cats):
        s = (summary if cat is None else summary[summary[by] == cat]).sort_values(x)
        for o in OUTCOME_ORDER:
            ax.fill_between(
                s[x], s[f"{o}_lo"], s[f"{o}_hi"], color=OUTCOME_COLORS[o], alpha=0.2, lw=0
            )
            ax.plot(
                s[x],
                s[o],
                color=OUTCOME_COLORS[o],
                lw=2,
                marker="o",
                ms=3,
                label=o.replace("_", " "),
            )
        ax.set_ylim(0, 1)
        ax.set_xlabel(axis_label(x))
        ax.grid(alpha=0.3)
        if cat is not None:
            ax.set_title(f"{by}: {str(cat).replace('_', ' ')}")
    axes[0][0].set_ylabel("share of runs (95% CI)")
    axes[0][0].legend(frameon=False)
    fig.suptitle(title or f"Outcomes against {axis_label(x)}", fontweight="bold")
    return fig


def plot_outcome_bars(summary: pd.DataFrame, by: str, title: str = ""):
    """Outcome shares with 95% CIs per category (e.g. sequencing regime), as grouped bars."""
    from sim.engines.tables import OUTCOME_ORDER

    cats = list(summary[by].astype(str))
    x = np.arange(len(cats))
    width = 0.8 / len(OUTCOME_ORDER)
    fig, ax = plt.subplots(figsize=(max(7, 2.4 * len(cats)), 4.8), constrained_layout=True)
    for k, o in enumerate(OUTCOME_ORDER):
        share = summary[o].to_numpy()
        err = np.vstack([share - summary[f"{o}_lo"], summary[f"{o}_hi"] - share])
        ax.bar(
            x + (k - 1.5) * width,
            share,
            width,
            yerr=err,
            capsize=3,
            color=OUTCOME_COLORS[o],
            label=o.replace("_", " "),
        )
    ax.set_xticks(x, [c.replace("_", " ") for c in cats])
    ax.set_ylim(0, 1)
    ax.set_xlabel(axis_label(by))
    ax.set_ylabel("share of runs (95% CI)")
    ax.set_title(title or f"Outcomes by {axis_label(by)}")
    ax.legend(frameon=False, ncol=4, loc="upper center")
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_action_shares(runs, by: str, actors: list[str], title: str = ""):
    """Mean share of rounds each actor conceded, hedged and escalated, per value of ``by``.

    ``runs`` is a runs DataFrame, or the means already taken
    (:func:`sim.report.fans.group_means` of the ``{action}_share_{actor}`` columns).
    """
    if not isinstance(runs, fans.GroupMeans):
        names = [f"{a}_share_{actor}" for actor in actors for a in ACTION_NAMES]
        runs = fans.group_means(runs, by, names)
    cats = runs.categories
    width = 3.6 * len(actors)
    fig, axes = plt.subplots(1, len(actors), figsize=(width, 3.8), sharey=True, squeeze=False)
    # a fixed layout, as in plot_outcome_map
    fig.subplots_adjust(
        left=0.55 / width, right=1 - 0.15 / width, bottom=0.27, top=0.82, wspace=0.08
    )
    for ax, actor in zip(axes[0], actors):
        bottom = np.zeros(len(cats))
        for action in ACTION_NAMES:
            share = runs.means[f"{action}_share_{actor}"]
            ax.bar(
                range(len(cats)), share, bottom=bottom, color=ACTION_COLORS[action], label=action
            )
            bottom += share
        step = max(1, len(cats) // 6)
        ax.set_xticks(
            range(0, len(cats), step),
            [c.replace("_", " ") for c in cats[::step]],
            rotation=30,
            ha="right",
        )
        ax.set_title(actor)
        ax.set_xlabel(axis_label(by))
    axes[0][0].set_ylabel("share of rounds")
    axes[0][0].legend(frameon=True, fontsize=8, loc="lower left")
    fig.suptitle(title or f"What each state does, by {axis_label(by)}", fontweight="bold", y=0.97)
    return fig


def plot_record_fit(periods, actors, observed, probs, train, test, title: str = "", band=None):
    """The record against the model's one-step-ahead probabilities, one panel per actor.

    Args:
        periods: the months ("YYYY-MM").
        actors: actor names, in column order.
        observed: (months, actors) action codes.
        probs: (months, actors, 3) predicted probabilities (e.g. the posterior mean).
        train, test: boolean month masks, shaded.
        title: the figure title.
        band: optional (low, high) arrays (months, actors, 3): a 90% band of the
            probabilities over posterior draws, drawn as whiskers.
    """
    from matplotlib.patches import Patch

    M, A = observed.shape
    x = np.arange(M)
    fig, axes = plt.subplots(
        A, 1, figsize=(12, 2.1 * A + 0.8), sharex=True, constrained_layout=True
    )
    axes = np.atleast_1d(axes)
    for i, (ax, actor) in enumerate(zip(axes, actors)):
        for mask, color in ((train, "#dbe9f6"), (test, "#fde2cf")):
            idx = np.flatnonzero(mask)
            if len(idx):
                ax.axvspan(idx[0] - 0.5, idx[-1] + 0.5, color=color, zorder=0)
        bottom = np.zeros(M)
        for a, name in enumerate(ACTION_NAMES):
            ax.bar(
                x,
                probs[:, i, a],
                bottom=bottom,
                width=0.8,
                color=ACTION_COLORS[name],
                alpha=0.85,
                zorder=1,
            )
            bottom += probs[:, i, a]
        if band is not None:
            p_obs = probs[x, i, observed[:, i]]
            lo, hi = band[0][x, i, observed[:, i]], band[1][x, i, observed[:, i]]
            ax.errorbar(
                x,
                p_obs,
                yerr=[p_obs - lo, hi - p_obs],
                fmt="none",
                ecolor="black",
                lw=0.8,
                zorder=3,
            )
        for a, name in enumerate(ACTION_NAMES):
            hit = observed[:, i] == a
            ax.scatter(x[hit], np.full(hit.sum(), 1.07), marker="v", s=38, color=ACTION_COLORS[name],
                       edgecolor="black", linewidth=0.6, zorder=4, clip_on=False)  # fmt: skip
        ax.set_ylim(0, 1.12)
        ax.set_ylabel(actor, rotation=0, ha="right", va="center", fontsize=11, fontweight="bold")
        ax.set_yticks([0, 0.5, 1])
    step = max(1, M // 12)
    axes[-1].set_xticks(x[::step], [periods[k] for k in x[::step]], rotation=30, ha="right")
    handles = [Patch(color=ACTION_COLORS[a], label=f"P({a})") for a in ACTION_NAMES]
    handles += [
        Patch(color="#dbe9f6", label="training months"),
        Patch(color="#fde2cf", label="held-out months"),
    ]
    handles.append(plt.Line2D([], [], marker="v", ls="", color="grey", markeredgecolor="black",
                              label="what happened (colour = action)"))  # fmt: skip
    axes[0].legend(
        handles=handles,
        ncol=6,
        loc="lower left",
        bbox_to_anchor=(0, 1.18),
        frameon=False,
        fontsize=9,
    )
    fig.suptitle(
        title or "The record and the model's one-step-ahead probabilities",
        fontsize=13,
        fontweight="bold",
    )
    return fig


def plot_survival(curves: dict[str, dict[str, np.ndarray]], title: str = "", n: int | None = None):
    """Survival of the talks: for each scenario (a key of ``curves``, each from
    :meth:`sim.report.summary.RunningSummary.survival`), the share of runs still talking
    round by round (Kaplan–Meier, censored at the horizon), and the cumulative shares
    that ended in agreement and in breakdown."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True, sharey=True)
    panels = (
        ("talking", "still talking (survival)"),
        ("agreement", "ended in agreement"),
        ("breakdown", "ended in breakdown"),
    )
    for ax, (key, label) in zip(axes, panels):
        for name, c in curves.items():
            ax.step(c["round"], c[key], where="post", lw=2, label=name.replace("_", " "))
        ax.set_title(label, fontsize=12)
        ax.set_xlabel("round")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of runs")
    axes[0].legend(fontsize=10, frameon=False)
    note = f" ({n:,} runs each)" if n else ""
    fig.suptitle((title or "How long the talks last") + note, fontsize=13, fontweight="bold")
    # a fixed layout, as in plot_outcome_map: tight_layout measured every text again (0.1 s)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.13, top=0.83, wspace=0.08)
    return fig

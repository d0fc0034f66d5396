"""Figures of a policy search: the Pareto set, the trade-off, convergence, failure boxes.

Each function returns a matplotlib figure; :func:`sim.report.io.save_figure`
writes it (atomically).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sim.search.spec import Checked

_COLORS = ("#264653", "#e76f51", "#2a9d8f", "#e9c46a", "#8d99ae", "#9b5de5")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def parallel(checked: Checked, pareto: pd.DataFrame):
    """Parallel coordinates of the Pareto set: one axis per lever, then one per objective
    (each scaled to its range; categorical levers at evenly spaced levels), one line per
    policy, coloured by P(agreement)."""
    plt = _plt()
    axes_spec = []  # (label, values in [0, 1], tick labels)
    for lv in checked.levers:
        v = pareto[lv.key]
        if lv.kind == "choice":
            pos = {c: i / max(1, len(lv.choices) - 1) for i, c in enumerate(lv.choices)}
            axes_spec.append((lv.key, v.map(pos).to_numpy(float),
                              [(p, str(c)) for c, p in pos.items()]))  # fmt: skip
        else:
            axes_spec.append((lv.key, ((v - lv.lo) / (lv.hi - lv.lo)).to_numpy(float),
                              [(0, f"{lv.lo:g}"), (1, f"{lv.hi:g}")]))  # fmt: skip
    for o in checked.objectives:
        v = pareto[o.column].to_numpy(float)
        lo, hi = (0.0, 1.0) if o.metric != "rounds_to_agreement" else (0.0, max(1.0, v.max()))
        axes_spec.append((f"{o.column}\n({'max' if o.sense == 'max' else 'min'})",
                          (v - lo) / (hi - lo), [(0, f"{lo:g}"), (1, f"{hi:g}")]))  # fmt: skip
    n = len(axes_spec)
    fig, ax = plt.subplots(figsize=(1.45 * n + 2.5, 5.2), layout="constrained")
    color_by = (
        pareto["p_agreement"].to_numpy(float) if "p_agreement" in pareto else np.zeros(len(pareto))
    )
    cmap = plt.get_cmap("viridis")
    order = np.argsort(color_by, kind="stable")
    ys = np.column_stack([a[1] for a in axes_spec]) if len(pareto) else np.zeros((0, n))
    jitter = np.random.default_rng(0).uniform(-0.012, 0.012, ys.shape)
    for i in order:
        ax.plot(range(n), ys[i] + jitter[i], color=cmap(color_by[i]), alpha=0.55, lw=1.2)
    for k, (_, _, ticks) in enumerate(axes_spec):
        ax.axvline(k, color="black", lw=0.8)
        for pos, text in ticks:
            ax.annotate(text, (k, pos), xytext=(4, 0), textcoords="offset points", fontsize=7,
                        va="center", color="#333333")  # fmt: skip
    ax.axvline(len(checked.levers) - 0.5, color="#999999", lw=1, ls="--")
    ax.set_xticks(range(n), [a[0] for a in axes_spec], fontsize=8, rotation=0)
    ax.set_yticks([])
    ax.set_ylim(-0.06, 1.06)
    ax.set_xlim(-0.3, n - 0.4)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=ax, label="P(agreement)", fraction=0.025)
    ax.set_title(f"The Pareto set: {len(pareto)} policies (levers left of the dashed line, "
                 "objectives right; in-sample estimates)", fontsize=11)  # fmt: skip
    return fig


def tradeoff(checked: Checked, reeval: pd.DataFrame, chosen: list[dict]):
    """P(agreement) against relief given, out of sample with 95% intervals; colour:
    sequencing regime (if a lever), marker: the principal's decision rule (if a lever)."""
    plt = _plt()
    cols = [o.column for o in checked.objectives]
    relief = next((c for c in cols if c.startswith("relief_given")), cols[-1])
    fig, ax = plt.subplots(figsize=(7.6, 5.4), layout="constrained")
    hue = next((lv for lv in checked.levers if lv.key == "regime"), None)
    shape = next(
        (lv for lv in checked.levers if lv.kind == "choice" and lv.key.endswith(".policy")), None
    )
    markers = "osD^v<>"
    groups = reeval.groupby(
        [reeval[hue.key] if hue else pd.Series("all", index=reeval.index),
         reeval[shape.key] if shape else pd.Series("", index=reeval.index)], sort=True)  # fmt: skip
    hues = list(hue.choices) if hue else ["all"]
    shapes = list(shape.choices) if shape else [""]
    for (h, s), g in groups:
        x, y = g[relief].to_numpy(float), g["p_agreement"].to_numpy(float)
        yerr = np.vstack([y - g["p_agreement_lo"], g["p_agreement_hi"] - y]).clip(0)
        xerr = np.vstack([x - g[f"{relief}_lo"], g[f"{relief}_hi"] - x]).clip(0)
        label = " / ".join(str(t) for t in (h, s) if t not in ("all", ""))
        ax.errorbar(x, y, yerr=yerr, xerr=xerr, fmt=markers[shapes.index(s) % len(markers)],
                    color=_COLORS[hues.index(h) % len(_COLORS)], ms=6, alpha=0.8, elinewidth=0.7,
                    capsize=0, label=label or None)  # fmt: skip
    for c in chosen:
        ax.annotate(f"policy {c['policy']}", (c[relief], c["p_agreement"]), xytext=(8, -12),
                    textcoords="offset points", fontsize=8, arrowprops={"arrowstyle": "-", "lw": 0.6})  # fmt: skip
    ax.set_xlabel(f"{relief}: relief given (robust, out of sample; lower is cheaper)")
    ax.set_ylabel("P(agreement), out of sample")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    if hue or shape:
        ax.legend(fontsize=8, loc="lower right", title=" / ".join(
            lv.key for lv in (hue, shape) if lv), title_fontsize=8)  # fmt: skip
    ax.set_title(
        "What agreement costs: the Pareto set re-evaluated in fresh scenarios", fontsize=11
    )
    return fig


def convergence(history: list[dict], conv: dict):
    """Hypervolume and cumulative ε-progress per generation; the judged tail shaded."""
    plt = _plt()
    h = pd.DataFrame(history)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    for ax in (a1, a2):
        if len(h) > 1:
            ax.axvspan(conv["from_generation"], conv["generations"], color="#e9c46a", alpha=0.3,
                       label=f"last {conv['generations'] - conv['from_generation']} generations")  # fmt: skip
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
    a1.plot(h["generation"], h["hypervolume"], color="#264653", marker=".", lw=1.4)
    a1.set_ylabel("hypervolume of the non-dominated set")
    gain = conv.get("hv_gain", float("nan"))
    a1.set_title(f"Hypervolume: gain {gain:.2%} over the shaded tail "
                 f"({'converged' if conv.get('converged') else 'not converged'}, < 1% counts)", fontsize=10)  # fmt: skip
    a1.legend(fontsize=8, loc="lower right")
    a2.plot(h["generation"], h["epsilon_progress"], color="#e76f51", marker=".", lw=1.4)
    a2.set_ylabel("ε-progress (cumulative)")
    ax2b = a2.twinx()
    ax2b.plot(h["generation"], h["archive"], color="#8d99ae", lw=1, ls="--")
    ax2b.set_ylabel("ε-archive size (dashed)", color="#8d99ae")
    a2.set_title(
        f"ε-progress: {conv.get('epsilon_progress_tail', 0)} improvements in the tail", fontsize=10
    )
    return fig


def failure_boxes(data: list[dict]):
    """For each chosen policy: its failures (no agreement) over the two uncertainties its
    first PRIM box restricts most, the box drawn, the rule in the title."""
    plt = _plt()
    from matplotlib.patches import Rectangle

    n = max(1, len(data))
    fig, axes = plt.subplots(1, n, figsize=(5.6 * n, 5.0), layout="constrained", squeeze=False)
    if not data:
        axes[0, 0].text(0.5, 0.5, "no policy chosen", ha="center")
        return fig
    for ax, d in zip(axes[0], data):
        X, fail, boxes, pol = d["X"], d["fail"], d["boxes"], d["policy"]
        numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        box = boxes[0] if boxes else None
        if box is not None:
            cut = sorted((c for c in box.limits if c in numeric), key=lambda c: (
                (box.limits[c][1] - box.limits[c][0]) / ((box.bounds[c][1] - box.bounds[c][0]) or 1)))  # fmt: skip
            dims = (cut + [c for c in numeric if c not in cut])[:2]
        else:
            dims = numeric[:2]
        if len(dims) < 2:
            ax.text(0.5, 0.5, "fewer than two uncertain parameters", ha="center")
            continue
        x, y = X[dims[0]].to_numpy(), X[dims[1]].to_numpy()
        ax.scatter(x[~fail], y[~fail], s=7, color="#2a9d8f", alpha=0.45, label="agreement")
        ax.scatter(x[fail], y[fail], s=7, color="#c1121f", alpha=0.55, label="no agreement")
        if box is not None:
            (x0, x1), (y0, y1) = (box.limits.get(c, box.bounds[c]) for c in dims)
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=2.2))
            words = (
                f"fails when {box.rule()}; coverage {box.coverage:.0%}, density {box.density:.0%}"
            )
        else:
            words = f"no box: fails in {fail.mean():.1%} of the scenarios ({int(fail.sum())} runs)"
        ax.set_xlabel(dims[0])
        ax.set_ylabel(dims[1])
        ax.legend(fontsize=8, loc="upper right", markerscale=2)
        ax.set_title(textwrap.fill(f"policy {pol['policy']} ({pol['why']}), P(agreement) "
                                   f"{pol['p_agreement']:.0%}: ", 70) + "\n" + textwrap.fill(words, 70), fontsize=8.5)  # fmt: skip
    fig.suptitle("Where the chosen policies fail (PRIM over the re-evaluation's scenarios)",
                 fontsize=11, fontweight="bold")  # fmt: skip
    return fig

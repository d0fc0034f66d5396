"""Scenario discovery: readable rules for where in parameter space a case of interest lives.

Given points ``X`` (a table, one column per parameter) and a boolean label ``y``
(e.g. "this point ends in stalemate"), two methods describe the region where
``y`` holds as boxes — conjunctions of intervals, read as rules such as
"stalemate when relief ≤ 0.30 and detect_prob ≥ 0.60":

- **PRIM** (Friedman & Fisher 1999), as used in scenario discovery (Bryant &
  Lempert 2010): :func:`prim_peel` starts from the whole space and repeatedly
  peels off the ``alpha`` share of the remaining points at one face — the face
  whose removal leaves the highest share of cases — until too few points are left.
  :func:`select_box` picks the largest box on that trajectory whose density
  reaches a target, :func:`simplify` drops restrictions that do not earn their
  keep, and :func:`prim_boxes` repeats on the points not yet covered (covering).
- **A shallow decision tree** (scikit-learn), whose leaves that predict the case
  are boxes too (:func:`tree_boxes`).

Each box is reported with its **coverage** (share of all cases that fall in the
box) and **density** (share of the box's points that are cases), and its
**mass** (share of all points in the box).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.random((2000, 3)), columns=["relief", "detect_prob", "noise"])
    >>> y = (X.relief < 0.3) & (X.detect_prob > 0.6)
    >>> box = prim_boxes(X, y, min_density=0.95)[0]
    >>> box.rule(), box.density > 0.95, box.coverage > 0.95
    ('relief ≤ 0.30 and detect_prob ≥ 0.59', True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

Formatter = Callable[[str, float | None, float | None], str]


@dataclass
class Box:
    """A box: ``lo[d] <= x[d] <= hi[d]`` on its restricted dimensions."""

    limits: dict[str, tuple[float, float]]  # restricted dims only
    bounds: dict[str, tuple[float, float]]  # the whole space, per dim
    coverage: float = np.nan
    density: float = np.nan
    mass: float = np.nan
    formatters: dict[str, Formatter] = field(default_factory=dict, repr=False)

    def contains(self, X: pd.DataFrame) -> np.ndarray:
        m = np.ones(len(X), dtype=bool)
        for d, (lo, hi) in self.limits.items():
            x = X[d].to_numpy()
            m &= (x >= lo) & (x <= hi)
        return m

    def score(self, X: pd.DataFrame, y, among=None) -> Box:
        """Set coverage, density and mass on (X, y); return self.

        ``among`` (a boolean mask) restricts the box to those points — in PRIM's
        covering, the points no earlier box holds — while coverage and mass stay
        shares of *all* cases and points, so the boxes' coverages add up.
        """
        y = np.asarray(y, dtype=bool)
        inside = self.contains(X)
        if among is not None:
            inside &= np.asarray(among, dtype=bool)
        self.mass = float(inside.mean())
        self.density = float(y[inside].mean()) if inside.any() else np.nan
        self.coverage = float((y & inside).sum() / y.sum()) if y.any() else np.nan
        return self

    def conditions(self, digits: int = 2) -> list[str]:
        """One readable condition per restricted dimension."""
        out = []
        for d, (lo, hi) in self.limits.items():
            blo, bhi = self.bounds[d]
            lo = None if lo <= blo else lo
            hi = None if hi >= bhi else hi
            if lo is None and hi is None:
                continue
            if d in self.formatters:
                out.append(self.formatters[d](d, lo, hi))
            elif lo is not None and hi is not None:
                out.append(f"{lo:.{digits}f} ≤ {d} ≤ {hi:.{digits}f}")
            elif hi is not None:
                out.append(f"{d} ≤ {hi:.{digits}f}")
            else:
                out.append(f"{d} ≥ {lo:.{digits}f}")
        return out

    def rule(self, digits: int = 2) -> str:
        """The box as a rule, e.g. ``"relief ≤ 0.30 and detect_prob ≥ 0.60"``."""
        return " and ".join(self.conditions(digits)) or "anywhere"

    def copy(self, **kw) -> Box:
        return Box(
            **{
                "limits": dict(self.limits),
                "bounds": self.bounds,
                "formatters": self.formatters,
                **kw,
            }
        )


def _bounds(X: pd.DataFrame, bounds: Mapping[str, tuple[float, float]] | None):
    b = {d: (float(X[d].min()), float(X[d].max())) for d in X.columns}
    if bounds:
        b.update({d: (float(lo), float(hi)) for d, (lo, hi) in bounds.items() if d in b})
    return b


def prim_peel(
    X: pd.DataFrame,
    y,
    alpha: float = 0.05,
    min_mass: float = 0.02,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> list[Box]:
    """PRIM's peeling trajectory: boxes from the whole space to ``min_mass``.

    Each step tries, on every dimension, to remove the ``alpha`` quantile of the
    box's points at the low end and at the high end (for a discrete dimension
    whose quantile is its extreme value: that whole level), and keeps the peel
    that leaves the highest density. Peeling stops when no peel raises the density
    or the box would hold fewer than ``min_mass`` of the points.

    Args:
        X: points, one column per dimension.
        y: boolean label per point (the case of interest).
        alpha: share of the box's points peeled per step.
        min_mass: smallest share of all points a box may hold.
        bounds: the space's bounds per dimension (default: the data's range).

    Returns:
        The boxes, largest first, each scored on (X, y).
    """
    y = np.asarray(y, dtype=bool)
    cols = list(X.columns)
    V = X[cols].to_numpy(float)
    n = len(V)
    b = _bounds(X, bounds)
    lo = np.array([b[d][0] for d in cols])
    hi = np.array([b[d][1] for d in cols])
    inside = np.ones(n, dtype=bool)

    def box_of(lo, hi):
        lim = {d: (lo[k], hi[k]) for k, d in enumerate(cols) if lo[k] > b[d][0] or hi[k] < b[d][1]}
        return Box(limits=lim, bounds=b).score(X, y)

    trajectory = [box_of(lo, hi)]
    while True:
        current = y[inside].mean()
        best = None
        for k in range(len(cols)):
            x = V[inside, k]
            values = np.unique(x)
            if len(values) < 2:
                continue
            q_lo = np.quantile(x, alpha)
            new_lo = q_lo if q_lo > values[0] else values[1]
            q_hi = np.quantile(x, 1 - alpha)
            new_hi = q_hi if q_hi < values[-1] else values[-2]
            for side, keep in (
                ("lo", inside & (V[:, k] >= new_lo)),
                ("hi", inside & (V[:, k] <= new_hi)),
            ):
                m = keep.sum()
                if m < min_mass * n or m == inside.sum():
                    continue
                dens = y[keep].mean()
                if best is None or (dens, m) > (best[0], best[1]):
                    best = (dens, m, k, side, new_lo if side == "lo" else new_hi, keep)
        if best is None or best[0] < current:
            break
        _, _, k, side, value, inside = best
        if side == "lo":
            lo = lo.copy()
            lo[k] = value
        else:
            hi = hi.copy()
            hi[k] = value
        trajectory.append(box_of(lo, hi))
    return trajectory


def select_box(trajectory: list[Box], min_density: float = 0.8) -> Box:
    """The largest box on the trajectory whose density reaches ``min_density``
    (or, if none does, the densest)."""
    for box in trajectory:
        if box.density >= min_density:
            return box
    return max(trajectory, key=lambda b: (b.density, b.mass))


def quasi_p_values(box: Box, X: pd.DataFrame, y, among=None) -> dict[str, float]:
    """For each restriction, a one-sided binomial p-value of "it raises the density".

    Drop restriction d: the looser box has n0 points and density p0. Under the
    null that d adds nothing, the k cases among the n points of the box are
    Binomial(n, p0); the quasi-p-value is P(K >= k) (Bryant & Lempert 2010; "quasi"
    because the box was chosen on the same data).
    """
    from scipy.stats import binom

    y = np.asarray(y, dtype=bool)
    mask = np.ones(len(X), dtype=bool) if among is None else np.asarray(among, dtype=bool)
    inside = box.contains(X) & mask
    n, k = int(inside.sum()), int((y & inside).sum())
    out = {}
    for d in box.limits:
        looser = box.copy(limits={e: v for e, v in box.limits.items() if e != d}).contains(X) & mask
        p0 = y[looser].mean() if looser.any() else 0.0
        out[d] = float(binom.sf(k - 1, n, p0)) if n else 1.0
    return out


def simplify(box: Box, X: pd.DataFrame, y, p_max: float = 0.05) -> Box:
    """Drop restrictions that do not earn their keep: while some restriction's
    quasi-p-value (:func:`quasi_p_values`) exceeds ``p_max``, drop the one with
    the largest. Fewer conditions and more coverage, for a little density."""
    box = box.copy().score(X, y)
    while box.limits:
        p = quasi_p_values(box, X, y)
        worst = max(p, key=p.get)
        if p[worst] <= p_max:
            break
        box = box.copy(limits={d: v for d, v in box.limits.items() if d != worst}).score(X, y)
    return box


def prim_boxes(
    X: pd.DataFrame,
    y,
    min_density: float = 0.8,
    max_boxes: int = 3,
    min_coverage: float = 0.05,
    keep_density: float = 0.5,
    alpha: float = 0.05,
    min_mass: float = 0.02,
    p_max: float = 0.05,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    formatters: Mapping[str, Formatter] | None = None,
) -> list[Box]:
    """PRIM with covering: up to ``max_boxes`` boxes, each found among the points
    that no earlier box holds.

    Box k is read "otherwise, the case holds when …": its coverage, density and
    mass count only the points outside boxes 1 … k-1 (coverage and mass as shares
    of all cases and points, so they add up over the boxes). Each box is the
    largest on its peeling trajectory with density >= ``min_density``
    (:func:`select_box`), pruned of restrictions whose quasi-p-value exceeds
    ``p_max`` (:func:`simplify`) — so its final density may fall a little short
    of the target. A box is kept if its coverage reaches ``min_coverage`` and its
    density ``keep_density`` (most of its points are cases); covering stops at the
    first box that is not.
    """
    y = np.asarray(y, dtype=bool)
    b = _bounds(X, bounds)
    left = np.ones(len(X), dtype=bool)
    boxes: list[Box] = []
    while len(boxes) < max_boxes and y[left].any():
        Xl, yl = X[left].reset_index(drop=True), y[left]
        traj = prim_peel(Xl, yl, alpha=alpha, min_mass=min_mass * len(X) / len(Xl), bounds=b)
        box = simplify(select_box(traj, min_density), Xl, yl, p_max)
        box.formatters = dict(formatters or {})
        box.score(X, y, among=left)
        if not box.limits or box.coverage < min_coverage or box.density < keep_density:
            break
        boxes.append(box)
        left &= ~box.contains(X)
    return boxes


def union_stats(boxes: list[Box], X: pd.DataFrame, y) -> tuple[float, float, float]:
    """Coverage, density and mass of the union of ``boxes``."""
    y = np.asarray(y, dtype=bool)
    inside = np.zeros(len(X), dtype=bool)
    for box in boxes:
        inside |= box.contains(X)
    cov = float((y & inside).sum() / y.sum()) if y.any() else np.nan
    dens = float(y[inside].mean()) if inside.any() else np.nan
    return cov, dens, float(inside.mean())


def tree_boxes(
    X: pd.DataFrame,
    y,
    max_depth: int = 3,
    min_leaf: float = 0.01,
    min_density: float | None = None,
    min_coverage: float = 0.0,
    balanced: bool = True,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    formatters: Mapping[str, Formatter] | None = None,
    random_state: int = 0,
):
    """A shallow classification tree; its leaves where the case dominates, as boxes.

    Args:
        max_depth: depth of the tree (3: at most three conditions per rule).
        min_leaf: smallest share of points in a leaf.
        min_density: report the leaves where at least this share of points are
            cases; None (default): the leaves the tree predicts as cases.
        min_coverage: report only leaves holding at least this share of the cases.
        balanced: weight the classes equally when growing the tree, so that its
            splits look for a rare case rather than ignore it (a leaf then
            predicts the case when its density exceeds the overall share).

    Returns:
        (boxes sorted by coverage, the fitted ``DecisionTreeClassifier``).
    """
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(y, dtype=bool)
    b = _bounds(X, bounds)
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(1, int(min_leaf * len(X))),
        class_weight="balanced" if balanced else None,
        random_state=random_state,
    ).fit(X.to_numpy(float), y)
    t = tree.tree_
    cols = list(X.columns)

    def leaf_box(node, limits):
        return Box(limits=dict(limits), bounds=b, formatters=dict(formatters or {})).score(X, y)

    def kept(box, node):
        if min_density is None:
            return bool(tree.classes_[int(np.argmax(t.value[node][0]))])
        return box.density >= min_density

    def walk(node, limits) -> bool:
        """Collect the kept leaves below ``node``; True if every leaf below is kept,
        in which case the node is reported as one box (its splits change nothing)."""
        if t.children_left[node] == -1:  # a leaf
            box = leaf_box(node, limits)
            ok = kept(box, node)
            if ok:
                found.append((node, box))
            return ok
        d, thr = cols[t.feature[node]], float(t.threshold[node])
        lo, hi = limits.get(d, b[d])
        start = len(found)
        left = walk(t.children_left[node], {**limits, d: (lo, min(hi, thr))})  # x <= thr
        # x > thr: the smallest value above thr is the inclusive lower limit
        x = X[d].to_numpy()
        above = x[x > thr]
        new_lo = float(above.min()) if len(above) else thr
        right = walk(t.children_right[node], {**limits, d: (max(lo, new_lo), hi)})
        if left and right:  # merge: the split does not change the prediction
            del found[start:]
            found.append((node, leaf_box(node, limits)))
        return left and right

    found: list[tuple[int, Box]] = []
    walk(0, {})
    boxes = [box for _, box in found if box.limits and box.coverage >= min_coverage]
    return sorted(boxes, key=lambda bx: -bx.coverage), tree


def rules_table(boxes: list[Box], method: str, X: pd.DataFrame) -> pd.DataFrame:
    """One row per box: method, rule, coverage, density, mass, and each restricted limit."""
    rows = []
    for i, box in enumerate(boxes, 1):
        row = {
            "method": method,
            "box": i,
            "rule": box.rule(),
            "coverage": box.coverage,
            "density": box.density,
            "mass": box.mass,
        }
        for d in X.columns:
            lo, hi = box.limits.get(d, box.bounds[d])
            row[f"{d}_lo"], row[f"{d}_hi"] = lo, hi
        rows.append(row)
    return pd.DataFrame(rows)

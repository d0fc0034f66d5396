"""Scenario discovery: readable rules for where in parameter space a case of interest lives.

Given points ``X`` (a table, one column per parameter; categorical columns such as
``regime`` are fine) and a boolean label ``y`` (e.g. "this point ends in
stalemate"), two methods of EMA Workbench (``ema_workbench.analysis``, Kwakkel
2017) describe the region where ``y`` holds as boxes — conjunctions of intervals
and sets of categories, read as rules such as "stalemate when relief ≤ 0.30 and
detect_prob ≥ 0.60":

- **PRIM** (Friedman & Fisher 1999), as used in scenario discovery (Bryant &
  Lempert 2010): ``ema_workbench.analysis.prim.Prim`` peels and pastes; here
  :func:`prim_boxes` picks the largest box on each peeling trajectory whose
  density reaches a target, drops restrictions whose quasi-p-value says they do
  not earn their keep, and repeats on the points not yet covered (covering);
- **CART**: ``ema_workbench.analysis.cart.CART`` (scikit-learn's tree), grown
  shallow and with balanced class weights here (:class:`ShallowCART`); its
  leaves that predict the case are boxes (:func:`tree_boxes`).

This module turns their box limits into :class:`Box` objects that read as rules,
with **coverage** (share of all cases in the box), **density** (share of the
box's points that are cases) and **mass** (share of all points in the box).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.random((2000, 3)), columns=["relief", "detect_prob", "noise"])
    >>> y = (X.relief < 0.3) & (X.detect_prob > 0.6)
    >>> box = prim_boxes(X, y, min_density=0.95)[0]
    >>> box.rule(), box.density > 0.95, box.coverage > 0.9
    ('relief ≤ 0.30 and detect_prob ≥ 0.59', True, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

Formatter = Callable[[str, float | None, float | None], str]
#: A restriction: an interval ``(lo, hi)`` for a numeric dimension, a set of levels
#: for a categorical one.
Limit = tuple[float, float] | frozenset


def _ema(module: str):
    """Import an ``ema_workbench.analysis`` module, quietly (it warns about optional
    extras — ipyparallel, altair — that scenario discovery does not use)."""
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(f"ema_workbench.analysis.{module}")


@dataclass
class Box:
    """A box: ``lo[d] <= x[d] <= hi[d]`` (or ``x[d] in levels``) on its restricted dimensions."""

    limits: dict[str, Limit]  # restricted dims only
    bounds: dict[str, Limit]  # the whole space, per dim
    coverage: float = np.nan
    density: float = np.nan
    mass: float = np.nan
    formatters: dict[str, Formatter] = field(default_factory=dict, repr=False)
    #: PRIM's peeling and pasting trajectory of this box (coverage, density, mass,
    #: res_dim per step), or None.
    trajectory: pd.DataFrame | None = field(default=None, repr=False)

    def contains(self, X: pd.DataFrame) -> np.ndarray:
        m = np.ones(len(X), dtype=bool)
        for d, lim in self.limits.items():
            if isinstance(lim, frozenset):
                m &= X[d].astype(object).isin(lim).to_numpy()
            else:
                x = X[d].to_numpy()
                m &= (x >= lim[0]) & (x <= lim[1])
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
        for d, lim in self.limits.items():
            if isinstance(lim, frozenset):
                levels = sorted(map(str, lim))
                out.append(
                    f"{d} is {levels[0]}" if len(levels) == 1 else f"{d} in {{{', '.join(levels)}}}"
                )
                continue
            (lo, hi), (blo, bhi) = lim, self.bounds[d]
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
        """A copy (scores not carried over), with ``kw`` replacing fields (e.g. ``limits``)."""
        return Box(
            **{
                "limits": dict(self.limits),
                "bounds": self.bounds,
                "formatters": self.formatters,
                **kw,
            }
        )


def _bounds(X: pd.DataFrame, bounds: Mapping[str, tuple[float, float]] | None):
    """Each dimension's whole range (numeric) or set of levels (categorical)."""
    b: dict[str, Limit] = {}
    for d in X.columns:
        if pd.api.types.is_numeric_dtype(X[d]):
            b[d] = (float(X[d].min()), float(X[d].max()))
        else:
            b[d] = frozenset(X[d].astype(object).unique())
    if bounds:
        b.update({d: (float(lo), float(hi)) for d, (lo, hi) in bounds.items() if d in b})
    return b


def _for_ema(X: pd.DataFrame) -> pd.DataFrame:
    """X as EMA Workbench expects it: floats, and categories for anything not numeric."""
    out = pd.DataFrame(index=range(len(X)))
    for d in X.columns:
        col = X[d].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            out[d] = col.astype(str).astype("category")
        else:
            out[d] = col.astype(float)
    return out


def _box_from_limits(box_lim: pd.DataFrame, box_init: pd.DataFrame, bounds, formatters) -> Box:
    """A :class:`Box` from EMA Workbench's box limits (row 0: lower, row 1: upper; sets
    for categorical dimensions), keeping only the restricted dimensions."""
    limits: dict[str, Limit] = {}
    for d in box_lim.columns:
        lo, hi = box_lim.loc[0, d], box_lim.loc[1, d]
        init_lo, init_hi = box_init.loc[0, d], box_init.loc[1, d]
        if isinstance(lo, set):
            if set(lo) != set(init_lo):
                limits[d] = frozenset(lo)
        elif lo > init_lo or hi < init_hi:
            # a side left at the data's extreme is open: it reaches the space's bound
            limits[d] = (
                float(lo) if lo > init_lo else min(float(lo), bounds[d][0]),
                float(hi) if hi < init_hi else max(float(hi), bounds[d][1]),
            )
    return Box(limits=limits, bounds=bounds, formatters=dict(formatters or {}))


def _hull(boxes: list[Box]) -> Box:
    """The smallest box holding ``boxes`` (the node of a tree whose leaves they are)."""
    first = boxes[0]
    limits: dict[str, Limit] = {}
    for d in first.limits:
        lims = [b.limits.get(d) for b in boxes]
        if any(lim is None for lim in lims):
            continue  # unrestricted in some leaf: unrestricted in the hull
        if isinstance(lims[0], frozenset):
            union = frozenset().union(*lims)
            if union != first.bounds[d]:
                limits[d] = union
        else:
            lo, hi = min(lim[0] for lim in lims), max(lim[1] for lim in lims)
            if lo > first.bounds[d][0] or hi < first.bounds[d][1]:
                limits[d] = (lo, hi)
    return Box(limits=limits, bounds=first.bounds, formatters=first.formatters)


def _quasi_p(p_values: dict, dim: str) -> float:
    """A restriction's quasi-p-value: the smaller of its two sides' (a side that earns its
    keep keeps the restriction); EMA Workbench marks an unrestricted side with -1."""
    sides = [p for p in p_values.get(dim, []) if p is not None and p >= 0]
    return float(min(sides)) if sides else 1.0


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
    objective: str = "original",
) -> list[Box]:
    """PRIM (EMA Workbench) with covering: up to ``max_boxes`` boxes, each found among
    the points that no earlier box holds.

    Box k is read "otherwise, the case holds when …": its coverage, density and
    mass count only the points outside boxes 1 … k-1 (coverage and mass as shares
    of all cases and points, so they add up over the boxes). Each box is the
    largest on its peeling and pasting trajectory with density >= ``min_density``
    (or the densest), then restrictions whose quasi-p-value (Bryant & Lempert
    2010; one-sided binomial test) exceeds ``p_max`` are dropped one at a time,
    largest first — so a box's final density may fall a little short of the
    target. A box is kept if its coverage reaches ``min_coverage`` and its density
    ``keep_density``; covering stops at the first box that is not.

    Args:
        alpha: share of the box's points peeled (and pasted) per step.
        min_mass: smallest share of all points a box may hold.
        bounds: the space's bounds per numeric dimension, for printing rules
            (default: the data's range).
        objective: PRIM's peeling objective: ``"original"`` (the peel that leaves
            the highest density, Friedman & Fisher) or ``"lenient1"`` (EMA
            Workbench's default: density gained per mass removed).

    Returns:
        The boxes, each with its peeling trajectory (``box.trajectory``).
    """
    prim = _ema("prim")
    objectives = {
        "original": prim.PRIMObjectiveFunctions.ORIGINAL,
        "lenient1": prim.PRIMObjectiveFunctions.LENIENT1,
        "lenient2": prim.PRIMObjectiveFunctions.LENIENT2,
    }
    y = np.asarray(y, dtype=bool)
    b = _bounds(X, bounds)
    with warnings.catch_warnings():  # pandas deprecations inside the library
        warnings.simplefilter("ignore")
        runner = prim.Prim(
            _for_ema(X),
            y.astype(int),
            obj_function=objectives[objective],
            peel_alpha=alpha,
            paste_alpha=alpha,
            mass_min=min_mass,
        )
    left = np.ones(len(X), dtype=bool)
    boxes: list[Box] = []
    while len(boxes) < max_boxes and y[left].any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = runner.find_box()
        if found is None:
            break
        traj = found.peeling_trajectory
        ok = traj.index[traj["density"] >= min_density]
        pick = int(traj.loc[ok, "mass"].idxmax()) if len(ok) else int(traj["density"].idxmax())
        found.select(pick)
        current = pick
        while True:  # drop what does not earn its keep, worst first
            restricted = _box_from_limits(found.box_lim, runner.box_init, b, formatters).limits
            if not restricted:
                break
            p = {d: _quasi_p(found.p_values[current], d) for d in restricted}
            worst = max(p, key=p.get)
            if p[worst] <= p_max:
                break
            found.drop_restriction(worst)  # appends the looser box and selects it
            current = len(found.p_values) - 1
        box = _box_from_limits(found.box_lim, runner.box_init, b, formatters)
        box.trajectory = traj[["coverage", "density", "mass", "res_dim"]].copy()
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


def _shallow_cart_class():
    cart = _ema("cart")

    class ShallowCART(cart.CART):
        """EMA Workbench's CART with a depth limit and balanced class weights, so that a
        shallow tree looks for a rare case rather than ignoring it (the library's own
        ``build_tree`` sets only the smallest leaf)."""

        def __init__(self, x, y, mass_min=0.01, max_depth=3, balanced=True, random_state=0):
            super().__init__(x, y, mass_min=mass_min)
            self.max_depth, self.balanced, self.random_state = max_depth, balanced, random_state

        def build_tree(self) -> None:
            from sklearn.tree import DecisionTreeClassifier

            self.clf = DecisionTreeClassifier(
                max_depth=self.max_depth,
                min_samples_leaf=max(1, int(self.mass_min * self.x.shape[0])),
                class_weight="balanced" if self.balanced else None,
                random_state=self.random_state,
            ).fit(self._x, self.y)

    return ShallowCART


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
    """A shallow classification tree (EMA Workbench's CART); its leaves where the case
    dominates, as boxes.

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
        (boxes sorted by coverage, the fitted EMA Workbench ``CART``; its
        scikit-learn tree is ``.clf``).
    """
    y = np.asarray(y, dtype=bool)
    b = _bounds(X, bounds)
    with warnings.catch_warnings():  # pandas deprecations inside the library
        warnings.simplefilter("ignore")
        model = _shallow_cart_class()(
            _for_ema(X), y.astype(int), min_leaf, max_depth, balanced, random_state
        )
        model.build_tree()
        leaf_limits = model.boxes
    t = model.clf.tree_
    leaves = np.flatnonzero(t.children_left == -1)  # the order of model.boxes
    init = _ema("scenario_discovery_util")._make_box(model.x)
    leaf_box, kept = {}, {}
    for leaf, lim in zip(leaves, leaf_limits):
        leaf_box[leaf] = _box_from_limits(lim, init, b, formatters).score(X, y)
        predicted = bool(model.clf.classes_[int(np.argmax(t.value[leaf][0]))])
        kept[leaf] = predicted if min_density is None else leaf_box[leaf].density >= min_density

    found: list[list[int]] = []  # leaves of each reported node

    def walk(node) -> tuple[bool, list[int]]:
        """Whether every leaf below ``node`` is kept (then its splits change nothing and
        the node is reported as one box), and those leaves."""
        if t.children_left[node] == -1:
            return kept[node], [node]
        left, right = walk(t.children_left[node]), walk(t.children_right[node])
        if left[0] and right[0]:
            return True, left[1] + right[1]
        found.extend(leaves for ok, leaves in (left, right) if ok)
        return False, []

    whole, below = walk(0)
    if whole:
        found.append(below)
    boxes = [_hull([leaf_box[n] for n in group]).score(X, y) for group in found]
    boxes = [box for box in boxes if box.limits and box.coverage >= min_coverage]
    return sorted(boxes, key=lambda bx: -bx.coverage), model


def rules_table(boxes: list[Box], method: str, X: pd.DataFrame) -> pd.DataFrame:
    """One row per box: method, rule, coverage, density, mass, and each restricted limit
    (numeric: ``<d>_lo``, ``<d>_hi``; categorical: ``<d>`` as the allowed levels)."""
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
            lim = box.limits.get(d, box.bounds[d])
            if isinstance(lim, frozenset):
                row[d] = "|".join(sorted(map(str, lim)))
            else:
                row[f"{d}_lo"], row[f"{d}_hi"] = lim
        rows.append(row)
    return pd.DataFrame(rows)

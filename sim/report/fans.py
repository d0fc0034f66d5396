"""The numbers of a fan chart, with numpy alone: runs x rounds matrices and action shares.

:func:`sim.report.plots.plot_trajectories` draws from these. They take a table as
:class:`Columns` — its columns as numpy arrays, a categorical column as integer codes
with its categories — made from a DataFrame, an Arrow table or a list of Arrow tables
(:func:`columns`): the command line hands the figure's helper process the few columns
it draws from, so the helper imports neither pandas nor pyarrow. The numbers are the
ones the pandas versions (:func:`sim.report.plots.state_matrix`,
:func:`sim.report.plots.action_shares`) give, to the bit (``tests/test_fans.py``).

Example:
    >>> import numpy as np
    >>> t = Columns({"run_id": np.array([0, 0, 1]), "round": np.array([0, 1, 0]),
    ...              "tension": np.array([0.1, 0.2, 0.3])})
    >>> state_matrix(t, "tension")
    array([[0.1, 0.2],
           [0.3, 0.3]])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.names import STATE_VARS

#: The state panels of the fan chart, in their order: the shared state and felt relief.
PANELS = [*STATE_VARS[:4], "felt_relief", *STATE_VARS[4:]]
#: The columns the fan chart reads from the states and the actions tables.
STATE_COLUMNS = ["run_id", "round", *PANELS]
ACTION_COLUMNS = ["round", "actor", "action"]


@dataclass
class Columns:
    """A table's columns as numpy arrays; a categorical column holds integer codes (-1 for
    a missing value) and its categories are in ``categories``."""

    values: dict[str, np.ndarray]
    categories: dict[str, list[str]] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def take(self, rows: np.ndarray) -> Columns:
        """The rows selected by ``rows`` (a boolean mask or positions)."""
        return Columns({k: v[rows] for k, v in self.values.items()}, dict(self.categories))

    @staticmethod
    def concat(parts: list[Columns]) -> Columns:
        """The rows of ``parts`` one after the other (categorical codes made common)."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        out = Columns({}, {k: list(v) for k, v in first.categories.items()})
        for name in first.values:
            pieces = []
            for part in parts:
                codes = part[name]
                if name in out.categories:
                    cats = out.categories[name]
                    for c in part.categories[name]:
                        if c not in cats:
                            cats.append(c)
                    where = [cats.index(c) for c in part.categories[name]]
                    codes = np.array([*where, -1], dtype=np.int32)[codes]
                pieces.append(codes)
            out.values[name] = np.concatenate(pieces)
        return out


def columns(table, names: list[str] | None = None) -> Columns:
    """``table`` (a DataFrame, an Arrow table or a list of them, or :class:`Columns`) as
    :class:`Columns`, with the columns ``names`` (default: all)."""
    if isinstance(table, Columns):
        return table if names is None else Columns({n: table[n] for n in names}, table.categories)
    if isinstance(table, list | tuple):
        return _from_arrow(list(table), names)
    if type(table).__module__.startswith("pyarrow"):
        return _from_arrow([table], names)
    return _from_pandas(table, names)


def _from_pandas(df, names) -> Columns:
    out = Columns({})
    for name in names or list(df.columns):
        col = df[name]
        if hasattr(col, "cat"):
            out.values[name] = col.cat.codes.to_numpy()
            out.categories[name] = [str(c) for c in col.cat.categories]
        else:
            out.values[name] = col.to_numpy()
    return out


def _from_arrow(tables: list, names) -> Columns:
    """Arrow tables (the pieces of one table) as :class:`Columns`, read from their buffers
    (:mod:`sim.engines.arrow`: no pandas); dictionary columns as codes."""
    from sim.engines.arrow import dictionary_codes, to_numpy

    out = Columns({})
    names = names or (tables[0].column_names if tables else [])
    for name in names:
        chunks = [c for t in tables for c in t.column(name).chunks]
        if chunks and str(chunks[0].type).startswith("dictionary"):
            categories: list[str] = []
            parts = []
            for chunk in chunks:
                codes, cats = dictionary_codes(chunk)
                for c in cats:
                    if c not in categories:
                        categories.append(c)
                where = np.array([categories.index(c) for c in cats] + [-1], dtype=np.int32)
                parts.append(where[codes])  # code -1 (missing) stays -1
            out.values[name] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
            out.categories[name] = categories
        else:
            parts = [to_numpy(c) for c in chunks]
            out.values[name] = np.concatenate(parts) if len(parts) != 1 else parts[0]
    return out


def state_matrix(states: Columns, var: str) -> np.ndarray:
    """(runs, rounds) values of ``var`` (runs and rounds in sorted order) from a states
    table, or a joined long table (its first actor's rows); a run that ended keeps its
    final value (a missing value takes the one before it, as pandas' ``ffill``)."""
    if "actor" in states:  # the long table repeats the state on every actor's row
        states = states.take(states["actor"] == 0)
    runs, row = np.unique(states["run_id"], return_inverse=True)
    rounds, col = np.unique(states["round"], return_inverse=True)
    m = np.full((len(runs), len(rounds)), np.nan)
    m[row, col] = states[var]
    last = np.where(np.isnan(m), 0, np.arange(m.shape[1]))
    np.maximum.accumulate(last, axis=1, out=last)
    return m[np.arange(m.shape[0])[:, None], last]


def quantiles(m: np.ndarray, q=(10, 50, 90)) -> np.ndarray:
    """``np.nanpercentile(m, q, axis=0)``; without a NaN in ``m`` the same numbers from
    ``np.percentile``, which does not go column by column (7 fans: 0.03 s less)."""
    if np.isnan(m).any():
        return np.nanpercentile(m, list(q), axis=0)
    return np.percentile(m, list(q), axis=0)


def action_shares(actions: Columns, actions_order: list[str]):
    """Share of live runs playing each action, per actor and round, from an actions table.

    Returns:
        ``(rounds, shares)``: the rounds (sorted, every round of the table) and an array
        (actors, rounds, actions) — actors in the order of their categories, actions in
        ``actions_order``; a round in which an actor played nothing has shares 0.
    """
    rounds, col = np.unique(actions["round"], return_inverse=True)
    actor, action = actions["actor"], actions["action"]
    n_actors = len(actions.categories["actor"])
    # the action codes as positions in actions_order
    where = [actions_order.index(a) for a in actions.categories["action"]]
    pos = np.array([*where, -1], dtype=np.int64)[action]
    ok = (pos >= 0) & (actor >= 0)
    n_act = len(actions_order)
    flat = (actor[ok].astype(np.int64) * len(rounds) + col[ok]) * n_act + pos[ok]
    size = n_actors * len(rounds) * n_act
    counts = np.bincount(flat, minlength=size).reshape(n_actors, len(rounds), n_act)
    total = counts.sum(axis=2, keepdims=True)
    shares = np.zeros(counts.shape)
    np.divide(counts, total, out=shares, where=total > 0)
    return rounds, shares


@dataclass
class GroupMeans:
    """Means of columns per category of a key (categories sorted, as strings): what
    :func:`sim.report.plots.plot_action_shares` draws, small enough to hand a helper."""

    categories: list[str]
    means: dict[str, np.ndarray]


def group_means(runs, by: str, names: list[str]) -> GroupMeans:
    """The mean of each column ``names`` of the DataFrame ``runs`` per value of ``by``
    (pandas' ``groupby(by, observed=True, sort=True)[name].mean()``, column by column)."""
    groups = runs.groupby(by, observed=True, sort=True)
    return GroupMeans(
        [str(k) for k in groups.groups], {n: groups[n].mean().to_numpy() for n in names}
    )


def pivot(table: Columns, index: str, columns: str, values: str):
    """``(rows, cols, grid)``: the sorted distinct values of ``index`` and ``columns`` and
    the (rows, cols) grid of ``values`` (NaN where a pair is absent), as pandas'
    ``pivot(...).reindex(rows, cols)`` gives it.

    Raises:
        ValueError: a pair of ``index`` and ``columns`` values is there twice.
    """
    rows, r = np.unique(table[index], return_inverse=True)
    cols, c = np.unique(table[columns], return_inverse=True)
    if len(np.unique(r * len(cols) + c)) < len(r):
        raise ValueError(f"{index} x {columns}: a point is there twice")
    grid = np.full((len(rows), len(cols)), np.nan)
    grid[r, c] = table[values]
    return rows, cols, grid

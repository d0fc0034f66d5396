"""Result tables shared by both engines, in a tidy layout.

- **runs** — one row per run: seed, scalar parameters, outcome and metrics;
- **states** — one row per run x round (round 0 is the start): the shared state,
  felt relief and whether imagery flagged the target that round;
- **actions** — one row per run x played round x actor: the action and the
  actor's trust in its counterpart after the round.

The shared state is stored once per run and round, not once per actor.
:func:`long_table` joins states and actions into one row per run x round x
actor, the layout of earlier versions (``Results.trajectories``).

Tables are built as Arrow tables chunk by chunk (so they can be streamed to
Parquet) and handed to users as pandas DataFrames with categorical ``outcome``,
``actor`` and ``action`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sim.engines.arrow import array, strings, table
from sim.model.names import ACTION_NAMES, STATE_VARS, TP, Action, Outcome, T, V
from sim.model.params import ModelConfig, scalar_params

if TYPE_CHECKING:  # pandas is imported where tables become DataFrames, not before
    import pandas as pd

    from sim.model.compile import Compiled

#: Outcome categories in a fixed order (the categorical column's categories).
OUTCOME_ORDER = ["agreement", "stalemate", "hedged_stalemate", "breakdown", "undecided"]
#: Outcome code -> position in OUTCOME_ORDER.
_OUTCOME_POS = np.full(len(Outcome), -1, dtype=np.int32)
for _o in Outcome:
    if _o.name.lower() in OUTCOME_ORDER:
        _OUTCOME_POS[_o] = OUTCOME_ORDER.index(_o.name.lower())


def _dictionary(codes: np.ndarray, categories: Sequence[str]) -> pa.DictionaryArray:
    mask = codes < 0
    return pa.DictionaryArray.from_arrays(
        array(codes.astype(np.int32, copy=False), mask=mask if mask.any() else None),
        strings(categories),
    )


def params_columns(cfgs: Sequence[ModelConfig], slot: np.ndarray) -> dict[str, object]:
    """The scalar parameters of each run (one column per parameter), from the
    distinct configs (in slot order) and each run's slot."""
    rows = [scalar_params(c) for c in cfgs]
    cols = {}
    for key in rows[0]:
        values = np.array([row[key] for row in rows])
        cols[key] = strings(values, slot) if values.dtype.kind == "U" else values[slot]
    return cols


def runs_table(
    distinct_cfgs: Sequence[ModelConfig],
    seeds: np.ndarray,
    run_ids: np.ndarray,
    c: Compiled,
    final: dict[str, np.ndarray],
) -> pa.Table:
    """One row per run: ``run_id``, ``seed``, the scalar parameters, outcome and metrics.

    Metrics: ``rounds_played``; ``rounds_to_agreement`` and ``rounds_to_breakdown``
    (NaN unless that outcome); ``ended`` (agreement or breakdown; else censored at the
    horizon); ``rounds_without_progress`` at the end (see :mod:`sim.model.outcomes`);
    ``peak_tension``; the final value of every state variable (``final_*``);
    ``undeclared_growth`` since round 0; ``detections`` and ``false_alarms``; and
    for every actor the share of played rounds it conceded, hedged and escalated
    (``hedge_share_DPRK`` …); for every actor with private types its type
    (``type_DPRK``) and the others' final belief that it keeps its word (``belief_DPRK``;
    under ``model=trust_rule`` nobody updates beliefs, so this is the prior's).

    Args:
        distinct_cfgs: the distinct configs, in the order of ``c``'s parameter sets.
        seeds, run_ids: one per run.
        c: the compiled parameters (``c.slot`` maps runs to parameter sets).
        final: the engine's final arrays ``x``, ``tally``, ``counts``, ``peak`` (runs first).
    """
    tally, x = final["tally"], final["x"]
    played = tally[:, T.end_round].astype(np.int64)
    outcome = tally[:, T.outcome]
    agreed = outcome == Outcome.AGREEMENT
    cols: dict[str, object] = {
        "run_id": np.asarray(run_ids, dtype=np.int64),
        "seed": np.asarray(seeds, dtype=np.int64),
    }
    cols.update(params_columns(distinct_cfgs, c.slot))
    cols["outcome"] = _dictionary(_OUTCOME_POS[outcome], OUTCOME_ORDER)
    cols["rounds_played"] = played
    cols["rounds_to_agreement"] = np.where(agreed, played, np.nan)
    ended = agreed | (outcome == Outcome.BREAKDOWN)
    cols["rounds_to_breakdown"] = np.where(outcome == Outcome.BREAKDOWN, played, np.nan)
    cols["ended"] = ended  # agreement or breakdown; otherwise censored at the horizon
    cols["rounds_without_progress"] = played - tally[:, T.progress_round].astype(np.int64)
    cols["peak_tension"] = final["peak"][:, 0]
    for v in V:
        cols[f"final_{v.name}"] = x[:, v]
    cols["undeclared_growth"] = x[:, V.undeclared] - c.initial[c.slot, V.undeclared]
    cols["detections"] = tally[:, T.detections].astype(np.int64)
    cols["false_alarms"] = tally[:, T.false_alarms].astype(np.int64)
    counts = final["counts"]
    st = c.structure
    for i, name in enumerate(st.names):
        for a in Action:
            cols[f"{ACTION_NAMES[a]}_share_{name}"] = counts[:, i, a] / played
    if "types" in final:
        tp = c.tparams[c.slot]
        for i, name in enumerate(st.names):
            if st.n_types[i] == 0:
                continue
            cols[f"type_{name}"] = _dictionary(
                final["types"][:, i].astype(np.int32), list(st.type_names[i])
            )
            # the public belief at the end: how far the others expect it to keep its word
            n = st.n_types[i]
            cols[f"belief_{name}"] = np.einsum(
                "rk,rk->r", final["belief"][:, i, :n], tp[:, i, :n, TP.trustworthy]
            )
    return table(cols)


def with_drawn(runs: pa.Table, keys, values: np.ndarray) -> pa.Table:
    """The runs table with each run's drawn parameter values in the columns of their keys
    (``rationality`` replaced, ``actors.DPRK.concede.bias`` added), and ``drawn``
    naming them."""
    for k, key in enumerate(keys):
        col = array(values[:, k])
        if key in runs.column_names:
            runs = runs.set_column(runs.column_names.index(key), key, col)
        else:
            runs = runs.append_column(key, col)
    return runs.append_column("drawn", strings([",".join(keys)], np.zeros(runs.num_rows)))


def _offsets(played: np.ndarray, per_run: np.ndarray) -> tuple[np.ndarray, int]:
    """Each run's first row when run r has ``per_run[r]`` rows, and the total."""
    counts = np.asarray(per_run, dtype=np.int64)
    offset = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=offset[1:])
    return offset, int(counts.sum())


def states_table(seeds, run_ids, history: dict[str, np.ndarray], played: np.ndarray) -> pa.Table:
    """One row per run x round 0..played, run-major: the shared state, felt relief and
    the flag (gathered by :func:`sim.engines.kernels.states_rows` on every core)."""
    from sim.engines.kernels import parallel_lock, states_rows  # compiled: imported when used

    played = np.ascontiguousarray(played, dtype=np.int64)
    offset, n = _offsets(played, played + 1)
    run, seed = np.empty(n, np.int64), np.empty(n, np.int64)
    rnd, x = np.empty(n, np.int32), np.empty((len(V), n))
    felt, flag = np.empty(n), np.empty(n, np.bool_)
    with parallel_lock:
        states_rows(
            played, offset, np.ascontiguousarray(run_ids, dtype=np.int64),
            np.ascontiguousarray(seeds, dtype=np.int64), history["x"], history["flag"],
            run, seed, rnd, x, felt, flag,
        )  # fmt: skip
    cols: dict[str, object] = {"run_id": run, "seed": seed, "round": rnd}
    for v in V:
        cols[v.name] = x[v]
    cols["felt_relief"] = felt
    cols["flagged"] = flag
    return table(cols)


def actions_table(
    seeds, run_ids, names: Sequence[str], history: dict[str, np.ndarray], played
) -> pa.Table:
    """One row per run x played round x actor, run-major: the action and trust in the
    counterpart (gathered by :func:`sim.engines.kernels.actions_rows` on every core)."""
    from sim.engines.kernels import actions_rows, parallel_lock

    A = history["actions"].shape[2]
    played = np.ascontiguousarray(played, dtype=np.int64)
    offset, n = _offsets(played, played * A)
    run, rnd = np.empty(n, np.int64), np.empty(n, np.int32)
    actor, action, trust = np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n)
    with parallel_lock:
        actions_rows(
            played, offset, np.ascontiguousarray(run_ids, dtype=np.int64), history["actions"],
            history["trust"], run, rnd, actor, action, trust,
        )  # fmt: skip
    return table(
        {
            "run_id": run,
            "round": rnd,
            "actor": _dictionary(actor, names),
            "action": _dictionary(action, ACTION_NAMES),
            "trust_in_counterpart": trust,
        }
    )


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow result table as a DataFrame, categories kept in their fixed order."""
    import pandas as pd

    df = table.to_pandas()
    for col, categories in (("outcome", OUTCOME_ORDER), ("action", list(ACTION_NAMES))):
        if col in df:
            df[col] = df[col].astype(pd.CategoricalDtype(categories))
    return df


def long_table(states: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """States and actions joined: one row per run x played round x actor, with the
    shared state of that run and round on every actor's row.

    Example:
        >>> from sim import make_config, run_batch
        >>> res = run_batch([make_config(rounds=5)] * 2, [0, 1], progress=False)
        >>> t = long_table(res.states, res.actions)
        >>> len(t) == len(res.actions), {"actor", "action", "tension"} <= set(t.columns)
        (True, True)
    """
    state_cols = ["run_id", "seed", "round", "flagged", *STATE_VARS, "felt_relief"]
    out = actions.merge(states[state_cols], on=["run_id", "round"], how="left", sort=False)
    return out[
        [
            "run_id",
            "seed",
            "round",
            "actor",
            "action",
            "trust_in_counterpart",
            "flagged",
            *STATE_VARS,
            "felt_relief",
        ]
    ]

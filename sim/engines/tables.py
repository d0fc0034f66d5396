"""Result tables shared by both engines: one row per run, one row per run x round x actor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.compile import Compiled
from sim.model.decisions import felt_relief
from sim.model.dynamics import Recorder, State, V
from sim.model.names import ACTION_NAMES, OUTCOME_NAMES, STATE_VARS, Outcome
from sim.model.params import ModelConfig, scalar_params

OUTCOME_ORDER = ["agreement", "stalemate", "hedged_stalemate", "breakdown"]
ACTION_DTYPE = pd.CategoricalDtype(list(ACTION_NAMES))
OUTCOME_DTYPE = pd.CategoricalDtype(OUTCOME_ORDER)


def runs_table(cfgs: list[ModelConfig], seeds, run_ids, p: Compiled, state: State) -> pd.DataFrame:
    """One row per run: seed, scalar parameters, outcome and metrics.

    Metrics: ``rounds_played``; ``rounds_to_agreement`` (NaN unless agreement);
    ``peak_tension``; the final value of every state variable (``final_*``);
    ``undeclared_growth`` since round 0; ``detections`` and ``false_alarms``; and
    for every actor the share of played rounds it conceded, hedged and escalated
    (``hedge_share_DPRK`` …).
    """
    distinct: dict[int, dict] = {}
    params = pd.DataFrame([distinct.setdefault(id(c), scalar_params(c)) for c in cfgs])
    played = state.end_round.astype(int)
    agreed = state.outcome == Outcome.AGREEMENT
    cols: dict[str, np.ndarray] = {
        "run_id": np.asarray(run_ids),
        "seed": np.asarray(seeds),
    }
    metrics: dict[str, np.ndarray] = {
        "outcome": pd.Categorical([OUTCOME_NAMES[o] for o in state.outcome], dtype=OUTCOME_DTYPE),
        "rounds_played": played,
        "rounds_to_agreement": np.where(agreed, played, np.nan),
        "peak_tension": state.peak_tension,
    }
    for v in STATE_VARS:
        metrics[f"final_{v}"] = state.x[V[v]]
    metrics["undeclared_growth"] = state.x[V["undeclared"]] - p.initial[V["undeclared"]]
    metrics["detections"] = state.detections
    metrics["false_alarms"] = state.false_alarms
    for i, name in enumerate(p.names):
        for a, action in enumerate(ACTION_NAMES):
            metrics[f"{action}_share_{name}"] = state.counts[i, a] / played
    return pd.concat([pd.DataFrame(cols), params, pd.DataFrame(metrics)], axis=1)


def trajectories_table(seeds, run_ids, p: Compiled, rec: Recorder) -> pd.DataFrame:
    """One row per run x played round x actor: the action and the shared state."""
    # runs outermost, then rounds, then actors: rows come out already sorted
    r, t, a = np.nonzero(rec.actions[1:].transpose(2, 0, 1) >= 0)
    t = t + 1
    x = rec.x[t, :, r]  # (rows, V)
    df = pd.DataFrame(
        {
            "run_id": np.asarray(run_ids)[r],
            "seed": np.asarray(seeds)[r],
            "round": t.astype(np.int32),
            "actor": pd.Categorical.from_codes(a, categories=list(p.names)),
            "action": pd.Categorical.from_codes(rec.actions[t, a, r], dtype=ACTION_DTYPE),
            "trust_in_counterpart": rec.trust[t, a, r],
            "flagged": rec.flagged[t, r],
        }
    )
    for j, v in enumerate(STATE_VARS):
        df[v] = x[:, j]
    df["felt_relief"] = felt_relief(df["relief"].to_numpy(), df["enforcement"].to_numpy())
    return df

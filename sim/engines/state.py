"""The state and history of a group of runs, as arrays with one row per run.

These are the arrays of :mod:`sim.model.dynamics`, stacked over runs: the batch
engine fills many rows at once, the Mesa model one row, a branch copies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.names import N_ACTIONS, STATE_VARS, T

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from sim.model.compile import Compiled
    from sim.model.params import ModelConfig

#: The largest seed (seeds are int64 and must be >= 0).
MAX_SEED = 2**63 - 1


@dataclass
class State:
    """The state of a group of runs after some round (one row per run): what a
    branch continues from. Arrays as in :mod:`sim.model.dynamics`, runs first."""

    x: np.ndarray
    trust: np.ndarray
    last: np.ndarray
    tally: np.ndarray
    counts: np.ndarray
    peak: np.ndarray
    types: np.ndarray
    belief: np.ndarray

    @classmethod
    def empty(cls, n_runs: int, n_actors: int, n_types: int = 1) -> State:
        return cls(
            x=np.zeros((n_runs, len(STATE_VARS))),
            trust=np.zeros((n_runs, n_actors, n_actors)),
            last=np.zeros((n_runs, n_actors), dtype=np.int64),
            tally=np.zeros((n_runs, len(T)), dtype=np.int64),
            counts=np.zeros((n_runs, n_actors, N_ACTIONS), dtype=np.int64),
            peak=np.zeros((n_runs, 2)),
            types=np.zeros((n_runs, n_actors), dtype=np.int64),
            belief=np.zeros((n_runs, n_actors, n_types)),
        )

    def copy(self) -> State:
        return State(
            *(
                a.copy()
                for a in (
                    self.x, self.trust, self.last, self.tally, self.counts, self.peak,
                    self.types, self.belief,
                )
            )
        )  # fmt: skip

    @property
    def round(self) -> int:
        """Rounds played (the most any run has played)."""
        return int(self.tally[:, T.round].max()) if len(self.tally) else 0

    @property
    def outcome(self) -> np.ndarray:
        return self.tally[:, T.outcome]

    def final(self) -> dict[str, np.ndarray]:
        return {
            "x": self.x,
            "tally": self.tally,
            "counts": self.counts,
            "peak": self.peak,
            "types": self.types,
            "belief": self.belief,
        }


@dataclass
class History:
    """Round-by-round history of a group of runs: index 0 is the start.

    Unplayed rounds hold NaN state and action -1.
    """

    x: np.ndarray  # (R, rounds + 1, V)
    actions: np.ndarray  # (R, rounds + 1, A) int8
    trust: np.ndarray  # (R, rounds + 1, A): each actor's trust in its counterpart
    flag: np.ndarray  # (R, rounds + 1) bool

    @classmethod
    def empty(
        cls, n_runs: int, rounds: int, n_actors: int, record: bool = True, blank: bool = True
    ) -> History:
        """A history of ``n_runs`` runs, every round unplayed; with ``blank=False`` the
        memory is left as it is, for a caller that writes every round (the batch
        engine's fresh runs: played rounds, then the rest blanked, on every thread)."""
        span = rounds + 1 if record else 0
        shapes = {
            "x": ((n_runs, span, len(STATE_VARS)), np.float64, np.nan),
            "actions": ((n_runs, span, n_actors), np.int8, -1),
            "trust": ((n_runs, span, n_actors), np.float64, np.nan),
            "flag": ((n_runs, span), np.bool_, False),
        }
        if blank:
            return cls(**{k: np.full(shape, v, dtype=t) for k, (shape, t, v) in shapes.items()})
        return cls(**{k: np.empty(shape, dtype=t) for k, (shape, t, _) in shapes.items()})

    def rows(self, n: int) -> History:
        """The first ``n`` runs (views: writing them writes this history)."""
        return History(self.x[:n], self.actions[:n], self.trust[:n], self.flag[:n])

    def copy(self) -> History:
        return History(self.x.copy(), self.actions.copy(), self.trust.copy(), self.flag.copy())

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "actions": self.actions, "trust": self.trust, "flag": self.flag}


class OneRun:
    """What narration and teaching tools read of one run held as ``compiled`` and a
    one-row ``state``: its structure, the rounds played and its outcome name."""

    compiled: Compiled  # one parameter set; both set by the class that holds the run
    state: State

    @property
    def structure(self):
        """What the run's configuration fixes (actors, roles, policies, events)."""
        return self.compiled.structure

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return int(self.state.tally[0, T.round])

    @property
    def outcome(self) -> str:
        """``undecided`` while running, then the run's outcome name."""
        from sim.model.names import OUTCOME_NAMES, Outcome

        return OUTCOME_NAMES[Outcome(int(self.state.tally[0, T.outcome]))]


@dataclass
class RunView(OneRun):
    """One finished (or partly played) run, as narration and teaching tools read it.

    :class:`~sim.engines.mesa_model.NegotiationModel` offers the same attributes,
    so :mod:`sim.report.narrate` tells a Mesa run and a batch run alike (the batch
    engine makes one with :func:`sim.engines.batch.run_one`, without Mesa).

    Attributes:
        config: the run's :class:`~sim.model.params.ModelConfig`.
        compiled: its parameters as arrays (one parameter set).
        state: its state (one row).
        history: its rounds (one row).
        seed: its seed.
    """

    config: ModelConfig
    compiled: Compiled
    state: State
    history: History
    seed: int

    @property
    def events_by_round(self) -> dict[int, list]:
        out: dict[int, list] = {}
        for ev in self.config.events:
            out.setdefault(ev.round, []).append(ev)
        return out

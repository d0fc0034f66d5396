"""The 2018 replay: a monthly calendar for rounds, and counterfactual branching.

The ``replay_2018`` scenario (``configs/scenario/replay_2018.yaml``) plays one
round per month from :data:`START` (April 2018). Round ``r`` is played during the
month ``START + (r - 1)``; its events act at the start of that month and the state
after the round is the state at the end of the month (the start of the next).

:func:`branch` runs a factual and a counterfactual history with common random
numbers: every run plays rounds ``1 .. at_round - 1`` once, under the factual
config, then continues from that very state twice — under the factual config and
under the counterfactual one — drawing the same random numbers in both. Any
difference between the two is caused by the change, not by luck.

What a counterfactual may change (checked by :func:`check_branchable`):

- any numeric parameter (``relief``, ``detect_prob``, ``rationality``, an actor's
  weights …). It acts from ``at_round`` on. A *start value* (``assurance``,
  ``relief``, ``enforcement``, ``tension``) does not reset the state: the runs go
  on from the factual state, and the new value is the level the state reverts to
  (at rate ``reversion``), i.e. what is on the table from then on. ``undeclared``
  and ``denuclearization`` must not change: the hedged-stalemate test measures
  growth from them. An actor's initial ``trust`` has no effect after round 0.
- the events scheduled at rounds ``>= at_round``: add, remove or reshape them
  (e.g. a ``relief_offer`` in August 2018). Events are structural for the batch
  engine, so the two histories are compiled separately; nothing in the engine had
  to change.

Not allowed: a different horizon, other actors, roles, policies or scripts, or a
different event before ``at_round`` (the shared past must be one past).

Example:
    >>> round_month(1), round_month(5)
    ('2018-04', '2018-08')
    >>> month_round("2018-11")
    8
    >>> str(round_to_date(5).date()), str(round_to_date(5, "end").date())
    ('2018-08-01', '2018-09-01')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engines import tables
from sim.engines.batch import Results, simulate
from sim.model.compile import compile_configs, structure_key
from sim.model.names import T
from sim.model.params import ModelConfig, make_config

#: The month of round 1 of the 2018 replay.
START = "2018-04"
#: The replay scenario's name in ``configs/scenario/``.
SCENARIO = "replay_2018"


def _start(start: str | None) -> pd.Period:
    return pd.Period(start or START, freq="M")


def round_month(r: int, start: str | None = None) -> str:
    """The month ("YYYY-MM") in which round ``r`` (1-based) is played."""
    return str(_start(start) + (int(r) - 1))


def month_round(month: str, start: str | None = None) -> int:
    """The round played in ``month`` ("YYYY-MM"); the inverse of :func:`round_month`."""
    return (pd.Period(month, freq="M") - _start(start)).n + 1


def round_to_date(r: int, when: str = "start", start: str | None = None) -> pd.Timestamp:
    """The date of round ``r``: the first day of its month (``when="start"``, where
    its events act) or of the next month (``when="end"``, the state after the round).
    Round 0 at ``"end"`` is the start of the calendar (the initial state)."""
    month = _start(start) + (int(r) - 1) + (1 if when == "end" else 0)
    return month.to_timestamp()


def replay_config(**changes) -> ModelConfig:
    """The ``replay_2018`` scenario as a validated config, with optional changes.

    ``events`` in ``changes`` replaces the scenario's list; use
    :func:`with_events` to add to it.
    """
    from sim.hydra.compose import scenario_kwargs

    return make_config(**scenario_kwargs(SCENARIO, **changes))


def with_events(cfg: ModelConfig, *events: dict, **changes) -> ModelConfig:
    """A copy of ``cfg`` with ``events`` appended and scalar ``changes`` applied.

    Example:
        >>> base = make_config(rounds=12)
        >>> alt = with_events(base, {"round": 5, "kind": "relief_offer"}, detect_prob=0.5)
        >>> [e.kind for e in alt.events], alt.detect_prob, base.events
        (['relief_offer'], 0.5, [])
    """
    from dataclasses import asdict

    kw = {k: v for k, v in asdict(cfg).items()}
    kw["events"] = [*kw["events"], *events]
    kw.update(changes)
    return make_config(**kw)


def check_branchable(base: ModelConfig, alt: ModelConfig, at_round: int) -> None:
    """Raise ``ValueError`` if ``alt`` cannot continue ``base``'s runs from ``at_round``."""
    kb, ka = structure_key(base), structure_key(alt)
    if not 1 <= at_round <= base.rounds:
        raise ValueError(f"at_round = {at_round} is outside 1..{base.rounds}")
    if kb[0] != ka[0]:
        raise ValueError(f"the horizon differs ({kb[0]} vs {ka[0]} rounds)")
    if kb[1] != ka[1]:
        raise ValueError(
            "actors, roles, policies, scripts or types differ; a branch may change "
            "only numeric parameters and later events"
        )
    if kb[3] != ka[3]:
        raise ValueError(f"the model differs ({kb[3]} vs {ka[3]}); a branch keeps the model")
    before_b = [e for e in kb[2] if e[0] < at_round]
    before_a = [e for e in ka[2] if e[0] < at_round]
    if before_b != before_a:
        raise ValueError(f"events before round {at_round} differ: the shared past must be one past")
    for name in ("undeclared", "denuclearization"):
        if getattr(base, name) != getattr(alt, name):
            raise ValueError(
                f"{name} differs; it is the reference for the run's outcome "
                "and cannot change in a branch"
            )


@dataclass
class Branch:
    """A factual and a counterfactual history of the same runs (same seeds)."""

    factual: Results
    counterfactual: Results
    at_round: int

    def runs(self) -> pd.DataFrame:
        """Both runs tables stacked, with a ``history`` column (factual | counterfactual)."""
        return pd.concat(
            [
                self.factual.runs.assign(history="factual"),
                self.counterfactual.runs.assign(history="counterfactual"),
            ],
            ignore_index=True,
        )


def branch(
    base: ModelConfig,
    alt: ModelConfig,
    seeds: Sequence[int],
    at_round: int,
    record: bool = True,
) -> Branch:
    """Play ``base`` up to round ``at_round - 1``, then go on under ``base`` and under ``alt``.

    Both continuations draw the same random numbers (those of each run's seed),
    so with ``alt == base`` the counterfactual equals the factual run exactly, and
    the factual equals an unbranched :func:`sim.engines.batch.run_batch` run.

    Args:
        base: the factual config.
        alt: the counterfactual config (see :func:`check_branchable`).
        seeds: one seed per run.
        at_round: the first round played under ``alt`` (1 = from the start:
            ``alt`` then also sets the initial state).
        record: also build the trajectories tables.

    Returns:
        A :class:`Branch` with one :class:`~sim.engines.batch.Results` per history.
    """
    check_branchable(base, alt, at_round)
    seeds = np.asarray([int(s) for s in seeds], dtype=np.int64)
    n = len(seeds)
    run_ids = np.arange(n)
    c0 = compile_configs([base] * n)
    c1 = compile_configs([alt] * n)
    shared, hist = (None, None)
    if at_round > 1:
        shared, hist = simulate(c0, seeds, record, stop=at_round - 1)
    out = []
    for c, cfg in ((c0, base), (c1, alt)):
        state, h = simulate(c, seeds, record, state=shared, history=hist)
        runs = tables.to_pandas(tables.runs_table([cfg], seeds, run_ids, c, state.final()))
        if record:
            played = state.tally[:, T.round]
            states = tables.to_pandas(tables.states_table(seeds, run_ids, h.as_dict(), played))
            actions = tables.to_pandas(
                tables.actions_table(seeds, run_ids, c.structure.names, h.as_dict(), played)
            )
            out.append(Results(runs=runs, states=states, actions=actions))
        else:
            out.append(Results(runs=runs))
    return Branch(factual=out[0], counterfactual=out[1], at_round=at_round)

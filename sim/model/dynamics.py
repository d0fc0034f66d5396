"""The shared state and how one round moves it: the model's single source of truth.

A round t (1-based) is played in three steps, identical in both engines:

1. :func:`begin_round` applies the events scheduled for round t;
2. every actor decides from that state (:func:`sim.model.decisions.choose_actions`):
   in the Mesa model each :class:`~sim.model.StateAgent` for itself, in the batch
   engine all at once;
3. :func:`end_round` inspects the target (verification), moves the shared state
   (:func:`transition`), classifies finished runs and updates the tallies.

Runs that have ended (agreement or breakdown) are frozen: their state no longer
changes. Every sum over actors is written as a loop in actor order, so the
floating-point result does not depend on how many runs are stacked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.compile import Compiled
from sim.model.names import STATE_VARS, Action, Outcome
from sim.model.outcomes import check_absorbing, classify_final
from sim.model.verification import inspect

V = {name: j for j, name in enumerate(STATE_VARS)}
ANCHORED = ("assurance", "relief", "enforcement")  # revert to their start at rate `reversion`


@dataclass
class State:
    """State of R runs after some round (runs axis last)."""

    x: np.ndarray  # (V, R) shared state variables, STATE_VARS order
    trust: np.ndarray  # (A, A, R) trust[i, j]: i's trust in j (diagonal 1)
    last: np.ndarray  # (A, R) int8 last round's actions (HEDGE before round 1)
    flagged: np.ndarray  # (R,) bool: target's hedging flagged last round
    round: int  # rounds played
    outcome: np.ndarray  # (R,) int8 Outcome; UNDECIDED while running
    end_round: np.ndarray  # (R,) round in which the run ended (rounds if never)
    counts: np.ndarray  # (A, 3, R) rounds each actor played each action
    detections: np.ndarray  # (R,) true detections of hedging
    false_alarms: np.ndarray  # (R,)
    peak_tension: np.ndarray  # (R,)

    @property
    def n_runs(self) -> int:
        return self.x.shape[1]

    @property
    def done(self) -> np.ndarray:
        return self.outcome != Outcome.UNDECIDED

    def var(self, name: str) -> np.ndarray:
        """One state variable over runs, e.g. ``state.var("tension")``."""
        return self.x[V[name]]


def initial_state(p: Compiled) -> State:
    """Round 0: the configured starting values, trust, nobody has moved."""
    A, R = p.n_actors, p.n_runs
    trust = np.repeat(p.trust0[:, None, :], A, axis=1)
    trust[np.arange(A), np.arange(A)] = 1.0
    return State(
        x=p.initial.copy(),
        trust=trust,
        last=np.full((A, R), Action.HEDGE, dtype=np.int8),
        flagged=np.zeros(R, dtype=bool),
        round=0,
        outcome=np.zeros(R, dtype=np.int8),
        end_round=np.full(R, p.rounds),
        counts=np.zeros((A, 3, R), dtype=np.int32),
        detections=np.zeros(R, dtype=np.int32),
        false_alarms=np.zeros(R, dtype=np.int32),
        peak_tension=p.initial[V["tension"]].copy(),
    )


def begin_round(state: State, p: Compiled) -> State:
    """Apply the shifts of the events scheduled for the coming round.

    (A ``report`` event's flag is applied with the round's imagery, in
    :func:`end_round`.)
    """
    t = state.round + 1
    shift = p.shift[t - 1]
    if not shift.any():
        return state
    live = ~state.done
    x = state.x.copy()
    x[:] = np.where(live, np.clip(x + shift[: len(STATE_VARS), None], 0.0, 1.0), x)
    trust = state.trust.copy()
    dt = shift[len(STATE_VARS)]
    for i, j in ((p.target, p.principal), (p.principal, p.target)):
        trust[i, j] = np.where(live, np.clip(trust[i, j] + dt, 0.0, 1.0), trust[i, j])
    return _replace(state, x=x, trust=trust)


def transition(x, trust, actions, flagged, p: Compiled):
    """Move the shared state and trust by one round's actions.

    1. Action effects: each actor's action pushes each variable v; positive
       pushes move v toward 1, negative toward 0:
       ``v += step_size * (sum(push+) * (1 - v) - sum(push-) * v)``.
    2. Snapback: a flag withdraws ``kappa * snapback`` of the relief in force.
    3. Drift: assurance, relief and enforcement revert to their starting levels
       (``reversion``), tension to its resting level (``tension_decay``), and
       verified denuclearization decays (``reversibility``).
    4. Trust: observer i's trust in j rises by ``trust_gain * (1 - trust)`` when j
       concedes and falls by ``trust_loss * trust`` when j escalates or, for the
       target, when it is flagged.

    Returns:
        (x, trust) after the round, clipped to [0, 1].
    """
    A = actions.shape[0]
    step = p.step_size
    # every actor's push on every variable, (V, A, R), gathered in one call
    push = np.take_along_axis(p.effects, actions[None, None].astype(np.intp), 0)[0]
    up = np.maximum(push, 0.0)
    down = np.maximum(-push, 0.0)
    pos, neg = up[:, 0], down[:, 0]
    for i in range(1, A):  # summed in actor order
        pos = pos + up[:, i]
        neg = neg + down[:, i]
    new = x + step * (pos * (1.0 - x) - neg * x)
    relief = V["relief"]
    new[relief] = new[relief] - flagged * p.kappa * p.snapback * new[relief]
    for name in ANCHORED:
        j = V[name]
        new[j] = new[j] + p.reversion * (p.initial[j] - new[j])
    j = V["tension"]
    new[j] = new[j] + p.tension_decay * (p.initial[j] - new[j])
    j = V["denuclearization"]
    new[j] = new[j] - p.reversibility * new[j]

    conceded = actions == Action.CONCEDE  # (A, R) by the observed actor j
    escalated = actions == Action.ESCALATE
    t = trust + conceded[None] * p.trust_gain * (1.0 - trust)
    t = t - escalated[None] * p.trust_loss * t
    caught = t[:, p.target] - flagged * p.trust_loss * t[:, p.target]
    t[:, p.target] = caught
    t[np.arange(A), np.arange(A)] = 1.0
    return np.clip(new, 0.0, 1.0), np.clip(t, 0.0, 1.0)


def end_round(state: State, p: Compiled, actions: np.ndarray, u_imagery: np.ndarray) -> State:
    """Finish round t: verification, transition, outcome, tallies.

    Args:
        state: the state after :func:`begin_round`.
        p: compiled parameters.
        actions: every actor's action this round, shape (A, R).
        u_imagery: this round's imagery uniform per run, shape (R,).
    """
    t = state.round + 1
    live = ~state.done
    flagged, detected, false_alarm = inspect(
        actions[p.target], u_imagery, p.detect_prob, p.false_alarm_prob, p.flag[t - 1]
    )
    x, trust = transition(state.x, state.trust, actions, flagged, p)
    x = np.where(live, x, state.x)
    trust = np.where(live, trust, state.trust)
    outcome = np.where(live, check_absorbing(x, p), state.outcome).astype(np.int8)
    if t == p.rounds:
        outcome = np.where(outcome == Outcome.UNDECIDED, classify_final(x, p), outcome)
    outcome = outcome.astype(np.int8)
    ended_now = live & (outcome != Outcome.UNDECIDED)
    counts = state.counts.copy()
    for a in Action:
        counts[:, a] += (actions == a) & live
    return State(
        x=x,
        trust=trust,
        last=np.where(live, actions, state.last).astype(np.int8),
        flagged=np.where(live, flagged, state.flagged),
        round=t,
        outcome=outcome,
        end_round=np.where(ended_now, t, state.end_round),
        counts=counts,
        detections=state.detections + (detected & live),
        false_alarms=state.false_alarms + (false_alarm & live),
        peak_tension=np.where(
            live, np.maximum(state.peak_tension, x[V["tension"]]), state.peak_tension
        ),
    )


def _replace(state: State, **kw) -> State:
    return State(**{**state.__dict__, **kw})


class Recorder:
    """Round-by-round history of R runs (what the trajectories table needs).

    After a run ends its rows hold action -1 and NaN state.
    """

    def __init__(self, p: Compiled):
        T, A, R = p.rounds, p.n_actors, p.n_runs
        self.p = p
        self.x = np.full((T + 1, len(STATE_VARS), R), np.nan)
        self.actions = np.full((T + 1, A, R), -1, dtype=np.int8)
        self.trust = np.full((T + 1, A, R), np.nan)  # each actor's trust in its counterpart
        self.flagged = np.zeros((T + 1, R), dtype=bool)

    def record(self, state: State, live: np.ndarray, actions: np.ndarray | None = None) -> None:
        """Store the state after round ``state.round`` for runs ``live`` then."""
        t = state.round
        self.x[t] = np.where(live, state.x, np.nan)
        self.trust[t] = np.where(
            live, state.trust[np.arange(self.p.n_actors), self.p.counterpart], np.nan
        )
        if actions is not None:
            self.actions[t] = np.where(live, actions, -1)
            self.flagged[t] = state.flagged & live

"""One page's run: the model, the lock that makes steps atomic, the ▶ loop and the what-if branch.

Every change to the model happens here, under one lock, and ends with a fresh
:class:`~sim.classroom.snapshot.Snapshot` handed to ``publish`` (the page sets
it as its state and redraws). Views read snapshots only, so no setting, speed or
thread can make a view read a half-stepped model.

▶ runs in its own thread at a set number of rounds per second. If drawing a
round takes longer than the interval, the loop plays the rounds that are due
and draws once (it never falls behind the clock), so the speed a teacher picks
is the speed the talks go.

A *what-if* branch (:meth:`Runner.branch`) continues the current run from the
coming round under changed parameters with the same random numbers (common
random numbers, as :func:`sim.analysis.replay.branch` does for many runs): the
batch engine plays it from a copy of the live run's state.

Example:
    >>> from sim.classroom.seats import ClassroomModel
    >>> runner = Runner(ClassroomModel(rounds=30, rng=0))
    >>> runner.step(3).round
    3
    >>> w = runner.branch(relief=0.5, offer=True)
    >>> w.at_round, w.label
    (4, 'relief offered in round 4, relief on the table 0.50')
    >>> runner.finish().running
    False
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.analysis.replay import check_branchable
from sim.classroom.seats import ClassroomModel
from sim.classroom.snapshot import Snapshot, take
from sim.engines.batch import simulate
from sim.engines.state import History, State
from sim.model.compile import compile_configs
from sim.model.names import Action, Outcome, T
from sim.model.params import make_config

#: ▶ speeds a teacher can pick (rounds per second).
SPEEDS = (1, 2, 5, 10, 20)
#: At most this many rounds are played between two drawings when drawing falls behind.
MAX_CATCH_UP = 20

_timing_lock = threading.Lock()


def _record_timing(kind: str, seconds: float, rounds: int, round_now: int) -> None:
    """Append one timing line to ``$STALEMATE_TIMING`` (the page benchmark reads it)."""
    path = os.environ.get("STALEMATE_TIMING")
    if not path:
        return
    line = json.dumps(
        {"kind": kind, "seconds": seconds, "rounds": rounds, "round": round_now, "t": time.time()}
    )
    with _timing_lock, open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


@dataclass(frozen=True)
class WhatIf:
    """A counterfactual continuation of the page's run, from round :attr:`at_round` on.

    Attributes:
        at_round: the first round played under the change.
        label: the change in words.
        changes: the parameter changes (``relief=0.5`` …) and ``offer``.
        config, compiled: the counterfactual's parameters.
        state, history: the counterfactual run, played to its end.
        seed: the seed (the factual run's).
    """

    at_round: int
    label: str
    changes: dict
    config: object
    compiled: object
    state: State
    history: History
    seed: int
    scenario_name: str
    events_by_round: dict

    @property
    def end(self) -> int:
        return int(self.state.tally[0, T.round])

    def upto(self, r: int) -> Snapshot:
        """The counterfactual as it stands after round ``r`` (its end, if it ended before)."""
        r = int(min(max(r, self.at_round - 1), self.end))
        h = self.history
        hist = History(
            h.x[:, : r + 1].copy(),
            h.actions[:, : r + 1].copy(),
            h.trust[:, : r + 1].copy(),
            h.flag[:, : r + 1].copy(),
        )
        if r >= self.end:
            state = self.state
        else:
            state = self.state.copy()
            state.x[0] = h.x[0, r]
            state.tally[0, T.round] = r
            state.tally[0, T.outcome] = Outcome.UNDECIDED
        return Snapshot(
            config=self.config,
            compiled=self.compiled,
            seed=self.seed,
            state=state,
            history=hist,
            scenario_name=self.scenario_name,
            player="nobody",
            turns=(),
            events_by_round=self.events_by_round,
        )


def what_if(model: ClassroomModel, offer: bool = False, **changes) -> WhatIf:
    """Branch ``model`` from its coming round: ``changes`` (e.g. ``relief=0.5``) act from then on.

    Args:
        model: the live run (not finished).
        offer: schedule a ``relief_offer`` event (+0.2 relief, a little trust) in the coming round.
        **changes: numeric parameters (``relief``, ``assurance``, ``detect_prob`` …): for a start
            value, the level the state reverts to from now on.

    Raises:
        ValueError: the run has ended, or the change cannot continue this run.
    """
    if not model.running:
        raise ValueError("the run has ended: Reset, then branch during the run")
    at = model.round + 1
    kw = dict(model.model_kwargs)
    kw.update(changes)
    if offer:
        kw["events"] = [*(kw.get("events") or []), {"round": at, "kind": "relief_offer"}]
    alt = make_config(**kw)
    check_branchable(model.config, alt, at)
    c = compile_configs([alt])
    state, hist = simulate(
        c,
        np.array([model.seed]),
        record=True,
        state=model.state,
        history=model.history,
        full_trust=True,
        threads=1,
    )
    words = []
    if offer:
        words.append(f"relief offered in round {at}")
    for k, val in changes.items():
        if getattr(model.config, k) != val:
            words.append(
                f"detection {val:.2f}" if k == "detect_prob" else f"{k} on the table {val:.2f}"
            )
    events: dict[int, list] = {}
    for ev in alt.events:
        events.setdefault(ev.round, []).append(ev)
    return WhatIf(
        at_round=at,
        label=", ".join(words) or "no change",
        changes={**changes, "offer": offer},
        config=alt,
        compiled=c,
        state=state,
        history=hist,
        seed=model.seed,
        scenario_name=model.scenario_name,
        events_by_round=events,
    )


class Runner:
    """The page's run, stepped atomically; views get :class:`Snapshot` copies.

    Args:
        model: the run to show.
        publish: called with every new snapshot (the page sets it as state); may be
            called from the ▶ thread.
    """

    def __init__(self, model: ClassroomModel, publish: Callable[[Snapshot], None] | None = None):
        self._lock = threading.RLock()
        self._publish_lock = threading.Lock()
        self._published = -1
        self._model = model
        self._version = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.speed = SPEEDS[2]
        self.whatif: WhatIf | None = None
        self.publish_to = publish
        with self._lock:
            self.snapshot = self._take()

    @property
    def model(self) -> ClassroomModel:
        return self._model

    @property
    def playing(self) -> bool:
        return self._thread is not None and not self._stop.is_set()

    # ---- stepping --------------------------------------------------------------------
    def _take(self) -> Snapshot:
        self._version += 1
        snap = take(self._model, self._version)
        return dataclasses.replace(
            snap, extra={"whatif": self.whatif, "playing": self.playing, "speed": self.speed}
        )

    def _publish(self, snap: Snapshot) -> None:
        with self._publish_lock:
            if snap.version <= self._published:
                return  # a newer snapshot was drawn already
            self._published = snap.version
            if self.publish_to is not None:
                self.publish_to(snap)

    def step(self, n: int = 1, choice: Action | int | None = None) -> Snapshot:
        """Play ``n`` rounds (the first with ``choice`` in the human seat), then publish.

        Returns:
            The snapshot after the rounds.
        """
        t0 = time.perf_counter()
        with self._lock:
            m = self._model
            played = 0
            for k in range(n):
                if not m.running:
                    break
                if k == 0 and choice is not None and m.seat is not None:
                    m.seat.choice = Action(int(choice))
                m.step()
                played += 1
            if not m.running and self._thread is not None:
                self._stop.set()  # the end: ▶ stops by itself
            snap = self.snapshot = self._take()
        self._publish(snap)
        _record_timing("step", time.perf_counter() - t0, played, snap.round)
        return snap

    def finish(self) -> Snapshot:
        """Play to the end at once."""
        self.pause(publish=False)
        return self.step(n=self._model.structure.rounds)

    def replace(self, model: ClassroomModel) -> Snapshot:
        """Show a new run (Reset, a new scenario)."""
        self.pause(publish=False)
        with self._lock:
            self._model = model
            self.whatif = None
            snap = self.snapshot = self._take()
        self._publish(snap)
        return snap

    def refresh(self) -> Snapshot:
        """Publish a fresh snapshot (after a change of speed, say)."""
        with self._lock:
            snap = self.snapshot = self._take()
        self._publish(snap)
        return snap

    def set_speed(self, speed: float) -> None:
        """Rounds per second for ▶ (takes effect at once, also while playing)."""
        self.speed = speed
        self.refresh()

    # ---- ▶ ---------------------------------------------------------------------------
    def play(self, speed: float | None = None) -> None:
        """Play in a thread at ``speed`` rounds per second until the end or :meth:`pause`."""
        if speed is not None:
            self.speed = speed
        if self.playing or not self._model.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._stop,), daemon=True)
        self._thread.start()
        with self._lock:
            snap = self.snapshot = self._take()
        self._publish(snap)

    def pause(self, publish: bool = True) -> None:
        """Stop ▶ (waits for the round being played)."""
        thread = self._thread
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None
        if publish:
            with self._lock:
                snap = self.snapshot = self._take()
            self._publish(snap)

    def _loop(self, stop: threading.Event) -> None:
        due = time.perf_counter()
        try:
            while not stop.is_set():
                interval = 1.0 / max(self.speed, 0.1)
                late = time.perf_counter() - due
                n = min(MAX_CATCH_UP, 1 + max(0, int(late / interval)))
                snap = self.step(n)
                if not snap.running:
                    break
                due += n * interval
                now = time.perf_counter()
                if due < now - 1.0:  # far behind (a stalled browser): start the clock again
                    due = now
                if due > now:
                    stop.wait(due - now)
        finally:
            stop.set()
            if self._thread is threading.current_thread():
                self._thread = None
                with self._lock:
                    snap = self.snapshot = self._take()
                self._publish(snap)

    # ---- what if ---------------------------------------------------------------------
    def branch(self, offer: bool = False, **changes) -> WhatIf:
        """Branch the run from the coming round (see :func:`what_if`) and show both side by side."""
        with self._lock:
            self.whatif = what_if(self._model, offer=offer, **changes)
            snap = self.snapshot = self._take()
        self._publish(snap)
        return self.whatif

    def unbranch(self) -> None:
        with self._lock:
            self.whatif = None
            snap = self.snapshot = self._take()
        self._publish(snap)

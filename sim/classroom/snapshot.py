"""What the page draws, copied from the model at one instant: drawing never reads a moving model.

The crash of the old page ("x and y must have same first dimension") came from
drawing a model while ▶ stepped it in another thread: the round changed between
two reads. Now the model is stepped and copied under one lock
(:class:`sim.classroom.runner.Runner`), and every view reads only a
:class:`Snapshot`: a frozen copy of the run's state and history up to its round.

A snapshot is also a :class:`~sim.engines.state.RunView`-like object, so the
narration (:func:`sim.report.narrate.narrate`) and the stage game read it as
they read a model.

Example:
    >>> from sim.classroom.seats import ClassroomModel
    >>> m = ClassroomModel(scenario_name="replay_2018", rng=0)
    >>> m.step()
    >>> snap = take(m)
    >>> snap.round, snap.when(1), snap.when(0)
    (1, 'April 2018', 'March 2018')
    >>> sorted(snap.state_rows()[1])[:3]
    ['Relief felt', 'Relief offered', 'Security assurance']
"""

from __future__ import annotations

import calendar as _calendar
import csv
import io
from dataclasses import dataclass, field

import numpy as np

from sim.classroom.charts import STATE_SERIES, STATE_VARS
from sim.classroom.seats import NOBODY, Turn, lesson_model
from sim.classroom.words import outcome_words, regime_words, scenario_title
from sim.engines.point import DecisionPoint
from sim.engines.state import History, OneRun, State
from sim.model.actors import describe_action
from sim.model.decisions import felt_relief
from sim.model.names import ACTION_NAMES, Outcome, T, V
from sim.model.outcomes import classify_final
from sim.model.params import P
from sim.report.narrate import ending, narrate

#: Scenarios whose rounds are months, and the month of their round 1.
CALENDARS = {"replay_2018": "2018-04"}


def calendar_of(scenario_name: str) -> str | None:
    """The month ("YYYY-MM") of round 1 if the scenario plays months, else None."""
    return CALENDARS.get(scenario_name)


def _month(start: str, offset: int) -> tuple[int, int]:
    y, m = (int(p) for p in start.split("-"))
    k = y * 12 + (m - 1) + offset
    return k // 12, k % 12 + 1


@dataclass(frozen=True, eq=False)  # compared by identity: a new snapshot is a new round
class Snapshot(OneRun):
    """A frozen copy of a :class:`~sim.classroom.seats.ClassroomModel` after some round.

    Attributes:
        config, compiled, seed: the run's parameters (shared, never modified).
        state: copy of the run's state.
        history: copy of its history up to :attr:`round`.
        scenario_name: the scenario.
        player: the actor a person plays, or ``"nobody"``.
        turns: the seat's turns so far.
        events_by_round: the scheduled events by round.
        version: a counter that grows with every snapshot of a page (a memo key).
        seat_policy: the model's decision rule for the seat (``logit``, ``grit``, …).
        seat_forced: the action an event forces on the seat next round, if any.
    """

    config: object
    compiled: object
    seed: int
    state: State
    history: History
    scenario_name: str
    player: str
    turns: tuple[Turn, ...]
    events_by_round: dict
    version: int = 0
    seat_policy: str = ""
    seat_forced: int | None = None
    extra: dict = field(default_factory=dict)

    # ---- the RunView interface (narration, stage game): structure, round, outcome
    # come from OneRun
    @property
    def running(self) -> bool:
        return self.outcome == "undecided" and self.round < self.rounds

    @property
    def rounds(self) -> int:
        return int(self.structure.rounds)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.structure.names)

    @property
    def calendar(self) -> str | None:
        return calendar_of(self.scenario_name)

    @property
    def seat(self) -> str | None:
        return None if self.player == NOBODY else self.player

    def forced(self, actor: str, t: int | None = None) -> int | None:
        """The action a scheduled event forces on ``actor`` in round ``t`` (default: the next)."""
        t = self.round + 1 if t is None else t
        if not 1 <= t <= self.rounds:
            return None
        code = int(self.structure.forced[t - 1, self.names.index(actor)])
        return code if code >= 0 else None

    def decision_point(self) -> DecisionPoint:
        """The coming round as the actors face it (for the stage game)."""
        st = self.state
        return DecisionPoint.coming(
            self.compiled, st.x[0], st.trust[0], st.last[0], st.tally[0], st.types[0]
        )

    # ---- words -----------------------------------------------------------------------
    def when(self, r: int) -> str:
        """Round ``r`` in words: "round 3", or its month ("June 2018") in a monthly scenario.

        In a monthly scenario round 0 (the start) is the month before round 1.
        """
        if self.calendar is None:
            return f"round {r}"
        y, m = _month(self.calendar, r - 1)
        return f"{_calendar.month_name[m]} {y}"

    def move_date(self, r: int) -> str:
        """ISO date of round ``r``'s moves: the first day of its month (monthly scenarios)."""
        y, m = _month(self.calendar or "2000-01", r - 1)
        return f"{y:04d}-{m:02d}-01"

    def state_date(self, r: int) -> str:
        """ISO date of the state after round ``r``: the first day of the next month."""
        return self.move_date(r + 1)

    def state_label(self, r: int) -> str:
        """The state after round ``r`` in words (tooltips)."""
        if r == 0:
            return "start" if self.calendar is None else f"start ({self.when(1)})"
        return f"after {self.when(r)}"

    def clock(self) -> str:
        """Where the run stands: "Round 3 of 200" or "June 2018 (round 3 of 11)"."""
        if self.calendar is None:
            return f"Round {self.round} of {self.rounds}"
        if self.round == 0:
            return f"Before {self.when(1)} (round 0 of {self.rounds})"
        return f"{self.when(self.round)} (round {self.round} of {self.rounds})"

    def provisional(self) -> str:
        """The outcome class the run would get if the talks stopped now."""
        if self.outcome != "undecided":
            return self.outcome
        tally = self.state.tally[0]
        stalled = int(tally[T.round] - tally[T.progress_round])
        code = int(
            classify_final(
                self.state.x[0], self.compiled.initial[0], self.compiled.theta[0], stalled
            )
        )
        return Outcome(code).name.lower()

    def ending(self) -> str:
        return ending(self)

    def table_line(self) -> str:
        """What is running, in one line of words."""
        c = self.config
        seat = f" · you play {self.player}" if self.seat else ""
        if lesson_model(c) == "earlier":
            seat += " · earlier model (trust rule, no types)"
        return (
            f"{scenario_title(self.scenario_name)} · {regime_words(c.regime).lower()} · "
            f"assurance {c.assurance:.2f} · relief {c.relief:.2f} · detection "
            f"{c.detect_prob:.2f} · rationality {c.rationality:g} · {c.rounds} rounds · "
            f"seed {self.seed}{seat}"
        )

    def outcome_line(self) -> str:
        if self.outcome != "undecided":
            return f"Outcome: {outcome_words(self.outcome)}"
        return f"Outcome: {outcome_words('undecided')}"

    def log_lines(self) -> list[str]:
        """The run told in plain words, newest first (months in a monthly scenario)."""
        if self.round == 0:
            return [f"{self.clock()} — the parties sit down. Press Step or ▶ to play."]
        lines = narrate(self, max_rounds=self.rounds, color=False).splitlines()
        story, end = lines[:-1], lines[-1]
        if self.outcome != "undecided" or self.round >= self.rounds:
            story.append(end)
        if self.calendar is not None:
            story = [self._months(line) for line in story]
        return story[::-1]

    def _months(self, line: str) -> str:
        import re

        m = re.match(r"Rounds? (\d+)(?:–(\d+))? — ", line)
        if not m:
            return line
        a, b = int(m.group(1)), m.group(2)
        span = self.when(a) if b is None else f"{self.when(a)} – {self.when(int(b))}"
        return span + " — " + line[m.end() :]

    # ---- chart rows ------------------------------------------------------------------
    def state_rows(self, upto: int | None = None) -> list[dict]:
        """One row per round: the shared state in words (wide; the chart folds it)."""
        t = self.round if upto is None else min(upto, self.round)
        x = self.history.x[0, : t + 1]
        felt = felt_relief(x[:, V.relief], x[:, V.enforcement])
        cols = [x[:, V[v]] if v != "felt_relief" else felt for v in STATE_VARS]
        rows = []
        for r in range(t + 1):
            row = {"round": r, "label": self.state_label(r)}
            if self.calendar:
                row["date"] = self.state_date(r)
            for (label, _, _), col in zip(STATE_SERIES, cols):
                row[label] = round(float(col[r]), 4)
            rows.append(row)
        return rows

    def action_rows(self) -> list[dict]:
        """Moves (one row per state and round), imagery flags, events, the seat's own moves."""
        s, h, t = self.structure, self.history, self.round
        names, roles = s.names, s.roles
        by_source = {"student": "you", "model": "the model", "event": "an event"}
        turns = {turn.round: turn for turn in self.turns}
        rows: list[dict] = []
        for r in range(1, t + 1):
            base = {"round": r, "label": self.when(r)}
            if self.calendar:
                base["date"] = self.move_date(r)
            for i, name in enumerate(names):
                code = int(h.actions[0, r, i])
                if code < 0:
                    continue
                by = "the model"
                if name == self.player and r in turns:
                    by = by_source[turns[r].source]
                elif r in self.events_by_round and int(self.structure.forced[r - 1, i]) >= 0:
                    by = "an event"
                rows.append(
                    {
                        **base,
                        "kind": "move",
                        "state": name,
                        "move": ACTION_NAMES[code],
                        "what": describe_action(roles[i], code),
                        "by": by,
                    }
                )
                if by == "you":
                    rows.append({**base, "kind": "yours", "state": name, "what": "your move"})
            if h.flag[0, r]:
                rows.append(
                    {
                        **base,
                        "kind": "flag",
                        "state": names[s.target],
                        "what": "imagery flags hedging",
                    }
                )
            for ev in self.events_by_round.get(r, []):
                rows.append(
                    {**base, "kind": "event", "what": ev.label or ev.kind.replace("_", " ")}
                )
        return rows

    def trust_pairs(self) -> tuple[str, ...]:
        s = self.structure
        return tuple(f"{n} → {s.names[s.counterpart[i]]}" for i, n in enumerate(s.names))

    def trust_rows(self, upto: int | None = None) -> list[dict]:
        t = self.round if upto is None else min(upto, self.round)
        pairs = self.trust_pairs()
        tr = self.history.trust[0, : t + 1]
        rows = []
        for r in range(t + 1):
            base = {"round": r, "label": self.state_label(r)}
            if self.calendar:
                base["date"] = self.state_date(r)
            for i, who in enumerate(pairs):
                rows.append({**base, "who": who, "trust": round(float(tr[r, i]), 4)})
        return rows

    def trust_matrix(self) -> np.ndarray:
        return self.state.trust[0]

    # ---- export ----------------------------------------------------------------------
    def trajectory_csv(self) -> str:
        """Every round of the run as CSV: the shared state, each state's move and trust, flags, events."""
        s, h, t = self.structure, self.history, self.round
        out = io.StringIO()
        w = csv.writer(out)
        names = list(s.names)
        head = ["round"] + (["month"] if self.calendar else [])
        head += [v for v in STATE_VARS] + ["enforcement"]
        head += [f"{n}_move" for n in names] + [
            f"{n}_trust_in_{s.names[s.counterpart[i]]}" for i, n in enumerate(names)
        ]
        head += ["imagery_flag", "events", "scenario", "seed", "outcome"]
        w.writerow(head)
        x = h.x[0]
        for r in range(t + 1):
            felt = float(felt_relief(x[r, V.relief], x[r, V.enforcement]))
            vals = [x[r, V[v]] if v != "felt_relief" else felt for v in STATE_VARS]
            row = [r] + ([self.when(r)] if self.calendar else [])
            row += [f"{float(val):.6f}" for val in vals] + [f"{float(x[r, V.enforcement]):.6f}"]
            row += [ACTION_NAMES[int(a)] if a >= 0 else "" for a in h.actions[0, r]]
            row += [f"{float(v):.6f}" for v in h.trust[0, r]]
            evs = "; ".join(e.label or e.kind for e in self.events_by_round.get(r, []))
            row += [int(bool(h.flag[0, r])), evs, self.scenario_name, self.seed]
            row += [self.outcome if r == t else ""]
            w.writerow(row)
        return out.getvalue()

    def filename(self, what: str) -> str:
        return f"stalemate_{self.scenario_name}_seed{self.seed}_{what}"

    @property
    def agreement_bar(self) -> float:
        return float(self.compiled.theta[0, P.agreement_threshold])

    @property
    def crisis_line(self) -> float:
        return float(self.compiled.theta[0, P.breakdown_threshold])


def take(model, version: int = 0) -> Snapshot:
    """Copy what the views need from ``model`` (call it while nobody steps the model)."""
    t = model.round
    st, h = model.state, model.history
    history = History(
        h.x[:, : t + 1].copy(),
        h.actions[:, : t + 1].copy(),
        h.trust[:, : t + 1].copy(),
        h.flag[:, : t + 1].copy(),
    )
    seat = getattr(model, "seat", None)
    forced = None
    policy = ""
    if seat is not None:
        policy = seat.policy_name
        f = seat.forced_next()
        forced = None if f is None else int(f)
    return Snapshot(
        config=model.config,
        compiled=model.compiled,
        seed=model.seed,
        state=st.copy(),
        history=history,
        scenario_name=getattr(model, "scenario_name", "custom"),
        player=getattr(model, "player", NOBODY),
        turns=tuple(seat.turns) if seat is not None else (),
        events_by_round=model.events_by_round,
        version=version,
        seat_policy=policy,
        seat_forced=forced,
    )

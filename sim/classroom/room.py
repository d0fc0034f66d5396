"""The room: a whole class plays one negotiation, each student (or team) in one state's seat.

HubNet-style participatory play, without a browser: this module holds the
room's rules and its shared state; :mod:`sim.classroom.room_pages` puts them on
Solara pages (student, teacher console, projector) and ``stalemate-room``
(:mod:`sim.classroom.room_app`) serves them.

How a game goes:

1. The teacher starts ``stalemate-room``; the room gets a random **join code**
   and a secret **teacher key** (only in the teacher's URLs).
2. Students enter the code and a name (:meth:`Room.join`) and claim a state
   (:meth:`Room.claim`); several students may share a state (a team).
3. The teacher starts the talks (:meth:`Room.start`). Each round every seat
   chooses concede, hedge or escalate with a short justification
   (:meth:`Room.submit`); a team's latest choice counts.
4. The round resolves (:meth:`Room.resolve`) when every claimed seat has
   chosen, when the teacher's timer runs out, or when the teacher closes it;
   the model plays unclaimed and timed-out seats. Scheduled events still force
   their moves.
5. At the end the class's path is compared with the model's distribution from
   the same start (:func:`compare_with_model`), and the teacher exports the
   session as CSV (:meth:`Room.export_csv`).

Shared state and sessions: one :class:`Room` per server process holds
everything, under one lock; every change makes a new immutable
:class:`RoomView` with a higher ``version`` and wakes the sessions waiting in
:meth:`Room.wait` (each browser session has its own waiting thread and
redraws itself, see :func:`sim.classroom.room_views.use_room`).

Security: a student is known by the server-side Solara session, never by
anything the browser sends; a wrong code is refused (and repeated wrong codes
slow down); a participant can act only for the seat it holds; names and
justifications are cleaned (control characters removed, length-limited) and are
only ever shown as text; in the CSV a leading ``= + - @`` is neutralised so a
spreadsheet does not read a justification as a formula.

Example:
    >>> room = Room(code="ABC234", teacher_key="k", scenario="baseline_2018", rounds=3, seed=0)
    >>> ana = room.join("abc234", "Ana", session="s1")
    >>> room.claim("s1", "DPRK").actor
    'DPRK'
    >>> room.start("k")
    >>> room.submit("s1", "DPRK", "concede", "We want relief first")
    >>> room.view().round                    # every claimed seat chose: the round resolved
    1
    >>> room.view().records[0].moves["DPRK"].action.name
    'CONCEDE'
"""

from __future__ import annotations

import csv
import hmac
import io
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace

import numpy as np

from sim.classroom.seats import NOBODY, ClassroomModel, HumanSeat, private_info
from sim.classroom.snapshot import Snapshot, calendar_of, take
from sim.hydra.compose import scenario_kwargs
from sim.model.decisions import felt_relief
from sim.model.names import ACTION_NAMES, Action, Outcome, T, V

#: Join codes: letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_NAME = 24
MAX_JUSTIFICATION = 200
#: Wrong codes a session may try before it must wait.
MAX_WRONG_CODES = 5
WRONG_CODE_WAIT = 30.0
#: The teacher's timer choices (seconds per round; 0: no timer).
TIMERS = (0, 30, 60, 90, 120, 180)
DEFAULT_TIMER = 90
#: Runs of the model from the same start that the class is compared with.
COMPARISON_RUNS = 500
#: Rounds of a room game in a scenario that is not a monthly replay.
DEFAULT_ROOM_ROUNDS = 12

PHASES = ("lobby", "open", "paused", "finished")


class RoomError(Exception):
    """A refused request; the message is shown to the person who made it."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_text(text: object, limit: int, what: str, required: bool = False) -> str:
    """Text a person typed, made safe to keep and show: no control characters, single
    spaces, at most ``limit`` characters (longer is refused, not cut: the writer decides).

    Example:
        >>> clean_text("  Ana\\x00 \\n Lee ", 24, "name")
        'Ana Lee'
        >>> clean_text("x" * 30, 24, "name")
        Traceback (most recent call last):
        ...
        sim.classroom.room.RoomError: Your name is 30 characters long; keep it to 24.
    """
    if text is None:
        text = ""
    text = str(text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if required and not text:
        raise RoomError(f"Please type your {what}.")
    if len(text) > limit:
        raise RoomError(f"Your {what} is {len(text)} characters long; keep it to {limit}.")
    return text


def spreadsheet_safe(text: str) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class Participant:
    """A student in the room (known by their server-side session)."""

    session: str
    name: str
    actor: str | None = None


@dataclass(frozen=True)
class Move:
    """One seat's choice for a round."""

    actor: str
    action: Action
    justification: str
    by: str  # the name of the student who sent it


@dataclass(frozen=True)
class RoundRecord:
    """What happened in one round.

    Attributes:
        round: the round (1-based).
        moves: the class's moves, by actor (seats that chose in time).
        actions: every actor's action, by actor.
        sources: by actor: ``class``, ``model`` (unclaimed), ``timeout`` (claimed, no
            choice in time: the model played) or ``event`` (forced by a scheduled event).
        teams: by actor, the names in the seat then.
    """

    round: int
    moves: dict
    actions: dict
    sources: dict
    teams: dict


@dataclass(frozen=True)
class RoomView:
    """The room at one instant (immutable: every session reads it without locks)."""

    version: int
    phase: str
    scenario: str
    seed: int
    timer: int
    deadline: float | None
    remaining: float | None  # seconds left when paused
    snapshot: Snapshot
    participants: tuple[Participant, ...]
    submitted: dict  # actor -> Move (this round so far)
    records: tuple[RoundRecord, ...]
    revealed: bool
    comparison: dict | None
    message: str = ""

    @property
    def round(self) -> int:
        return self.snapshot.round

    @property
    def actors(self) -> tuple[str, ...]:
        return self.snapshot.names

    def team(self, actor: str) -> tuple[str, ...]:
        return tuple(p.name for p in self.participants if p.actor == actor)

    @property
    def claimed(self) -> tuple[str, ...]:
        return tuple(a for a in self.actors if self.team(a))

    @property
    def waiting_for(self) -> tuple[str, ...]:
        return tuple(a for a in self.claimed if a not in self.submitted)

    def participant(self, session: str) -> Participant | None:
        for p in self.participants:
            if p.session == session:
                return p
        return None

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.phase == "paused":
            return self.remaining
        if self.phase != "open" or self.deadline is None:
            return None
        return max(0.0, self.deadline - (time.time() if now is None else now))


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0


@dataclass(eq=False)
class Room:
    """One class's game. Thread-safe: every method takes the room's lock.

    Args:
        code: the join code (default: a random one).
        teacher_key: the secret in the teacher's URLs (default: a random one).
        scenario: the scenario to play.
        seed: the run's seed (None: a random one).
        rounds: rounds to play (None: the scenario's horizon for a monthly replay,
            else :data:`DEFAULT_ROOM_ROUNDS`).
        timer: seconds per round (0: no timer; the teacher closes rounds).
        max_team: students per seat (None: no limit).
    """

    code: str = field(default_factory=new_code)
    teacher_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    scenario: str = "replay_2018"
    seed: int | None = None
    rounds: int | None = None
    timer: int = DEFAULT_TIMER
    max_team: int | None = None

    def __post_init__(self):
        self.code = self.code.upper()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._participants: dict[str, Participant] = {}
        self._failures: dict[str, _Failures] = {}
        self._clock: threading.Thread | None = None
        self._closed = False
        self._version = 0
        with self._lock:
            self._new_game(self.scenario, self.seed, self.rounds)

    # ---- games -----------------------------------------------------------------------
    def _new_game(self, scenario: str, seed, rounds) -> None:
        kw = scenario_kwargs(scenario)
        if rounds is None:
            rounds = int(kw["rounds"]) if calendar_of(scenario) else DEFAULT_ROOM_ROUNDS
        model = ClassroomModel(scenario_name=scenario, player=NOBODY, rng=seed, rounds=int(rounds))
        self.model = model
        self.seats = {a: HumanSeat(model, a) for a in model.actor_names}
        self.scenario, self.seed, self.rounds = scenario, model.seed, int(rounds)
        self._phase = "lobby"
        self._deadline: float | None = None
        self._remaining: float | None = None
        self._submitted: dict[str, Move] = {}
        self._records: list[RoundRecord] = []
        self._revealed = False
        self._comparison: dict | None = None
        self._message = ""
        self._publish()

    def _publish(self) -> None:
        """Make a new view and wake every waiting session (call with the lock held)."""
        self._version += 1
        self._view = RoomView(
            version=self._version,
            phase=self._phase,
            scenario=self.scenario,
            seed=self.seed,
            timer=self.timer,
            deadline=self._deadline,
            remaining=self._remaining,
            snapshot=take(self.model, self._version),
            participants=tuple(self._participants.values()),
            submitted=dict(self._submitted),
            records=tuple(self._records),
            revealed=self._revealed,
            comparison=self._comparison,
            message=self._message,
        )
        self._changed.notify_all()

    def view(self) -> RoomView:
        return self._view

    def wait(self, version: int, timeout: float = 1.0) -> RoomView:
        """The view once its version passes ``version`` (or the current one after ``timeout``)."""
        with self._changed:
            if self._view.version <= version and not self._closed:
                self._changed.wait(timeout)
            return self._view

    def close(self) -> None:
        """Stop the clock and release every waiting session (server shutdown, tests)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # ---- students --------------------------------------------------------------------
    def join(self, code: str, name: str, session: str) -> Participant:
        """Enter the room with its code. Wrong codes are refused; after
        :data:`MAX_WRONG_CODES` of them a session must wait :data:`WRONG_CODE_WAIT` seconds.

        Raises:
            RoomError: a wrong code, a missing or too long name, a name already taken.
        """
        with self._lock:
            f = self._failures.setdefault(session, _Failures())
            now = time.monotonic()
            if f.until > now:
                raise RoomError(
                    f"Too many wrong codes. Wait {int(f.until - now) + 1} s and try again."
                )
            typed = re.sub(r"[\s-]+", "", str(code or "")).upper()[: CODE_LENGTH * 2]
            if not hmac.compare_digest(typed.encode(), self.code.encode()):
                f.count += 1
                if f.count >= MAX_WRONG_CODES:
                    f.count, f.until = 0, now + WRONG_CODE_WAIT
                raise RoomError("That is not this room's code. Check the code on the projector.")
            self._failures.pop(session, None)
            name = clean_text(name, MAX_NAME, "name", required=True)
            for p in self._participants.values():
                if p.session != session and p.name.casefold() == name.casefold():
                    raise RoomError(
                        f"Someone in the room is already called {name}; add an initial."
                    )
            old = self._participants.get(session)
            p = Participant(session, name, old.actor if old else None)
            self._participants[session] = p
            self._publish()
            return p

    def _participant(self, session: str) -> Participant:
        p = self._participants.get(session)
        if p is None:
            raise RoomError("Join the room first (enter the code and your name).")
        return p

    def claim(self, session: str, actor: str) -> Participant:
        """Take a seat (or join the team in it).

        Before the talks start anyone may take or change seats. Once they have
        started, a student who holds a seat keeps it (the teacher can move them),
        and a newcomer may take only a seat nobody holds.

        Raises:
            RoomError: an unknown state, a full team, or a change of seat mid-game.
        """
        with self._lock:
            p = self._participant(session)
            if actor not in self.model.actor_names:
                raise RoomError(f"There is no seat {actor!r} at this table.")
            if p.actor == actor:
                return p
            team = [q for q in self._participants.values() if q.actor == actor]
            if self._phase != "lobby":
                if p.actor is not None:
                    raise RoomError(
                        f"You sit for {p.actor}: you cannot act for {actor}. Ask the teacher to move you."
                    )
                if team:
                    raise RoomError(
                        f"The talks have started and {actor} already has a team; ask the teacher to add you."
                    )
            if self.max_team is not None and len(team) >= self.max_team:
                raise RoomError(f"{actor}'s team is full ({self.max_team}).")
            p = replace(p, actor=actor)
            self._participants[session] = p
            self._publish()
            return p

    def submit(self, session: str, actor: str, action, justification: str = "") -> None:
        """A seat's move for the open round (a team's latest move counts).

        Raises:
            RoomError: not in the room, not this seat, no open round, a bad action, a too
                long justification.
        """
        with self._lock:
            p = self._participant(session)
            if p.actor != actor:
                held = f"You sit for {p.actor}" if p.actor else "You hold no seat"
                raise RoomError(f"{held}: you cannot act for {actor}.")
            if self._phase == "paused":
                raise RoomError("The teacher has paused the talks; wait for the round to reopen.")
            if self._phase != "open":
                raise RoomError("No round is open right now.")
            if isinstance(action, str):
                names = {n: Action(i) for i, n in enumerate(ACTION_NAMES)}
                if action.lower() not in names:
                    raise RoomError("Choose concede, hedge or escalate.")
                action = names[action.lower()]
            action = Action(int(action))
            text = clean_text(justification, MAX_JUSTIFICATION, "justification")
            self._submitted[actor] = Move(actor, action, text, p.name)
            if all(a in self._submitted for a in self._claimed()):
                self._resolve()
            else:
                self._publish()

    def private_info(self, session: str) -> dict[str, str]:
        """What the student's own seat knows privately (nothing if they hold no seat)."""
        with self._lock:
            p = self._participants.get(session)
            if p is None or p.actor is None:
                return {}
            return private_info(self.model, p.actor)

    def all_private_info(self) -> dict[str, dict[str, str]]:
        """Every seat's private information (the projector, once the teacher reveals types)."""
        with self._lock:
            if not self._revealed:
                return {}
            return {a: private_info(self.model, a) for a in self.model.actor_names}

    # ---- the teacher -----------------------------------------------------------------
    def is_teacher(self, key: str | None) -> bool:
        return bool(key) and hmac.compare_digest(str(key).encode(), self.teacher_key.encode())

    def _teacher(self, key: str) -> None:
        if not self.is_teacher(key):
            raise RoomError("Only the teacher can do that.")

    def start(self, key: str) -> None:
        """Open round 1 (from the lobby)."""
        with self._lock:
            self._teacher(key)
            if self._phase != "lobby":
                raise RoomError("The talks have already started.")
            self._open_round()
            self._start_clock()

    def pause(self, key: str) -> None:
        """Freeze the open round (its timer stops; no moves are taken)."""
        with self._lock:
            self._teacher(key)
            if self._phase != "open":
                raise RoomError("No round is open.")
            self._remaining = (
                None if self._deadline is None else max(0.0, self._deadline - time.time())
            )
            self._deadline = None
            self._phase = "paused"
            self._publish()

    def resume(self, key: str) -> None:
        with self._lock:
            self._teacher(key)
            if self._phase != "paused":
                raise RoomError("The talks are not paused.")
            self._phase = "open"
            self._deadline = None if self._remaining is None else time.time() + self._remaining
            self._remaining = None
            self._publish()

    def advance(self, key: str) -> None:
        """Close the round now: the model plays every seat that has not chosen."""
        with self._lock:
            self._teacher(key)
            if self._phase == "lobby":
                self._open_round()
                self._start_clock()
                return
            if self._phase not in ("open", "paused"):
                raise RoomError("The talks are over.")
            self._resolve()

    def reset(
        self, key: str, scenario: str | None = None, seed=None, rounds=None, timer=None
    ) -> None:
        """A new game (participants keep their seats); back to the lobby."""
        with self._lock:
            self._teacher(key)
            if timer is not None:
                self.set_timer(key, timer)
            self._new_game(scenario or self.scenario, seed, rounds)

    def set_timer(self, key: str, seconds: int) -> None:
        with self._lock:
            self._teacher(key)
            seconds = int(seconds)
            if seconds < 0 or seconds > 3600:
                raise RoomError("The timer must be between 0 (none) and 3600 seconds.")
            self.timer = seconds
            if self._phase == "open":
                self._deadline = time.time() + seconds if seconds else None
            self._publish()

    def reveal(self, key: str, on: bool = True) -> None:
        """Show every seat's private information on the projector (or hide it again)."""
        with self._lock:
            self._teacher(key)
            self._revealed = bool(on)
            self._publish()

    def seat(self, key: str, name: str, actor: str | None) -> None:
        """Move a student (by name) to another seat, or out of their seat (``None``)."""
        with self._lock:
            self._teacher(key)
            if actor is not None and actor not in self.model.actor_names:
                raise RoomError(f"There is no seat {actor!r}.")
            for s, p in self._participants.items():
                if p.name == name:
                    self._participants[s] = replace(p, actor=actor)
                    self._publish()
                    return
            raise RoomError(f"Nobody called {name} is in the room.")

    # ---- rounds ----------------------------------------------------------------------
    def _claimed(self) -> list[str]:
        return [
            a
            for a in self.model.actor_names
            if any(p.actor == a for p in self._participants.values())
        ]

    def _open_round(self) -> None:
        self._phase = "open"
        self._submitted = {}
        self._deadline = time.time() + self.timer if self.timer else None
        self._remaining = None
        self._publish()

    def _resolve(self) -> None:
        """Play the round: the class's moves where given, the model elsewhere."""
        m = self.model
        claimed = self._claimed()
        teams = {
            a: tuple(p.name for p in self._participants.values() if p.actor == a) for a in claimed
        }
        for actor, seat in self.seats.items():
            move = self._submitted.get(actor)
            seat.choice = move.action if move is not None else None
        t = m.round + 1
        m.step()
        actions, sources = {}, {}
        for actor, seat in self.seats.items():
            turn = seat.turns[-1]
            actions[actor] = turn.played
            if turn.source == "event":
                sources[actor] = "event"
            elif turn.source == "student":
                sources[actor] = "class"
            else:
                sources[actor] = "timeout" if actor in claimed else "model"
        self._records.append(RoundRecord(t, dict(self._submitted), actions, sources, teams))
        if m.running:
            self._open_round()
        else:
            self._phase = "finished"
            self._deadline = None
            self._submitted = {}
            self._publish()
            self._comparison = compare_with_model(m, COMPARISON_RUNS)
            self._publish()

    def tick(self, now: float | None = None) -> bool:
        """Resolve the open round if its timer ran out. Returns whether it did."""
        with self._lock:
            if self._phase == "open" and self._deadline is not None:
                if (time.time() if now is None else now) >= self._deadline:
                    self._resolve()
                    return True
            return False

    def _start_clock(self) -> None:
        if self._clock is not None and self._clock.is_alive():
            return

        def run():
            while not self._closed:
                try:
                    self.tick()
                except Exception:  # pragma: no cover - the clock never dies
                    import traceback

                    traceback.print_exc()
                time.sleep(0.2)

        self._clock = threading.Thread(target=run, name="room-clock", daemon=True)
        self._clock.start()

    # ---- export ----------------------------------------------------------------------
    def export_csv(self, key: str) -> str:
        """The session as CSV: one row per round and state — the move, who chose it and why,
        and the shared state after the round."""
        with self._lock:
            self._teacher(key)
            view = self._view
        snap = view.snapshot
        h = snap.history
        s = snap.structure
        out = io.StringIO()
        w = csv.writer(out)
        head = ["round"] + (["month"] if snap.calendar else [])
        head += ["state", "team", "move", "chosen_by", "source", "justification"]
        head += ["assurance", "relief", "felt_relief", "denuclearization", "undeclared", "tension"]
        head += ["trust_in_counterpart", "imagery_flag", "events", "scenario", "seed", "outcome"]
        w.writerow(head)
        for rec in view.records:
            r = rec.round
            x = h.x[0, r]
            felt = float(felt_relief(x[V.relief], x[V.enforcement]))
            state = [
                x[V.assurance],
                x[V.relief],
                felt,
                x[V.denuclearization],
                x[V.undeclared],
                x[V.tension],
            ]
            events = "; ".join(e.label or e.kind for e in snap.events_by_round.get(r, []))
            for i, actor in enumerate(s.names):
                move = rec.moves.get(actor)
                row = [r] + ([snap.when(r)] if snap.calendar else [])
                row += [
                    actor,
                    spreadsheet_safe("; ".join(rec.teams.get(actor, ()))),
                    ACTION_NAMES[int(rec.actions[actor])],
                    spreadsheet_safe(move.by) if move else "",
                    rec.sources[actor],
                    spreadsheet_safe(move.justification) if move else "",
                ]
                row += [f"{float(v):.6f}" for v in state]
                row += [f"{float(h.trust[0, r, i]):.6f}", int(bool(h.flag[0, r])), events]
                row += [
                    view.scenario,
                    view.seed,
                    snap.outcome
                    if r == snap.round and (snap.outcome != "undecided" or r >= snap.rounds)
                    else "",
                ]
                w.writerow(row)
        return out.getvalue()


# --------------------------------------------------------------------------------------
# The class against the model


#: The series compared at the end: (chart label, variable).
COMPARED = (
    ("Security assurance", "assurance"),
    ("Relief felt", "felt_relief"),
    ("Verified denuclearization", "denuclearization"),
    ("Undeclared capability", "undeclared"),
    ("Tension", "tension"),
)


def compare_with_model(model: ClassroomModel, runs: int = COMPARISON_RUNS) -> dict:
    """The class's path against ``runs`` model runs from the same start (same parameters,
    seeds ``seed .. seed + runs - 1``; the model plays every seat).

    Returns:
        ``outcomes`` (share of model runs per outcome), ``class_outcome``,
        ``same_outcome`` (share of model runs that ended like the class),
        ``bands`` (per series: per round 10th, 50th, 90th percentiles), ``class_path``,
        ``final`` (per series: the class's final value and the share of model runs
        below it), ``concede`` (per actor: the class's concessions and the model's mean
        and 10–90% range), ``runs``.
    """
    from sim.engines.batch import simulate
    from sim.model.compile import compile_configs

    cfg = model.config
    n = int(runs)
    seeds = (np.arange(n, dtype=np.int64) + int(model.seed)) % (2**62)
    c = compile_configs([cfg] * n)
    state, hist = simulate(c, seeds, record=True, threads=1)
    played = state.tally[:, T.round]
    T_max = int(model.round)
    x = hist.x[:, : T_max + 1].copy()
    # a run that ended keeps its final state (the class's chart runs to the class's end)
    for k in range(n):
        e = int(played[k])
        if e < T_max:
            x[k, e + 1 :] = x[k, e]
    felt = felt_relief(x[..., V.relief], x[..., V.enforcement])
    cx = model.history.x[0, : T_max + 1]
    cfelt = felt_relief(cx[:, V.relief], cx[:, V.enforcement])
    bands, class_path, final = {}, {}, {}
    for label, var in COMPARED:
        m = felt if var == "felt_relief" else x[..., V[var]]
        cls = cfelt if var == "felt_relief" else cx[:, V[var]]
        lo, mid, hi = np.nanpercentile(m, [10, 50, 90], axis=0)
        bands[label] = (lo.tolist(), mid.tolist(), hi.tolist())
        class_path[label] = [float(v) for v in cls]
        last = m[:, -1]
        final[label] = (float(cls[-1]), float(np.mean(last < cls[-1] - 1e-9)))
    names = list(model.actor_names)
    outcomes = {}
    for o in Outcome:  # undecided included: a run still moving at the game's last round
        outcomes[o.name.lower()] = float(np.mean(state.tally[:, T.outcome] == o))
    concede = {}
    for i, a in enumerate(names):
        counts = state.counts[:, i, Action.CONCEDE]
        mine = int(np.sum(model.history.actions[0, 1 : T_max + 1, i] == Action.CONCEDE))
        lo, hi = np.percentile(counts, [10, 90])
        concede[a] = (mine, float(counts.mean()), float(lo), float(hi))
    cls_outcome = model.outcome
    return {
        "runs": n,
        "rounds": T_max,
        "outcomes": outcomes,
        "class_outcome": cls_outcome,
        "same_outcome": outcomes.get(cls_outcome, 0.0),
        "bands": bands,
        "class_path": class_path,
        "final": final,
        "concede": concede,
    }

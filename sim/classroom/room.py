"""The room: a whole class plays one negotiation, each student (or team) in one state's seat.

HubNet-style participatory play, without a browser: this module holds the
room's rules and its shared state; ``stalemate-room`` (:mod:`sim.classroom.room_app`)
serves them: a thin page per student seat (:mod:`sim.classroom.room_student`), and
Solara pages for the teacher's console and the projector.

How a game goes:

1. The teacher starts ``stalemate-room``; the room gets a random **join code**, a
   secret **teacher key** (only in the console's URL) and a **projector key** (the
   projector's URL: it shows, it cannot act).
2. Students enter the code and a name (:meth:`Room.join`) and claim a state
   (:meth:`Room.claim`); several students may share a state (a team). Each gets a
   **seat code**: with it, their name and the join code they take their seat back
   on another device (the old one is let go).
3. The teacher starts the talks (:meth:`Room.start`). Each round every seat
   chooses concede, hedge or escalate with a short reason (:meth:`Room.submit`).
   **Every move names the round it was meant for**: a move for a round that has
   closed is refused (with a message for the student), never counted for the next.
   A team's latest move counts; every send is kept, exactly as typed.
4. The round resolves (:meth:`Room.resolve`) when every claimed seat has chosen,
   when the teacher's timer runs out, or when the teacher closes it; the model
   plays unclaimed and timed-out seats. Scheduled events still force their moves.
   Closing names the round too, so a double click or two consoles close one round.
5. At the end the class's path is compared with the model's distribution from
   the same start (:func:`compare_with_model`). The teacher exports the session
   as CSV: the rounds (:meth:`Room.export_csv`) and every send with its team,
   seat, month and time (:meth:`Room.export_sends_csv`). A new game
   (:meth:`Room.reset`) keeps the exports of the games before it.

Shared state and sessions: one :class:`Room` per server process holds
everything, under one lock; every change makes a new immutable
:class:`RoomView` with a higher ``version``, wakes the sessions waiting in
:meth:`Room.wait` and calls the subscribers (:meth:`Room.subscribe`: the
students' connections).

Security: a student is known by a server-side session (an ``HttpOnly`` cookie),
never by anything the browser sends; a wrong join or seat code is refused (and
repeated wrong codes slow down); a participant can act only for the seat it
holds; names are cleaned and reasons kept as typed, both length-limited and only
ever shown as text; in the CSV a leading ``= + - @`` is neutralised so a
spreadsheet does not read a reason as a formula.

Example:
    >>> room = Room(code="ABC234", teacher_key="k", scenario="baseline_2018", rounds=3, seed=0)
    >>> ana = room.join("abc234", "Ana", session="s1")
    >>> room.claim("s1", "DPRK").actor
    'DPRK'
    >>> room.start("k")
    >>> room.submit("s1", "DPRK", "concede", "We want relief first", round=1)
    >>> room.view().round                    # every claimed seat chose: the round resolved
    1
    >>> room.view().records[0].moves["DPRK"].action.name
    'CONCEDE'
    >>> room.submit("s1", "DPRK", "hedge", "Too late?", round=1)
    Traceback (most recent call last):
    ...
    sim.classroom.room.RoomError: Round 1 closed before your move arrived: it was not counted. Choose again for round 2.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from sim.classroom.room_export import rounds_csv, sends_csv
from sim.classroom.seats import NOBODY, ClassroomModel, HumanSeat, private_info
from sim.classroom.serve import (  # (a light module: the command reads them too)
    CODE_ALPHABET,  # noqa: F401 - the room's join codes, kept importable from here
    CODE_LENGTH,
    DEFAULT_TIMER,
    new_code,
)
from sim.classroom.snapshot import Snapshot, calendar_of, take
from sim.hydra.compose import scenario_kwargs
from sim.model.decisions import felt_relief
from sim.model.names import ACTION_NAMES, Action, Outcome, T, V, var_spec

#: A student's seat code (to take their seat back on another device).
SEAT_CODE_LENGTH = 4
MAX_NAME = 24
MAX_JUSTIFICATION = 200
#: Wrong codes (join or seat) a session may try before it must wait.
MAX_WRONG_CODES = 5
WRONG_CODE_WAIT = 30.0
#: The teacher's timer choices (seconds per round; 0: no timer).
TIMERS = (0, 30, 60, 90, 120, 180)
#: Runs of the model from the same start that the class is compared with.
COMPARISON_RUNS = 500
#: Rounds of a room game in a scenario that is not a monthly replay.
DEFAULT_ROOM_ROUNDS = 12
#: Students in a room, and sends kept per game (far above a class; a bound on memory).
MAX_PARTICIPANTS = 200
MAX_SENDS = 50_000

PHASES = ("lobby", "open", "paused", "finished")


class RoomError(Exception):
    """A refused request; the message is shown to the person who made it."""


def clean_text(text: object, limit: int, what: str, required: bool = False) -> str:
    """A name typed by a person, made safe to keep and show: no control characters, single
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


def kept_text(text: object, limit: int, what: str) -> str:
    """A reason exactly as typed (spaces, line breaks and all); only control characters
    other than tab and line break are dropped. Longer than ``limit`` is refused.

    Example:
        >>> kept_text("  two  spaces\\nand a line ", 200, "reason")
        '  two  spaces\\nand a line '
        >>> kept_text("a\\x00b", 200, "reason")
        'ab'
    """
    text = "" if text is None else str(text)
    text = "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch)[0] != "C")
    if len(text) > limit:
        raise RoomError(f"Your {what} is {len(text)} characters long; keep it to {limit}.")
    return text


@dataclass(frozen=True)
class Participant:
    """A student in the room (known by their server-side session).

    Attributes:
        session: the server-side session (the cookie), never shown.
        name: as the class sees it.
        actor: the seat held, or None.
        seat_code: shown to the student only: with it they take their seat back on
            another device.
    """

    session: str
    name: str
    actor: str | None = None
    seat_code: str = field(default_factory=lambda: new_code(SEAT_CODE_LENGTH), repr=False)


@dataclass(frozen=True)
class Move:
    """One seat's choice for a round (its team's latest send)."""

    actor: str
    action: Action
    justification: str
    by: str  # the name of the student who sent it
    round: int = 0
    at: float = 0.0  # time.time() when the server took it


@dataclass(frozen=True)
class Send:
    """One send by one student, kept whatever became of it (the sends export).

    Attributes:
        round: the round it was meant for; ``open``: the round open when it arrived.
        status: ``taken`` (it was the team's move then) or ``refused: …`` (why).
    """

    game: int
    round: int
    open: int
    actor: str
    team: tuple[str, ...]
    by: str
    action: Action
    justification: str
    at: float
    status: str


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
        closed_by: what closed it: ``moves`` (every claimed seat chose), ``timer`` or
            ``teacher``.
    """

    round: int
    moves: dict
    actions: dict
    sources: dict
    teams: dict
    closed_by: str = "moves"


@dataclass(frozen=True)
class Archive:
    """A game the teacher replaced by a new one: its exports, as they were."""

    game: int
    label: str
    rounds_csv: str
    sends_csv: str


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
    game: int = 1
    sends: int = 0  # sends kept this game
    archives: tuple[tuple[int, str], ...] = ()  # earlier games: (game, label)

    @property
    def round(self) -> int:
        return self.snapshot.round

    @property
    def open_round(self) -> int | None:
        """The round moves are taken for now (None in the lobby and after the end)."""
        return self.snapshot.round + 1 if self.phase in ("open", "paused") else None

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
        """Claimed seats that have not chosen in the open round (none outside a round)."""
        if self.phase not in ("open", "paused"):
            return ()
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


def _action(action) -> Action:
    if isinstance(action, str):
        names = {n: Action(i) for i, n in enumerate(ACTION_NAMES)}
        if action.lower() not in names:
            raise RoomError("Choose concede, hedge or escalate.")
        return names[action.lower()]
    try:
        return Action(int(action))
    except (TypeError, ValueError):
        raise RoomError("Choose concede, hedge or escalate.") from None


@dataclass(eq=False)
class Room:
    """One class's game. Thread-safe: every method takes the room's lock.

    Args:
        code: the join code (default: a random one).
        teacher_key: the secret in the teacher's URLs (default: a random one).
        projector_key: the secret in the projector's URL (default: a random one); it
            opens the projector view only.
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
    projector_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def __post_init__(self):
        self.code = self.code.upper()
        if hmac.compare_digest(self.projector_key.encode(), self.teacher_key.encode()):
            raise ValueError("the projector's key must differ from the teacher's")
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._participants: dict[str, Participant] = {}
        self._failures: dict[str, _Failures] = {}
        self._let_go: dict[str, str] = {}  # session -> why it no longer holds a place
        self._subscribers: list[Callable[[], None]] = []
        self._archives: list[Archive] = []
        self._clock: threading.Thread | None = None
        self._closed = False
        self._version = 0
        self._game = 0
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
        self._game += 1
        self._phase = "lobby"
        self._deadline: float | None = None
        self._remaining: float | None = None
        self._submitted: dict[str, Move] = {}
        self._records: list[RoundRecord] = []
        self._sends: list[Send] = []
        self._revealed = False
        self._comparison: dict | None = None
        self._message = ""
        self._snap = take(model, self._version + 1)
        self._publish()

    def _publish(self) -> None:
        """Make a new view, wake every waiting session and call the subscribers (call with
        the lock held). The snapshot is taken again only when the model has moved."""
        self._version += 1
        if self._snap.round != self.model.round:
            self._snap = take(self.model, self._version)
        self._view = RoomView(
            version=self._version,
            phase=self._phase,
            scenario=self.scenario,
            seed=self.seed,
            timer=self.timer,
            deadline=self._deadline,
            remaining=self._remaining,
            snapshot=self._snap,
            participants=tuple(self._participants.values()),
            submitted=dict(self._submitted),
            records=tuple(self._records),
            revealed=self._revealed,
            comparison=self._comparison,
            message=self._message,
            game=self._game,
            sends=len(self._sends),
            archives=tuple((a.game, a.label) for a in self._archives),
        )
        self._changed.notify_all()
        for callback in list(self._subscribers):
            try:
                callback()
            except Exception:  # pragma: no cover - a broken listener never stops the room
                import traceback

                traceback.print_exc()

    def view(self) -> RoomView:
        return self._view

    def wait(self, version: int, timeout: float = 1.0) -> RoomView:
        """The view once its version passes ``version`` (or the current one after ``timeout``)."""
        with self._changed:
            if self._view.version <= version and not self._closed:
                self._changed.wait(timeout)
            return self._view

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every change (with the room's lock held: it must only
        schedule work, e.g. ``loop.call_soon_threadsafe``). Returns the unsubscribe call."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe():
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def close(self) -> None:
        """Stop the clock and release every waiting session (server shutdown, tests)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # ---- students --------------------------------------------------------------------
    def _check_failures(self, session: str) -> _Failures:
        f = self._failures.setdefault(session, _Failures())
        now = time.monotonic()
        if f.until > now:
            raise RoomError(f"Too many wrong codes. Wait {int(f.until - now) + 1} s and try again.")
        return f

    def _failed(self, f: _Failures) -> None:
        f.count += 1
        if f.count >= MAX_WRONG_CODES:
            f.count, f.until = 0, time.monotonic() + WRONG_CODE_WAIT

    def join(self, code: str, name: str, session: str, seat_code: str | None = None) -> Participant:
        """Enter the room with its code. Wrong codes are refused; after
        :data:`MAX_WRONG_CODES` of them a session must wait :data:`WRONG_CODE_WAIT` seconds.

        A name already in the room is refused, unless ``seat_code`` is that student's
        seat code: then this session takes their place (and seat), and the session that
        held it is let go (:meth:`let_go`).

        Raises:
            RoomError: a wrong code, a missing or too long name, a name already taken.
        """
        with self._lock:
            f = self._check_failures(session)
            typed = re.sub(r"[\s-]+", "", str(code or "")).upper()[: CODE_LENGTH * 2]
            if not hmac.compare_digest(typed.encode(), self.code.encode()):
                self._failed(f)
                raise RoomError("That is not this room's code. Check the code on the projector.")
            name = clean_text(name, MAX_NAME, "name", required=True)
            for other, p in self._participants.items():
                if other == session or p.name.casefold() != name.casefold():
                    continue
                given = re.sub(r"[\s-]+", "", str(seat_code or "")).upper()[:16]
                if not given:
                    raise RoomError(
                        f"Someone in the room is already called {p.name}. If that is you on "
                        "another device, type your seat code too; if not, add an initial."
                    )
                if not hmac.compare_digest(given.encode(), p.seat_code.encode()):
                    self._failed(f)
                    raise RoomError(f"That is not {p.name}'s seat code.")
                del self._participants[other]
                self._let_go[other] = (
                    f"You ({p.name}) took your seat on another device; this page has let it go."
                )
                moved = replace(p, session=session)
                self._participants.pop(session, None)
                self._participants[session] = moved
                self._failures.pop(session, None)
                self._publish()
                return moved
            self._failures.pop(session, None)
            old = self._participants.get(session)
            if old is None and len(self._participants) >= MAX_PARTICIPANTS:
                raise RoomError(f"The room is full ({MAX_PARTICIPANTS} students).")
            p = (
                replace(old, name=name)
                if old
                else Participant(session, name, None, new_code(SEAT_CODE_LENGTH))
            )
            self._participants[session] = p
            self._let_go.pop(session, None)
            self._publish()
            return p

    def let_go(self, session: str) -> str | None:
        """Why ``session`` no longer holds a place (its student moved to another device), or None."""
        return self._let_go.get(session)

    def _participant(self, session: str) -> Participant:
        p = self._participants.get(session)
        if p is None:
            raise RoomError(
                self._let_go.get(session) or "Join the room first (enter the code and your name)."
            )
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
                raise RoomError(f"There is no seat {str(actor)[:20]!r} at this table.")
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

    def _when(self, r: int) -> str:
        w = self._snap.when(r)
        return w[:1].upper() + w[1:]

    def submit(self, session: str, actor: str, action, justification: str = "", *, round) -> None:
        """A seat's move for round ``round`` (a team's latest move counts).

        Every send that reaches a seat is kept (:meth:`export_sends_csv`), also a
        refused one: a move for a round that has closed is refused, never counted
        for the next round.

        Raises:
            RoomError: not in the room, not this seat, not the open round (closed, or
                paused), a bad action, a too long reason.
        """
        with self._lock:
            p = self._participant(session)
            if p.actor != actor:
                held = f"You sit for {p.actor}" if p.actor else "You hold no seat"
                raise RoomError(f"{held}: you cannot act for {str(actor)[:20]}.")
            action = _action(action)
            text = kept_text(justification, MAX_JUSTIFICATION, "reason")
            try:
                meant = int(round)
            except (TypeError, ValueError):
                meant = -1
            if not 0 <= meant <= 100_000:
                raise RoomError("This move names no round; reload the page.")
            open_ = self.model.round + 1
            refusal = None
            if self._phase in ("lobby", "finished"):
                refusal = (
                    "The talks have not started yet."
                    if self._phase == "lobby"
                    else "The talks are over: no round is open."
                )
            elif meant < open_:
                refusal = (
                    f"{self._when(meant)} closed before your move arrived: it was not counted. "
                    f"Choose again for {self._snap.when(open_)}."
                )
            elif meant > open_:
                refusal = f"{self._when(meant)} is not open yet; reload the page."
            elif self._phase == "paused":
                refusal = "The teacher has paused the talks; send again when the round reopens."
            now = time.time()
            team = tuple(q.name for q in self._participants.values() if q.actor == actor)
            if len(self._sends) < MAX_SENDS:
                self._sends.append(
                    Send(
                        self._game,
                        meant,
                        open_ if self._phase in ("open", "paused") else 0,
                        actor,
                        team,
                        p.name,
                        action,
                        text,
                        now,
                        "taken" if refusal is None else "refused: " + refusal,
                    )
                )
            if refusal is not None:
                raise RoomError(refusal)
            self._submitted[actor] = Move(actor, action, text, p.name, meant, now)
            if all(a in self._submitted for a in self._claimed()):
                self._resolve("moves")
            else:
                self._publish()

    def private_info(self, session: str) -> dict[str, str]:
        """What the student's own seat knows privately (nothing if they hold no seat)."""
        with self._lock:
            p = self._participants.get(session)
            if p is None or p.actor is None:
                return {}
            return private_info(self.model, p.actor)

    def seat_info(self, actor: str) -> dict[str, str]:
        """What ``actor``'s seat knows privately (for that seat's students only)."""
        with self._lock:
            return private_info(self.model, actor)

    def all_private_info(self) -> dict[str, dict[str, str]]:
        """Every seat's private information (the projector, once the teacher reveals types)."""
        with self._lock:
            if not self._revealed:
                return {}
            return {a: private_info(self.model, a) for a in self.model.actor_names}

    # ---- the teacher -----------------------------------------------------------------
    def is_teacher(self, key: str | None) -> bool:
        return bool(key) and hmac.compare_digest(str(key).encode(), self.teacher_key.encode())

    def is_projector(self, key: str | None) -> bool:
        """The projector's key (it shows the room; it cannot act)."""
        return bool(key) and hmac.compare_digest(str(key).encode(), self.projector_key.encode())

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

    def advance(self, key: str, round: int | None = None) -> None:
        """Close round ``round`` now: the model plays every seat that has not chosen.

        ``round`` is the round the console showed when the teacher clicked: a second
        click, or another console, that names a round already closed changes nothing
        (:class:`RoomError` says so). None closes whatever round is open.
        """
        with self._lock:
            self._teacher(key)
            if self._phase == "lobby":
                raise RoomError("The talks have not started: press Start the talks.")
            open_ = self.model.round + 1
            if round is not None and int(round) != open_ and self._phase != "finished":
                raise RoomError(f"{self._when(int(round))} was already closed.")
            if self._phase not in ("open", "paused"):
                raise RoomError("The talks are over.")
            self._resolve("teacher")

    def reset(
        self,
        key: str,
        scenario: str | None = None,
        seed=None,
        rounds=None,
        timer=None,
        *,
        game: int | None = None,
    ) -> None:
        """A new game (participants keep their seats); back to the lobby.

        The game it replaces stays available for export (:meth:`archive`). ``game``
        is the game the console showed: if another console has already started a new
        game, nothing happens (:class:`RoomError` says so).
        """
        with self._lock:
            self._teacher(key)
            if game is not None and int(game) != self._game:
                raise RoomError("Another console has already started a new game.")
            if timer is not None:
                self.set_timer(key, timer)
            if self._records or self._sends:
                self._archives.append(
                    Archive(
                        self._game,
                        self._game_label(),
                        rounds_csv(self._view),
                        sends_csv(self._view, self._sends),
                    )
                )
            self._new_game(scenario or self.scenario, seed, rounds)

    def _game_label(self) -> str:
        from sim.classroom.words import outcome_words, scenario_title

        snap = self._snap
        played = f"{snap.round} of {snap.rounds} rounds"
        end = (
            f", {outcome_words(snap.outcome)}"
            if self._phase == "finished"
            else ", stopped by a new game"
        )
        return (
            f"Game {self._game}: {scenario_title(self.scenario)}, seed {self.seed}, {played}{end}"
        )

    def archive(self, key: str, game: int) -> Archive:
        """An earlier game's exports (the teacher's)."""
        with self._lock:
            self._teacher(key)
            for a in self._archives:
                if a.game == int(game):
                    return a
            raise RoomError(f"There is no earlier game {game}.")

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

    def resolve(self) -> None:
        """Close the open round now (the teacher's :meth:`advance` without a key check)."""
        with self._lock:
            if self._phase in ("open", "paused"):
                self._resolve("teacher")

    def _resolve(self, closed_by: str) -> None:
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
        self._records.append(
            RoundRecord(t, dict(self._submitted), actions, sources, teams, closed_by)
        )
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
                    self._resolve("timer")
                    return True
            return False

    def _start_clock(self) -> None:
        """The timer's thread: it sleeps until the open round's deadline or the next change
        (no polling: an idle room costs nothing)."""
        if self._clock is not None and self._clock.is_alive():
            return

        def run():
            with self._changed:
                while not self._closed:
                    try:
                        self.tick()
                    except Exception:  # pragma: no cover - the clock never dies
                        import traceback

                        traceback.print_exc()
                    deadline = self._deadline if self._phase == "open" else None
                    wait = None if deadline is None else max(0.01, deadline - time.time())
                    self._changed.wait(wait)

        self._clock = threading.Thread(target=run, name="room-clock", daemon=True)
        self._clock.start()

    # ---- export ----------------------------------------------------------------------
    def export_csv(self, key: str) -> str:
        """The session as CSV: one row per round and state — the move, who chose it and why
        (the team's latest send), and the shared state after the round."""
        with self._lock:
            self._teacher(key)
            return rounds_csv(self._view)

    def export_sends_csv(self, key: str) -> str:
        """Every send of this game as CSV, exactly as typed: one row per send, with its
        round and month, seat (state), team, student, time, and what became of it."""
        with self._lock:
            self._teacher(key)
            return sends_csv(self._view, self._sends)


# --------------------------------------------------------------------------------------
# The class against the model


#: The series compared at the end: (chart label, variable), labels from the variables' rows.
COMPARED = tuple(
    (var_spec(v).label, v)
    for v in ("assurance", "felt_relief", "denuclearization", "undeclared", "tension")
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

"""The room on the web: students' pages, the teacher's console and the projector view.

``stalemate-room`` serves three pages from one Solara server:

- ``/`` — a student's page: enter the join code and a name, claim a state (or
  join its team), then each round choose concede, hedge or escalate with a short
  justification. Only this seat's private information is shown here.
- ``/teacher?key=…`` — the teacher's console: start, pause, resume, close the
  round now, a new game, the timer, reveal types, move a student, export the
  session as CSV.
- ``/projector?key=…`` — the projector view: the join code, the clock, who has
  moved, the shared charts and the event log, each round's moves with their
  justifications, and at the end the class against the model.

State: the :class:`~sim.classroom.room.Room` is one Python object shared by
every session of the server process (Solara keeps reactive variables per
browser session, so a shared game lives outside them). Each session keeps its
own view of the room in a Solara state variable and a thread that waits for the
room to change (:func:`use_room`); so each browser redraws in its own thread,
and a change made by one student never runs another student's rendering.

Who is who: a student is known by the Solara session (a cookie the server
sets), never by anything typed or sent by the page; the teacher by the secret
key in the console's URL.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
from urllib.parse import parse_qs

import solara

from sim.classroom.charts import Chart, Opaque, fan_spec
from sim.classroom.page import check_assets, solara_command, solara_env
from sim.classroom.room import (
    DEFAULT_TIMER,
    MAX_JUSTIFICATION,
    MAX_NAME,
    TIMERS,
    Room,
    RoomError,
    RoomView,
    new_code,
)
from sim.classroom.seats import ROLE_TITLES
from sim.classroom.ui import CSS, EventLog, MovesChart, StateChart, Tip, TrustCard, escape
from sim.classroom.words import ACTION_TITLES, TIPS, outcome_words, scenario_title
from sim.hydra.compose import scenario_names
from sim.model.names import ACTION_NAMES, Action

HOST, PORT = "127.0.0.1", 8766
TITLE = "Stalemate — the class at the table"
MOVE_COLORS = {"concede": "#2a9d8f", "hedge": "#e9c46a", "escalate": "#e76f51"}
ROOM_CSS = """
.sm-room { max-width: 1366px; margin: 0 auto; padding: 8px 14px; }
.sm-code { font-size: 44px; font-weight: 800; letter-spacing: .12em; font-family: monospace; color: #1d3557; }
.sm-code-small { font-size: 22px; font-weight: 800; letter-spacing: .1em; font-family: monospace; }
.sm-url { font-size: 20px; font-family: monospace; }
.sm-seat-row { display: flex; flex-wrap: wrap; gap: 10px; }
.sm-seat { border: 1px solid #c5ced9; border-radius: 8px; padding: 8px 10px; min-width: 200px; flex: 1; background: white; }
.sm-seat h3 { font-size: 18px; margin: 0 0 2px 0; }
.sm-moved { color: #1b7f3b; font-weight: 700; }
.sm-waiting { color: #8a5300; font-weight: 700; }
.sm-private { border: 2px solid #6a4c93; border-radius: 8px; padding: 8px 10px; background: #f6f2fb; }
.sm-private dt { font-weight: 700; margin-top: 4px; }
.sm-private dd { margin: 0 0 2px 0; }
.sm-countdown { font-size: 22px; font-weight: 700; color: #b00020; }
.sm-moves-table { border-collapse: collapse; width: 100%; font-size: 15px; }
.sm-moves-table th, .sm-moves-table td { border-bottom: 1px solid #dde3ea; padding: 4px 6px; text-align: left; vertical-align: top; }
"""

_room: Room | None = None
_room_lock = threading.Lock()


def room_from_env() -> Room:
    """The server's one room, made at first use from ``stalemate-room``'s settings."""
    global _room
    with _room_lock:
        if _room is None:
            env = os.environ
            seed = env.get("STALEMATE_ROOM_SEED") or None
            rounds = env.get("STALEMATE_ROOM_ROUNDS") or None
            team = env.get("STALEMATE_ROOM_MAX_TEAM") or None
            _room = Room(
                code=env.get("STALEMATE_ROOM_CODE") or new_code(),
                teacher_key=env.get("STALEMATE_ROOM_KEY") or secrets.token_urlsafe(16),
                scenario=env.get("STALEMATE_ROOM_SCENARIO") or "replay_2018",
                seed=int(seed) if seed else None,
                rounds=int(rounds) if rounds else None,
                timer=int(env.get("STALEMATE_ROOM_TIMER") or DEFAULT_TIMER),
                max_team=int(team) if team else None,
            )
        return _room


def set_room(room: Room | None) -> None:
    """Use ``room`` for the pages (tests); None makes a fresh one from the environment."""
    global _room
    with _room_lock:
        _room = room


def join_url() -> str:
    return os.environ.get("STALEMATE_ROOM_URL", "")


# --------------------------------------------------------------------------------------
# Hooks


def use_room(room: Room) -> RoomView:
    """This session's view of the room, redrawn whenever the room changes.

    A thread per session waits on the room (:meth:`Room.wait`) and sets the new
    view as this session's state, so the redraw happens in this session's thread.
    """
    view, set_view = solara.use_state(room.view())
    latest = solara.use_ref(view.version)

    def watch(cancel: threading.Event):
        while not cancel.is_set():
            new = room.wait(latest.current, timeout=1.0)
            if new.version > latest.current and not cancel.is_set():
                latest.current = new.version
                set_view(new)

    solara.use_thread(watch, dependencies=[id(room)], intrusive_cancel=False)
    current = room.view()
    return current if current.version > view.version else view


def use_session() -> str:
    """The browser's Solara session id (a cookie): who this student is, server-side."""

    def make():
        try:
            return solara.get_session_id()
        except Exception:  # outside a server (tests): one id per page
            return "local-" + secrets.token_hex(8)

    return solara.use_memo(make, [])


def use_key() -> str | None:
    router = solara.use_router()
    search = router.search or ""
    values = parse_qs(search).get("key")
    return values[0] if values else None


@solara.component
def Countdown(view: RoomView):
    """Seconds left in the round, ticking (only this element redraws each second)."""
    tick, set_tick = solara.use_state(0)

    def run(cancel: threading.Event):
        while not cancel.wait(0.5):
            set_tick(lambda t: t + 1)

    solara.use_thread(run, dependencies=[view.version], intrusive_cancel=False)
    left = view.seconds_left()
    if view.phase == "paused":
        solara.Text("Paused by the teacher", classes=["sm-countdown"])
    elif left is not None:
        solara.Text(f"{int(left + 0.999)} s left", classes=["sm-countdown", "sm-timer"])


def clock_line(view: RoomView) -> str:
    snap = view.snapshot
    if view.phase == "lobby":
        return f"Waiting to start · {scenario_title(view.scenario)}"
    if view.phase == "finished":
        return f"The talks are over: {outcome_words(snap.outcome)} ({snap.clock()})"
    t = snap.round + 1
    if snap.calendar:
        return f"{snap.when(t)} — round {t} of {snap.rounds}"
    return f"Round {t} of {snap.rounds}"


@solara.component
def Header(view: RoomView, title: str, show_code: bool = True):
    with solara.Div(classes=["sm-header"]):
        solara.HTML(tag="h1", unsafe_innerHTML=escape(title))
        solara.Text(clock_line(view), classes=["sm-big", "sm-room-clock"])
        solara.Div(classes=["sm-spacer"])
        if show_code:
            solara.Text("Join code", style={"font-size": "14px"})
            solara.Text(room_from_env().code, classes=["sm-code-small"])


def round_table_html(view: RoomView, rec, justifications: bool = True) -> str:
    """One round's moves as an HTML table (every typed text escaped)."""
    snap = view.snapshot
    rows = []
    for actor in snap.names:
        move = rec.moves.get(actor)
        act = ACTION_NAMES[int(rec.actions[actor])]
        who = {
            "class": escape(", ".join(rec.teams.get(actor, ()))) or "the class",
            "model": "the model (no one in this seat)",
            "timeout": "the model (no choice in time)",
            "event": "a scheduled event",
        }[rec.sources[actor]]
        why = (
            f"“{escape(move.justification)}” — {escape(move.by)}"
            if (move and justifications and move.justification)
            else ""
        )
        color = MOVE_COLORS[act]
        rows.append(
            f'<tr><th>{escape(actor)}</th><td><span style="background:{color};padding:1px 8px;'
            f'border-radius:4px">{act}</span></td><td>{who}</td><td>{why}</td></tr>'
        )
    return (
        f'<table class="sm-moves-table"><caption style="text-align:left;font-weight:700">'
        f"{escape(snap.when(rec.round).capitalize())}: the moves</caption>"
        f"<tr><th>State</th><th>Move</th><th>Chosen by</th><th>Why</th></tr>{''.join(rows)}</table>"
    )


def private_html(info: dict[str, str]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in info.items())
    return f"<dl>{items}</dl>"


# --------------------------------------------------------------------------------------
# The student's page


@solara.component
def JoinCard(room: Room, session: str):
    # reactives, not use_state: a handler reads what was typed even if a redraw is pending
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    error = solara.use_reactive(None)

    def join():
        try:
            room.join(code.value, name.value, session)
            error.set(None)
        except RoomError as err:
            error.set(str(err))

    with solara.Div(classes=["sm-card"], style={"max-width": "520px", "margin": "20px auto"}):
        solara.HTML(tag="h3", unsafe_innerHTML="Join the talks")
        solara.Text("Type the code shown on the projector and your name.", classes=["sm-note"])
        with Tip("The six-character code on the projector."):
            solara.InputText("Room code", value=code, continuous_update=True)
        n = len(name.value)
        with Tip(f"Your name as the class will see it (up to {MAX_NAME} characters)."):
            solara.InputText(
                "Your name",
                value=name,
                continuous_update=True,
                error=(f"{n} characters: keep it to {MAX_NAME}." if n > MAX_NAME else False),
            )
        with Tip("Enter the room."):
            solara.Button("Join", on_click=join, color="primary")
        if error.value:
            solara.Text(error.value, classes=["sm-error", "sm-join-error"])


@solara.component
def SeatPicker(room: Room, view: RoomView, session: str, me):
    error, set_error = solara.use_state(None)

    def claim(actor):
        try:
            room.claim(session, actor)
            set_error(None)
        except RoomError as err:
            set_error(str(err))

    solara.Text(
        f"Welcome, {me.name}. Pick the state you will play (a team may share one):",
        classes=["sm-big"],
    )
    roles = dict(zip(view.snapshot.names, view.snapshot.structure.roles))
    with solara.Div(classes=["sm-seat-row"]):
        for actor in view.actors:
            team = view.team(actor)
            with solara.Div(classes=["sm-seat"]):
                solara.HTML(tag="h3", unsafe_innerHTML=escape(actor))
                solara.Text(
                    ROLE_TITLES.get(roles[actor], roles[actor]).capitalize() + ".",
                    classes=["sm-note"],
                )
                solara.Text("Team: " + (", ".join(team) if team else "nobody yet"))
                with Tip(f"Sit for {actor}: you will choose its move each round."):
                    solara.Button(
                        f"Play {actor}",
                        on_click=lambda a=actor: claim(a),
                        color="primary",
                        outlined=True,
                    )
    if error:
        solara.Text(error, classes=["sm-error", "sm-claim-error"])


@solara.component
def MoveCard(room: Room, view: RoomView, session: str, me):
    # reactives, not use_state: Send reads the latest choice even if a redraw is pending
    choice_r = solara.use_reactive(None)
    why_r = solara.use_reactive("")
    error_r = solara.use_reactive(None)
    choice, why, error = choice_r.value, why_r.value, error_r.value
    set_choice, set_why, set_error = choice_r.set, why_r.set, error_r.set
    actor = me.actor
    roles = dict(zip(view.snapshot.names, view.snapshot.structure.roles))
    from sim.model.actors import describe_action

    def new_round():
        set_choice(None)
        set_why("")
        set_error(None)

    solara.use_effect(new_round, [view.round, view.scenario, view.seed])

    def send():
        if choice_r.value is None:
            set_error("Choose concede, hedge or escalate first.")
            return
        try:
            room.submit(session, actor, choice_r.value, why_r.value)
            set_error(None)
        except RoomError as err:
            set_error(str(err))

    with solara.Div(classes=["sm-card"]):
        with solara.Row(style={"align-items": "baseline", "gap": "16px"}):
            solara.HTML(tag="h3", unsafe_innerHTML=escape(f"Your move for {clock_line(view)}"))
            Countdown(view)
        solara.Text("The teacher has paused the talks." if view.phase == "paused" else "")
        # every element below is always drawn (empty when not needed): inserting one would
        # shift its siblings and make the browser lose the text box while someone types
        forced = view.snapshot.forced(actor)
        solara.Text(
            f"A scheduled event forces {actor} to {ACTION_NAMES[forced]} this round, whatever "
            "you choose; say what you would have done."
            if forced is not None
            else "",
            classes=["sm-waiting"],
        )
        with solara.Div(classes=["sm-move-btns"]):
            for a in Action:
                name = ACTION_NAMES[a]
                with Tip(f"{ACTION_TITLES[a]}: {actor} {describe_action(roles[actor], a)}"):
                    solara.Button(
                        ACTION_TITLES[a],
                        on_click=lambda n=name: set_choice(n),
                        color=MOVE_COLORS[name],
                        outlined=choice is not None and choice != name,
                        classes=[f"sm-choose-{name}"],
                    )
        solara.Text(
            f"{actor} {describe_action(roles[actor], ACTION_NAMES.index(choice))}."
            if choice
            else " "
        )
        too_long = len(why) > MAX_JUSTIFICATION
        with Tip(
            f"Say in a sentence why (up to {MAX_JUSTIFICATION} characters): the class reads it after the round."
        ):
            solara.InputTextArea(
                f"Why? ({len(why)}/{MAX_JUSTIFICATION} characters)",
                value=why_r,
                continuous_update=True,
                rows=2,
                error=(
                    f"Too long by {len(why) - MAX_JUSTIFICATION} characters." if too_long else False
                ),
            )
        with Tip("Send your team's move; you can change it until the round closes."):
            solara.Button("Send our move", on_click=send, color="primary", disabled=too_long)
        sent = view.submitted.get(actor)
        text = ""
        if sent is not None:
            text = f"Your team's move: {ACTION_NAMES[sent.action]}"
            text += f" — “{sent.justification}”" if sent.justification else ""
            text += f" (sent by {sent.by}). You can change it until the round closes."
        solara.Text(text, classes=["sm-moved", "sm-sent"])
        waiting = [a for a in view.waiting_for if a != actor]
        solara.Text(
            "Still choosing: " + ", ".join(waiting) + "." if waiting else "", classes=["sm-note"]
        )
        solara.Text(error or "", classes=["sm-error", "sm-move-error"])


@solara.component
def StudentPage():
    room = room_from_env()
    view = use_room(room)
    session = use_session()
    me = view.participant(session)
    info = solara.use_memo(lambda: room.private_info(session), [view.version, session])
    solara.Style(CSS + ROOM_CSS)
    solara.Title("Stalemate — the talks")
    with solara.Div(classes=["sm-header"]):
        solara.HTML(tag="h1", unsafe_innerHTML="Stalemate")
        solara.Text(clock_line(view), classes=["sm-big", "sm-room-clock"])
    with solara.Div(classes=["sm-room"]):
        if me is None:
            JoinCard(room, session)
            return
        if me.actor is None:
            SeatPicker(room, view, session, me)
            return
        team = view.team(me.actor)
        solara.HTML(
            tag="h2",
            unsafe_innerHTML=escape(f"You are {me.actor}")
            + f' <span class="sm-note">(team: {escape(", ".join(team))})</span>',
            classes=["sm-you"],
        )
        with solara.Div(classes=["sm-grid"]):
            with solara.Column(gap="8px"):
                if view.phase in ("open", "paused"):
                    MoveCard(room, view, session, me)
                elif view.phase == "lobby":
                    solara.Text("Wait for the teacher to start the talks.", classes=["sm-big"])
                else:
                    solara.Text(
                        f"The talks are over: {outcome_words(view.snapshot.outcome)}. Look at the projector.",
                        classes=["sm-big"],
                    )
                if view.records:
                    solara.HTML(
                        tag="div", unsafe_innerHTML=round_table_html(view, view.records[-1])
                    )
            with solara.Div(classes=["sm-private"]):
                solara.HTML(
                    tag="h3",
                    unsafe_innerHTML=escape(f"Only you see this: {me.actor}'s private information"),
                )
                solara.HTML(
                    tag="div", unsafe_innerHTML=private_html(info), classes=["sm-private-info"]
                )
        with solara.Div(classes=["sm-card"], style={"margin-top": "8px"}):
            StateChart(view.snapshot, title="Where the talks stand", height=180)


# --------------------------------------------------------------------------------------
# The teacher's console


@solara.component
def Refused():
    solara.Style(CSS + ROOM_CSS)
    with solara.Div(classes=["sm-room"]):
        solara.Text(
            "This page needs the teacher's key: open the link stalemate-room printed when it started.",
            classes=["sm-error"],
        )


@solara.component
def TeacherPage():
    room = room_from_env()
    key = use_key()
    if room.is_teacher(key):
        TeacherConsole(room, key)
    else:
        Refused()


@solara.component
def TeacherConsole(room: Room, key: str):
    view = use_room(room)
    error, set_error = solara.use_state(None)
    scenario, set_scenario = solara.use_state(view.scenario)
    seed, set_seed = solara.use_state(str(view.seed))
    timer, set_timer = solara.use_state(view.timer)

    def act(f, *args):
        try:
            f(key, *args)
            set_error(None)
        except (RoomError, ValueError) as err:
            set_error(str(err))

    def new_game():
        text = seed.strip()
        if text and not text.isdigit():
            set_error("The seed must be a whole number (or blank for a random one).")
            return
        act(room.reset, scenario, int(text) if text else None, None, timer)

    solara.Style(CSS + ROOM_CSS)
    solara.Title("Stalemate — teacher's console")
    Header(view, "Teacher's console")
    snap = view.snapshot
    with solara.Div(classes=["sm-room"]):
        with solara.Div(classes=["sm-grid"]):
            with solara.Div(classes=["sm-card"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Students join at")
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=escape(join_url() or "this server's address"),
                    classes=["sm-url"],
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=escape(room.code),
                    classes=["sm-code", "sm-join-code"],
                )
                solara.HTML(
                    tag="p",
                    unsafe_innerHTML=f'<a href="projector?key={escape(key)}" target="_blank">Open the projector view</a>',
                )
                solara.Text(
                    f"{len(view.participants)} students in the room · {scenario_title(view.scenario)} · seed {view.seed} · {snap.rounds} rounds",
                    classes=["sm-note"],
                )
            with solara.Div(classes=["sm-card"]):
                solara.HTML(tag="h3", unsafe_innerHTML=escape(clock_line(view)))
                Countdown(view)
                with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
                    if view.phase == "lobby":
                        with Tip("Open round 1: students can send their moves."):
                            solara.Button(
                                "Start the talks", on_click=lambda: act(room.start), color="primary"
                            )
                    if view.phase == "open":
                        with Tip("Freeze the round and its timer (for a discussion)."):
                            solara.Button(
                                "Pause",
                                on_click=lambda: act(room.pause),
                                color="primary",
                                outlined=True,
                            )
                    if view.phase == "paused":
                        with Tip("Reopen the round; the timer goes on where it stopped."):
                            solara.Button(
                                "Resume", on_click=lambda: act(room.resume), color="primary"
                            )
                    if view.phase in ("open", "paused"):
                        with Tip(
                            "Close the round now: the model plays every seat that has not chosen."
                        ):
                            solara.Button(
                                "Close the round now",
                                on_click=lambda: act(room.advance),
                                color="primary",
                            )
                    with Tip(
                        "Show every seat's private information on the projector (or hide it)."
                    ):
                        solara.Button(
                            "Hide types" if view.revealed else "Reveal types",
                            on_click=lambda: act(room.reveal, not view.revealed),
                            outlined=True,
                        )
                    with Tip(
                        "Download the session: every move, who chose it and why, and the state path (CSV)."
                    ):
                        solara.FileDownload(
                            lambda: room.export_csv(key).encode("utf-8"),
                            filename=f"stalemate_room_{view.scenario}_seed{view.seed}.csv",
                            label="Export the session (CSV)",
                            icon_name=None,
                            mime_type="text/csv",
                        )
                if view.claimed:
                    waiting = view.waiting_for
                    solara.Text(
                        ("Waiting for: " + ", ".join(waiting))
                        if waiting
                        else "Every seat has chosen.",
                        classes=["sm-waiting" if waiting else "sm-moved"],
                    )
                if error:
                    solara.Text(error, classes=["sm-error"])
        with solara.Div(classes=["sm-card"], style={"margin-top": "8px"}):
            solara.HTML(tag="h3", unsafe_innerHTML="Seats")
            SeatsTable(room, view, key)
        with solara.Div(classes=["sm-card"], style={"margin-top": "8px"}):
            solara.HTML(tag="h3", unsafe_innerHTML="A new game (students keep their seats)")
            with solara.Row(gap="10px", style={"flex-wrap": "wrap", "align-items": "center"}):
                names = {scenario_title(n): n for n in scenario_names()}
                with Tip(TIPS["scenario"]):
                    solara.Select(
                        "Scenario",
                        value=scenario_title(scenario),
                        values=list(names),
                        on_value=lambda t: set_scenario(names[t]),
                    )
                with Tip(TIPS["seed"]):
                    solara.InputText(
                        "Seed (blank: random)",
                        value=seed,
                        on_value=set_seed,
                        continuous_update=True,
                    )
                with Tip(
                    "Seconds per round before the model plays the seats that have not chosen (0: no timer)."
                ):
                    solara.Select(
                        "Timer (s)",
                        value=str(timer),
                        values=[str(t) for t in TIMERS],
                        on_value=lambda t: (set_timer(int(t)), act(room.set_timer, int(t))),
                    )
                with Tip("Start a new game with these settings (back to the lobby)."):
                    solara.Button("New game", on_click=new_game, color="primary", outlined=True)
        if view.records:
            with solara.Div(classes=["sm-card"], style={"margin-top": "8px"}):
                for rec in reversed(view.records):
                    solara.HTML(tag="div", unsafe_innerHTML=round_table_html(view, rec))
        if view.comparison:
            Comparison(view)


@solara.component
def SeatsTable(room: Room, view: RoomView, key: str):
    rows = []
    for actor in view.actors:
        team = view.team(actor)
        sent = view.submitted.get(actor)
        status = "—"
        if team and view.phase in ("open", "paused"):
            status = f"✓ {ACTION_NAMES[sent.action]}" if sent else "choosing…"
        why = (
            f"“{escape(sent.justification)}” — {escape(sent.by)}"
            if sent and sent.justification
            else ""
        )
        rows.append(
            f"<tr><th>{escape(actor)}</th><td>{escape(', '.join(team)) or '<i>the model</i>'}</td>"
            f"<td>{escape(status)}</td><td>{why}</td></tr>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            '<table class="sm-moves-table"><tr><th>State</th><th>Team</th><th>This round</th><th>Why</th></tr>'
            + "".join(rows)
            + "</table>"
        ),
    )
    if view.participants:
        seats = ["no seat", *view.actors]

        def move(name, value):
            try:
                room.seat(key, name, None if value == "no seat" else value)
            except RoomError:
                pass

        with solara.Row(gap="8px", style={"flex-wrap": "wrap", "margin-top": "6px"}):
            for p in view.participants:
                with Tip(f"Move {p.name} to another seat."):
                    solara.Select(
                        p.name,
                        value=p.actor or "no seat",
                        values=seats,
                        on_value=lambda v_, n=p.name: move(n, v_),
                        dense=True,
                        style={"max-width": "150px"},
                    )


# --------------------------------------------------------------------------------------
# The projector


def comparison_rows(view: RoomView) -> list[dict]:
    c = view.comparison
    snap = view.snapshot
    rows = []
    for label, (lo, mid, hi) in c["bands"].items():
        for r in range(len(mid)):
            base = {"series": label, "round": r, "label": snap.state_label(r)}
            if snap.calendar:
                base["date"] = snap.state_date(r)
            rows.append({**base, "kind": "model", "lo": lo[r], "mid": mid[r], "hi": hi[r]})
            rows.append({**base, "kind": "class", "mid": c["class_path"][label][r]})
    return rows


def comparison_lines(view: RoomView) -> list[str]:
    c = view.comparison
    out = [
        f"The class's talks ended in {outcome_words(c['class_outcome'])}. Of {c['runs']} runs of the "
        f"model from the same start, {c['same_outcome']:.0%} ended the same way.",
        "The model's runs: "
        + ", ".join(f"{outcome_words(o)} {s:.0%}" for o, s in c["outcomes"].items() if s > 0)
        + ".",
    ]
    for label, (value, below) in c["final"].items():
        out.append(
            f"{label} at the end: the class {value:.2f}; higher than {below:.0%} of the model's runs."
        )
    for actor, (mine, mean, lo, hi) in c["concede"].items():
        out.append(
            f"{actor} conceded {mine} times with the class; the model's {actor} {mean:.1f} times on average "
            f"(80% of runs between {lo:.0f} and {hi:.0f})."
        )
    return out


@solara.component
def Comparison(view: RoomView):
    rows = solara.use_memo(lambda: Opaque(comparison_rows(view), view.version), [view.version])
    calendar = view.snapshot.calendar is not None
    spec = solara.use_memo(lambda: Opaque(fan_spec(calendar, title=""), calendar), [calendar])
    with solara.Div(classes=["sm-card", "sm-comparison"], style={"margin-top": "8px"}):
        solara.HTML(
            tag="h3",
            unsafe_innerHTML="The class against the model (red: the class; blue: 10–90% of the model's runs and their median)",
        )
        Chart(spec, rows, filename=f"stalemate_room_{view.scenario}_class_vs_model")
        for line in comparison_lines(view):
            solara.Text(line, style={"display": "block", "font-size": "16px"})


@solara.component
def ProjectorPage():
    room = room_from_env()
    key = use_key()
    if room.is_teacher(key):
        Projector(room)
    else:
        Refused()


@solara.component
def Projector(room: Room):
    view = use_room(room)
    snap = view.snapshot
    revealed = solara.use_memo(room.all_private_info, [view.version])
    solara.Style(CSS + ROOM_CSS)
    solara.Title("Stalemate — projector")
    Header(view, "Stalemate")
    with solara.Div(classes=["sm-room"]):
        if view.phase == "lobby":
            with solara.Div(classes=["sm-card"], style={"text-align": "center"}):
                solara.HTML(tag="div", unsafe_innerHTML="Join the talks: open", classes=["sm-big"])
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=escape(join_url() or "this server's address"),
                    classes=["sm-url"],
                )
                solara.HTML(tag="div", unsafe_innerHTML="and enter the code", classes=["sm-big"])
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=escape(room.code),
                    classes=["sm-code", "sm-join-code"],
                )
        with solara.Div(classes=["sm-seat-row"], style={"margin": "6px 0"}):
            for actor in view.actors:
                team = view.team(actor)
                with solara.Div(classes=["sm-seat"]):
                    solara.HTML(tag="h3", unsafe_innerHTML=escape(actor))
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=escape(", ".join(team) if team else "played by the model"),
                        classes=["sm-note"],
                    )
                    moved = actor in view.submitted
                    status = ""
                    if team and view.phase in ("open", "paused"):
                        status = "✓ has chosen" if moved else "choosing…"
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=status,
                        classes=["sm-moved" if moved else "sm-waiting", "sm-seat-status"],
                    )
            with solara.Div(
                classes=["sm-seat"],
                style={} if view.timer or view.phase == "paused" else {"display": "none"},
            ):
                Countdown(view)
        with solara.Div(classes=["sm-grid"]):
            with solara.Div(classes=["sm-card"]):
                StateChart(snap, height=200)
            with solara.Div(classes=["sm-card"]):
                MovesChart(snap, height=150)
            with solara.Div(classes=["sm-card"]):
                if view.records:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=round_table_html(view, view.records[-1]),
                        classes=["sm-last-round"],
                    )
                else:
                    solara.Text(
                        "Each round's moves and the class's reasons appear here.",
                        classes=["sm-note"],
                    )
            EventLog(snap)
        if view.comparison:
            Comparison(view)
        if revealed:
            with solara.Div(classes=["sm-seat-row"], style={"margin-top": "8px"}):
                for actor, info in revealed.items():
                    with solara.Div(
                        classes=["sm-private"], style={"flex": "1", "min-width": "280px"}
                    ):
                        solara.HTML(
                            tag="h3", unsafe_innerHTML=escape(f"{actor}'s private information")
                        )
                        solara.HTML(tag="div", unsafe_innerHTML=private_html(info))
        with solara.Div(style={"margin-top": "8px"}):
            TrustCard(snap)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's children convention
    return solara.Div(children=children)


routes = [
    solara.Route(path="/", component=StudentPage, label="Stalemate", layout=Layout),
    solara.Route(path="teacher", component=TeacherPage, label="Teacher"),
    solara.Route(path="projector", component=ProjectorPage, label="Projector"),
]


# --------------------------------------------------------------------------------------
# The ``stalemate-room`` console script


def lan_address() -> str | None:
    """This machine's address on the local network (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return None


def check_settings(scenario: str, rounds, seed, timer, code) -> str | None:
    """Why the room cannot start with these settings (None if it can)."""
    from sim.engines.state import MAX_SEED
    from sim.hydra.compose import scenario_kwargs
    from sim.model.params import make_config
    from sim.model.validation import ConfigError

    try:
        make_config(**scenario_kwargs(scenario, **({"rounds": rounds} if rounds else {})))
    except ConfigError as err:
        return str(err)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        return f"--seed must be between 0 and {MAX_SEED}"
    if not 0 <= timer <= 3600:
        return "--timer must be between 0 (no timer) and 3600 seconds"
    if code is not None and (len(code) < 4 or len(code) > 12 or not code.isalnum()):
        return "--code must be 4 to 12 letters or digits"
    return None


def main(argv: list[str] | None = None) -> int:
    """Serve the room (entry point of ``stalemate-room``)."""
    parser = argparse.ArgumentParser(
        prog="stalemate-room",
        description="A whole class plays one negotiation: students join with a code and each plays a state.",
    )
    parser.add_argument(
        "--host",
        default=HOST,
        help=f"address to listen on (default {HOST}: this machine only; 0.0.0.0: the class network)",
    )
    parser.add_argument("--port", type=int, default=PORT, help=f"port (default {PORT})")
    parser.add_argument(
        "--scenario",
        default="replay_2018",
        choices=scenario_names(),
        help="scenario (default replay_2018: a month per round)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds to play (default: the scenario's months, else 12)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (default: a random one)")
    parser.add_argument(
        "--timer",
        type=int,
        default=DEFAULT_TIMER,
        help=f"seconds per round, 0 for none (default {DEFAULT_TIMER})",
    )
    parser.add_argument(
        "--max-team", type=int, default=None, help="students per state (default: no limit)"
    )
    parser.add_argument("--code", default=None, help="the join code (default: a random one)")
    parser.add_argument(
        "--dev", action="store_true", help="solara's development mode (auto-reload)"
    )
    args, extra = parser.parse_known_args(argv)
    problem = check_settings(args.scenario, args.rounds, args.seed, args.timer, args.code)
    if problem:
        parser.error(problem)
    code = (args.code or new_code()).upper()
    key = secrets.token_urlsafe(16)
    shown = args.host
    if args.host in ("0.0.0.0", "::"):
        shown = lan_address() or "<this machine's address>"
    student_url = f"http://{shown}:{args.port}/"
    local = (
        f"http://127.0.0.1:{args.port}"
        if args.host in ("0.0.0.0", "::", "127.0.0.1")
        else f"http://{args.host}:{args.port}"
    )
    env = solara_env()
    env.update(
        STALEMATE_ROOM_CODE=code,
        STALEMATE_ROOM_KEY=key,
        STALEMATE_ROOM_SCENARIO=args.scenario,
        STALEMATE_ROOM_TIMER=str(args.timer),
        STALEMATE_ROOM_URL=student_url,
    )
    for name, value in (("SEED", args.seed), ("ROUNDS", args.rounds), ("MAX_TEAM", args.max_team)):
        if value is not None:
            env[f"STALEMATE_ROOM_{name}"] = str(value)
    check_assets("stalemate-room")
    print(f"Stalemate room — {scenario_title(args.scenario)}")
    print(f"  Join code:        {code}")
    print(f"  Students open:    {student_url}  (and enter the code)")
    print(f"  Teacher console:  {local}/teacher?key={key}")
    print(f"  Projector view:   {local}/projector?key={key}")
    if args.host == "127.0.0.1":
        print(
            "  The room listens on this machine only; to let students' devices in, start it with --host 0.0.0.0"
        )
    print("  (Ctrl-C stops the room; keep the teacher's key to yourself.)", flush=True)
    cmd = solara_command("sim.classroom.room_app", args.host, args.port, args.dev)
    os.execve(sys.executable, cmd + extra, env)
    return 0  # pragma: no cover


def _warm_up() -> None:
    """Load the compiled model and the batch engine before the class arrives."""
    try:
        from sim.classroom.charts import warm_up
        from sim.classroom.room import compare_with_model
        from sim.classroom.seats import ClassroomModel

        warm_up()
        m = ClassroomModel(rounds=2, rng=0)
        m.run()
        compare_with_model(m, runs=4)
        room_from_env()
    except Exception:  # pragma: no cover
        pass


if os.environ.get("STALEMATE_ROOM_CODE"):  # inside the room's server
    threading.Thread(target=_warm_up, name="room-warm-up", daemon=True).start()

if __name__ == "__main__":
    raise SystemExit(main())

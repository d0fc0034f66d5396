"""The teacher's console (``/teacher?key=…``): start, pause, resume, close the round now, a
new game, the timer, reveal types, move a student, export the session as CSV.

Only the teacher's secret key (in the console's URL) opens it.
"""

from __future__ import annotations

import solara

from sim.classroom.room import TIMERS, Room, RoomError, RoomView
from sim.classroom.room_projector import Comparison
from sim.classroom.room_styles import ROOM_CSS
from sim.classroom.room_views import (
    Countdown,
    Header,
    Refused,
    clock_line,
    current_room,
    join_url,
    round_table_html,
    use_key,
    use_room,
)
from sim.classroom.ui import CSS, Tip, escape
from sim.classroom.words import TIPS, scenario_title
from sim.hydra.compose import scenario_names
from sim.model.names import ACTION_NAMES


@solara.component
def TeacherPage():
    room = current_room()
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

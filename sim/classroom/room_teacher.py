"""The teacher's console (``/teacher?key=…``): start, pause, resume, close the round now, a
new game, the timer, reveal types, move a student, export the session as CSV.

Only the teacher's secret key (in the console's URL) opens it; the projector has
a key of its own that opens the projector view only. Several consoles may be open
(a laptop and a tablet): each shows the room as it is, and every action names what
it acts on — "Close the round now" the round the console showed, "New game" the
game — so a double click, or two consoles at once, close one round and start one
game. A new game asks first; the games it replaces stay available for export.

The exports are plain links (:func:`export_routes`): ``teacher/export/rounds.csv``
(one row per round and state) and ``teacher/export/sends.csv`` (every send, exactly
as typed, with its team, seat, month and time), each for the current game or an
earlier one (``&game=N``).
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
    RoundButton,
    clock_line,
    current_room,
    join_url,
    round_table_html,
    use_key,
    use_room,
)
from sim.classroom.seats import seed_of, seed_problem
from sim.classroom.ui import CSS, Tip, escape
from sim.classroom.words import TIPS, outcome_words, scenario_title
from sim.hydra.compose import scenario_names
from sim.model.names import ACTION_NAMES

#: What the teacher can download: (path, label, what it holds).
EXPORTS = (
    (
        "rounds.csv",
        "Export the session (CSV)",
        "One row per round and state: the move, who chose it and why, and the state path.",
    ),
    (
        "sends.csv",
        "Every send (CSV)",
        "Every move every student sent, exactly as typed, with team, seat, month and time.",
    ),
)


def export_routes(room: Room) -> list:
    """Starlette routes for the exports (the teacher's key in the query, as on the console)."""
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def export(request):
        key = request.query_params.get("key")
        what = request.path_params["what"]
        if not room.is_teacher(key):
            return PlainTextResponse("Only the teacher can export the session.", status_code=403)
        game = request.query_params.get("game")
        view = room.view()
        try:
            if game and int(game) != view.game:
                archive = room.archive(key, int(game))
                body = archive.rounds_csv if what == "rounds" else archive.sends_csv
                name = f"stalemate_room_game{archive.game}_{what}.csv"
            else:
                body = room.export_csv(key) if what == "rounds" else room.export_sends_csv(key)
                name = f"stalemate_room_{view.scenario}_seed{view.seed}_game{view.game}_{what}.csv"
        except (RoomError, ValueError) as err:
            return PlainTextResponse(str(err), status_code=404)
        return Response(
            body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return [Route("/teacher/export/{what:str}.csv", export)]


def export_links(key: str, game: int | None = None) -> str:
    """The export links as HTML (``game``: an earlier game)."""
    tail = f"&game={game}" if game is not None else ""
    links = []
    for path, label, tip in EXPORTS:
        what = path.split(".")[0]
        links.append(
            f'<a class="sm-export sm-export-{what}" href="teacher/export/{path}?key={escape(key)}{tail}" '
            f'title="{escape(tip)}" download>{escape(label)}</a>'
        )
    return " · ".join(links)


@solara.component
def TeacherPage():
    room = current_room()
    key = use_key()
    if room.is_teacher(key):
        TeacherConsole(room, key)
    else:
        Refused()


def status_line(view: RoomView) -> tuple[str, str]:
    """The console's status (and its CSS class): who is still choosing, or how it ended."""
    if view.phase == "finished":
        return f"The talks are over: {outcome_words(view.snapshot.outcome)}.", "sm-moved"
    if view.phase == "lobby":
        seated = sum(1 for p in view.participants if p.actor)
        return (
            f"{len(view.participants)} students in the room, {seated} seated. "
            "Press Start the talks when the teams are ready.",
            "sm-note",
        )
    if not view.claimed:
        return "No seat is taken: the model plays every state.", "sm-note"
    waiting = view.waiting_for
    if waiting:
        return "Waiting for: " + ", ".join(waiting), "sm-waiting"
    return "Every seat has chosen.", "sm-moved"


@solara.component
def TeacherConsole(room: Room, key: str):
    view = use_room(room)
    error, set_error = solara.use_state(None)
    scenario, set_scenario = solara.use_state(view.scenario)
    seed, set_seed = solara.use_state(str(view.seed))
    timer, set_timer = solara.use_state(view.timer)
    confirm, set_confirm = solara.use_state(None)  # the game a new game would replace

    def act(f, *args, **kwargs):
        try:
            f(key, *args, **kwargs)
            set_error(None)
        except (RoomError, ValueError) as err:
            set_error(str(err))

    def on_timer(t: str) -> None:
        set_timer(int(t))
        act(room.set_timer, int(t))

    def ask_new_game(game):
        problem = seed_problem(seed)
        if problem:
            set_error(problem)
            return
        set_error(None)
        set_confirm(int(game))

    def new_game(game):
        set_confirm(None)
        problem = seed_problem(seed)
        if problem:
            set_error(problem)
            return
        act(room.reset, scenario, seed_of(seed), None, timer, game=int(game))

    solara.Style(CSS + ROOM_CSS)
    solara.Title("Stalemate — teacher's console")
    Header(view, "Teacher's console")
    snap = view.snapshot
    status, status_class = status_line(view)
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
                    unsafe_innerHTML=(
                        f'<a href="projector?key={escape(room.projector_key)}" target="_blank" '
                        'title="The projector has its own key: it shows the room and cannot act.">'
                        "Open the projector view</a>"
                    ),
                )
                solara.Text(
                    f"{len(view.participants)} students in the room · {scenario_title(view.scenario)}"
                    f" · seed {view.seed} · {snap.rounds} rounds · game {view.game}",
                    classes=["sm-note"],
                )
            with solara.Div(classes=["sm-card"]):
                solara.HTML(tag="h3", unsafe_innerHTML=escape(clock_line(view)))
                Countdown(view)
                with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
                    if view.phase == "lobby":
                        with Tip("Open round 1: students can send their moves."):
                            RoundButton(
                                label="Start the talks",
                                at=view.game,
                                event_press=lambda _: act(room.start),
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
                            RoundButton(
                                label="Close the round now",
                                at=view.round + 1,
                                event_press=lambda r: act(room.advance, round=int(r)),
                                extra_class="sm-close-round",
                            )
                    with Tip(
                        "Show every seat's private information on the projector (or hide it)."
                    ):
                        solara.Button(
                            "Hide types" if view.revealed else "Reveal types",
                            on_click=lambda: act(room.reveal, not view.revealed),
                            outlined=True,
                        )
                solara.HTML(tag="p", unsafe_innerHTML=export_links(key), classes=["sm-exports"])
                solara.Text(status, classes=[status_class, "sm-console-status"])
                solara.Text(error or "", classes=["sm-error", "sm-console-error"])
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
                        on_value=lambda t: set_seed((t or "")[:40]),
                        continuous_update=True,
                        error=seed_problem(seed) or False,
                    )
                with Tip(
                    "Seconds per round before the model plays the seats that have not chosen (0: no timer)."
                ):
                    solara.Select(
                        "Timer (s)",
                        value=str(timer),
                        values=[str(t) for t in TIMERS],
                        on_value=on_timer,
                    )
                if confirm is None:
                    with Tip("Start a new game with these settings (it asks first)."):
                        solara.Button(
                            "New game",
                            on_click=lambda: ask_new_game(view.game),
                            color="primary",
                            outlined=True,
                        )
            if confirm is not None:
                with solara.Div(classes=["sm-confirm"]):
                    played = f"{snap.round} of {snap.rounds} rounds played"
                    solara.Text(
                        f"This ends game {confirm} ({played}, {view.sends} sends) and takes the "
                        "class back to the lobby. Its exports stay available below.",
                        classes=["sm-waiting"],
                    )
                    with solara.Row(gap="8px"):
                        RoundButton(
                            label="Yes, start a new game",
                            at=confirm,
                            event_press=new_game,
                            extra_class="sm-confirm-new-game",
                        )
                        solara.Button("Cancel", on_click=lambda: set_confirm(None), outlined=True)
            if view.archives:
                items = "".join(
                    f"<li>{escape(label)}: {export_links(key, game)}</li>"
                    for game, label in reversed(view.archives)
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"<p><b>Earlier games</b></p><ul>{items}</ul>",
                    classes=["sm-archives"],
                )
        if view.records:
            with solara.Div(classes=["sm-card"], style={"margin-top": "8px"}):
                for rec in reversed(view.records):
                    solara.HTML(tag="div", unsafe_innerHTML=round_table_html(view, rec))
        if view.comparison:
            Comparison(view)


def seats_html(view: RoomView) -> str:
    rows = []
    for actor in view.actors:
        team = view.team(actor)
        sent = view.submitted.get(actor)
        status = "—"
        if team and view.phase in ("open", "paused"):
            status = f"✓ {ACTION_NAMES[sent.action]}" if sent else "choosing…"
        why = (
            f'<span class="sm-why">“{escape(sent.justification)}”</span> — {escape(sent.by)}'
            if sent and sent.justification
            else ""
        )
        rows.append(
            f"<tr><th>{escape(actor)}</th><td>{escape(', '.join(team)) or '<i>the model</i>'}</td>"
            f"<td>{escape(status)}</td><td>{why}</td></tr>"
        )
    return (
        '<table class="sm-moves-table"><tr><th>State</th><th>Team</th><th>This round</th>'
        "<th>Why</th></tr>" + "".join(rows) + "</table>"
    )


@solara.component
def SeatsTable(room: Room, view: RoomView, key: str):
    """Who sits where, and one control to move a student (not one per student: a class of
    thirty would redraw thirty selects at every send)."""
    html = solara.use_memo(lambda: seats_html(view), [view.version])
    solara.HTML(tag="div", unsafe_innerHTML=html)
    who, set_who = solara.use_state(None)
    where, set_where = solara.use_state("no seat")
    error, set_error = solara.use_state(None)
    names = sorted(p.name for p in view.participants)
    if not names:
        return

    def move():
        try:
            room.seat(key, who, None if where == "no seat" else where)
            set_error(None)
        except RoomError as err:
            set_error(str(err))

    with solara.Row(gap="8px", style={"flex-wrap": "wrap", "margin-top": "6px"}):
        with Tip("Move a student to another seat (or out of their seat)."):
            solara.Select(
                "Student",
                value=who if who in names else None,
                values=names,
                on_value=set_who,  # type: ignore[arg-type]  # (a state setter takes the value)
            )
        solara.Select(
            "To the seat", value=where, values=["no seat", *view.actors], on_value=set_where
        )
        solara.Button("Move", on_click=move, disabled=who not in names, outlined=True)
    if error:
        solara.Text(error, classes=["sm-error"])

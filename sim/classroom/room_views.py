"""What the room's pages share: the server's one room, the hooks that follow it, the clock
line, the header and the table of a round's moves.

State: the :class:`~sim.classroom.room.Room` is one Python object shared by every
session of the server process (Solara keeps reactive variables per browser
session, so a shared game lives outside them). ``stalemate-room`` makes it from
its checked settings and hands it over with :func:`serve_room` before the server
starts. Each session keeps its own view of the room in a Solara state variable
and a thread that waits for the room to change (:func:`use_room`); so each
browser redraws in its own thread, and a change made by one person never runs
another's rendering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import parse_qs

import solara

from sim.classroom.room import Room, RoomView
from sim.classroom.room_styles import ROOM_CSS
from sim.classroom.ui import CSS, escape
from sim.classroom.words import outcome_words, scenario_title
from sim.model.names import ACTION_NAMES, ACTION_TABLE

MOVE_COLORS = {a.name: a.colour for a in ACTION_TABLE}

_room: Room | None = None
_join_url = ""


def serve_room(room: Room | None, join_url: str = "") -> None:
    """Serve ``room`` on the pages (``stalemate-room`` before it starts; tests); None: none."""
    global _room, _join_url
    _room, _join_url = room, join_url


def current_room() -> Room:
    """The room the pages show (set by :func:`serve_room`)."""
    if _room is None:
        raise RuntimeError("no room is served: start the pages with stalemate-room")
    return _room


def join_url() -> str:
    """The address students open (as ``stalemate-room`` printed it), or ''."""
    return _join_url


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
            new = room.wait(latest.current, timeout=5.0)
            if new.version > latest.current and not cancel.is_set():
                latest.current = new.version
                set_view(new)

    solara.use_thread(watch, dependencies=[id(room)], intrusive_cancel=False)
    current = room.view()
    return current if current.version > view.version else view


def use_key() -> str | None:
    router = solara.use_router()
    search = router.search or ""
    values = parse_qs(search).get("key")
    return values[0] if values else None


@solara.component_vue("countdown.vue")
def _Countdown(left: float | None, paused: bool, version: int):
    pass


@solara.component
def Countdown(view: RoomView):
    """Seconds left in the round, ticking in the browser (the server sends it once a change)."""
    left = view.seconds_left()
    _Countdown(left=left, paused=view.phase == "paused", version=view.version)


@solara.component_vue("round_button.vue")
def RoundButton(
    label: str,
    at: int,
    event_press: Callable[[int], None],
    color: str = "primary",
    outlined: bool = False,
    disabled: bool = False,
    extra_class: str = "",
):
    """A button that acts on the round (or game) ``at`` it showed: ``event_press(at)`` gets
    the value the browser had when clicked, so a double click acts once."""


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
            solara.Text(current_room().code, classes=["sm-code-small"])


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
            f'<span class="sm-why">“{escape(move.justification)}”</span> — {escape(move.by)}'
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


@solara.component
def Refused():
    solara.Style(CSS + ROOM_CSS)
    with solara.Div(classes=["sm-room"]):
        solara.Text(
            "This page needs its key: open the link stalemate-room printed when it started.",
            classes=["sm-error"],
        )

"""The projector view (``/projector?key=…``): the join code, the clock, who has moved, the
shared charts and the event log, each round's moves with their justifications, and at
the end the class against the model.
"""

from __future__ import annotations

import solara

from sim.classroom.charts import Chart, Opaque, fan_spec
from sim.classroom.room import Room, RoomView
from sim.classroom.room_styles import ROOM_CSS
from sim.classroom.room_views import (
    Countdown,
    Header,
    Refused,
    current_room,
    join_url,
    private_html,
    round_table_html,
    use_key,
    use_room,
)
from sim.classroom.ui import CSS, EventLog, MovesChart, StateChart, TrustCard, escape
from sim.classroom.words import outcome_words


def comparison_rows(view: RoomView) -> list[dict]:
    c = view.comparison
    assert c is not None  # shown only once the class has a comparison
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
    assert c is not None  # shown only once the class has a comparison
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
    room = current_room()
    key = use_key()
    if room.is_projector(key):  # its own key: the teacher's opens the console, not this
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

"""The student's page (``/``): enter the join code and a name, claim a state (or join its
team), then each round choose concede, hedge or escalate with a short justification.
Only this seat's private information is shown here.

A student is known by the Solara session (a cookie the server sets), never by
anything typed or sent by the page.
"""

from __future__ import annotations

import solara

from sim.classroom.room import MAX_JUSTIFICATION, MAX_NAME, Room, RoomError, RoomView
from sim.classroom.room_styles import ROOM_CSS
from sim.classroom.room_views import (
    MOVE_COLORS,
    Countdown,
    clock_line,
    current_room,
    private_html,
    round_table_html,
    use_room,
    use_session,
)
from sim.classroom.seats import ROLE_TITLES
from sim.classroom.ui import CSS, StateChart, Tip, escape
from sim.classroom.words import ACTION_TITLES, outcome_words
from sim.model.names import ACTION_NAMES, Action


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
    room = current_room()
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

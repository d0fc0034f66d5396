"""The classroom page: run a negotiation round by round, on a projector, in a browser.

Launch it with ``stalemate-app`` (serves http://127.0.0.1:8765; ``--host 0.0.0.0``
opens it to the class network). The page is a Solara app built on the Mesa
model (:class:`~sim.classroom.seats.ClassroomModel`):

- the left column holds every control, each with a tooltip: the **scenario**
  (a fresh run of its values), **Step / ▶ Play / Reset**, the **speed** of ▶,
  the settings (what is on the table, detection, rationality, sequencing, the
  horizon, the seed, and the seat a student plays) and the CSV export. **Reset
  builds exactly what the column shows**; a bad seed is refused where it is typed;
- the status line says what is running and how the talks stand;
- tabs: **Run** (shared state, moves, trust, the event log; the seat's buttons),
  **What if…** (branch the run now and watch both side by side, same random
  numbers), **Stage game** (the coming round as a 3 × 3 table with best replies
  and equilibria), **Info** (what the scenario is, how it works, things to notice
  and to try, extending the model; the full description is served at ``/model``).

Charts are drawn by the browser (Vega-Lite; :mod:`sim.classroom.charts`) and
each has Save PNG / Save SVG buttons. Views read snapshots only
(:mod:`sim.classroom.snapshot`); the model is stepped under a lock by a
:class:`~sim.classroom.runner.Runner`.

Why not Mesa's ``SolaraViz``: its play loop steps the model in a thread while
components draw it (the "same first dimension" crash), its parameter panel keeps
its own copy of the values made once at mount (Reset ignored the scenario
picker), and it lays components out in a draggable grid under a "Page 0" tab
with no tooltips or input checks. Mesa 3.5 offers no hook to change these, so
the page is a plain Solara page around the same Mesa model.

The page needs the ``app`` extra (solara, ipyvue<2, ipyvuetify<2, altair).
Solara's and Vega's JavaScript are served from a local cache filled at
installation (``scripts/fetch-solara-assets.py``), so it also works with no network.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import solara
import solara.lab

from sim.classroom.runner import SPEEDS, Runner
from sim.classroom.seats import (
    NOBODY,
    ClassroomModel,
    comparison,
    lesson_model,
    model_kwargs,
    seed_of,
    seed_problem,
)
from sim.classroom.snapshot import Snapshot
from sim.classroom.ui import (
    CSS,
    EventLog,
    MovesChart,
    StateChart,
    Tip,
    TrustCard,
    escape,
    markdown_html,
    stage_game_html,
)
from sim.classroom.words import (
    ACTION_TITLES,
    MODEL_WORDS,
    NOBODY_WORDS,
    REGIME_WORDS,
    TIPS,
    outcome_words,
    regime_words,
    scenario_info,
    scenario_title,
)
from sim.hydra.compose import scenario_description, scenario_kwargs, scenario_names
from sim.model.names import ACTION_NAMES, Action, T, V
from sim.model.validation import ConfigError

DEFAULT_SCENARIO = "baseline_2018"
DEFAULT_SEED = "0"
TITLE = "Stalemate — negotiations round by round"
#: The numeric settings in the left column: (key, label, min, max, step).
SLIDERS = (
    ("assurance", "Security assurance on the table", 0.0, 1.0, 0.05),
    ("relief", "Sanctions relief on the table", 0.0, 1.0, 0.05),
    ("detect_prob", "Detection probability (imagery)", 0.0, 1.0, 0.05),
    ("rationality", "Rationality (0 = at random)", 0.0, 20.0, 0.5),
)
#: Where the model's full description lives (served at /model).
MODEL_DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


# --------------------------------------------------------------------------------------
# Settings: what the left column shows, and the run it builds


def scenario_settings(
    scenario: str, seed: str = DEFAULT_SEED, player: str = NOBODY, model: str = "default"
) -> dict:
    """The left column's values for ``scenario``: its parameters, plus the seed, the seat
    and the lesson model (:data:`~sim.classroom.seats.MODELS`).

    Example:
        >>> s = scenario_settings("relief_first")
        >>> s["scenario"], s["relief"], s["regime"], s["rounds"]
        ('relief_first', 0.5, 'relief_first', 200)
    """
    kw = scenario_kwargs(scenario)
    actors = enabled_actors(kw)
    return {
        "scenario": scenario,
        "assurance": float(kw["assurance"]),
        "relief": float(kw["relief"]),
        "detect_prob": float(kw["detect_prob"]),
        "rationality": float(kw["rationality"]),
        "regime": kw["regime"],
        "rounds": int(kw["rounds"]),
        "seed": seed,
        "player": player if player in actors else NOBODY,
        "model": model,
    }


def enabled_actors(kw: dict) -> list[str]:
    return [n for n, a in kw["actors"].items() if a.get("enabled", True)]


def rounds_range(scenario: str) -> tuple[int, int]:
    """The Rounds slider's range: no shorter than the scenario's last scheduled event."""
    kw = scenario_kwargs(scenario)
    lo = max([1, *(int(e["round"]) for e in kw.get("events") or [])])
    return lo, max(200, int(kw["rounds"]))


def build(settings: dict) -> ClassroomModel:
    """The run the left column describes (what Reset builds).

    Raises:
        ConfigError: for a value the model refuses (the column's checks come first).
    """
    return ClassroomModel(
        scenario_name=settings["scenario"],
        player=settings["player"],
        rng=settings["seed"],
        assurance=settings["assurance"],
        relief=settings["relief"],
        detect_prob=settings["detect_prob"],
        rationality=settings["rationality"],
        regime=settings["regime"],
        rounds=settings["rounds"],
        **model_kwargs(settings["scenario"], settings.get("model", "default")),
    )


def pending_changes(settings: dict, snap: Snapshot) -> list[str]:
    """Settings that differ from the run on screen (they take effect at Reset)."""
    c = snap.config
    out = []
    for key, label, *_ in SLIDERS:
        if abs(float(settings[key]) - float(getattr(c, key))) > 1e-9:
            out.append(f"{label.split(' (')[0].lower()} {settings[key]:g}")
    if settings["regime"] != c.regime:
        out.append(regime_words(settings["regime"]).lower())
    if int(settings["rounds"]) != c.rounds:
        out.append(f"{settings['rounds']} rounds")
    if settings["player"] != snap.player:
        out.append(
            "nobody plays a seat"
            if settings["player"] == NOBODY
            else f"you play {settings['player']}"
        )
    if settings.get("model", "default") != lesson_model(c):
        out.append("the model: " + MODEL_WORDS[settings["model"]].lower())
    seed = settings["seed"].strip()
    if seed and seed_problem(seed) is None and seed_of(seed) != snap.seed:
        out.append(f"seed {seed_of(seed)}")
    return out


@dataclass(frozen=True)
class Controls:
    """What the controls show; it changes only when ▶ starts or stops, the run ends or
    the speed or run changes (so a round redraws the status and the charts only)."""

    playing: bool
    running: bool
    speed: int
    scenario: str
    filename: str
    seat: str | None


def controls_of(snap: Snapshot) -> Controls:
    return Controls(
        playing=bool(snap.extra.get("playing")),
        running=snap.running,
        speed=int(snap.extra.get("speed", SPEEDS[2])),
        scenario=snap.scenario_name,
        filename=snap.filename("rounds"),
        seat=snap.seat,
    )


class Session:
    """One browser tab's page: the left column's settings, the run, and what the buttons do.

    Made once per tab; components get this object (stable) and read the reactive
    values they need, so a round redraws only what shows the round.
    """

    def __init__(self, runner: Runner, settings, snap, controls, message):
        self.settings, self.snap, self.controls, self.message = settings, snap, controls, message
        self.runner = runner
        runner.publish_to = self.publish

    def publish(self, snap: Snapshot) -> None:
        self.snap.set(snap)
        self.controls.set(controls_of(snap))

    def reset(self) -> None:
        """Reset: build exactly what the left column shows, or say why not."""
        problem = seed_problem(self.settings.value["seed"])
        if problem is not None:
            self.message.set("Reset refused: " + problem)
            return
        try:
            model = build(self.settings.value)
        except ConfigError as err:
            self.message.set(f"Reset refused: {err}")
            return
        self.message.set(None)
        self.runner.replace(model)

    def pick_scenario(self, name: str) -> None:
        s = self.settings.value
        self.settings.set(
            scenario_settings(name, s["seed"], s["player"], s.get("model", "default"))
        )
        self.reset()

    def set_seed(self, text: str | None) -> None:
        text = (text or "")[:40]
        self.settings.set({**self.settings.value, "seed": text})
        if self.message.value:  # it spoke of the seed as it was; the box speaks of this one
            self.message.set(None)

    def set(self, key: str, value) -> None:
        self.settings.set({**self.settings.value, key: value})


# --------------------------------------------------------------------------------------
# The left column


@solara.component
def ScenarioPicker(session: Session):
    titles = {scenario_title(n): n for n in scenario_names()}
    current = session.settings.value["scenario"]
    with Tip(TIPS["scenario"]):
        solara.Select(
            "Scenario",
            value=scenario_title(current),
            values=list(titles),
            on_value=lambda t: session.pick_scenario(titles[t]),
            dense=True,
        )
    solara.Text(scenario_description(current), classes=["sm-note"])


@solara.component
def RunControls(session: Session):
    runner, c = session.runner, session.controls.value
    with solara.Row(gap="6px", style={"margin-top": "6px"}):
        with Tip(TIPS["step"]):
            solara.Button(
                "Step",
                on_click=lambda: runner.step(),
                disabled=c.playing or not c.running,
                color="primary",
            )
        with Tip(TIPS["play"]):
            solara.Button(
                "❚❚ Pause" if c.playing else "▶ Play",
                on_click=lambda: runner.pause() if c.playing else runner.play(),
                disabled=not c.running and not c.playing,
                color="primary",
            )
        with Tip(TIPS["reset"]):
            solara.Button("Reset", on_click=session.reset, color="primary", outlined=True)
    with Tip(TIPS["speed"]):
        solara.Text("Speed of ▶ (rounds per second)", classes=["sm-note"])
        solara.ToggleButtonsSingle(
            value=c.speed, values=list(SPEEDS), on_value=runner.set_speed, dense=True
        )


@solara.component
def Settings(session: Session):
    s = session.settings.value
    solara.HTML(
        tag="div", unsafe_innerHTML="Settings (take effect at Reset)", classes=["sm-section"]
    )
    for key, label, lo, hi, step in SLIDERS:
        with Tip(TIPS[key]):
            solara.SliderFloat(
                f"{label}: {s[key]:g}",
                value=s[key],
                min=lo,
                max=hi,
                step=step,
                on_value=lambda value, key=key: session.set(key, value),
                thumb_label=False,
            )
    words = {regime_words(k): k for k in REGIME_WORDS}
    with Tip(TIPS["regime"]):
        solara.Select(
            "Sequencing (who moves first)",
            value=regime_words(s["regime"]),
            values=list(words),
            on_value=lambda w: session.set("regime", words[w]),
            dense=True,
        )
    lo, hi = rounds_range(s["scenario"])
    with Tip(TIPS["rounds"]):
        solara.SliderInt(
            f"Rounds: {s['rounds']}",
            value=s["rounds"],
            min=lo,
            max=hi,
            step=1,
            on_value=lambda value: session.set("rounds", value),
            thumb_label=False,
        )
    with Tip(TIPS["seed"]):
        solara.InputText(
            "Seed (blank: a random one)",
            value=s["seed"],
            on_value=session.set_seed,
            continuous_update=True,
            error=seed_problem(s["seed"]) or False,
            dense=True,
        )
    models = {w: k for k, w in MODEL_WORDS.items()}
    with Tip(TIPS["model"]):
        solara.Select(
            "Model",
            value=MODEL_WORDS[s.get("model", "default")],
            values=list(models),
            on_value=lambda w: session.set("model", models[w]),
            dense=True,
        )
    actors = enabled_actors(scenario_kwargs(s["scenario"]))
    seats = {NOBODY_WORDS: NOBODY, **{a: a for a in actors}}
    shown = NOBODY_WORDS if s["player"] == NOBODY else s["player"]
    with Tip(TIPS["player"]):
        solara.Select(
            "Play as a state",
            value=shown,
            values=list(seats),
            on_value=lambda w: session.set("player", seats[w]),
            dense=True,
        )


@solara.component
def ExportButton(session: Session):
    c = session.controls.value
    with Tip(TIPS["csv"]):
        solara.FileDownload(
            lambda: session.runner.snapshot.trajectory_csv().encode("utf-8"),
            filename=c.filename + ".csv",
            label="Download this run (CSV)",
            icon_name=None,
            mime_type="text/csv",
        )


# --------------------------------------------------------------------------------------
# The status line


def levels_line(snap: Snapshot) -> str:
    x = snap.state.x[0]
    start = snap.compiled.initial[0, V.undeclared]
    return (
        f"Undeclared capability {x[V.undeclared]:.2f} (started at {start:.2f}) · verified "
        f"denuclearization {x[V.denuclearization]:.2f} · tension {x[V.tension]:.2f} · imagery "
        f"caught hedging {int(snap.state.tally[0, T.detections])} times"
    )


def status_html(snap: Snapshot, pending: list[str], message: str | None) -> str:
    """The status line as one piece of HTML (one message to the browser per round)."""
    parts = [
        ("sm-clock stalemate-round", snap.clock()),
        ("sm-outcome stalemate-outcome", snap.outcome_line()),
        (
            "sm-now",
            f"If the talks stopped now: {outcome_words(snap.provisional())}."
            if snap.outcome == "undecided"
            else snap.ending(),
        ),
        ("sm-levels", levels_line(snap)),
        ("sm-running stalemate-table", f"Running: {snap.table_line()}"),
    ]
    if pending:
        parts.append(
            (
                "sm-pending",
                "Changed, not yet running — press Reset to run: " + ", ".join(pending) + ".",
            )
        )
    if message:
        parts.append(("sm-error", message))
    return "".join(f'<span class="{cls}">{escape(text)}</span>' for cls, text in parts)


@solara.component
def StatusBar(snap: Snapshot, pending: list[str], message: str | None):
    solara.HTML(
        tag="div", unsafe_innerHTML=status_html(snap, pending, message), classes=["sm-status"]
    )


# --------------------------------------------------------------------------------------
# Tabs


@solara.component
def PlayCard(runner: Runner, snap: Snapshot):
    """The seat a student plays: what happened last round, then this round's three buttons."""
    actor = snap.seat
    if actor is None:
        return
    roles = dict(zip(snap.names, snap.structure.roles))
    from sim.model.actors import describe_action

    with solara.Div(classes=["sm-card"], style={"margin": "6px 0"}):
        t = snap.round
        turns = {turn.round: turn for turn in snap.turns}
        if t >= 1:
            acts = snap.history.actions[0, t]
            me = turns.get(t)
            parts = []
            if me is not None:
                you = ACTION_NAMES[me.played]
                how = {
                    "student": "you chose",
                    "model": "the model played for you",
                    "event": "an event forced",
                }[me.source]
                line = f"{snap.when(t).capitalize()}: {how} {you}"
                if me.source == "student":
                    p = me.probabilities[int(me.policy)]
                    line += (
                        f"; the model in your seat would have played {ACTION_NAMES[me.policy]}"
                        f" ({p:.0%} likely)."
                    )
                parts.append(line)
            others = [
                f"{n} {describe_action(roles[n], int(acts[i]))}"
                for i, n in enumerate(snap.names)
                if n != actor and acts[i] >= 0
            ]
            parts.append("The others: " + "; ".join(others) + ".")
            if snap.history.flag[0, t]:
                parts.append(
                    "Imagery flagged the " + snap.names[snap.structure.target] + " this round."
                )
            for p in parts:
                solara.Text(p)
        if snap.running:
            solara.Text(
                f"You are {actor}. Choose your move for {snap.when(t + 1)}:", classes=["sm-big"]
            )
            if snap.seat_forced is not None:
                solara.Text(
                    f"A scheduled event forces you to {ACTION_NAMES[snap.seat_forced]} this round."
                )
            with solara.Div(classes=["sm-move-btns"]):
                for a in Action:
                    words = describe_action(roles[actor], a)
                    with Tip(f"{ACTION_TITLES[a]}: {actor} {words}"):
                        solara.Button(
                            ACTION_TITLES[a],
                            on_click=lambda a=a: runner.step(choice=a),
                            disabled=bool(snap.extra.get("playing")),
                            color={"concede": "#2a9d8f", "hedge": "#e9c46a", "escalate": "#e76f51"}[
                                ACTION_NAMES[a]
                            ],
                        )
            solara.Text("Step and ▶ let the model play your seat.", classes=["sm-note"])
        else:
            Ending(runner, snap)


@solara.component
def Ending(runner: Runner, snap: Snapshot):
    c = solara.use_memo(lambda: comparison(runner.model), [snap.version])
    solara.Text(f"The end. You played {c['actor']} in {c['chosen']} of {c['rounds']} rounds.")
    solara.Text(
        f"Your run: {outcome_words(c['outcome'])} after {c['rounds']} rounds. The model's own "
        f"policy, same seed: {outcome_words(c['reference_outcome'])} after {c['reference_rounds']} rounds."
    )
    you, ref = c["counts"], c["reference_counts"]
    solara.Text(
        "You conceded {concede}, hedged {hedge}, escalated {escalate} times; ".format(**you)
        + "the model: {concede}, {hedge}, {escalate}.".format(**ref)
    )
    if c["chosen"]:
        solara.Text(
            f"In {c['agree']} of the {c['chosen']} rounds you chose, you played what the model's "
            "policy drew in the same situation."
        )


@solara.component
def RunTab(session: Session, snap: Snapshot):
    runner = session.runner
    PlayCard(runner, snap)
    with solara.Div(classes=["sm-grid"]):
        with solara.Div(classes=["sm-card"]):
            StateChart(snap)
        with solara.Div(classes=["sm-card"]):
            MovesChart(snap)
        TrustCard(snap)
        EventLog(snap)


@solara.component
def WhatIfTab(session: Session, snap: Snapshot):
    runner = session.runner
    whatif = snap.extra.get("whatif")
    c = snap.config
    relief, set_relief = solara.use_state(max(0.5, float(c.relief)))
    assurance, set_assurance = solara.use_state(float(c.assurance))
    detect, set_detect = solara.use_state(float(c.detect_prob))
    offer, set_offer = solara.use_state(True)
    error, set_error = solara.use_state(None)
    upto = (snap.round if snap.running else whatif.end) if whatif is not None else 0
    cf = solara.use_memo(
        lambda: whatif.upto(upto) if whatif is not None else None, [id(whatif), upto]
    )

    def do_branch():
        try:
            runner.branch(offer=offer, relief=relief, assurance=assurance, detect_prob=detect)
            set_error(None)
        except (ValueError, ConfigError) as err:
            set_error(f"Cannot branch here: {err}.")

    if whatif is None:
        with solara.Div(classes=["sm-card"], style={"max-width": "760px"}):
            solara.HTML(
                tag="h3", unsafe_innerHTML=f"What if, from {escape(snap.when(snap.round + 1))} on…"
            )
            solara.Text(
                "Start a second run from this very round with a change, and watch both side by side. "
                "Both draw the same random numbers, so any difference is caused by the change, not by luck. "
                "From the branch on, the model plays every seat of the what-if run.",
                classes=["sm-note"],
            )
            with Tip(TIPS["branch_offer"]):
                solara.Checkbox(
                    label="Sanctions relief is offered now (+0.2 relief)",
                    value=offer,
                    on_value=set_offer,
                )
            with Tip(TIPS["branch_relief"]):
                solara.SliderFloat(
                    "Sanctions relief on the table from now on",
                    value=relief,
                    min=0,
                    max=1,
                    step=0.05,
                    on_value=set_relief,
                    thumb_label="always",
                )
            with Tip(TIPS["branch_assurance"]):
                solara.SliderFloat(
                    "Security assurance on the table from now on",
                    value=assurance,
                    min=0,
                    max=1,
                    step=0.05,
                    on_value=set_assurance,
                    thumb_label="always",
                )
            with Tip(TIPS["branch_detect"]):
                solara.SliderFloat(
                    "Detection probability from now on",
                    value=detect,
                    min=0,
                    max=1,
                    step=0.05,
                    on_value=set_detect,
                    thumb_label="always",
                )
            with Tip(TIPS["branch"]):
                solara.Button(
                    "Branch here: what if?",
                    on_click=do_branch,
                    color="primary",
                    disabled=not snap.running,
                )
            if not snap.running:
                solara.Text(
                    "The run has ended: press Reset and branch during the run.",
                    classes=["sm-error"],
                )
            if error:
                solara.Text(error, classes=["sm-error"])
        return
    with solara.Row(style={"align-items": "center", "gap": "12px"}):
        solara.Text(
            f"What if, from {snap.when(whatif.at_round)}: {whatif.label}. Same seed ({snap.seed}), same random numbers.",
            classes=["sm-big"],
        )
        with Tip(TIPS["finish"]):
            solara.Button(
                "Play both to the end",
                on_click=runner.finish,
                disabled=not snap.running,
                outlined=True,
            )
        with Tip(TIPS["branch_off"]):
            solara.Button("Close the what-if", on_click=runner.unbranch, outlined=True)
    with solara.Div(classes=["sm-grid"]):
        for title, run in (("As it happens", snap), ("What if", cf)):
            with solara.Div(classes=["sm-card"]):
                solara.HTML(tag="h3", unsafe_innerHTML=escape(f"{title}: {run.clock()}"))
                solara.Text(run.outcome_line(), classes=["sm-outcome"])
                solara.Text(
                    run.ending()
                    if run.outcome != "undecided"
                    else f"If the talks stopped now: {outcome_words(run.provisional())}."
                )
                StateChart(run, title=title, height=200)
                solara.Text(levels_line(run), classes=["sm-levels"])


@solara.component
def StageGameTab(session: Session, snap: Snapshot):
    show = snap.seat is None or not snap.running
    body = solara.use_memo(lambda: stage_game_html(snap, show_play=show), [snap.version, show])
    with solara.Div(classes=["sm-card"], style={"max-width": "900px"}):
        solara.HTML(tag="div", unsafe_innerHTML=body, classes=["stalemate-stage"])


@solara.component
def InfoTab(session: Session):
    scenario = session.controls.value.scenario
    info = scenario_info(scenario, scenario_description(scenario))
    with solara.Div(classes=["sm-card", "sm-info"], style={"max-width": "900px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=escape(scenario_title(scenario)))
        body = solara.use_memo(
            lambda: "".join(
                f"<h2>{escape(title)}</h2>{markdown_html(text)}" for title, text in info.items()
            ),
            [scenario],
        )
        solara.HTML(tag="div", unsafe_innerHTML=body, classes=["sm-md"])
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                "The whole model — every mechanism, equation and parameter — is described in "
                '<a href="model" target="_blank">the model description (docs/model.md)</a>.'
            ),
        )


# --------------------------------------------------------------------------------------
# The page


def initial_settings() -> dict:
    return scenario_settings(DEFAULT_SCENARIO)


@solara.component
def Main(session: Session, tab: solara.Reactive):
    """The status line and the tabs: the one part of the page that follows the rounds."""
    snap = session.snap.value  # the only reader of the round-by-round state: one redraw a round
    pending = pending_changes(session.settings.value, snap)
    with solara.Div(classes=["sm-main"]):
        StatusBar(snap, pending, session.message.value)
        with solara.lab.Tabs(value=tab, lazy=True):
            with solara.lab.Tab("Run"):
                RunTab(session, snap)
            with solara.lab.Tab("What if…"):
                WhatIfTab(session, snap)
            with solara.lab.Tab("Stage game"):
                StageGameTab(session, snap)
            with solara.lab.Tab("Info"):
                InfoTab(session)


@solara.component
def Page():
    """The classroom page (one per browser tab: each has its own run).

    The page itself reads no round-by-round state: only the status line and the open
    tab redraw after a round.
    """
    settings = solara.use_reactive(initial_settings())
    runner = solara.use_memo(lambda: Runner(build(settings.value)), [])
    snap = solara.use_reactive(runner.snapshot)
    controls = solara.use_reactive(controls_of(runner.snapshot))
    message = solara.use_reactive(None)
    tab = solara.use_reactive(0)
    session = solara.use_memo(lambda: Session(runner, settings, snap, controls, message), [])

    def stop_on_close():
        return lambda: session.runner.pause(publish=False)

    solara.use_effect(stop_on_close, [])
    solara.Style(CSS)
    solara.Title(TITLE)
    with solara.Div(classes=["sm-app"]):
        with solara.Div(classes=["sm-header"]):
            solara.HTML(tag="h1", unsafe_innerHTML=escape(TITLE))
            solara.Div(classes=["sm-spacer"])
            solara.HTML(
                tag="a",
                unsafe_innerHTML="Model description",
                attributes={"href": "model", "target": "_blank"},
            )
        with solara.Div(classes=["sm-body"]):
            with solara.Div(classes=["sm-side"]):
                ScenarioPicker(session)
                RunControls(session)
                Settings(session)
                ExportButton(session)
            Main(session, tab)


@solara.component
def ModelDoc():
    """The model's full description (docs/model.md), served at /model."""
    body = solara.use_memo(
        lambda: (
            markdown_html(MODEL_DOC.read_text(encoding="utf-8")) if MODEL_DOC.is_file() else None
        ),
        [],
    )
    solara.Style(CSS)
    solara.Title("Stalemate — model description")
    with solara.Div(style={"max-width": "980px", "margin": "0 auto", "padding": "12px 20px"}):
        if body is not None:
            solara.HTML(tag="div", unsafe_innerHTML=body, classes=["sm-md", "sm-info"])
        else:
            solara.Text(
                "The model description (docs/model.md) is not installed with this copy; "
                "read it in the project's repository."
            )


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's children convention
    """No app bar or navigation: the page draws its own header."""
    return solara.Div(children=children)


routes = [
    solara.Route(path="/", component=Page, label="Stalemate", layout=Layout),
    solara.Route(path="model", component=ModelDoc, label="Model description"),
]


# The ``stalemate-app`` console script (``python -m sim.classroom.page_cli``) is
# :mod:`sim.classroom.page_cli`: it checks the command line and opens the port before
# Solara and this module are imported, then Solara loads this module by name.

if __name__ == "__main__":
    print(
        "stalemate-app: this module is the page Solara serves; start it with stalemate-app "
        "(python -m sim.classroom.page_cli)",
        file=sys.stderr,
    )
    raise SystemExit(2)

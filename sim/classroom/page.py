"""The classroom page: a Mesa SolaraViz page to run a negotiation round by round.

Launch it with ``stalemate-app`` (serves http://127.0.0.1:8765) or
``solara run sim/classroom/page.py --host 127.0.0.1``. On the page:

- **Scenario** picks a scenario from ``configs/scenario/`` and starts a fresh run;
- **Model Parameters** sets what is on the table (assurance, relief), the
  detection probability of satellite imagery, the actors' rationality, the
  sequencing regime, the horizon, the seed and the seat a student plays; a
  change takes effect at **Reset**;
- **Step / ▶ / Reset** play the run;
- the charts show the shared state over rounds, each actor's actions as a
  timeline, and the trust between actors; the event log tells the run in plain
  words; the status card gives the round and the outcome class;
- **Play as a state** lets a student choose one actor's action each round and,
  at the end, compares the run with the model's own policy on the same seed.

The page needs the ``app`` extra (solara, ipyvue<2, ipyvuetify<2). Solara's
front-end JavaScript is served from a local cache filled at installation
(``scripts/fetch-solara-assets.py``), so the page also works with no network.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from pathlib import Path

import numpy as np
import solara
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.classroom.seats import NOBODY, ClassroomModel, comparison
from sim.hydra.compose import scenario_description, scenario_kwargs, scenario_names
from sim.model.decisions import felt_relief
from sim.model.names import ACTION_NAMES, Action, Outcome, T, V
from sim.model.outcomes import classify_final
from sim.model.params import P
from sim.model.sequencing import REGIMES
from sim.report.narrate import ending, narrate
from sim.report.plots import ACTION_COLORS, STATE_LABELS

DEFAULT_SCENARIO = "baseline_2018"
DEFAULT_SEED = "0"
HOST, PORT = "127.0.0.1", 8765
TITLE = "Stalemate — negotiations round by round"

#: Shared-state lines on the chart: (variable, colour, line style).
STATE_LINES = (
    ("assurance", "#1d3557", "-"),
    ("relief", "#2a9d8f", "-"),
    ("felt_relief", "#2a9d8f", ":"),
    ("denuclearization", "#6a4c93", "-"),
    ("undeclared", "#e9a03b", "-"),
    ("tension", "#e76f51", "-"),
)
CSS = """
.v-slider__thumb-label-container { display: block !important; }  /* slider values always shown */
.v-input__slider { padding-top: 26px; }
.stalemate-chart img { max-width: 100%; height: auto; }
.stalemate-log { max-height: 300px; overflow-y: auto; font-size: 0.9em; line-height: 1.35; }
.stalemate-log p { margin: 0 0 0.45em 0; }
.stalemate-round { font-size: 1.5em; font-weight: 600; }
.stalemate-outcome { font-size: 1.15em; font-weight: 600; }
"""
OUTCOME_WORDS = {
    "undecided": "undecided — the talks go on",
    "agreement": "agreement",
    "stalemate": "stalemate",
    "hedged_stalemate": "hedged stalemate",
    "breakdown": "breakdown (a crisis)",
}


def model_params(scenario: str) -> dict:
    """SolaraViz ``model_params`` for a scenario: its values as the sliders' start.

    Example:
        >>> params = model_params("relief_first")
        >>> params["scenario_name"], params["relief"]["value"], params["regime"]["value"]
        ('relief_first', 0.5, 'relief_first')
    """
    kw = scenario_kwargs(scenario)
    actors = [n for n, a in kw["actors"].items() if a.get("enabled", True)]

    def slider(label, key, lo, hi, step):
        return {
            "type": "SliderFloat",
            "label": label,
            "value": float(kw[key]),
            "min": lo,
            "max": hi,
            "step": step,
        }

    return {
        "scenario_name": scenario,
        "assurance": slider("Security assurance on the table", "assurance", 0.0, 1.0, 0.05),
        "relief": slider("Sanctions relief on the table", "relief", 0.0, 1.0, 0.05),
        "detect_prob": slider("Detection probability (imagery)", "detect_prob", 0.0, 1.0, 0.05),
        "rationality": slider("Rationality (0 = random)", "rationality", 0.0, 20.0, 0.5),
        "regime": {
            "type": "Select",
            "label": "Sequencing regime",
            "value": kw["regime"],
            "values": list(REGIMES),
        },
        # no shorter than the scenario's last scheduled event (the replay's run to Feb 2019)
        "rounds": {
            "type": "SliderInt",
            "label": "Rounds",
            "value": int(kw["rounds"]),
            "min": max([1, *(int(e["round"]) for e in kw.get("events") or [])]),
            "max": max(200, int(kw["rounds"])),
            "step": 1,
        },
        "rng": {"type": "InputText", "label": "Seed (blank: random)", "value": DEFAULT_SEED},
        "player": {
            "type": "Select",
            "label": "Play as (then Reset)",
            "value": NOBODY,
            "values": [NOBODY, *actors],
        },
    }


def initial_model(scenario: str) -> ClassroomModel:
    """The run a page shows before anything is touched: the scenario's values, seed 0."""
    params = model_params(scenario)
    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    return ClassroomModel(**values)


# --------------------------------------------------------------------------------------
# Figures (pure matplotlib, no pyplot: safe in the server's threads)


def _xlim(ax, model) -> np.ndarray:
    t = model.round
    ax.set_xlim(0, max(t, 10) + 0.5)
    ax.set_xlabel("round")
    ax.grid(alpha=0.3)
    return np.arange(t + 1)


def state_figure(model) -> Figure:
    """The shared state over the rounds played so far."""
    h, theta = model.history, model.compiled.theta[0]
    t = model.round
    fig = Figure(figsize=(5.0, 3.0), dpi=100)
    ax = fig.subplots()
    rounds = _xlim(ax, model)
    x = h.x[0, : t + 1]
    for var, color, style in STATE_LINES:
        if var == "felt_relief":
            y = felt_relief(x[:, V["relief"]], x[:, V["enforcement"]])
        else:
            y = x[:, V[var]]
        ax.plot(
            rounds,
            y,
            color=color,
            ls=style,
            lw=1.6,
            label=STATE_LABELS[var],
            marker="o" if t < 2 else None,
            ms=3,
        )
    ax.axhline(theta[P.agreement_threshold], color="#2a9d8f", lw=0.8, ls="--", alpha=0.6)
    ax.axhline(theta[P.breakdown_threshold], color="#e76f51", lw=0.8, ls="--", alpha=0.6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("level (0–1)")
    ax.set_title("Shared state (dashed: agreement bar, crisis line)", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2, loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.91, bottom=0.14)
    return fig


def actions_figure(model) -> Figure:
    """Each actor's action in every round played, as a coloured timeline."""
    h, p = model.history, model.structure
    t = model.round
    names = list(p.names)
    fig = Figure(figsize=(5.0, 3.0), dpi=100)
    ax = fig.subplots()
    _xlim(ax, model)
    ax.set_xlim(0.5, max(t, 10) + 0.5)
    acts = h.actions[0, 1 : t + 1].T.astype(float)  # (actors, rounds)
    acts[acts < 0] = np.nan
    cmap = ListedColormap([ACTION_COLORS[a] for a in ACTION_NAMES])
    if t:
        ax.imshow(
            acts,
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=2.5,
            interpolation="nearest",
            extent=(0.5, t + 0.5, len(names) - 0.5, -0.5),
        )
    flagged = np.flatnonzero(h.flag[0, 1 : t + 1]) + 1
    ax.scatter(
        flagged,
        np.full(len(flagged), p.target),
        marker="x",
        color="black",
        s=28,
        label="imagery flags the " + names[p.target],
        zorder=3,
    )
    for r in model.events_by_round:
        if r <= t:
            ax.axvline(r - 0.5, color="black", lw=0.8, ls=":")
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(False)
    handles = [
        ax.scatter([], [], marker="s", s=40, color=ACTION_COLORS[a], label=a) for a in ACTION_NAMES
    ]
    ax.legend(
        handles=[*handles, *ax.collections[:1]],
        fontsize=6.5,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        frameon=False,
    )
    ax.set_title("Actions (dotted: scheduled events)", fontsize=9)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.91, bottom=0.24)
    return fig


def trust_figure(model) -> Figure:
    """Each actor's trust in its counterpart over the rounds, and the trust matrix now."""
    h, p = model.history, model.structure
    t = model.round
    names = list(p.names)
    fig = Figure(figsize=(5.0, 3.0), dpi=100)
    ax, mat = fig.subplots(1, 2, width_ratios=(2.2, 1))
    rounds = _xlim(ax, model)
    colors = ("#1d3557", "#e63946", "#457b9d", "#f4a261", "#6a4c93", "#2a9d8f")
    for i, name in enumerate(names):
        cp = names[p.counterpart[i]]
        ax.plot(
            rounds,
            h.trust[0, : t + 1, i],
            color=colors[i % len(colors)],
            lw=1.6,
            label=f"{name} → {cp}",
            marker="o" if t < 2 else None,
            ms=3,
        )
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("trust (0–1)")
    ax.legend(fontsize=6.5, loc="upper left", frameon=False)
    ax.set_title("Trust in the counterpart", fontsize=9)
    trust = model.trust_matrix()
    mat.imshow(trust, vmin=0, vmax=1, cmap="Blues")
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j:
                mat.text(
                    j,
                    i,
                    f"{trust[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if trust[i, j] > 0.6 else "black",
                )
    mat.set_xticks(range(len(names)), names, fontsize=6, rotation=90)
    mat.set_yticks(range(len(names)), names, fontsize=6)
    mat.set_title(f"who trusts whom\n(round {t})", fontsize=8)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.88, bottom=0.16, wspace=0.35)
    return fig


# --------------------------------------------------------------------------------------
# Components (each takes the model; update_counter makes them redraw after a step)


def _figure(fig: Figure, model):
    with solara.Column(classes=["stalemate-chart"]):
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), model.round])


@solara.component
def StateChart(model):
    """Shared state over rounds."""
    update_counter.get()
    _figure(state_figure(model), model)


@solara.component
def ActionsChart(model):
    """Each actor's actions as a timeline."""
    update_counter.get()
    _figure(actions_figure(model), model)


@solara.component
def TrustChart(model):
    """Trust between actors."""
    update_counter.get()
    _figure(trust_figure(model), model)


def provisional(model) -> str:
    """The outcome class the run would get if the talks stopped now."""
    if model.outcome != "undecided":
        return model.outcome
    tally = model.state.tally[0]
    stalled = int(tally[T.round] - tally[T.progress_round])
    code = int(
        classify_final(
            model.state.x[0], model.compiled.initial[0], model.compiled.theta[0], stalled
        )
    )
    return Outcome(code).name.lower()


def table_line(model) -> str:
    """What is on the table in this run, in one line."""
    c = model.config
    return (
        f"{model.scenario_name} · {c.regime.replace('_', ' ')} · assurance {c.assurance:.2f} · "
        f"relief {c.relief:.2f} · detection {c.detect_prob:.2f} · rationality "
        f"{c.rationality:g} · seed {model.seed}"
    )


@solara.component
def StatusCard(model):
    """The round counter, the outcome class, and what is on the table."""
    update_counter.get()
    p = model.structure
    with solara.Card("Where the talks stand"), solara.Column(gap="6px"):
        solara.Text(f"Round {model.round} of {p.rounds}", classes=["stalemate-round"])
        solara.Text(f"Outcome: {OUTCOME_WORDS[model.outcome]}", classes=["stalemate-outcome"])
        if model.outcome == "undecided":
            now = provisional(model).replace("_", " ")
            solara.Text(f"If the talks stopped now: {now}.")
        else:
            solara.Text(ending(model))
        x = model.state.x[0]
        solara.Text(
            f"Undeclared capability {x[V['undeclared']]:.2f} (started at "
            f"{model.compiled.initial[0, V.undeclared]:.2f}) · verified denuclearization "
            f"{x[V['denuclearization']]:.2f} · tension {x[V['tension']]:.2f} · "
            f"imagery caught hedging {int(model.state.tally[0, T.detections])} times"
        )
        solara.Text(
            f"On the table: {table_line(model)}",
            classes=["stalemate-table"],
            style={"font-size": "0.85em"},
        )


def log_lines(model) -> list[str]:
    """The plain-language event log, newest first."""
    if model.round == 0:
        return ["Round 0 — the parties sit down. Press Step or ▶ to play."]
    lines = narrate(model, max_rounds=model.structure.rounds, color=False).splitlines()
    story, end = lines[:-1], lines[-1]
    if model.outcome != "undecided" or model.round >= model.structure.rounds:
        story.append(end)
    return story[::-1]


@solara.component
def EventLog(model):
    """The run told in plain words (newest first)."""
    update_counter.get()
    body = "".join(f"<p>{html.escape(line)}</p>" for line in log_lines(model))
    with solara.Card("Event log (newest first)"):
        solara.HTML(tag="div", unsafe_innerHTML=body, classes=["stalemate-log"])


@solara.component
def PlayCard(model):
    """Play one actor's seat: choose its action each round."""
    update_counter.get()
    seat = model.seat
    finished = seat is not None and not model.running
    # the reference run (same seed, the model in every seat) is played once, at the end
    summary = solara.use_memo(
        lambda: comparison(model) if finished else None, [id(model), model.round, finished]
    )
    with solara.Card("Play as a state"), solara.Column(gap="6px"):
        if seat is None:
            solara.Text(
                "Pick a state under 'Play as' in Model Parameters, then press Reset. "
                "Each round you choose its action; the other states are the model's "
                "agents. Step and ▶ let the model play your seat."
            )
            return
        if model.running:
            forced = seat.forced_next()
            probs = seat.probabilities()
            solara.Text(f"You are {seat.actor}. Round {model.round + 1} is next.")
            solara.Text(
                f"The model's {seat.policy_name} policy would play: "
                f"concede {probs[0]:.0%}, hedge {probs[1]:.0%}, escalate {probs[2]:.0%}"
                if seat.policy_name == "logit"
                else f"The model plays this seat by the {seat.policy_name} rule."
            )
            if forced is not None:
                solara.Text(f"A scheduled event forces {ACTION_NAMES[forced]} this round.")

            def play(action: Action):
                if model.running:
                    seat.choice = action
                    model.step()
                    force_update()

            words = model.agent(seat.actor).describe
            with solara.Row():
                for a in Action:
                    solara.Button(
                        ACTION_NAMES[a].capitalize(),
                        color=ACTION_COLORS[ACTION_NAMES[a]],
                        on_click=lambda a=a: play(a),
                        small=True,
                    )
            for a in Action:
                solara.Text(
                    f"{ACTION_NAMES[a]}: {seat.actor} {words(a)}", style={"font-size": "0.85em"}
                )
            return
        c = summary
        solara.Text(f"The end. You played {c['actor']} in {c['chosen']} of {c['rounds']} rounds.")
        solara.Text(
            f"Your run: {c['outcome'].replace('_', ' ')} after {c['rounds']} rounds. "
            f"The model's own policy, same seed: {c['reference_outcome'].replace('_', ' ')} "
            f"after {c['reference_rounds']} rounds."
        )
        you, ref = c["counts"], c["reference_counts"]
        solara.Text(
            "You conceded {concede}, hedged {hedge}, escalated {escalate} times; ".format(**you)
            + "the model: {concede}, {hedge}, {escalate}.".format(**ref)
        )
        if c["chosen"]:
            solara.Text(
                f"In {c['agree']} of the {c['chosen']} rounds you chose, you played what "
                "the model's policy drew in the same situation."
            )


@solara.component
def StageGameCard(model):
    """The coming round's stage game between the USA and the DPRK (payoffs, equilibria)."""
    update_counter.get()
    from sim.analysis.stagegame import format_stage_game, stage_game

    p = model.structure
    a, b = p.names[p.principal], p.names[p.target]
    text = format_stage_game(stage_game(model, a, b))
    with solara.Card(f"Stage game: {a} vs {b} this round"):
        solara.Text(
            "Each cell: the two states' utilities, as the model scores them from "
            "where the talks stand now. * marks a best reply.",
            style={"font-size": "0.85em"},
        )
        solara.HTML(
            tag="pre",
            unsafe_innerHTML=html.escape(text),
            style={"font-size": "0.75em", "white-space": "pre-wrap"},
        )


COMPONENTS = [StatusCard, StateChart, ActionsChart, TrustChart, EventLog, PlayCard, StageGameCard]


@solara.component
def Page():
    """The whole page: a scenario picker, then Mesa's SolaraViz with the classroom components."""
    scenario, set_scenario = solara.use_state(DEFAULT_SCENARIO)
    model = solara.use_memo(lambda: initial_model(scenario), [scenario])
    solara.Style(CSS)
    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select(
                "Scenario", value=scenario, values=scenario_names(), on_value=set_scenario
            )
            solara.Text(scenario_description(scenario), style={"font-size": "0.85em"})
    # a new scenario remounts SolaraViz, so its sliders start from the scenario's values
    SolaraViz(
        model,
        components=list(COMPONENTS),
        model_params=model_params(scenario),
        name=TITLE,
        play_interval=101,
    ).key(f"viz-{scenario}")


# --------------------------------------------------------------------------------------
# The ``stalemate-app`` console script


def asset_cache_dir() -> Path:
    """Where Solara's server looks for its cached front-end files."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def main(argv: list[str] | None = None) -> int:
    """Serve the page (entry point of ``stalemate-app``)."""
    parser = argparse.ArgumentParser(prog="stalemate-app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST, help=f"address to listen on (default {HOST})")
    parser.add_argument(
        "--port", type=int, default=PORT, help=f"port (default {PORT}; 0: any free)"
    )
    parser.add_argument(
        "--dev", action="store_true", help="solara's development mode (auto-reload)"
    )
    args, extra = parser.parse_known_args(argv)
    cache = asset_cache_dir()
    if not any(cache.glob("@widgetti/solara-vuetify*-app@*")):
        print(
            f"stalemate-app: Solara's front-end files are not in {cache}; without a network the "
            "page stays a blank spinner. Fill the cache with: python scripts/fetch-solara-assets.py",
            file=sys.stderr,
        )
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home
    env.setdefault("SOLARA_ASSETS_PROXY", "True")  # serve the JavaScript from the local cache
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.classroom.page",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--no-open",
    ]
    if not args.dev:
        cmd.append("--production")
    print(f"Stalemate classroom page on http://{args.host}:{args.port}  (Ctrl-C stops it)")
    os.execve(sys.executable, cmd + extra, env)
    return 0  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main())

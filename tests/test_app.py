"""The classroom page without a browser: render it in-process, find widgets, click.

``solara.render(solara.AppLayout(children=[Page()]))`` builds the widget tree
a browser would show; the tests press Mesa's Step and Reset, move a slider,
pick a scenario and play a seat, and read the status card, log and charts.
"""

from __future__ import annotations

import os
import re

import pytest

if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
    pytest.importorskip("solara", reason="the page needs the app extra: pip install -e '.[app]'")

import ipyvuetify as v  # noqa: E402
import ipywidgets  # noqa: E402
import solara  # noqa: E402

from sim.classroom import page as app  # noqa: E402
from sim.classroom.seats import ClassroomModel  # noqa: E402


@pytest.fixture
def page():
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def text_of(rc, css_class: str) -> str:
    return rc.find(v.Html, class_=css_class).widget.children[0]


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def charts(rc) -> list[bytes]:
    return [bytes(w.value) for w in rc.find(ipywidgets.Image).widgets]


def log_html(rc) -> str:
    return rc.find(attributes={"class": "stalemate-log"}).widget.unsafe_innerHTML


def test_page_shows_controls_charts_log_and_status(page):
    assert text_of(page, "stalemate-round") == "Round 0 of 200"
    assert text_of(page, "stalemate-outcome") == "Outcome: undecided — the talks go on"
    for label in ("Reset", "▶", "Step"):
        page.find(v.Btn, children=[label]).assert_single()
    for label in (
        "Security assurance on the table",
        "Sanctions relief on the table",
        "Detection probability (imagery)",
        "Rationality (0 = random)",
    ):
        page.find(v.Slider, label=label).assert_single()
    assert page.find(v.Select, label="Sequencing regime").widget.items == [
        "denuclearization_first",
        "action_for_action",
        "relief_first",
    ]
    assert "baseline_2018" in page.find(v.Select, label="Scenario").widget.items
    assert len(charts(page)) == 3  # shared state, actions timeline, trust
    assert "the parties sit down" in log_html(page)


def test_step_advances_round_chart_and_log(page):
    before = charts(page)
    click(page, "Step")
    assert text_of(page, "stalemate-round") == "Round 1 of 200"
    after = charts(page)
    assert all(a != b for a, b in zip(before, after))  # every chart redrew
    page.find(v.Slider, label="Render Interval (steps)").widget.v_model = 11
    click(page, "Step")  # Mesa's Step plays `render interval` rounds, then redraws
    assert text_of(page, "stalemate-round") == "Round 12 of 200"
    log = log_html(page)
    assert "Round" in log and ("hedge" in log or "concede" in log)


def test_slider_takes_effect_after_reset(page):
    page.find(v.Slider, label="Security assurance on the table").widget.v_model = 0.75
    page.find(v.Select, label="Sequencing regime").widget.v_model = "relief_first"
    assert "assurance 0.40" in text_of(page, "stalemate-table")  # not before Reset
    click(page, "Step")
    click(page, "Reset")
    table = text_of(page, "stalemate-table")
    assert "assurance 0.75" in table and "relief first" in table
    assert text_of(page, "stalemate-round") == "Round 0 of 200"


def test_scenario_choice_sets_the_sliders(page):
    page.find(v.Select, label="Scenario").widget.v_model = "relief_first"
    assert page.find(v.Slider, label="Sanctions relief on the table").widget.v_model == 0.5
    assert page.find(v.Select, label="Sequencing regime").widget.v_model == "relief_first"
    assert text_of(page, "stalemate-table").startswith("On the table: relief_first")
    click(page, "Step")
    assert text_of(page, "stalemate-round") == "Round 1 of 200"


def test_play_as_a_state_on_the_page(page):
    page.find(v.Slider, label="Rounds").widget.v_model = 10
    page.find(v.Select, label="Play as (then Reset)").widget.v_model = "DPRK"
    click(page, "Reset")
    assert any(
        "You are DPRK. Round 1 is next." in w.children[0]
        for w in page.find(v.Html, tag="span").widgets
        if w.children
    )
    for label in ("Concede", "Concede", "Escalate"):
        click(page, label)
    assert text_of(page, "stalemate-round") == "Round 3 of 10"
    page.find(v.Slider, label="Render Interval (steps)").widget.v_model = 9
    click(page, "Step")  # the model plays the seat for the remaining rounds
    assert text_of(page, "stalemate-round") == "Round 10 of 10"
    spans = " ".join(
        w.children[0]
        for w in page.find(v.Html, tag="span").widgets
        if w.children and isinstance(w.children[0], str)
    )
    assert "The end. You played DPRK in 3 of 10 rounds." in spans
    assert "The model's own policy, same seed:" in spans
    counts = re.search(r"You conceded (\d+), hedged (\d+), escalated (\d+) times", spans)
    conceded, hedged, escalated = map(int, counts.groups())
    assert conceded + hedged + escalated == 10 and conceded >= 2 and escalated >= 1


def test_model_params_match_the_model():
    """Every scenario's page parameters build a model (what Reset does)."""
    from sim.hydra.compose import scenario_names

    for name in scenario_names():
        params = app.model_params(name)
        values = {k: (p["value"] if isinstance(p, dict) else p) for k, p in params.items()}
        m = ClassroomModel(**values)
        assert m.scenario_name == name and m.seed == 0


def test_figures_after_a_finished_run():
    m = ClassroomModel(scenario_name="grit", rounds=30, rng=1)
    m.run()
    for make in (app.state_figure, app.actions_figure, app.trust_figure):
        fig = make(m)
        assert fig.axes
    assert app.log_lines(m)[0] == app.ending(m)
    assert app.provisional(m) == m.outcome


def test_widget_libraries_are_the_ones_that_render():
    """ipyvue/ipyvuetify 3 leave SolaraViz's plot area blank (mesa#3806): the app extra pins < 2."""
    from importlib.metadata import version

    assert int(version("ipyvue").split(".")[0]) < 2
    assert int(version("ipyvuetify").split(".")[0]) < 2


def stage_html(rc) -> str:
    return "".join(
        w.unsafe_innerHTML
        for w in rc.find(solara.widgets.HTML).widgets
        if "Nash" in w.unsafe_innerHTML
    )


def test_stage_game_card_shows_the_matrix_and_follows_the_round(page):
    text = stage_html(page)
    assert "Stage game of round 1: USA (rows) vs DPRK (columns)" in text
    assert "Pure Nash equilibria" in text and "Mixed Nash equilibria" in text
    click(page, "Step")
    assert "Stage game of round 2" in stage_html(page)

"""Charts the browser draws: Vega-Lite specs built once with Altair, fed new rows each round.

Why not matplotlib PNGs (as before): encoding three PNGs took 0.8–1.9 s of
server time per step; the model step takes microseconds. Here the server sends
only the rows of each chart (a few kilobytes); the browser draws them with
Vega-Lite. The spec of a chart (axes, colours, legends) is built with Altair and
validated once per run, and the browser embeds it once; each round then only
replaces the chart's dataset in the live view (:class:`VegaChart`,
``vega_chart.vue``), so nothing is recompiled. Each chart has Save PNG and Save
SVG buttons, drawn by the browser from the live view.

Matplotlib stays for the command line and report figures (:mod:`sim.report.plots`).

Example:
    >>> spec = state_spec(calendar=False, agreement=0.6, breakdown=0.9)
    >>> spec["layer"][0]["data"], spec["config"]["axis"]["labelFontSize"] >= 12
    ({'name': 'table'}, True)
"""

from __future__ import annotations

import copy
import functools
import os

import ipyvuetify as v
import solara
import traitlets

from sim.model.names import ACTION_NAMES, SHOWN_VARS, var_spec
from sim.report.plots import ACTION_COLORS

#: The chart fonts (pixels): nothing below 12 on a projector.
FONT = {"label": 13, "title": 14, "legend": 13, "heading": 15}

#: Which model variable each series shows (``felt_relief`` is computed; enforcement is left
#: out: it shows through the felt relief).
STATE_VARS = SHOWN_VARS
#: The shared-state series: (label, colour, dashed), from the variables' rows
#: (:mod:`sim.model.names`); a derived series is dashed.
STATE_SERIES = tuple(
    (var_spec(v).label, var_spec(v).colour, v == "felt_relief") for v in STATE_VARS
)
MOVE_ORDER = ACTION_NAMES
#: A diagonal cross (the imagery flag), as an SVG path for Vega's point mark.
CROSS = "M-1,-1L1,1M1,-1L-1,1"
TRUST_COLORS = ("#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93", "#8d99ae")
TRUST_DASHES = ([1, 0], [8, 4], [2, 3], [10, 3, 2, 3], [4, 2], [1, 0])


class Opaque:
    """A value handed to a component that Solara compares by ``key`` and never looks inside.

    Solara walks a component's arguments (lists, dicts) on every redraw; a chart's
    rows are hundreds of dicts, so they travel wrapped, equal keys mean "unchanged",
    and the widget unwraps them only to send them to the browser.
    """

    __slots__ = ("value", "key")

    def __init__(self, value, key):
        self.value, self.key = value, key

    def __eq__(self, other):
        return isinstance(other, Opaque) and self.key == other.key

    def __hash__(self):
        return hash(self.key)


def _unwrap(value, widget):
    return value.value if isinstance(value, Opaque) else value


class VegaChart(v.VuetifyTemplate):
    """A Vega-Lite chart embedded once; new ``values`` replace its ``table`` dataset in place."""

    template_file = (__file__, "vega_chart.vue")
    # Any (not Dict/List): rows are not validated one by one; Opaque values are unwrapped
    # only when sent, and a new one is sent only when its key changes
    spec = traitlets.Any({}).tag(sync=True, to_json=_unwrap)
    values = traitlets.Any([]).tag(sync=True, to_json=_unwrap)
    filename = traitlets.Unicode("").tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        if not solara.settings.assets.proxy:
            return solara.settings.assets.cdn


@solara.component
def Chart(spec, rows, filename: str = "", classes: list[str] | None = None):
    """A browser-drawn chart; ``spec`` and ``rows`` are plain values or :class:`Opaque` ones."""
    with solara.Div(classes=["sm-chart", *(classes or [])]):
        VegaChart.element(spec=spec, values=rows, filename=filename)


# --------------------------------------------------------------------------------------
# Specs (built with Altair, validated once, cached)


def _alt():
    import altair as alt

    return alt


def _config(chart, height: int):
    return (
        chart.properties(width="container", height=height)
        .configure_axis(labelFontSize=FONT["label"], titleFontSize=FONT["title"], grid=True)
        .configure_legend(
            labelFontSize=FONT["legend"],
            titleFontSize=FONT["legend"],
            orient="bottom",
            direction="horizontal",
            columns=2,
            symbolSize=120,
            labelLimit=260,
        )
        .configure_title(fontSize=FONT["heading"], anchor="start", fontWeight="bold")
        .configure_view(stroke=None)
    )


def _finish(chart, height: int) -> dict:
    spec = _config(chart, height).to_dict()  # validated against the Vega-Lite schema
    spec.pop("$schema", None)
    # resize: lay the chart out again when its rows change (axis labels and legends grow)
    spec["autosize"] = {"type": "fit-x", "contains": "padding", "resize": True}
    return spec


def _x(alt, calendar: bool, field_round: str = "round", title: str = "round"):
    if calendar:
        return alt.X(
            "date:T",
            title="month",
            axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount={"interval": "month", "step": 1}),
        )
    return alt.X(
        f"{field_round}:Q",
        title=title,
        axis=alt.Axis(tickMinStep=1, format="d"),
        scale=alt.Scale(zero=True, nice=False),
    )


@functools.lru_cache(maxsize=64)
def _state_spec(
    calendar: bool, agreement: float, breakdown: float, title: str, height: int, mark: int
) -> dict:
    alt = _alt()
    labels = [s[0] for s in STATE_SERIES]
    base = alt.Chart(alt.Data(name="table"))
    lines = (
        base.transform_fold(labels, as_=["series", "level"])
        .mark_line(
            point=alt.OverlayMarkDef(size=30, filled=True) if mark else False, strokeWidth=2.2
        )
        .encode(
            x=_x(alt, calendar),
            y=alt.Y("level:Q", title="level (0–1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=labels, range=[s[1] for s in STATE_SERIES]),
                sort=labels,
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(
                    domain=labels, range=[[5, 3] if s[2] else [1, 0] for s in STATE_SERIES]
                ),
                sort=labels,
                title=None,
            ),
            tooltip=[
                alt.Tooltip("date:T", title="month", format="%B %Y")
                if calendar
                else alt.Tooltip("round:Q", title="round"),
                alt.Tooltip("series:N", title="what"),
                alt.Tooltip("level:Q", title="level", format=".2f"),
            ],
        )
    )
    rules = alt.Chart(
        alt.Data(
            values=[
                {"level": agreement, "what": "agreement bar"},
                {"level": breakdown, "what": "crisis line"},
            ]
        )
    )
    bars = rules.mark_rule(strokeDash=[6, 4], strokeWidth=1.4).encode(
        y="level:Q",
        color=alt.value("#555"),
        tooltip=[alt.Tooltip("what:N"), alt.Tooltip("level:Q", format=".2f")],
    )
    text = rules.mark_text(align="left", dx=4, dy=-7, fontSize=12, color="#444").encode(
        y="level:Q", x=alt.value(2), text="what:N"
    )
    return _finish(alt.layer(lines, bars, text).properties(title=title), height)


def state_spec(
    calendar: bool,
    agreement: float,
    breakdown: float,
    title: str = "Shared state",
    height: int = 210,
    markers: bool = False,
) -> dict:
    """The shared state over rounds (months), with the agreement bar and the crisis line."""
    return copy.deepcopy(
        _state_spec(calendar, round(agreement, 4), round(breakdown, 4), title, height, int(markers))
    )


@functools.lru_cache(maxsize=64)
def _actions_spec(calendar: bool, actors: tuple[str, ...], seat: str, height: int) -> dict:
    alt = _alt()
    base = alt.Chart(alt.Data(name="table"))

    def x_at(band):
        if calendar:
            return alt.X(
                "date:T",
                title="month",
                timeUnit="yearmonth",
                bandPosition=band,
                axis=alt.Axis(format="%b %y", labelAngle=0, labelOverlap=True),
            )
        return alt.X("round:O", title="round", axis=alt.Axis(labelAngle=0, labelOverlap=True))

    x = x_at(0)
    centre = x_at(0.5)  # points sit in the middle of their month
    y = alt.Y("state:N", title=None, sort=list(actors), scale=alt.Scale(domain=list(actors)))
    moves = (
        base.transform_filter(alt.datum.kind == "move")
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "move:N",
                title=None,
                scale=alt.Scale(
                    domain=list(MOVE_ORDER), range=[ACTION_COLORS[a] for a in MOVE_ORDER]
                ),
                sort=list(MOVE_ORDER),
                legend=alt.Legend(orient="right", direction="vertical", columns=1),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="when"),
                alt.Tooltip("state:N", title="state"),
                alt.Tooltip("move:N", title="move"),
                alt.Tooltip("what:N", title="what it means"),
                alt.Tooltip("by:N", title="chosen by"),
            ],
        )
    )
    flags = (
        base.transform_filter(alt.datum.kind == "flag")
        .mark_point(size=110, filled=False, color="black", strokeWidth=2.5)
        .encode(
            x=centre,
            y=y,
            shape=alt.Shape(
                "what:N",
                title=None,
                scale=alt.Scale(domain=["imagery flags hedging"], range=[CROSS]),
                legend=alt.Legend(orient="right", direction="vertical", columns=1),
            ),
            tooltip=[alt.Tooltip("label:N", title="when"), alt.Tooltip("what:N", title="")],
        )
    )
    layers = [moves, flags]
    if seat:
        yours = (
            base.transform_filter(alt.datum.kind == "yours")
            .mark_point(size=60, filled=True, color="#111")
            .encode(
                x=centre,
                y=y,
                shape=alt.Shape(
                    "what:N",
                    title=None,
                    scale=alt.Scale(domain=["your move"], range=["circle"]),
                    legend=alt.Legend(orient="right", direction="vertical", columns=1),
                ),
                tooltip=[alt.Tooltip("label:N", title="when"), alt.Tooltip("what:N", title="")],
            )
        )
        layers.append(yours)
    events = (
        base.transform_filter(alt.datum.kind == "event")
        .mark_point(size=80, filled=True, color="#333", yOffset=-9)
        .encode(
            x=centre,
            y=alt.value(0),
            shape=alt.Shape(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["event"], range=["triangle-down"]),
                legend=alt.Legend(
                    labelExpr="'scheduled event'", orient="right", direction="vertical", columns=1
                ),
            ),
            tooltip=[alt.Tooltip("label:N", title="when"), alt.Tooltip("what:N", title="event")],
        )
    )
    layers.append(events)
    chart = alt.layer(*layers).resolve_scale(shape="independent")
    return _finish(chart.properties(title="Moves"), height)


def actions_spec(
    calendar: bool, actors: tuple[str, ...], seat: str = "", height: int = 170
) -> dict:
    """Each state's move in every round played, × where imagery flagged the target."""
    return copy.deepcopy(_actions_spec(calendar, tuple(actors), seat, height))


@functools.lru_cache(maxsize=64)
def _trust_spec(calendar: bool, pairs: tuple[str, ...], height: int) -> dict:
    alt = _alt()
    base = alt.Chart(alt.Data(name="table"))
    chart = base.mark_line(strokeWidth=2.4, point=alt.OverlayMarkDef(size=22)).encode(
        x=_x(alt, calendar),
        y=alt.Y("trust:Q", title="trust (0–1)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color(
            "who:N",
            title=None,
            scale=alt.Scale(domain=list(pairs), range=list(TRUST_COLORS[: len(pairs)])),
            sort=list(pairs),
        ),
        strokeDash=alt.StrokeDash(
            "who:N",
            scale=alt.Scale(domain=list(pairs), range=list(TRUST_DASHES[: len(pairs)])),
            sort=list(pairs),
            title=None,
        ),
        tooltip=[
            alt.Tooltip("label:N", title="when"),
            alt.Tooltip("who:N", title="trust of"),
            alt.Tooltip("trust:Q", format=".2f"),
        ],
    )
    return _finish(chart.properties(title="Trust in the counterpart"), height)


def trust_spec(calendar: bool, pairs: tuple[str, ...], height: int = 190) -> dict:
    """Each state's trust in its counterpart over rounds (dashes tell overlapping lines apart)."""
    return copy.deepcopy(_trust_spec(calendar, tuple(pairs), height))


@functools.lru_cache(maxsize=16)
def _fan_spec(calendar: bool, height: int, title: str) -> dict:
    alt = _alt()
    # the layers name no data: inside a facet a layer with its own data reads all of it,
    # not its panel's share (every panel drew the same zig-zag)
    base = alt.Chart()
    x = _x(alt, calendar)
    facet_sort = [s[0] for s in STATE_SERIES if s[0] != "Sanctions relief (offered)"]
    band = (
        base.transform_filter(alt.datum.kind == "model")
        .mark_area(opacity=0.25)
        .encode(
            x=x,
            y=alt.Y("lo:Q", title="level", scale=alt.Scale(domain=[0, 1])),
            y2="hi:Q",
            color=alt.value("#457b9d"),
        )
    )
    median = (
        base.transform_filter(alt.datum.kind == "model")
        .mark_line(strokeWidth=2, color="#457b9d")
        .encode(x=x, y="mid:Q")
    )
    path = (
        base.transform_filter(alt.datum.kind == "class")
        .mark_line(strokeWidth=3, color="#e63946", point=True)
        .encode(
            x=x,
            y="mid:Q",
            tooltip=[alt.Tooltip("label:N", title="when"), alt.Tooltip("mid:Q", format=".2f")],
        )
    )
    chart = (
        alt.layer(band, median, path, data=alt.Data(name="table"))
        .properties(width=190, height=height)
        .facet(
            facet=alt.Facet(
                "series:N", title=None, sort=facet_sort, header=alt.Header(labelFontSize=14)
            ),
            columns=5,
        )
        .properties(title=title)
    )
    spec = (
        chart.configure_axis(labelFontSize=FONT["label"], titleFontSize=FONT["title"])
        .configure_title(fontSize=FONT["heading"], anchor="start")
        .configure_view(stroke=None)
        .to_dict()
    )
    spec.pop("$schema", None)
    return spec


def fan_spec(calendar: bool, height: int = 150, title: str = "") -> dict:
    """Small multiples: the class's path (red) over the model's 10–90% band and median (blue)."""
    return copy.deepcopy(_fan_spec(calendar, height, title))


def warm_up() -> None:
    """Build the common specs once (Altair's validation takes a moment the first time)."""
    if os.environ.get("STALEMATE_NO_WARMUP"):
        return
    state_spec(False, 0.6, 0.9)
    state_spec(True, 0.6, 0.9)
    actions_spec(False, ("USA", "DPRK", "ROK", "PRC"))
    trust_spec(False, ("USA → DPRK", "DPRK → USA", "ROK → DPRK", "PRC → DPRK"))

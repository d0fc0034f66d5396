"""Pieces the page and the room share: styles, tooltips, the charts of a snapshot, HTML tables.

Every view takes a :class:`~sim.classroom.snapshot.Snapshot` (never a live
model). Charts memoise their rows on the snapshot's version and their spec on
what shapes it (calendar, actors), so a round re-sends only the rows.

Everything a person typed (names, justifications) reaches the browser as text
(``solara.Text``) or through :func:`html.escape`; nothing is ever evaluated.
"""

from __future__ import annotations

import html

import numpy as np
import solara

from sim.analysis.stagegame import stage_game
from sim.classroom.charts import Chart, Opaque, actions_spec, state_spec, trust_spec
from sim.classroom.snapshot import Snapshot
from sim.classroom.words import BEST_REPLY, EQUILIBRIUM
from sim.model.names import ACTION_NAMES
from sim.report.plots import ACTION_COLORS

#: The page's and the room's styles: 14 px text, nothing under 12 px, compact cards.
CSS = """
html, body, .v-application { font-size: 14px; }
.v-application .v-card__title { font-size: 16px; padding: 8px 12px 4px 12px; }
.v-application .v-card__text { font-size: 14px; }
.sm-app { display: flex; flex-direction: column; height: 100vh; overflow: hidden; }
.sm-header { display: flex; align-items: center; gap: 16px; padding: 6px 16px;
  background: #1d3557; color: white; min-height: 44px; }
.sm-header h1 { font-size: 19px; font-weight: 600; margin: 0; }
.sm-header a { color: #cfe3ff; font-size: 14px; }
.sm-header .sm-spacer { flex: 1; }
.sm-body { display: grid; grid-template-columns: 320px 1fr; flex: 1; min-height: 0; }
.sm-side { overflow-y: auto; padding: 8px 10px; border-right: 1px solid #dde3ea; background: #f7f9fb;
  contain: strict; }
.sm-main { overflow-y: auto; padding: 6px 14px 14px 14px; min-width: 0; }
.sm-section { font-size: 13px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  color: #44546a; margin: 10px 0 2px 0; }
.sm-note { font-size: 13px; color: #44546a; line-height: 1.35; }
.sm-error { font-size: 14px; color: #b00020; font-weight: 600; }
.sm-pending { font-size: 14px; color: #8a5300; background: #fff4d6; padding: 3px 8px; border-radius: 4px; }
.sm-status { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 18px; padding: 4px 2px 6px 2px;
  border-bottom: 1px solid #dde3ea; contain: layout paint; }
.sm-clock { font-size: 22px; font-weight: 700; color: #1d3557; }
.sm-outcome { font-size: 17px; font-weight: 700; }
.sm-running { font-size: 13px; color: #44546a; width: 100%; }
.sm-levels { font-size: 14px; width: 100%; }
.sm-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 14px; }
.sm-card { border: 1px solid #dde3ea; border-radius: 6px; padding: 6px 8px 4px 8px; background: white; min-width: 0;
  contain: layout paint; }  /* a round redraws a card, not the page */
.sm-card h3 { font-size: 15px; margin: 0 0 4px 0; }
.sm-log { max-height: 330px; overflow-y: auto; font-size: 14px; line-height: 1.4; }
.sm-log p { margin: 0 0 0.45em 0; }
.sm-trust-table, .sm-game { border-collapse: collapse; font-size: 14px; margin-top: 4px; }
.sm-trust-table th, .sm-trust-table td { border: 1px solid #dde3ea; padding: 3px 7px; text-align: center; }
.sm-game { width: 100%; max-width: 860px; table-layout: fixed; }
.sm-game th, .sm-game td { border: 1px solid #c5ced9; padding: 6px 8px; text-align: center; }
.sm-game th { background: #eef2f6; font-weight: 600; }
.sm-game td .sm-u { display: block; white-space: nowrap; font-size: 15px; }
.sm-game td.sm-eq { outline: 3px solid #1d3557; outline-offset: -3px; background: #eaf3ff; }
.sm-game b { color: #000; }
.sm-move-btns { display: flex; gap: 8px; flex-wrap: wrap; }
.v-tab { font-size: 15px !important; text-transform: none !important; letter-spacing: 0 !important; }
.sm-big { font-size: 18px; }
.sm-info h2 { font-size: 17px; margin: 12px 0 4px 0; }
.sm-info p, .sm-info li { font-size: 15px; line-height: 1.45; }
.sm-md table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
.sm-md th, .sm-md td { border: 1px solid #c5ced9; padding: 3px 7px; text-align: left; vertical-align: top; }
.sm-md pre { background: #f3f5f8; padding: 6px 8px; overflow-x: auto; font-size: 13px; }
.sm-md code { font-size: 13px; }
.sm-side .v-input { margin-top: 2px; }
.sm-side .v-input__slider .v-input__slot { flex-wrap: wrap; }
.sm-side .v-input__slider .v-label { width: 100%; max-width: 100%; font-size: 14px; margin: 0 0 -6px 0; }
.sm-side .v-input__slider .v-slider { margin-left: 0; }
.sm-side .v-btn-toggle .v-btn { min-width: 44px !important; font-size: 14px; }
"""


@solara.component
def Tip(text: str, children=[]):  # noqa: B006 - Solara's children convention
    """A tooltip over ``children``: the browser's own (a ``title``), one element, no script.

    A Vuetify tooltip costs two widgets and an effect per control, redrawn with the
    page; the native one costs nothing and reads the same to a screen reader.
    """
    solara.Div(children=children, attributes={"title": text}, classes=["sm-tip"])


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)


def markdown_html(text: str) -> str:
    """Our own Markdown (the Info texts, docs/model.md) as HTML, made on the server.

    Not ``solara.Markdown``: that component loads mermaid and KaTeX from the CDN
    whenever it is shown, which the offline asset cache does not hold (the Info tab
    asked for ``mermaid.min.js`` and got a 404). Only for text we wrote: raw HTML in
    it is kept, so never pass anything a person typed.
    """
    import markdown

    return markdown.markdown(
        str(text), extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )


# --------------------------------------------------------------------------------------
# Charts of a snapshot


def _rows(snap: Snapshot, rows_of) -> Opaque:
    """A chart's rows for ``snap``, made once per snapshot and keyed by the snapshot itself.

    Snapshots compare by identity and the key holds the snapshot, so a key is never
    reused: the browser gets new rows exactly when there is a new snapshot.
    """
    return solara.use_memo(lambda: Opaque(rows_of(snap), snap), [snap])


@solara.component
def StateChart(snap: Snapshot, title: str = "Shared state", height: int = 210, save: bool = True):
    """The shared state over rounds (months), with the agreement bar and crisis line."""
    shape = (snap.calendar is not None, snap.agreement_bar, snap.crisis_line, title, height)
    spec = solara.use_memo(lambda: Opaque(state_spec(*shape), shape), [shape])
    rows = _rows(snap, Snapshot.state_rows)
    Chart(spec, rows, filename=snap.filename("state") if save else "", classes=["sm-chart-state"])


@solara.component
def MovesChart(snap: Snapshot, height: int = 150):
    """Each state's move in every round; × imagery flags; the seat's own moves marked."""
    shape = (snap.calendar is not None, snap.names, snap.seat or "", height)
    spec = solara.use_memo(lambda: Opaque(actions_spec(*shape), shape), [shape])
    rows = _rows(snap, Snapshot.action_rows)
    Chart(spec, rows, filename=snap.filename("moves"), classes=["sm-chart-moves"])


@solara.component
def TrustChart(snap: Snapshot, height: int = 170):
    """Each state's trust in its counterpart over rounds."""
    shape = (snap.calendar is not None, snap.trust_pairs(), height)
    spec = solara.use_memo(lambda: Opaque(trust_spec(*shape), shape), [shape])
    rows = _rows(snap, Snapshot.trust_rows)
    Chart(spec, rows, filename=snap.filename("trust"), classes=["sm-chart-trust"])


def trust_table_html(snap: Snapshot) -> str:
    """Who trusts whom now, as an HTML table (row trusts column)."""
    names = snap.names
    trust = snap.trust_matrix()
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for i, a in enumerate(names):
        cells = []
        for j in range(len(names)):
            if i == j:
                cells.append("<td>—</td>")
                continue
            val = float(trust[i, j])
            shade = int(255 - 150 * val)
            color = "white" if val > 0.65 else "black"
            cells.append(
                f'<td style="background: rgb({shade},{shade + (255 - shade) // 3},255); '
                f'color: {color}">{val:.2f}</td>'
            )
        body.append(f"<tr><th>{escape(a)}</th>{''.join(cells)}</tr>")
    return (
        '<table class="sm-trust-table"><caption class="sm-note">Who trusts whom now '
        f"(row trusts column)</caption><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )


@solara.component
def TrustCard(snap: Snapshot):
    with solara.Div(classes=["sm-card"]):
        TrustChart(snap)
        table = solara.use_memo(lambda: trust_table_html(snap), [snap])
        solara.HTML(tag="div", unsafe_innerHTML=table)


def log_html(lines: list[str]) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


@solara.component
def EventLog(snap: Snapshot, title: str = "What happened (newest first)"):
    lines = solara.use_memo(snap.log_lines, [snap])  # the room redraws often within a round
    with solara.Div(classes=["sm-card"]):
        solara.HTML(tag="h3", unsafe_innerHTML=escape(title))
        solara.HTML(tag="div", unsafe_innerHTML=log_html(lines), classes=["sm-log"])


# --------------------------------------------------------------------------------------
# The stage game as an HTML table


def _mix(p, names=ACTION_NAMES) -> str:
    if np.isclose(p.max(), 1.0):
        return names[int(p.argmax())]
    return ", ".join(f"{names[k]} {p[k]:.0%}" for k in range(len(p)) if p[k] > 1e-9)


def stage_game_html(snap: Snapshot, show_play: bool = True) -> str:
    """The coming round's USA–DPRK stage game as an HTML table with best replies and equilibria.

    Args:
        snap: the run.
        show_play: also show what the model's noisy players would do (hidden while a
            student plays a seat: it would give the answer away).
    """
    s = snap.structure
    a, b = s.names[s.principal], s.names[s.target]
    game = stage_game(snap.decision_point(), a, b)
    A, B = game.A, game.B
    best_a = np.isclose(A, A.max(axis=0, keepdims=True))
    best_b = np.isclose(B, B.max(axis=1, keepdims=True))
    pure = {(int(e.row.argmax()), int(e.col.argmax())) for e in game.equilibria if e.pure}
    verbs = {"concede": "concedes", "hedge": "hedges", "escalate": "escalates"}
    head = "".join(f"<th>{escape(b)} {verbs[x]}</th>" for x in ACTION_NAMES)
    rows = []
    for i, x in enumerate(ACTION_NAMES):
        cells = []
        for j in range(len(ACTION_NAMES)):
            ua = f"{A[i, j]:+.2f}".replace("-", "−")
            ub = f"{B[i, j]:+.2f}".replace("-", "−")
            ua = f"<b>{escape(a)} {ua}</b>" if best_a[i, j] else f"{escape(a)} {ua}"
            ub = f"<b>{escape(b)} {ub}</b>" if best_b[i, j] else f"{escape(b)} {ub}"
            eq = (i, j) in pure
            tag = '<span class="sm-u">★ equilibrium</span>' if eq else ""
            cells.append(
                f'<td class="{"sm-eq" if eq else ""}"><span class="sm-u">{ua}</span>'
                f'<span class="sm-u">{ub}</span>{tag}</td>'
            )
        rows.append(f"<tr><th>{escape(a)} {verbs[x]}</th>{''.join(cells)}</tr>")
    when = snap.when(game.round)
    title = f"{escape(a)} and {escape(b)}, {escape(when)}: how each scores its moves"
    parts = [
        f'<p class="sm-big"><b>{title}</b></p>',
        f'<p class="sm-note">Last round {escape(a)} played <b>{escape(game.last[0])}</b> and '
        f"{escape(b)} played <b>{escape(game.last[1])}</b>. Each cell: what each state's move is "
        "worth to it if the other plays the column (or row) move — the model's own utilities.</p>",
        f'<table class="sm-game"><tr><th></th>{head}</tr>{"".join(rows)}</table>',
        f'<p class="sm-note" style="margin-top:8px">{escape(BEST_REPLY)}<br>{escape(EQUILIBRIUM)}</p>',
    ]
    mixed = [e for e in game.equilibria if not e.pure]
    if not pure and not mixed:
        parts.append("<p>No equilibrium found.</p>")
    if mixed:
        items = "".join(
            f"<li>{escape(a)}: {escape(_mix(e.row))} — {escape(b)}: {escape(_mix(e.col))}</li>"
            for e in mixed
        )
        parts.append(
            f"<p>Mixed equilibria (each randomises so that the other is indifferent):</p><ul>{items}</ul>"
        )
    if show_play:
        pa, pb = game.logit_play
        parts.append(
            "<p>The model's players are noisy (rationality "
            f"{float(snap.config.rationality):g}): this round {escape(a)} plays "
            f"{escape(_mix(np.round(pa, 2)))}, {escape(b)} plays {escape(_mix(np.round(pb, 2)))}.</p>"
        )
    else:
        parts.append(
            '<p class="sm-note">What the model itself would play is hidden while you play a seat.</p>'
        )
    parts += [f'<p class="sm-note">{escape(n)}</p>' for n in game.notes]
    return "".join(parts)


def action_button_color(action: str) -> str:
    return ACTION_COLORS[action]

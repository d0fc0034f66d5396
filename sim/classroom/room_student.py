"""The student's seat (``/``): a thin page that gets the room as JSON over a websocket.

Why not a Solara page like the console and the projector: Solara renders every
page on the server, one widget tree per browser. In a room every send changes
what every seat shows (who has chosen), so a class of thirty made the server
redraw thirty pages at each of thirty sends a month, and each page's countdown
redrew twice a second even without a timer: with real browsers a class of 30
waited 10 s to 3 min for the next month, and an idle room took half a core
(issue 26). Here the server sends each seat a small JSON message when the room
changes (its shared part serialised once per change), and the browser draws it;
the countdown ticks in the browser (``experiments/benchmark_room.py``: 30
students, median 0.03 s, p95 0.14 s; idle 0.2% of a core).

The page (:data:`PAGE`) is plain HTML, CSS and JavaScript with no outside files,
so it works offline. It never replaces the reason box while someone types; what
a student typed reaches the page only as text (``textContent``), never as HTML.

Protocol (JSON, one object per message):

- page → server: ``{"t": "join", "code", "name", "seat_code"?}``,
  ``{"t": "claim", "actor"}``, ``{"t": "move", "round", "action", "why"}``; each
  with an ``id`` the answer repeats. Messages over :data:`MAX_MESSAGE` bytes close
  the connection.
- server → page: ``{"t": "ack", "id", "ok", "error"?}`` and ``{"t": "state",
  "room": {…}, "me": {…}}`` after every change (only the latest is sent to a slow
  page).

Who is who: a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie set
with the page, never anything the page sends. The websocket is refused from
another site (its ``Origin``).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sim.classroom.charts import STATE_SERIES
from sim.classroom.room import MAX_JUSTIFICATION, MAX_NAME, Room, RoomError, RoomView
from sim.classroom.room_views import clock_line
from sim.classroom.seats import ROLE_TITLES
from sim.classroom.words import ACTION_TITLES, outcome_words
from sim.model.actors import describe_action
from sim.model.names import ACTION_NAMES, ACTION_TABLE, Action

#: The cookie that says who a student is (a random token; page scripts cannot read it).
COOKIE = "stalemate_seat"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
#: The largest message a student's page may send (bytes): a reason is at most 200 characters.
MAX_MESSAGE = 4096
#: Where the page's websocket connects.
SOCKET_PATH = "/room/socket"


def last_round(view: RoomView) -> dict | None:
    """The last round's moves, reasons and who chose them (what every seat reads after it)."""
    if not view.records:
        return None
    rec = view.records[-1]
    snap = view.snapshot
    rows = []
    for actor in snap.names:
        move = rec.moves.get(actor)
        who = {
            "class": ", ".join(rec.teams.get(actor, ())) or "the class",
            "model": "the model (no one in this seat)",
            "timeout": "the model (no choice in time)",
            "event": "a scheduled event",
        }[rec.sources[actor]]
        rows.append(
            {
                "state": actor,
                "move": ACTION_NAMES[int(rec.actions[actor])],
                "who": who,
                "why": move.justification if move else "",
                "by": move.by if move else "",
            }
        )
    when = snap.when(rec.round)
    return {"title": f"{when[:1].upper() + when[1:]}: the moves", "rows": rows}


def chart(view: RoomView) -> dict:
    """The shared state over the rounds played (the seat's chart, drawn by the page)."""
    snap = view.snapshot
    rows = snap.state_rows()
    labels = [r["label"] for r in rows]
    return {
        "labels": labels,
        "series": [
            {"label": label, "color": color, "dash": dashed, "values": [r[label] for r in rows]}
            for label, color, dashed in STATE_SERIES
        ],
        "agreement": round(float(snap.agreement_bar), 3),
        "crisis": round(float(snap.crisis_line), 3),
        "rounds": snap.rounds,
    }


def shared_state(view: RoomView) -> dict:
    """What every seated student is sent (the same for all)."""
    snap = view.snapshot
    roles = dict(zip(snap.names, snap.structure.roles))
    open_ = view.open_round
    forced = {}
    if open_ is not None:
        for actor in snap.names:
            f = snap.forced(actor, open_)
            forced[actor] = None if f is None else ACTION_NAMES[f]
    left = view.seconds_left()
    return {
        "v": view.version,
        "game": view.game,
        "phase": view.phase,
        "clock": clock_line(view),
        "round": open_,
        "month": snap.when(open_) if open_ is not None else None,
        "left": None if left is None else round(left, 2),
        "actors": [
            {
                "name": a,
                "role": ROLE_TITLES.get(roles[a], roles[a]),
                "team": list(view.team(a)),
                "chosen": a in view.submitted,
                "means": {ACTION_NAMES[x]: f"{a} {describe_action(roles[a], x)}" for x in Action},
            }
            for a in snap.names
        ],
        "titles": {ACTION_NAMES[x]: ACTION_TITLES[x] for x in Action},
        "waiting": list(view.waiting_for),
        "forced": forced,
        "last": last_round(view),
        "chart": chart(view),
        "outcome": outcome_words(snap.outcome) if view.phase == "finished" else None,
        "limits": {"name": MAX_NAME, "why": MAX_JUSTIFICATION},
    }


def lobby_state(view: RoomView) -> dict:
    """What a page that has not joined is sent: the clock line, nothing about the class."""
    return {
        "v": view.version,
        "phase": view.phase,
        "clock": clock_line(view),
        "limits": {"name": MAX_NAME, "why": MAX_JUSTIFICATION},
    }


class _Connection:
    def __init__(self, ws, session: str):
        self.ws = ws
        self.session = session
        self.dirty = asyncio.Event()
        self.lock = asyncio.Lock()
        self.sent = -1

    async def send(self, text: str) -> None:
        async with self.lock:
            await self.ws.send_text(text)


class Students:
    """Every student page's connection to the room, and what each is sent.

    Args:
        room: the room.

    Use :meth:`routes` in a Starlette app: ``/`` (the page) and the websocket.
    """

    def __init__(self, room: Room):
        self.room = room
        self.connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._cache: dict = {}

    # ---- HTTP ------------------------------------------------------------------------
    def routes(self) -> list:
        from starlette.routing import Route, WebSocketRoute

        return [Route("/", self.page), WebSocketRoute(SOCKET_PATH, self.socket)]

    async def page(self, request):
        """The seat's page, with a session cookie if the browser has none."""
        from starlette.responses import HTMLResponse

        nonce = secrets.token_urlsafe(16)
        response = HTMLResponse(
            PAGE.replace("{NONCE}", nonce),
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": (
                    f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                    "form-action 'none'; frame-ancestors 'none'"
                ),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )
        if not _TOKEN.fullmatch(request.cookies.get(COOKIE, "")):
            response.set_cookie(
                COOKIE, secrets.token_urlsafe(32), path="/", httponly=True, samesite="strict"
            )
        return response

    # ---- the websocket ---------------------------------------------------------------
    def _listen(self) -> None:
        if self._unsubscribe is None:
            self._loop = asyncio.get_running_loop()
            loop = self._loop

            def changed() -> None:
                loop.call_soon_threadsafe(self._changed)

            self._unsubscribe = self.room.subscribe(changed)

    def _changed(self) -> None:
        for c in self.connections:
            c.dirty.set()

    async def socket(self, ws) -> None:
        origin = ws.headers.get("origin")
        if origin and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008)  # another site's page
            return
        session = ws.cookies.get(COOKIE, "")
        await ws.accept()
        if not _TOKEN.fullmatch(session):
            await ws.send_text(json.dumps({"t": "reload"}))
            await ws.close()
            return
        self._listen()
        conn = _Connection(ws, session)
        self.connections.add(conn)
        conn.dirty.set()
        sender = asyncio.create_task(self._sender(conn))
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                if len(text.encode("utf-8")) > MAX_MESSAGE:
                    await ws.close(code=1009)  # too big
                    break
                await self._handle(conn, text)
        except Exception:  # a connection lost mid-message: nothing to keep
            pass
        finally:
            self.connections.discard(conn)
            sender.cancel()

    async def _sender(self, conn: _Connection) -> None:
        """Send this page the latest state whenever the room changes (only the latest)."""
        try:
            while True:
                await conn.dirty.wait()
                conn.dirty.clear()
                view = self.room.view()
                if view.version == conn.sent:
                    continue
                conn.sent = view.version
                await conn.send(self.message(view, conn.session))
        except asyncio.CancelledError:
            pass
        except Exception:  # the page went away
            pass

    async def _handle(self, conn: _Connection, text: str) -> None:
        try:
            msg = json.loads(text)
            if not isinstance(msg, dict):
                raise ValueError
        except ValueError:
            await conn.send(json.dumps({"t": "ack", "id": None, "ok": False, "error": "?"}))
            return
        ident = msg.get("id") if isinstance(msg.get("id"), int) else None
        kind = msg.get("t")
        room, session = self.room, conn.session
        call: tuple[Any, ...]
        kwargs: dict[str, Any]
        try:
            if kind == "join":
                call = (room.join, _text(msg, "code"), _text(msg, "name"), session)
                kwargs = {"seat_code": _text(msg, "seat_code") or None}
            elif kind == "claim":
                call, kwargs = (room.claim, session, _text(msg, "actor")), {}
            elif kind == "move":
                call = (
                    room.submit,
                    session,
                    _text(msg, "actor"),
                    _text(msg, "action"),
                    _text(msg, "why"),
                )
                kwargs = {"round": msg.get("round")}
            elif kind == "hello":
                conn.dirty.set()
                return
            else:
                raise RoomError("Unknown request; reload the page.")
            # the room's lock, and a round that resolves, must not hold up the other pages
            await asyncio.to_thread(call[0], *call[1:], **kwargs)
            answer = {"t": "ack", "id": ident, "ok": True}
        except RoomError as err:
            answer = {"t": "ack", "id": ident, "ok": False, "error": str(err)}
        await conn.send(json.dumps(answer))
        conn.dirty.set()  # a refused request changes nothing, but its page shows the latest

    # ---- what a page is sent ---------------------------------------------------------
    def _cached(self, key, make):
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 64:
                self._cache.clear()
            hit = self._cache[key] = make()
        return hit

    def message(self, view: RoomView, session: str) -> str:
        """The state message for the page of ``session`` (shared parts serialised once)."""
        p = view.participant(session)
        gone = self.room.let_go(session) if p is None else None
        if p is None:
            room = self._cached(("lobby", view.version), lambda: json.dumps(lobby_state(view)))
            me: dict[str, Any] = {"joined": False, "gone": gone}
        else:
            room = self._cached(("room", view.version), lambda: json.dumps(shared_state(view)))
            me = {
                "joined": True,
                "name": p.name,
                "actor": p.actor,
                "seat_code": p.seat_code,
                "team": list(view.team(p.actor)) if p.actor else [],
                "sent": None,
                "private": [],
            }
            if p.actor is not None:
                move = view.submitted.get(p.actor)
                if move is not None:
                    me["sent"] = {
                        "move": ACTION_NAMES[int(move.action)],
                        "why": move.justification,
                        "by": move.by,
                        "round": move.round,
                    }
                me["private"] = self._cached(
                    ("private", view.version, p.actor),
                    lambda: list(self.room.seat_info(p.actor).items()),
                )
        return '{"t":"state","room":' + room + ',"me":' + json.dumps(me) + "}"


def _text(msg: dict, key: str, limit: int = 1000) -> str:
    value = msg.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return value[:limit]


# --------------------------------------------------------------------------------------
# The page: HTML, CSS and JavaScript, no outside files (it works offline)

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stalemate — the talks</title>
<link rel="icon" href="data:,">
<style nonce="{NONCE}">
html, body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 15px; color: #1b1f24; background: #f3f5f8; }
[hidden] { display: none !important; }
.sm-header { display: flex; align-items: center; gap: 16px; padding: 8px 16px; background: #1d3557;
  color: white; min-height: 44px; flex-wrap: wrap; }
.sm-header h1 { font-size: 19px; font-weight: 600; margin: 0; }
.sm-big { font-size: 18px; }
.sm-room { max-width: 1100px; margin: 0 auto; padding: 8px 14px 20px 14px; }
.sm-card { border: 1px solid #dde3ea; border-radius: 6px; padding: 10px 12px; background: white;
  margin: 8px 0; }
.sm-card h3 { font-size: 16px; margin: 0 0 6px 0; }
.sm-note { font-size: 13px; color: #44546a; }
.sm-error { color: #b00020; font-weight: 600; min-height: 1.2em; }
.sm-moved { color: #1b7f3b; font-weight: 700; }
.sm-waiting { color: #8a5300; font-weight: 700; }
.sm-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 8px 14px; }
.sm-seat-row { display: flex; flex-wrap: wrap; gap: 10px; }
.sm-seat { border: 1px solid #c5ced9; border-radius: 8px; padding: 8px 10px; min-width: 200px; flex: 1;
  background: white; }
.sm-seat h3 { font-size: 18px; margin: 0 0 2px 0; }
.sm-private { border: 2px solid #6a4c93; border-radius: 8px; padding: 8px 12px; background: #f6f2fb;
  margin: 8px 0; }
.sm-private dt { font-weight: 700; margin-top: 4px; }
.sm-private dd { margin: 0 0 2px 0; }
.sm-countdown { font-size: 20px; font-weight: 700; color: #b00020; }
.sm-moves-table { border-collapse: collapse; width: 100%; font-size: 14px; }
.sm-moves-table caption { text-align: left; font-weight: 700; padding-bottom: 4px; }
.sm-moves-table th, .sm-moves-table td { border-bottom: 1px solid #dde3ea; padding: 4px 6px;
  text-align: left; vertical-align: top; }
.sm-tag { padding: 1px 8px; border-radius: 4px; }
.sm-why { white-space: pre-wrap; overflow-wrap: anywhere; }
label { display: block; font-size: 13px; color: #44546a; margin: 8px 0 2px 0; }
input[type=text], textarea { font: inherit; font-size: 16px; width: 100%; box-sizing: border-box;
  padding: 6px 8px; border: 1px solid #9aa7b6; border-radius: 4px; }
textarea { resize: vertical; min-height: 3.2em; }
button { font: inherit; font-size: 15px; padding: 7px 14px; border-radius: 4px; cursor: pointer;
  border: 1px solid #1d3557; background: #1d3557; color: white; }
button.sm-outline { background: white; color: #1d3557; }
button:disabled { opacity: .45; cursor: default; }
.sm-move-btns { display: flex; gap: 8px; flex-wrap: wrap; margin: 6px 0; }
.sm-move-btns button { color: #1b1f24; min-width: 100px; font-weight: 600; }
.sm-move-btns button[aria-pressed=false] { background: white !important; }
.sm-chart svg { width: 100%; height: auto; display: block; }
.sm-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
.sm-legend span::before { content: ""; display: inline-block; width: 18px; height: 0;
  border-top: 3px solid var(--c); margin-right: 5px; vertical-align: middle; }
.sm-legend span.sm-dashed::before { border-top-style: dashed; }
#unsent-text, #sent { white-space: pre-wrap; overflow-wrap: anywhere; }
.sm-link { background: none; border: none; color: #1d3557; text-decoration: underline; padding: 0;
  font-size: 13px; }
</style>
</head>
<body>
<div class="sm-header"><h1>Stalemate</h1><span class="sm-big sm-room-clock" id="clock">Connecting…</span></div>
<div class="sm-room">
  <p class="sm-error" id="conn" hidden></p>
  <div class="sm-card" id="gone" hidden><p class="sm-big" id="gone-text"></p></div>

  <div class="sm-card" id="join" hidden>
    <h3>Join the talks</h3>
    <p class="sm-note">Type the code shown on the projector and your name.</p>
    <label for="code">Room code</label>
    <input type="text" id="code" autocomplete="off" autocapitalize="characters" maxlength="24"
      title="The six-character code on the projector.">
    <label for="name">Your name</label>
    <input type="text" id="name" autocomplete="off" title="Your name as the class will see it.">
    <p class="sm-error" id="name-error"></p>
    <details id="again"><summary class="sm-note">Taking your seat back on another device?</summary>
      <label for="seat-code">Your seat code</label>
      <input type="text" id="seat-code" autocomplete="off" maxlength="16"
        title="The code your first device showed under your name.">
    </details>
    <p><button id="join-btn" title="Enter the room.">Join</button></p>
    <p class="sm-error sm-join-error" id="join-error"></p>
  </div>

  <div id="pick" hidden>
    <p class="sm-big" id="welcome"></p>
    <div class="sm-seat-row" id="seats"></div>
    <p class="sm-error sm-claim-error" id="claim-error"></p>
  </div>

  <div id="play" hidden>
    <h2 class="sm-you" id="you"></h2>
    <p class="sm-note" id="seat-code-line"></p>
    <div class="sm-grid">
      <div>
        <p class="sm-big" id="status"></p>
        <div class="sm-card" id="move">
          <h3 id="move-title"></h3>
          <p class="sm-countdown" id="countdown" hidden></p>
          <p class="sm-waiting" id="forced" hidden></p>
          <div class="sm-move-btns" id="choices"></div>
          <p id="means">&nbsp;</p>
          <label for="why" id="why-label"></label>
          <textarea id="why" rows="2"
            title="Say in a sentence why: the class reads it after the round."></textarea>
          <p class="sm-error" id="why-error"></p>
          <p><button id="send" title="Send your team's move; you can change it until the round closes.">Send our move</button></p>
          <p class="sm-moved sm-sent" id="sent"></p>
          <p class="sm-note" id="unsent" hidden><span id="unsent-text"></span>
            <button class="sm-link" id="reuse">Use it again</button></p>
          <p class="sm-note" id="still"></p>
          <p class="sm-error sm-move-error" id="move-error"></p>
        </div>
        <div class="sm-card" id="last" hidden></div>
      </div>
      <div class="sm-private">
        <h3 id="private-title"></h3>
        <dl class="sm-private-info" id="private"></dl>
      </div>
    </div>
    <div class="sm-card sm-chart">
      <h3>Where the talks stand</h3>
      <div id="chart"></div>
      <div class="sm-legend" id="legend"></div>
    </div>
  </div>
</div>
<script nonce="{NONCE}">
"use strict";
const $ = (id) => document.getElementById(id);
const MOVE_COLORS = __MOVE_COLORS__;
let ws = null, room = null, me = null, nextId = 1, retry = 500;
const pending = new Map();            // request id -> what to do with the answer
let draft = {game: null, round: null, choice: null};
let lastSent = {round: null, why: null};
let deadline = null, ticker = null;
window.stalemateShown = {};           // round -> Date.now() when this page first showed it

function text(el, value) { if (el.textContent !== value) el.textContent = value; }
function show(el, on) { el.hidden = !on; }

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "__SOCKET__";
  ws = new WebSocket(url);
  ws.onopen = () => { retry = 500; show($("conn"), false); ws.send(JSON.stringify({t: "hello"})); };
  ws.onmessage = (e) => receive(JSON.parse(e.data));
  ws.onclose = () => {
    ws = null;
    text($("conn"), "Connection lost — reconnecting…");
    show($("conn"), true);
    setTimeout(connect, retry);
    retry = Math.min(5000, retry * 2);
  };
}

function request(msg, then) {
  if (!ws || ws.readyState !== 1) { then({ok: false, error: "Not connected; wait a moment and try again."}); return; }
  msg.id = nextId++;
  pending.set(msg.id, then);
  ws.send(JSON.stringify(msg));
}

function receive(msg) {
  if (msg.t === "reload") { location.reload(); return; }
  if (msg.t === "ack") {
    const then = pending.get(msg.id);
    pending.delete(msg.id);
    if (then) then(msg);
    return;
  }
  if (msg.t === "state") { room = msg.room; me = msg.me; draw(); }
}

// ---- joining ------------------------------------------------------------------------
$("join-btn").onclick = () => {
  request({t: "join", code: $("code").value, name: $("name").value, seat_code: $("seat-code").value},
    (a) => text($("join-error"), a.ok ? "" : a.error));
};
$("name").oninput = () => {
  const n = $("name").value.length, max = room && room.limits ? room.limits.name : 24;
  text($("name-error"), n > max ? n + " characters: keep it to " + max + "." : "");
};

function drawSeats() {
  const box = $("seats");
  if (box.dataset.version === String(room.v)) return;
  box.dataset.version = String(room.v);
  box.replaceChildren();
  for (const a of room.actors) {
    const card = document.createElement("div");
    card.className = "sm-seat";
    const h = document.createElement("h3"); h.textContent = a.name;
    const role = document.createElement("p"); role.className = "sm-note";
    role.textContent = a.role.charAt(0).toUpperCase() + a.role.slice(1) + ".";
    const team = document.createElement("p");
    team.textContent = "Team: " + (a.team.length ? a.team.join(", ") : "nobody yet");
    const b = document.createElement("button");
    b.className = "sm-outline"; b.textContent = "Play " + a.name;
    b.title = "Sit for " + a.name + ": you will choose its move each round.";
    b.onclick = () => request({t: "claim", actor: a.name},
      (ans) => text($("claim-error"), ans.ok ? "" : ans.error));
    card.append(h, role, team, b);
    box.append(card);
  }
}

// ---- the move -----------------------------------------------------------------------
const choiceButtons = {};
function makeChoices() {
  for (const m of ["concede", "hedge", "escalate"]) {
    const b = document.createElement("button");
    b.textContent = m.charAt(0).toUpperCase() + m.slice(1);
    b.className = "sm-choose-" + m;
    b.style.background = MOVE_COLORS[m];
    b.style.borderColor = MOVE_COLORS[m];
    b.setAttribute("aria-pressed", "false");
    b.onclick = () => { draft.choice = m; text($("move-error"), ""); drawChoice(); };
    choiceButtons[m] = b;
    $("choices").append(b);
  }
}
makeChoices();

function mine() { return room && me && me.actor ? room.actors.find((a) => a.name === me.actor) : null; }

function drawChoice() {
  const seat = mine();
  for (const [m, b] of Object.entries(choiceButtons)) {
    b.setAttribute("aria-pressed", draft.choice === null || draft.choice === m ? "true" : "false");
    if (seat) b.title = b.textContent + ": " + seat.means[m];
  }
  text($("means"), draft.choice && seat ? seat.means[draft.choice] + "." : "\u00a0");
  drawWhy();
}

function drawWhy() {
  const n = $("why").value.length, max = room.limits.why;
  text($("why-label"), "Why? (" + n + "/" + max + " characters)");
  text($("why-error"), n > max ? "Too long by " + (n - max) + " characters." : "");
  $("send").disabled = n > max || room.phase !== "open";
}
$("why").oninput = () => drawWhy();

$("send").onclick = () => {
  const why = $("why").value, round = draft.round;
  const answers = window.stalemateAnswers = window.stalemateAnswers || [];
  if (draft.choice === null) {
    const closed = !$("unsent").hidden;  // the month closed while this student typed
    const msg = closed ? "That month closed before you sent: choose again for " + room.month + "."
                       : "Choose concede, hedge or escalate first.";
    text($("move-error"), msg);
    answers.push({round: round, why: why, ok: false, local: true, error: msg});
    return;
  }
  text($("move-error"), "");
  window.stalemateSent = window.stalemateSent || {};
  window.stalemateSent[round] = Date.now();
  request({t: "move", round: round, actor: me.actor, action: draft.choice, why: why}, (a) => {
    text($("move-error"), a.ok ? "" : a.error);
    if (a.ok) { lastSent = {round: round, why: why}; }
    answers.push({round: round, why: why, ok: a.ok, error: a.error || ""});
  });
};

$("reuse").onclick = () => {
  $("why").value = $("unsent").dataset.why || "";
  show($("unsent"), false);
  drawWhy();
  $("why").focus();
};

function newRound() {
  // the round changed: what was typed for the last one is not sent for this one
  const why = $("why").value;
  const sent = lastSent.round === draft.round && lastSent.why === why;
  if (draft.round !== null && why.trim() && !sent) {
    $("unsent").dataset.why = why;
    text($("unsent-text"), "Not sent — " + (room.last ? room.last.title.replace(": the moves", "") : "the round") +
      " closed first: \u201c" + why + "\u201d");
    show($("unsent"), true);
  } else {
    show($("unsent"), false);
  }
  $("why").value = "";
  draft = {game: room.game, round: room.round, choice: null};
  text($("move-error"), "");
  drawChoice();
}

function tick() {
  if (deadline === null) { show($("countdown"), false); return; }
  const left = Math.max(0, deadline - performance.now() / 1000);
  text($("countdown"), Math.ceil(left - 0.001) + " s left");
  show($("countdown"), true);
}

function drawMove() {
  const open = room.phase === "open" || room.phase === "paused";
  show($("move"), open);
  if (room.phase === "lobby") text($("status"), "Wait for the teacher to start the talks.");
  else if (room.phase === "finished") text($("status"), "The talks are over: " + room.outcome + ". Look at the projector.");
  else text($("status"), "");
  if (!open) { deadline = null; tick(); return; }
  if (draft.round !== room.round || draft.game !== room.game) newRound();
  text($("move-title"), "Your move for " + room.clock);
  if (room.phase === "paused") { deadline = null; text($("countdown"), "Paused by the teacher"); show($("countdown"), true); }
  else if (room.left !== null) { deadline = performance.now() / 1000 + room.left; tick(); }
  else { deadline = null; tick(); }
  if (ticker === null) ticker = setInterval(tick, 250);
  const f = room.forced[me.actor];
  text($("forced"), f ? "A scheduled event forces " + me.actor + " to " + f + " this round, whatever you choose; say what you would have done." : "");
  show($("forced"), !!f);
  const s = me.sent && me.sent.round === room.round ? me.sent : null;
  text($("sent"), s ? "Your team's move: " + s.move + (s.why ? " \u2014 \u201c" + s.why + "\u201d" : "") +
    " (sent by " + s.by + "). You can change it until the round closes." : "");
  const others = room.waiting.filter((a) => a !== me.actor);
  text($("still"), others.length ? "Still choosing: " + others.join(", ") + "." : "");
  drawChoice();
}

function drawLast() {
  const box = $("last");
  show(box, !!room.last);
  if (!room.last || box.dataset.version === room.last.title) return;
  box.dataset.version = room.last.title;
  const t = document.createElement("table"); t.className = "sm-moves-table sm-last-round";
  const cap = document.createElement("caption"); cap.textContent = room.last.title; t.append(cap);
  const head = t.insertRow();
  for (const h of ["State", "Move", "Chosen by", "Why"]) { const th = document.createElement("th"); th.textContent = h; head.append(th); }
  for (const r of room.last.rows) {
    const tr = t.insertRow();
    const th = document.createElement("th"); th.textContent = r.state; tr.append(th);
    const tag = document.createElement("span"); tag.className = "sm-tag"; tag.textContent = r.move;
    tag.style.background = MOVE_COLORS[r.move];
    tr.insertCell().append(tag);
    tr.insertCell().textContent = r.who;
    const why = tr.insertCell(); why.className = "sm-why";
    why.textContent = r.why ? "\u201c" + r.why + "\u201d \u2014 " + r.by : "";
  }
  box.replaceChildren(t);
}

function drawPrivate() {
  text($("private-title"), "Only you see this: " + me.actor + "'s private information");
  const key = JSON.stringify(me.private);
  const box = $("private");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren();
  for (const [k, v] of me.private) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    box.append(dt, dd);
  }
}

// ---- the chart: the shared state over the rounds (SVG, no library) --------------------
function drawChart() {
  const c = room.chart, box = $("chart");
  const key = room.game + ":" + c.labels.length + ":" + c.labels[c.labels.length - 1];
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const W = 640, H = 220, L = 34, R = 10, T = 10, B = 28;
  const n = Math.max(c.labels.length - 1, 1);
  const x = (i) => L + (W - L - R) * i / n, y = (v) => T + (H - T - B) * (1 - v);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "The shared state over the rounds played");
  const el = (name, attrs, content) => {
    const e = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (content !== undefined) e.textContent = content;
    svg.append(e); return e;
  };
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    el("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e8ee"});
    el("text", {x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#44546a"}, v.toFixed(2).replace(/0$/, ""));
  }
  const step = Math.max(1, Math.ceil(c.labels.length / 8));
  c.labels.forEach((lab, i) => {
    if (i % step) return;
    const short = lab.replace("after ", "").replace(/^start.*/, "start");
    el("text", {x: x(i), y: H - 8, "text-anchor": "middle", "font-size": 12, fill: "#44546a"}, short);
  });
  for (const [v, what] of [[c.agreement, "agreement bar"], [c.crisis, "crisis line"]]) {
    el("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#555", "stroke-dasharray": "6 4"});
    el("text", {x: L + 4, y: y(v) - 4, "font-size": 12, fill: "#444"}, what);
  }
  for (const s of c.series) {
    const pts = s.values.map((v, i) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    el("polyline", {points: pts, fill: "none", stroke: s.color, "stroke-width": 2.2,
      "stroke-dasharray": s.dash ? "5 3" : "none"});
  }
  box.replaceChildren(svg);
  const legend = $("legend");
  if (!legend.childElementCount) {
    for (const s of c.series) {
      const sp = document.createElement("span"); sp.textContent = s.label;
      sp.style.setProperty("--c", s.color); if (s.dash) sp.className = "sm-dashed";
      legend.append(sp);
    }
  }
}

// ---- one state message -> the page ----------------------------------------------------
function draw() {
  text($("clock"), room.clock);
  if (room.round !== undefined && room.round !== null && !(room.round in window.stalemateShown))
    window.stalemateShown[room.round] = Date.now();
  if (room.phase === "finished" && !("end" in window.stalemateShown)) window.stalemateShown.end = Date.now();
  show($("gone"), !!(me.gone));
  if (me.gone) { text($("gone-text"), me.gone); }
  show($("join"), !me.joined && !me.gone);
  show($("pick"), me.joined && !me.actor);
  show($("play"), me.joined && !!me.actor);
  if (!me.joined) return;
  if (!me.actor) {
    text($("welcome"), "Welcome, " + me.name + ". Pick the state you will play (a team may share one):");
    drawSeats();
    return;
  }
  text($("you"), "You are " + me.actor + " (team: " + me.team.join(", ") + ")");
  text($("seat-code-line"), "Your seat code: " + me.seat_code +
    " \u2014 with it, your name and the room code you can take your seat back on another device.");
  drawMove();
  drawLast();
  drawPrivate();
  drawChart();
}

connect();
</script>
</body>
</html>
""".replace("__SOCKET__", SOCKET_PATH).replace(
    "__MOVE_COLORS__", json.dumps({a.name: a.colour for a in ACTION_TABLE})
)

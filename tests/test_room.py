"""The room's rules without a browser: joining, seats, rounds, the timer, the teacher, security.

The pages are rendered in-process for several sessions at once to check that a
change by one student reaches the others, and that each sees only its own
seat's private information. The five-round game in real browsers is in
``tests/test_browser.py``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import threading
import time
from datetime import datetime

import pytest

from sim.classroom.room import (
    MAX_JUSTIFICATION,
    MAX_WRONG_CODES,
    Room,
    RoomError,
    clean_text,
    compare_with_model,
)
from sim.classroom.room_export import spreadsheet_safe
from sim.classroom.seats import ClassroomModel, private_info
from sim.model.names import Action

KEY = "teacher-secret"


@pytest.fixture
def room():
    r = Room(code="ABC234", teacher_key=KEY, scenario="baseline_2018", rounds=6, seed=0, timer=0)
    yield r
    r.close()


def seated(room, **who):
    """Join and seat students: seated(room, Ana="USA") -> sessions by name."""
    sessions = {}
    for name, actor in who.items():
        s = f"session-{name}"
        room.join("ABC234", name, s)
        if actor:
            room.claim(s, actor)
        sessions[name] = s
    return sessions


def test_join_needs_the_code_and_slows_down_guessing(room):
    with pytest.raises(RoomError, match="not this room's code"):
        room.join("ABC235", "Ana", "s1")
    assert room.join(" abc-234 ", "Ana", "s1").name == "Ana"  # case, spaces, dashes ignored
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(RoomError):
            room.join("ZZZZZZ", "Eve", "s2")
    with pytest.raises(RoomError, match="Too many wrong codes"):
        room.join("ABC234", "Eve", "s2")  # even the right code waits now


def test_names_are_cleaned_limited_and_unique(room):
    assert room.join("ABC234", "  Ana\x00\x07  Lee ", "s1").name == "Ana Lee"
    with pytest.raises(RoomError, match="keep it to 24"):
        room.join("ABC234", "x" * 25, "s2")
    with pytest.raises(RoomError, match="type your name"):
        room.join("ABC234", " \n ", "s2")
    with pytest.raises(RoomError, match="already called"):
        room.join("ABC234", "ana lee", "s3")
    assert clean_text("<b>hi</b>", 20, "x") == "<b>hi</b>"  # kept as text; shown escaped


def test_teams_and_seats(room):
    s = seated(room, Ana="DPRK", Ben="DPRK", Cleo="USA")
    assert room.view().team("DPRK") == ("Ana", "Ben")
    room.claim(s["Ben"], "ROK")  # before the start anyone may change seats
    room.start(KEY)
    with pytest.raises(RoomError, match="You sit for ROK: you cannot act for USA"):
        room.claim(s["Ben"], "USA")
    late = seated(room, Dev=None)["Dev"]
    with pytest.raises(RoomError, match="already has a team"):
        room.claim(late, "DPRK")
    assert room.claim(late, "PRC").actor == "PRC"  # a free seat is fine
    with pytest.raises(RoomError, match="no seat"):
        room.claim(late, "JPN")


def test_a_seat_cannot_act_for_another(room):
    s = seated(room, Ana="DPRK", Ben="USA")
    room.start(KEY)
    with pytest.raises(RoomError, match="You sit for DPRK: you cannot act for USA"):
        room.submit(s["Ana"], "USA", "escalate", "", round=1)
    with pytest.raises(RoomError, match="Join the room first"):
        room.submit("a-stranger", "USA", "escalate", "", round=1)
    with pytest.raises(RoomError, match="Choose concede"):
        room.submit(s["Ana"], "DPRK", "__import__('os')", "", round=1)
    with pytest.raises(RoomError, match=f"keep it to {MAX_JUSTIFICATION}"):
        room.submit(s["Ana"], "DPRK", "hedge", "y" * (MAX_JUSTIFICATION + 1), round=1)
    assert room.view().submitted == {}


def test_round_resolves_when_every_claimed_seat_has_chosen(room):
    s = seated(room, Ana="DPRK", Ben="DPRK", Cleo="USA")
    room.start(KEY)
    room.submit(s["Ana"], "DPRK", "hedge", "first thought", round=1)
    room.submit(s["Ben"], "DPRK", Action.CONCEDE, "team's final word", round=1)  # the latest counts
    assert room.view().round == 0 and room.view().waiting_for == ("USA",)
    room.submit(s["Cleo"], "USA", "concede", "assurances", round=1)
    v = room.view()
    assert v.round == 1 and v.phase == "open" and v.submitted == {}
    rec = v.records[0]
    assert rec.actions["DPRK"] == Action.CONCEDE and rec.moves["DPRK"].by == "Ben"
    assert rec.sources == {"USA": "class", "DPRK": "class", "ROK": "model", "PRC": "model"}
    assert v.snapshot.history.actions[0, 1].tolist()[:2] == [Action.CONCEDE, Action.CONCEDE]


def test_timer_lets_the_model_play_timed_out_seats(room):
    s = seated(room, Ana="DPRK", Ben="USA")
    room.set_timer(KEY, 30)
    room.start(KEY)
    deadline = room.view().deadline
    assert 29 <= room.view().seconds_left() <= 30
    room.submit(s["Ana"], "DPRK", "concede", "", round=1)
    assert not room.tick(now=deadline - 1)
    assert room.tick(now=deadline + 0.1)
    rec = room.view().records[0]
    assert rec.sources["USA"] == "timeout" and rec.sources["DPRK"] == "class"


def test_pause_resume_and_close_the_round(room):
    s = seated(room, Ana="DPRK")
    room.set_timer(KEY, 60)
    room.start(KEY)
    room.pause(KEY)
    assert room.view().phase == "paused" and room.view().seconds_left() > 50
    with pytest.raises(RoomError, match="paused"):
        room.submit(s["Ana"], "DPRK", "hedge", "", round=1)
    room.resume(KEY)
    room.advance(KEY, round=1)  # the model plays the seat that has not chosen
    assert room.view().round == 1 and room.view().records[0].sources["DPRK"] == "timeout"


def test_only_the_teacher_runs_the_room(room):
    for call in (room.start, room.pause, room.resume, room.advance, room.export_csv):
        with pytest.raises(RoomError, match="Only the teacher"):
            call("guess")
    with pytest.raises(RoomError, match="Only the teacher"):
        room.reveal("", True)
    assert not room.is_teacher(None) and room.is_teacher(KEY)


def test_private_information_is_per_seat_until_revealed(room):
    s = seated(room, Ana="DPRK", Ben="USA", Cleo=None)
    ana, ben = room.private_info(s["Ana"]), room.private_info(s["Ben"])
    assert ana["Concede"].startswith("DPRK dismantles") and "Your trust in USA" in ana
    assert ben["Concede"].startswith("USA offers") and "Your trust in DPRK" in ben
    assert room.private_info(s["Cleo"]) == {} and room.all_private_info() == {}
    room.reveal(KEY, True)
    assert set(room.all_private_info()) == {"USA", "DPRK", "ROK", "PRC"}


def test_private_info_hook_for_models_with_types():
    """A model that exposes private types has them shown first, through the same function."""

    class Typed(ClassroomModel):
        def private_info(self, actor):
            return {"Your type": "hardliner" if actor == "DPRK" else "moderate"}

    m = Typed(rounds=3, rng=0)
    info = private_info(m, "DPRK")
    assert list(info)[0] == "Your type" and info["Your type"] == "hardliner"


def test_a_whole_game_export_and_comparison(room):
    s = seated(room, Ana="DPRK", Ben="USA")
    room.start(KEY)
    for r in range(6):
        room.submit(
            s["Ana"],
            "DPRK",
            "concede",
            '=HYPERLINK("http://x")' if r == 0 else f"round {r}",
            round=r + 1,
        )
        room.submit(s["Ben"], "USA", "concede", "", round=r + 1)
    v = room.view()
    assert v.phase == "finished" and v.round == 6
    rows = list(csv.DictReader(io.StringIO(room.export_csv(KEY))))
    assert len(rows) == 6 * 4
    first = {r["state"]: r for r in rows if r["round"] == "1"}
    assert first["DPRK"]["justification"].startswith("'=HYPERLINK")  # not a formula
    assert first["DPRK"]["chosen_by"] == "Ana" and first["ROK"]["source"] == "model"
    assert rows[-1]["outcome"] == v.snapshot.outcome
    c = v.comparison
    assert abs(sum(c["outcomes"].values()) - 1) < 1e-9 and c["runs"] == 500
    assert c["class_outcome"] == v.snapshot.outcome
    assert len(c["bands"]["Tension"][1]) == 7 and c["concede"]["DPRK"][0] == 6


def test_new_game_keeps_seats(room):
    s = seated(room, Ana="DPRK")
    room.start(KEY)
    room.advance(KEY, round=1)
    room.reset(KEY, scenario="relief_first", seed=5, timer=0)
    v = room.view()
    assert v.phase == "lobby" and v.round == 0 and v.scenario == "relief_first" and v.seed == 5
    assert room.private_info(s["Ana"])  # still in the DPRK's seat


def test_sessions_wait_for_changes(room):
    v0 = room.view()
    t0 = time.monotonic()
    assert room.wait(v0.version, timeout=0.2).version == v0.version  # nothing changed
    assert time.monotonic() - t0 >= 0.15
    room.join("ABC234", "Ana", "s1")
    assert room.wait(v0.version, timeout=5).version > v0.version


def test_spreadsheet_safe():
    assert spreadsheet_safe("=1+1") == "'=1+1" and spreadsheet_safe("-x") == "'-x"
    assert spreadsheet_safe("fine") == "fine"


def test_comparison_is_reproducible():
    m = ClassroomModel(rounds=5, rng=2)
    m.run()
    a, b = compare_with_model(m, runs=50), compare_with_model(m, runs=50)
    assert a["outcomes"] == b["outcomes"] and a["final"] == b["final"]


# --------------------------------------------------------------------------------------
# The pages, in-process, several sessions at once


def spans(rc) -> str:
    import ipyvuetify as v

    return " ".join(
        w.children[0]
        for w in rc.find(v.Html, tag="span").widgets
        if w.children and isinstance(w.children[0], str)
    )


def html_of(rc) -> str:
    import solara

    return " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def until(check, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def served(room):
    """The room's students' routes and exports on a free loopback port, in this process (no
    Solara: the seats are thin pages); yields ``host:port``."""
    pytest.importorskip("solara", reason="the room's server needs the app extra")
    import uvicorn
    from starlette.applications import Starlette

    from sim.classroom.room_student import Students
    from sim.classroom.room_teacher import export_routes
    from sim.classroom.serve import MAX_MESSAGE_BYTES, bound_port, listen

    sock = listen("127.0.0.1", 0)
    app = Starlette(routes=Students(room).routes() + export_routes(room))
    server = uvicorn.Server(
        uvicorn.Config(app, ws_max_size=MAX_MESSAGE_BYTES, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert until(lambda: server.started, 30)
    yield f"127.0.0.1:{bound_port(sock)}"
    server.should_exit = True
    thread.join(15)


class Seat:
    """A student's page reduced to its protocol: the cookie, the websocket, the messages."""

    def __init__(self, base: str, cookie: str | None = None):
        import urllib.request

        from websockets.sync.client import connect

        if cookie is None:
            with urllib.request.urlopen(f"http://{base}/") as r:
                self.set_cookie = r.headers["set-cookie"]
            cookie = self.set_cookie.split(";")[0]
        self.cookie = cookie
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(
            connect(
                f"ws://{base}/room/socket",
                additional_headers={"Cookie": cookie, "Origin": f"http://{base}"},
                max_size=None,
            )
        )
        self.state, self.me, self.n = None, None, 0

    def _read(self, timeout: float) -> dict:
        msg = json.loads(self.ws.recv(timeout=timeout))
        if msg["t"] == "state":
            self.state, self.me = msg["room"], msg["me"]
        return msg

    def call(self, timeout: float = 30, **msg) -> dict:
        self.n += 1
        self.ws.send(json.dumps({**msg, "id": self.n}))
        end = time.monotonic() + timeout
        while True:
            got = self._read(max(0.01, end - time.monotonic()))
            if got["t"] == "ack" and got["id"] == self.n:
                return got

    def until(self, check, timeout: float = 30) -> dict:
        end = time.monotonic() + timeout
        while self.state is None or not check(self.state, self.me):
            self._read(max(0.01, end - time.monotonic()))
        return self.state

    def close(self):
        self._stack.close()


def test_seats_over_the_websocket_each_with_its_own_information(room, served):
    """Two students join and play through the protocol; each is sent its own seat's private
    information only; what one types reaches the other as the same text."""
    ana, ben = Seat(served), Seat(served)
    assert ana.until(lambda r, me: r["phase"] == "lobby")
    assert "actors" not in ana.state  # nothing about the class before joining
    assert ana.call(t="join", code="ZZZZZZ", name="Ana")["error"].startswith("That is not")
    assert ana.call(t="join", code="abc234", name="Ana")["ok"]
    assert ben.call(t="join", code="ABC234", name="Ben")["ok"]
    assert ana.call(t="claim", actor="DPRK")["ok"] and ben.call(t="claim", actor="USA")["ok"]
    room.start(KEY)
    ana.until(lambda r, me: r["round"] == 1 and me["actor"] == "DPRK")
    ben.until(lambda r, me: r["round"] == 1)
    private = dict(ana.me["private"])
    assert private["Concede"].startswith("DPRK dismantles") and "Your trust in USA" in private
    assert dict(ben.me["private"])["Concede"].startswith("USA offers")
    why = "<script>alert(1)</script>  two spaces\nand a line"
    assert ana.call(t="move", round=1, actor="DPRK", action="concede", why=why)["ok"]
    ben.until(lambda r, me: "DPRK" not in r["waiting"])
    assert ben.call(t="move", round=1, actor="USA", action="hedge", why="")["ok"]
    state = ben.until(lambda r, me: r["round"] == 2)
    rows = {row["state"]: row for row in state["last"]["rows"]}
    assert rows["DPRK"]["why"] == why and rows["DPRK"]["by"] == "Ana"  # as typed; shown as text
    assert rows["USA"]["move"] == "hedge" and rows["ROK"]["who"].startswith("the model")
    # a page cannot act for another seat, whatever it sends
    bad = ben.call(t="move", round=2, actor="DPRK", action="escalate", why="")
    assert bad["error"] == "You sit for USA: you cannot act for DPRK."
    for seat in (ana, ben):
        seat.close()


def test_a_stale_move_is_refused_on_that_page_and_kept(room, served):
    """Issue 26, defect 1: a move meant for August decided September. A move names its round;
    one for a round that has closed is refused with a message for that student, not counted
    for the next round, and kept in the sends export."""
    ana = Seat(served)
    ana.call(t="join", code="ABC234", name="Ana")
    ana.call(t="claim", actor="DPRK")
    room.start(KEY)
    ana.until(lambda r, me: r["round"] == 1)
    room.advance(KEY, round=1)  # the teacher closes April while Ana types
    late = ana.call(t="move", round=1, actor="DPRK", action="escalate", why="for April")
    assert not late["ok"]
    assert (
        late["error"]
        == "Round 1 closed before your move arrived: it was not counted. Choose again for round 2."
    )
    assert room.view().submitted == {} and room.view().round == 1
    assert room.view().records[0].sources["DPRK"] == "timeout"
    sends = list(csv.DictReader(io.StringIO(room.export_sends_csv(KEY))))
    assert [(s["round"], s["reason"], s["status"][:8], s["counted"]) for s in sends] == [
        ("1", "for April", "refused:", "no")
    ]
    ana.close()


def test_every_reason_is_kept_exactly_with_team_seat_month_and_time():
    """Issue 26, defect 5: only one reason per team and month was kept. Every send is in the
    sends export, exactly as typed, with team, seat, month and time, and which one counted."""
    room = Room(code="ABC234", teacher_key=KEY, scenario="replay_2018", seed=0, timer=0)
    s = seated(room, Ana="DPRK", Ben="DPRK", Cleo="USA")
    room.start(KEY)
    typed = {
        "Ana": "  We keep the moratorium,\nbut not the bases  ",
        "Ben": "=1+1 no: we concede",
        "Cleo": "Assurances first — «sí» ✓",
    }
    t0 = time.time()
    room.submit(s["Ana"], "DPRK", "hedge", typed["Ana"], round=1)
    room.submit(s["Ben"], "DPRK", "concede", typed["Ben"], round=1)
    room.submit(s["Cleo"], "USA", "concede", typed["Cleo"], round=1)
    rows = list(csv.DictReader(io.StringIO(room.export_sends_csv(KEY))))
    assert len(rows) == 3
    by = {r["student"]: r for r in rows}
    assert by["Ana"]["reason"] == typed["Ana"] and by["Cleo"]["reason"] == typed["Cleo"]
    assert by["Ben"]["reason"] == "'" + typed["Ben"]  # a formula is defused, nothing else
    assert by["Ana"]["state"] == "DPRK" and by["Ana"]["team"] == "Ana; Ben"
    assert by["Ana"]["month"] == "April 2018" and by["Ana"]["round"] == "1"
    sent = datetime.fromisoformat(by["Cleo"]["sent_at"]).timestamp()
    assert t0 - 1 <= sent <= time.time() + 1
    assert (by["Ana"]["counted"], by["Ben"]["counted"], by["Cleo"]["counted"]) == (
        "no",
        "yes",
        "yes",
    )
    rounds = list(csv.DictReader(io.StringIO(room.export_csv(KEY))))
    assert {r["state"]: r["justification"] for r in rounds}["USA"] == typed["Cleo"]
    room.close()


def test_closing_a_round_is_idempotent(room):
    """Issue 26, defect 3: a double click on "Close the round now", or two consoles, skipped
    a month. A close names the round it was meant for."""
    seated(room, Ana="DPRK")
    room.start(KEY)
    room.advance(KEY, round=1)
    with pytest.raises(RoomError, match="Round 1 was already closed"):
        room.advance(KEY, round=1)  # the second click, or the second console
    assert room.view().round == 1 and room.view().open_round == 2
    with pytest.raises(RoomError, match="have not started"):
        Room(code="ABC234", teacher_key=KEY, scenario="baseline_2018", rounds=3, seed=0).advance(
            KEY, round=1
        )


def test_new_game_keeps_the_finished_games_export(room):
    """Issue 26, defect 4: "New game" wiped the session; the export was then empty. The game
    it replaces stays exportable; a second console's "New game" for the same game does nothing."""
    s = seated(room, Ana="DPRK")
    room.start(KEY)
    room.submit(s["Ana"], "DPRK", "concede", "first game's reason", round=1)
    before = room.export_csv(KEY)
    game = room.view().game
    room.reset(KEY, seed=3, game=game)
    with pytest.raises(RoomError, match="already started a new game"):
        room.reset(KEY, seed=4, game=game)  # the other console
    v = room.view()
    assert v.game == game + 1 and v.seed == 3 and v.archives[0][0] == game
    old = room.archive(KEY, game)
    assert old.rounds_csv == before and "first game's reason" in old.sends_csv
    assert "stopped by a new game" in v.archives[0][1]
    assert room.export_sends_csv(KEY).count("\n") == 1  # the new game: a header only


def test_projector_key_is_not_the_teachers(room):
    """Issue 26: the projector's URL carried the teacher's key (/projector -> /teacher gave
    the console). The projector has its own key, which runs nothing."""
    r = Room(KEY, teacher_key=KEY + "t", projector_key="screen", scenario="baseline_2018", rounds=3)
    assert r.is_projector("screen") and not r.is_teacher("screen")
    assert not r.is_projector(KEY + "t")
    with pytest.raises(RoomError, match="Only the teacher"):
        r.start("screen")
    with pytest.raises(ValueError):
        Room(teacher_key="same", projector_key="same")
    r.close()


def test_seat_code_takes_the_seat_to_a_new_device(room, served):
    """Issue 26: a student on a new device could not reclaim their seat, and the old session
    still counted. With the seat code shown to them, the new device takes the seat; the old
    page is let go and can no longer act."""
    old = Seat(served)
    old.call(t="join", code="ABC234", name="Ana")
    old.call(t="claim", actor="DPRK")
    code = old.until(lambda r, me: me.get("seat_code")) and old.me["seat_code"]
    room.start(KEY)
    new = Seat(served)
    refused = new.call(t="join", code="ABC234", name="ana")
    assert "already called Ana" in refused["error"] and "seat code" in refused["error"]
    assert (
        "not Ana's seat code"
        in new.call(t="join", code="ABC234", name="Ana", seat_code="XXXX")["error"]
    )
    assert new.call(t="join", code="ABC234", name="Ana", seat_code=code.lower())["ok"]
    new.until(lambda r, me: me.get("actor") == "DPRK" and r["round"] == 1)
    old.until(lambda r, me: me.get("gone"))
    assert "another device" in old.me["gone"]
    stale = old.call(t="move", round=1, actor="DPRK", action="hedge", why="")
    assert "another device" in stale["error"]
    assert [p.name for p in room.view().participants] == ["Ana"]
    assert new.call(t="move", round=1, actor="DPRK", action="hedge", why="from the tablet")["ok"]
    assert room.view().records[0].moves["DPRK"].justification == "from the tablet"
    old.close()
    new.close()


def test_cookie_is_httponly_and_samesite_and_messages_are_bounded(room, served):
    """Issue 26: the session cookie was readable by page scripts, and a 10 MB update was
    accepted. The seat's cookie is HttpOnly and SameSite=Strict; a message over 4 KB closes
    that page's connection; another site's page cannot open the websocket."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    seat = Seat(served)
    flags = [f.strip().lower() for f in seat.set_cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    seat.until(lambda r, me: True)
    seat.ws.send(json.dumps({"t": "join", "code": "ABC234", "name": "x" * 10_000_000}))
    with pytest.raises(ConnectionClosed):
        for _ in range(10):
            seat._read(10)
    assert room.view().participants == ()
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(
            f"ws://{served}/room/socket",
            additional_headers={"Cookie": seat.cookie, "Origin": "http://evil.example"},
        ) as ws:
            ws.recv(timeout=10)
    seat.close()


def test_exports_need_the_teachers_key(room, served):
    import urllib.error
    import urllib.request

    seated(room, Ana="DPRK")
    for key in ("", "guess", room.projector_key):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://{served}/teacher/export/sends.csv?key={key}")
        assert err.value.code == 403
    with urllib.request.urlopen(f"http://{served}/teacher/export/rounds.csv?key={KEY}") as r:
        assert r.headers["content-type"].startswith("text/csv")
        assert r.read().decode().startswith("round,state,team,move")


def test_stalemate_room_binds_loopback_and_prints_the_code(monkeypatch, capsys):
    """The settings reach the room as one checked object; the port is open before start-up."""
    from sim.classroom import room_app

    served = {}
    monkeypatch.setattr(
        room_app, "serve", lambda settings, sock: served.update(s=settings, sock=sock)
    )
    assert room_app.main(["--code", "xyz789", "--seed", "3", "--port", "0"]) == 0
    out = capsys.readouterr().out
    settings, sock = served["s"], served["sock"]
    assert "Join code:        XYZ789" in out and "this machine only" in out
    assert sock.getsockname()[0] == "127.0.0.1" and f":{sock.getsockname()[1]}/" in out
    assert settings.code == "XYZ789" and settings.seed == 3 and settings.port == 0
    assert f"teacher?key={settings.teacher_key}" in out
    room = settings.room()
    assert room.code == "XYZ789" and room.seed == 3 and room.is_teacher(settings.teacher_key)
    room.close()
    sock.close()
    assert room_app.main(["--host", "0.0.0.0", "--port", "0"]) == 0
    assert served["sock"].getsockname()[0] == "0.0.0.0"
    assert "this machine only" not in capsys.readouterr().out
    served["sock"].close()


def test_importing_the_room_starts_nothing():
    """No thread (a warm-up, a clock) starts when the room's modules are imported."""
    import subprocess
    import sys

    code = (
        "import threading, sim.classroom.room_app, sim.classroom.room_pages, sim.classroom.page; "
        "print(sorted(t.name for t in threading.enumerate()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['MainThread']", out.stdout + out.stderr


def test_comparison_chart_facets_read_their_own_series():
    """Issue 26: every panel of "the class against the model" drew the same zig-zag: each
    layer of the facet named the whole data set, so no layer was split by panel."""
    from sim.classroom.charts import fan_spec

    for calendar in (False, True):
        spec = fan_spec(calendar)
        assert spec["data"] == {"name": "table"} and spec["facet"]["field"] == "series"
        assert all("data" not in layer for layer in spec["spec"]["layer"]), spec["spec"]["layer"]


# --------------------------------------------------------------------------------------
# The teacher's console, in-process


@pytest.fixture
def console(room):
    solara = pytest.importorskip("solara", reason="the pages need the app extra")
    from sim.classroom.room_teacher import TeacherConsole
    from sim.classroom.room_views import serve_room

    serve_room(room)
    box, rc = solara.render(TeacherConsole(room, KEY), handle_error=False)
    yield rc
    rc.close()
    serve_room(None)


def console_text(rc) -> str:
    import ipyvuetify as v

    return (
        spans(rc)
        + " "
        + html_of(rc)
        + " "
        + " ".join(str(w.children) for w in rc.find(v.Html).widgets)
    )


def press(rc, label: str, at=None):
    """Click a console button the way a browser does: a RoundButton sends what it showed."""
    import ipyvuetify as v

    found = [w for w in rc.find(v.VuetifyTemplate).widgets if getattr(w, "label", None) == label]
    if found:
        (w,) = found
        w.vue_press(w.at if at is None else at)
        return
    rc.find(v.Btn, children=[label]).widget.click()


def test_console_status_after_the_end(room, console):
    """Issue 26: after the talks ended the console still said "Waiting for: USA, DPRK, …"."""
    s = seated(room, Ana="DPRK", Ben="USA")
    room.start(KEY)
    for r in range(1, 7):
        room.submit(s["Ana"], "DPRK", "hedge", "", round=r)
        room.submit(s["Ben"], "USA", "hedge", "", round=r)
    assert room.view().phase == "finished"
    assert until(lambda: "The talks are over" in console_text(console))
    assert "Waiting for" not in console_text(console)


def test_console_double_close_and_a_second_console_close_one_round(room, console):
    """Issue 26, defect 3, through the console's button: a second click carrying the round the
    page showed closes nothing, and says so."""
    import ipyvuetify as v

    seated(room, Ana="DPRK")
    room.start(KEY)
    assert until(
        lambda: any(
            getattr(w, "label", None) == "Close the round now"
            for w in console.find(v.VuetifyTemplate).widgets
        )
    )
    press(console, "Close the round now", at=1)
    press(console, "Close the round now", at=1)  # the double click (or the other console)
    assert room.view().round == 1 and room.view().open_round == 2
    assert until(lambda: "Round 1 was already closed" in console_text(console))


def test_console_new_game_asks_and_keeps_the_export(room, console):
    """Issue 26, defect 4: "New game" wiped the session at once. It now asks; once confirmed,
    the finished game's exports are linked under "Earlier games"."""
    s = seated(room, Ana="DPRK")
    room.start(KEY)
    room.submit(s["Ana"], "DPRK", "concede", "kept", round=1)
    press(console, "New game")
    assert until(lambda: "This ends game 1" in console_text(console))
    assert room.view().game == 1  # nothing happened yet
    press(console, "Cancel")
    assert until(lambda: "This ends game 1" not in console_text(console))
    press(console, "New game")
    assert until(lambda: "This ends game 1" in console_text(console))
    press(console, "Yes, start a new game")
    assert until(lambda: "Earlier games" in console_text(console))
    assert room.view().game == 2 and "game=1" in html_of(console)
    assert "kept" in room.archive(KEY, 1).sends_csv


@pytest.mark.parametrize("bad", ["²", "①", "abc"])
def test_console_refuses_seeds_that_are_not_numbers(room, console, bad):
    """Issue 26: a seed of "²" or "①" replaced the page with a traceback."""
    import ipyvuetify as v

    console.find(v.TextField, label="Seed (blank: random)").widget.v_model = bad
    press(console, "New game")
    assert until(lambda: "The seed must be a whole number" in console_text(console))
    assert room.view().game == 1


# --------------------------------------------------------------------------------------
# Issue 25, item 6: the apps refuse bad arguments before start-up, in one line, exit code 2


@pytest.mark.slow  # a command line each
@pytest.mark.parametrize(
    "command, args, says",
    [
        ("sim.classroom.room_app", ["--rounds", "0"], "--rounds"),
        ("sim.classroom.room_app", ["--max-team", "-1"], "--max-team"),
        ("sim.classroom.room_app", ["--max-team", "0"], "--max-team"),
        ("sim.classroom.room_app", ["--port", "99999"], "--port"),
        ("sim.classroom.room_app", ["--port", "http"], "--port"),
        ("sim.classroom.room_app", ["--bogus"], "--bogus"),
        ("sim.classroom.room_app", ["--seed", "①"], "--seed"),
        ("sim.classroom.room_app", ["--timer", "-5"], "--timer"),
        ("sim.classroom.room_app", ["--code", "ab"], "--code"),
        ("sim.classroom.room_app", ["--code", "①②③④"], "--code"),
        ("sim.classroom.room_app", ["--scenario", "nowhere"], "--scenario"),
        ("sim.classroom.room_app", ["--scenario", "replay_2018", "--rounds", "3"], "--rounds = 3"),
        ("sim.classroom.room_app", ["--host", "no-such-host.invalid"], "--host"),
        ("sim.classroom.room_app", ["--host", "192.0.2.1"], "--host 192.0.2.1"),
        ("sim.classroom.page_cli", ["--port", "99999"], "--port"),
        ("sim.classroom.page_cli", ["--bogus"], "--bogus"),
        ("sim.classroom.page_cli", ["--host", "192.0.2.1"], "--host 192.0.2.1"),
    ],
)
def test_apps_refuse_bad_arguments_in_one_line(command, args, says, tmp_path):
    """Issue 25: `--rounds 0`, `--max-team -1`, `--port 99999` and `--bogus` all started the
    room, `stalemate-app --port 99999` started and then printed an 84-line traceback, a bad
    host failed only after start-up, and argument errors took 5 lines."""
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert says in lines[0] and "Traceback" not in res.stderr
    assert res.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", ["sim.classroom.room_app", "sim.classroom.page_cli"])
def test_apps_name_a_busy_port(command, tmp_path):
    import subprocess
    import sys

    from sim.classroom.serve import bound_port, listen

    sock = listen("127.0.0.1", 0)  # another program on the port
    try:
        port = bound_port(sock)
        res = subprocess.run(
            [sys.executable, "-m", command, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    finally:
        sock.close()
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert f"port {port} on 127.0.0.1 is busy" in res.stderr and res.stdout == ""

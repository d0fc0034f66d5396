"""The room's rules without a browser: joining, seats, rounds, the timer, the teacher, security.

The pages are rendered in-process for several sessions at once to check that a
change by one student reaches the others, and that each sees only its own
seat's private information. The five-round game in real browsers is in
``tests/test_browser.py``.
"""

from __future__ import annotations

import csv
import io
import time

import pytest

from sim.classroom.room import (
    MAX_JUSTIFICATION,
    MAX_WRONG_CODES,
    Room,
    RoomError,
    clean_text,
    compare_with_model,
    spreadsheet_safe,
)
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
        room.submit(s["Ana"], "USA", "escalate", "")
    with pytest.raises(RoomError, match="Join the room first"):
        room.submit("a-stranger", "USA", "escalate", "")
    with pytest.raises(RoomError, match="Choose concede"):
        room.submit(s["Ana"], "DPRK", "__import__('os')", "")
    with pytest.raises(RoomError, match=f"keep it to {MAX_JUSTIFICATION}"):
        room.submit(s["Ana"], "DPRK", "hedge", "y" * (MAX_JUSTIFICATION + 1))
    assert room.view().submitted == {}


def test_round_resolves_when_every_claimed_seat_has_chosen(room):
    s = seated(room, Ana="DPRK", Ben="DPRK", Cleo="USA")
    room.start(KEY)
    room.submit(s["Ana"], "DPRK", "hedge", "first thought")
    room.submit(s["Ben"], "DPRK", Action.CONCEDE, "team's final word")  # the latest counts
    assert room.view().round == 0 and room.view().waiting_for == ("USA",)
    room.submit(s["Cleo"], "USA", "concede", "assurances")
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
    room.submit(s["Ana"], "DPRK", "concede", "")
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
        room.submit(s["Ana"], "DPRK", "hedge", "")
    room.resume(KEY)
    room.advance(KEY)  # the model plays the seat that has not chosen
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
            s["Ana"], "DPRK", "concede", '=HYPERLINK("http://x")' if r == 0 else f"round {r}"
        )
        room.submit(s["Ben"], "USA", "concede", "")
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
    room.advance(KEY)
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


def test_two_students_and_a_projector_in_process(room):
    solara = pytest.importorskip("solara", reason="the pages need the app extra")
    import ipyvuetify as v

    from sim.classroom.room_projector import Projector
    from sim.classroom.room_student import StudentPage
    from sim.classroom.room_views import serve_room

    serve_room(room)
    try:
        pages = [solara.render(StudentPage(), handle_error=False)[1] for _ in range(2)]
        projector = solara.render(Projector(room), handle_error=False)[1]
        for rc, (name, actor) in zip(pages, (("Ana", "DPRK"), ("Ben", "USA"))):
            rc.find(v.TextField, label="Room code").widget.v_model = "ABC234"
            rc.find(v.TextField, label="Your name").widget.v_model = name
            rc.find(v.Btn, children=["Join"]).widget.click()
            assert until(lambda rc=rc, a=actor: rc.find(v.Btn, children=[f"Play {a}"]).widgets)
            rc.find(v.Btn, children=[f"Play {actor}"]).widget.click()
        room.start(KEY)
        ana, ben = pages
        # each page redraws in its own watcher thread: wait for both, not only the first
        for rc in pages:
            assert until(lambda rc=rc: rc.find(v.Btn, children=["Send our move"]).widgets)
        assert "DPRK dismantles a site" in html_of(ana) and "DPRK dismantles" not in html_of(ben)
        ana.find(v.Btn, children=["Concede"]).widget.click()
        ana.find(v.Textarea).widget.v_model = "<script>alert(1)</script>"
        ana.find(v.Btn, children=["Send our move"]).widget.click()
        assert until(lambda: "✓ has chosen" in html_of(projector))  # the projector sees it
        ben.find(v.Btn, children=["Hedge"]).widget.click()
        ben.find(v.Btn, children=["Send our move"]).widget.click()
        assert until(lambda: "Round 2 of 6" in spans(projector))
        assert until(lambda: "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(projector))
        assert "<script>" not in html_of(projector)
        for rc in (*pages, projector):
            rc.close()
    finally:
        serve_room(None)


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

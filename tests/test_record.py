"""The coded record: sources for every event, a format any case can use, refusals that name the row."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.record import RECORD_DIR, RecordError, load_record, simulated_record, write_record
from sim.model.names import ACTION_NAMES

EVENTS = RECORD_DIR / "us_dprk_2018_2019.events.csv"


def test_packaged_record_has_every_actor_month_and_a_source_for_every_event():
    """24 months x 4 actors; every listed event exists in the event file, and every
    event there has a publication, an address and a quoted excerpt."""
    rec = load_record("us_dprk_2018_2019")
    assert (
        rec.actions.shape == (24, 4)
        and rec.periods[0] == "2018-01"
        and rec.periods[-1] == "2019-12"
    )
    events = {row["event_id"]: row for row in csv.DictReader(open(EVENTS, encoding="utf-8"))}
    assert len(events) >= 100
    for e in events.values():
        assert e["source"].strip() and e["url"].startswith("http") and e["evidence"].strip(), e[
            "event_id"
        ]
        assert e["period"] == e["date"][:7]
    for row in rec.rows:
        ids = [i for i in row["event_ids"].split(";") if i]
        assert all(i in events for i in ids), (row["period"], row["actor"], ids)
        if row["events"] != "none":
            assert ids and row["sources"].strip(), (row["period"], row["actor"])
    # the events the issue names are there (a few spot checks by text)
    text = " ".join(e["event"] for e in events.values()).lower()
    for words in ("singapore", "hanoi", "stockholm", "punggye-ri", "sohae", "christmas"):
        assert words in text, words


def test_packaged_record_flags_months_with_published_reports():
    """A month is flagged exactly when one of its events is an imagery or report finding."""
    rec = load_record("us_dprk_2018_2019")
    events = list(csv.DictReader(open(EVENTS, encoding="utf-8")))
    flagged_months = {e["period"] for e in events if e["flag_report"] == "1"}
    assert {p for p, f in zip(rec.periods, rec.flagged) if f} == flagged_months
    assert "2018-11" in flagged_months  # the report on about 20 undeclared bases


def write(tmp_path: Path, rows: list[str], roles: str | None = None, name: str = "case") -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text("period,actor,action,flagged\n" + "\n".join(rows) + "\n")
    (tmp_path / f"{name}.yaml").write_text(
        roles
        or textwrap.dedent(
            """
            name: case
            actors:
              A: {role: principal}
              B: {role: target}
            start: {assurance: 0.1, relief: 0, enforcement: 0.9, denuclearization: 0, undeclared: 0.3, tension: 0.5}
            """
        )
    )
    return path


START = "start: {assurance: 0.1, relief: 0, enforcement: 0.9, denuclearization: 0, undeclared: 0.3, tension: 0.5}\n"
GOOD = ["2020-01,A,hedge,0", "2020-01,B,concede,0", "2020-02,A,escalate,1", "2020-02,B,hedge,1"]


@pytest.mark.parametrize(
    "rows, words",
    [
        (
            GOOD[:1] + ["2020-01,B,talk,0"] + GOOD[2:],
            ["case.csv row 3", "action = 'talk'", "concede, hedge, escalate"],
        ),
        (GOOD[:3], ["B has no row for 2020-02"]),
        (GOOD + ["2020-02,B,hedge,1"], ["row 6", "B in 2020-02 is already on row 5"]),
        (
            GOOD[:1] + ["2020-01,C,hedge,0"] + GOOD[2:],
            ["row 3", "actor 'C' is not in the roles file case.yaml", "A, B"],
        ),
        (GOOD[2:] + GOOD[:2], ["row 4", "2020-01 comes after 2020-02", "month order"]),
        (
            GOOD[:2] + ["2020-03,A,hedge,0", "2020-03,B,hedge,0"],
            ["row 4", "the month 2020-02 is missing"],
        ),
        (GOOD[:3] + ["2020-02,B,hedge,0"], ["row 5", "flagged = 0 but row 4 has 1"]),
        (["2020-13,A,hedge,0"], ["row 2", "period = '2020-13'", "YYYY-MM"]),
        (
            GOOD[:1] + ["2020-01,B,concede,yes"] + GOOD[2:],
            ["row 3", "flagged = 'yes' must be 0 or 1"],
        ),
    ],
)
def test_bad_records_are_refused_naming_file_row_and_what_is_allowed(tmp_path, rows, words):
    path = write(tmp_path, rows)
    with pytest.raises(RecordError) as err:
        load_record(path)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_roles_file_problems_are_refused(tmp_path):
    with pytest.raises(RecordError, match="exactly one actor must have role 'target'"):
        load_record(
            write(tmp_path, GOOD, "actors:\n  A: {role: principal}\n  B: {role: ally}\n" + START)
        )
    with pytest.raises(RecordError, match="actors.B.role = 'spoiler' is not allowed"):
        load_record(
            write(
                tmp_path,
                GOOD,
                "actors:\n  A: {role: principal}\n  B: {role: spoiler}\n" + START,
                name="c2",
            )
        )
    (tmp_path / "c3.csv").write_text("period,actor,action,flagged\n2020-01,A,hedge,0\n")
    with pytest.raises(RecordError, match="c3.yaml: the roles file is missing"):
        load_record(tmp_path / "c3.csv")
    with pytest.raises(RecordError, match="neither a packaged record"):
        load_record("no_such_record")
    roles = "actors:\n  A: {role: principal}\n  B: {role: target}\n" + START
    with pytest.raises(RecordError, match="outcome.deal is not an outcome"):
        load_record(write(tmp_path, GOOD, roles + "outcome: {deal: null}\n", name="c4"))
    with pytest.raises(RecordError, match="outcome.agreement = 'soon' must be a month"):
        load_record(write(tmp_path, GOOD, roles + "outcome: {agreement: soon}\n", name="c5"))
    assert load_record(
        write(tmp_path, GOOD, roles + "outcome: {agreement: 2020-02}\n", name="c6")
    ).outcome == {"agreement": "2020-02"}
    assert load_record("us_dprk_2018_2019").outcome == {"agreement": None, "breakdown": None}


def test_a_three_actor_record_with_other_names_builds_a_model(tmp_path):
    """Iran, the E3 and the USA: actors the model does not know start from the default
    actor of their role, the default actors are left out, one round per month."""
    roles = (
        "name: iran\nactors:\n  USA: {role: principal}\n  IRN: {role: target}\n  E3: {role: ally}\n"
        + START
    )
    rows = [f"2013-{m:02d},{a},{act},0" for m in range(1, 7) for a, act in
            (("USA", "hedge"), ("IRN", "concede" if m > 3 else "hedge"), ("E3", "concede"))]  # fmt: skip
    rec = load_record(write(tmp_path, rows, roles, name="iran"))
    cfg = rec.config()
    enabled = [n for n, a in cfg.actors.items() if a.enabled]
    assert enabled == ["USA", "IRN", "E3"] and cfg.rounds == 6
    assert (
        cfg.actors["IRN"].role == "target"
        and cfg.actors["IRN"].concede == cfg.actors["DPRK"].concede
    )


def test_changing_one_weight_of_an_actor_the_model_does_not_know_keeps_the_others(tmp_path):
    """A new target takes the DPRK's preferences; changing its concede bias leaves its
    other concede weights alone (as for a known actor)."""
    roles = {"A": "principal", "B": "target"}
    stub = load_record(write_record(tmp_path / "ab.csv", np.ones((1, 2), dtype=np.int64),
                                    np.zeros(1, dtype=bool), list(roles), roles))  # fmt: skip
    cfg = stub.config(actors={"B": {"concede": {"bias": 0.7}}})
    dprk = stub.config().actors["DPRK"].concede
    assert cfg.actors["B"].concede == {**dprk, "bias": 0.7}


def test_a_simulated_run_exports_as_a_record_and_loads_back(tmp_path):
    from sim import make_config

    cfg = make_config(rounds=12, agreement_threshold=1.0, breakdown_threshold=1.0)
    rec = simulated_record(cfg, seed=4)
    back = load_record(rec.save(tmp_path / "sim.csv"))
    np.testing.assert_array_equal(back.actions, rec.actions)
    np.testing.assert_array_equal(back.flagged, rec.flagged)
    assert back.periods == rec.periods and back.start == rec.start and back.regime == rec.regime
    assert back.actors == rec.actors and back.roles == rec.roles and back.outcome == rec.outcome
    assert set(np.unique(back.actions)) <= set(range(len(ACTION_NAMES)))


def test_the_resolved_event_codes_give_the_packaged_actions_by_the_codebook_rule():
    """The record's actions are the codebook's month rule applied to the resolved event
    codes (sum of weights: > 0 concede, < 0 escalate, 0 or no event hedge)."""
    import pandas as pd

    from sim.analysis.record import month_actions

    rec = load_record("us_dprk_2018_2019")
    codes = pd.read_csv(RECORD_DIR / "us_dprk_2018_2019.codes.csv")
    events = pd.read_csv(RECORD_DIR / "us_dprk_2018_2019.events.csv")
    got = month_actions(
        zip(codes.event_id, codes.actor, codes.resolved), dict(zip(events.event_id, events.period))
    )
    for t, period in enumerate(rec.periods):
        for i, actor in enumerate(rec.actors):
            assert got.get((period, actor), "hedge") == ACTION_NAMES[rec.actions[t, i]], (
                period,
                actor,
            )
    assert set(codes.event_id) <= set(events.event_id)


def test_reliability_reports_kappa_per_actor_for_each_recoding():
    from sim.analysis.record import reliability

    t = reliability()
    assert set(t.coder) == {"coder_b", "coder_c"} and set(t.level) == {"month", "event"}
    assert set(t.actor) == {"USA", "DPRK", "ROK", "PRC"}
    month = t[t.level == "month"]
    assert (month.n == 24).all() and (month.kappa == 1.0).all()  # docs/record.md quotes these
    c_rok = t[(t.coder == "coder_c") & (t.level == "event") & (t.actor == "ROK")].iloc[0]
    assert c_rok.agree == pytest.approx(36 / 38) and c_rok.kappa < 1.0


@given(
    st.lists(st.sampled_from(["concede", "hedge", "escalate"]), min_size=1, max_size=40),
    st.randoms(),
)
def test_cohen_kappa_is_one_on_identical_codings_and_symmetric(a, rnd):
    from sim.analysis.record import cohen_kappa

    b = list(a)
    rnd.shuffle(b)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(b, a))
    assert cohen_kappa(a, b) <= 1.0


# ----------------------------------------------------------------------------------
# bad records are refused in one line (issue "Nothing lost, round 3")

ROLES_AB = "name: case\nactors:\n  A: {role: principal}\n  B: {role: target}\n" + START


@pytest.mark.parametrize(
    "yaml_text, words",
    [
        ("- a\n- b\n", ["top level must be a mapping", "list"]),
        ("actors:\n  A: principal\n  B: {role: target}\n" + START, ["actors.A = 'principal' must be a mapping", "A: {role: principal}"]),
        (ROLES_AB.replace("tension: 0.5", "tension: high"), ["start.tension = 'high' must be a number in [0, 1]"]),
        ("name: case\nactors:\n  A: {role: principal}\n  B: {role: target}\n", ["'start' is missing"]),
        (ROLES_AB.replace("tension: 0.5, ", "").replace(", tension: 0.5", ""), ["missing: tension"]),
        (ROLES_AB + "colour: red\n", ["'colour' is not a key", "allowed:"]),
        (ROLES_AB + "regime: whatever\n", ["regime = 'whatever' is not allowed"]),
        (ROLES_AB.replace("  B: {role: target}", "  B: {role: target}\n  'C D': {role: ally}"), ["actor name 'C D' is not allowed"]),
        ("actors: [\n", ["not a readable YAML file"]),
        (ROLES_AB.replace("B: {role: target}", "B: {role: target, concede: {bias: oops}}"), ["case.yaml", "bias"]),
    ],
)  # fmt: skip
def test_bad_yaml_is_refused_in_one_line(tmp_path, yaml_text, words):
    path = write(tmp_path, GOOD, yaml_text)
    with pytest.raises(RecordError) as err:
        load_record(path)
    msg = str(err.value)
    assert "\n" not in msg.strip()
    for w in words:
        assert w in msg, (w, msg)


def test_encodings_sizes_and_paths(tmp_path):
    path = write(tmp_path, GOOD, ROLES_AB)
    # Excel's CSV UTF-8 starts with a byte-order mark: fine
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_record(path).actions.shape == (2, 2)
    # Latin-1 bytes: refused, naming the byte and what to do
    path.write_bytes(
        path.read_bytes().replace(b"hedge,0\n", "hedge,0,caf\xe9\n".encode("latin-1"), 1)
    )
    with pytest.raises(RecordError, match=r"not UTF-8 text \(byte 0xe9"):
        load_record(path)
    # a 2 MB field
    big = write(tmp_path, [GOOD[0] + ",x", *GOOD[1:]], ROLES_AB, name="big")
    big.write_text(
        big.read_text().replace(",x", "," + "x" * (2**21)).replace("flagged\n", "flagged,events\n")
    )
    with pytest.raises(RecordError, match="field larger than field limit"):
        load_record(big)
    # a folder named like a record, a name with a path in it, a name that is not packaged
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(RecordError, match="is a folder"):
        load_record(tmp_path / "dir.csv")
    for bad in ("../../x", "sim/../x", ".hidden"):
        with pytest.raises(RecordError, match="not a .csv file|neither a packaged"):
            load_record(bad)


def test_a_flag_may_be_given_on_the_target_row_alone(tmp_path):
    rows = ["2020-01,A,hedge,", "2020-01,B,concede,0", "2020-02,A,escalate,", "2020-02,B,hedge,1"]
    rec = load_record(write(tmp_path, rows, ROLES_AB))
    assert rec.flagged.tolist() == [False, True]
    with pytest.raises(RecordError, match="flagged = '' must be 0 or 1 \\(on the target's row"):
        load_record(
            write(tmp_path, ["2020-01,A,hedge,0", "2020-01,B,concede,"], ROLES_AB, name="c2")
        )


def test_a_long_record_loads_in_linear_time(tmp_path):
    """12,000 months load fast enough that a quadratic loader would show: the loader
    does a fixed amount of work per row (counted by timing two sizes in one run would
    be a benchmark; here we only check the large one loads)."""
    from sim.analysis.record import month_after

    rows = [f"{month_after('1000-01', k)},{a},hedge,0" for k in range(12000) for a in "AB"]
    rec = load_record(write(tmp_path, rows, ROLES_AB))
    assert rec.n_months == 12000


def test_stalemate_record_new_edit_check_build_and_fit(tmp_path):
    """From an empty folder to a fit: new -> fill events and codes -> build -> check ->
    kappa -> show -> stalemate-fit, on a three-actor case with no USA or DPRK."""
    import csv
    import subprocess
    import sys

    from sim.analysis.record_cli import main

    assert main(["new", "mycase", "--actors", "ATL=principal", "BOR=target", "CAR=ally",
                 "--from", "2001-01", "--months", "24", "--dir", str(tmp_path)]) == 0  # fmt: skip
    assert main(["new", "mycase", "--actors", "ATL=principal", "BOR=target", "--from", "2001-01",
                 "--months", "24", "--dir", str(tmp_path)]) == 2  # exists: nothing written  # fmt: skip
    rng = np.random.default_rng(0)
    codes = ["C2", "C1", "H", "E1", "E2"]
    with (
        open(tmp_path / "mycase.events.csv", "a", newline="", encoding="utf-8") as f_ev,
        open(tmp_path / "mycase.codes.csv", "a", newline="", encoding="utf-8") as f_co,
    ):
        ev, co = csv.writer(f_ev), csv.writer(f_co)
        k = 0
        for m in range(24):
            period = f"{2001 + m // 12}-{m % 12 + 1:02d}"
            for actor in ("ATL", "BOR", "CAR"):
                k += 1
                flag = int(actor == "BOR" and m % 7 == 3)
                ev.writerow([f"E{k:03d}", f"{period}-15", period, actor, f"event {k}", flag,
                             "Test Gazette, n.d.", "https://example.org", "quoted"])  # fmt: skip
                code = "F" if flag else codes[int(rng.integers(0, 5))]
                co.writerow(
                    [
                        f"E{k:03d}",
                        actor,
                        code,
                        code if rng.random() > 0.1 else "H",
                        code,
                        f"event {k}",
                    ]
                )
    csv_path = str(tmp_path / "mycase.csv")
    assert main(["check", csv_path]) == 2  # the months do not yet follow the codes
    assert main(["build", csv_path]) == 0
    assert main(["check", csv_path]) == 0
    assert main(["kappa", csv_path]) == 0
    assert main(["show", csv_path, "-o", str(tmp_path / "timeline.png")]) == 0
    assert (tmp_path / "timeline.png").stat().st_size > 10_000
    out = tmp_path / "fit"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.analysis.fit", f"record={csv_path}", "train=2001-01:2002-06",
         "test=2002-07:2002-12", "fit.restarts=2", "fit.mcmc.steps=3000", "fit.draws=100",
         "fit.mcmc.require_convergence=false", f"hydra.run.dir={out}", "progress=false"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "fit.json").exists()


def test_a_record_can_schedule_model_events_checked_against_the_record(tmp_path):
    rows = [
        "2020-01,A,hedge,0",
        "2020-01,B,escalate,0",
        "2020-02,A,escalate,1",
        "2020-02,B,hedge,1",
    ]
    yaml_text = (
        ROLES_AB
        + "schedule:\n  - {period: 2020-01, kind: test, label: a test}\n  - {period: 2020-02, kind: report}\n"
    )
    rec = load_record(write(tmp_path, rows, yaml_text))
    cfg = rec.config()
    assert [(e.round, e.kind) for e in cfg.events] == [(1, "test"), (2, "report")]
    for bad, words in (
        (
            "  - {period: 2020-02, kind: test}\n",
            "test forces B to escalate in 2020-02, but the record has hedge",
        ),
        (
            "  - {period: 2020-01, kind: report}\n",
            "a report flags 2020-01, but the record's flag is 0",
        ),
        ("  - {period: 2021-01, kind: summit}\n", "is not a month of the record"),
        ("  - {period: 2020-01, kind: party}\n", "kind = 'party' is not allowed"),
        ("  - {period: 2020-01, kind: summit, when: now}\n", "when is not a key"),
    ):
        with pytest.raises(RecordError, match=words.replace("(", r"\(").replace(")", r"\)")):
            load_record(write(tmp_path, rows, ROLES_AB + "schedule:\n" + bad, name="bad"))


def test_check_refuses_codes_that_do_not_match_their_events(tmp_path):
    """F coded for a non-target, a code for an actor the event does not list, a listed actor
    without a code: each refused in one line by the record tools."""
    import shutil

    from sim.analysis.record import RECORD_DIR, read_codes

    for ext in (".csv", ".yaml", ".events.csv", ".codes.csv"):
        shutil.copy(RECORD_DIR / f"us_dprk_2018_2019{ext}", tmp_path / f"case{ext}")
    codes = (tmp_path / "case.codes.csv").read_text().splitlines()
    good = "\n".join(codes) + "\n"
    i = next(k for k, line in enumerate(codes) if line.startswith("E002,USA"))
    for bad_line, words in (
        (codes[i].replace(",E1,E1,E1,E1,", ",E1,E1,E1,F,"), "F (a flag report) is coded for USA"),
        (codes[i].replace("E002,USA", "E002,ROK"), "ROK is coded for E002"),
    ):
        (tmp_path / "case.codes.csv").write_text(good.replace(codes[i], bad_line))
        with pytest.raises(RecordError, match=words.replace("(", r"\(").replace(")", r"\)")):
            read_codes(load_record(tmp_path / "case.csv"))

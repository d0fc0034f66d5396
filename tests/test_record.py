"""The coded record: sources for every event, a format any case can use, refusals that name the row."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import numpy as np
import pytest

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
            """
        )
    )
    return path


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
        load_record(write(tmp_path, GOOD, "actors:\n  A: {role: principal}\n  B: {role: ally}\n"))
    with pytest.raises(RecordError, match="actors.B.role = 'spoiler' is not allowed"):
        load_record(
            write(
                tmp_path, GOOD, "actors:\n  A: {role: principal}\n  B: {role: spoiler}\n", name="c2"
            )
        )
    (tmp_path / "c3.csv").write_text("period,actor,action,flagged\n2020-01,A,hedge,0\n")
    with pytest.raises(RecordError, match="the roles file c3.yaml is missing"):
        load_record(tmp_path / "c3.csv")
    with pytest.raises(RecordError, match="neither a packaged record"):
        load_record("no_such_record")


def test_a_three_actor_record_with_other_names_builds_a_model(tmp_path):
    """Iran, the E3 and the USA: actors the model does not know start from the default
    actor of their role, the default actors are left out, one round per month."""
    roles = (
        "name: iran\nactors:\n  USA: {role: principal}\n  IRN: {role: target}\n  E3: {role: ally}\n"
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


def test_a_simulated_run_exports_as_a_record_and_loads_back(tmp_path):
    from sim import make_config

    cfg = make_config(rounds=12, agreement_threshold=1.0, breakdown_threshold=1.0)
    rec = simulated_record(cfg, seed=4)
    path = write_record(
        tmp_path / "sim.csv", rec.actions, rec.flagged, rec.actors, rec.roles, start=rec.start
    )
    back = load_record(path)
    np.testing.assert_array_equal(back.actions, rec.actions)
    np.testing.assert_array_equal(back.flagged, rec.flagged)
    assert back.periods == rec.periods and back.start == rec.start
    assert set(np.unique(back.actions)) <= set(range(len(ACTION_NAMES)))

"""The room's exports: what a game leaves for homework and for the record, as CSV.

- :func:`rounds_csv` — one row per round and state: the move that counted, who
  chose it and why, where it came from (the class, the model, a timeout, an event),
  and the shared state after the round;
- :func:`sends_csv` — every send of every student, exactly as typed, with its round
  and month, seat (state), team, student, time, and what became of it.

A cell a spreadsheet would read as a formula (a leading ``= + - @``, a tab or a
carriage return) gets an apostrophe (:func:`spreadsheet_safe`); nothing else of what
a student typed is changed.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sim.model.decisions import felt_relief
from sim.model.names import ACTION_NAMES, SHOWN_VARS, STATE_VARS, V


def spreadsheet_safe(text: str) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rounds_csv(view) -> str:
    """One row per round and state: the move, who chose it and why (the team's latest taken
    send), where it came from, and the shared state after the round."""
    snap = view.snapshot
    h = snap.history
    s = snap.structure
    out = io.StringIO()
    w = csv.writer(out)
    head = ["round"] + (["month"] if snap.calendar else [])
    head += ["state", "team", "move", "chosen_by", "source", "justification"]
    head += list(SHOWN_VARS)
    head += ["trust_in_counterpart", "imagery_flag", "events", "scenario", "seed", "outcome"]
    w.writerow(head)
    for rec in view.records:
        r = rec.round
        x = h.x[0, r]
        felt = float(felt_relief(x[V.relief], x[V.enforcement]))
        state = [felt if v == "felt_relief" else x[STATE_VARS.index(v)] for v in SHOWN_VARS]
        events = "; ".join(e.label or e.kind for e in snap.events_by_round.get(r, []))
        for i, actor in enumerate(s.names):
            move = rec.moves.get(actor)
            row = [r] + ([snap.when(r)] if snap.calendar else [])
            row += [
                actor,
                spreadsheet_safe("; ".join(rec.teams.get(actor, ()))),
                ACTION_NAMES[int(rec.actions[actor])],
                spreadsheet_safe(move.by) if move else "",
                rec.sources[actor],
                spreadsheet_safe(move.justification) if move else "",
            ]
            row += [f"{float(v):.6f}" for v in state]
            row += [f"{float(h.trust[0, r, i]):.6f}", int(bool(h.flag[0, r])), events]
            row += [
                view.scenario,
                view.seed,
                snap.outcome
                if r == snap.round and (snap.outcome != "undecided" or r >= snap.rounds)
                else "",
            ]
            w.writerow(row)
    return out.getvalue()


def sends_csv(view, sends) -> str:
    """One row per send; ``counted`` says whether it was its seat's move when the round
    closed (its team's latest taken send)."""
    snap = view.snapshot
    counted = {}
    for rec in view.records:
        for actor, move in rec.moves.items():
            counted[(rec.round, actor)] = (move.by, move.at)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "game",
            "round",
            "month",
            "state",
            "team",
            "student",
            "move",
            "reason",
            "sent_at",
            "status",
            "counted",
            "scenario",
            "seed",
        ]
    )
    for s in sends:
        ok = counted.get((s.round, s.actor)) == (s.by, s.at) and s.status == "taken"
        w.writerow(
            [
                s.game,
                s.round,
                snap.when(s.round) if snap.calendar else "",
                s.actor,
                spreadsheet_safe("; ".join(s.team)),
                spreadsheet_safe(s.by),
                ACTION_NAMES[int(s.action)],
                spreadsheet_safe(s.justification),
                datetime.fromtimestamp(s.at).isoformat(timespec="milliseconds"),
                s.status,
                "yes" if ok else "no",
                view.scenario,
                view.seed,
            ]
        )
    return out.getvalue()

"""``stalemate-record``: make, check, build, measure and draw a coded record.

From an empty folder to a fit, without reading code::

    stalemate-record new mycase --actors USA=principal IRQ=target GBR=ally --from 2002-01 --months 24
    # fill mycase.events.csv (one sourced event per row) and mycase.codes.csv (each
    # event coded for each actor that acted, by the codebook in docs/record.md), and
    # state and justify the start in mycase.yaml, then:
    stalemate-record build mycase.csv      # the months from the resolved codes (month rule)
    stalemate-record check mycase.csv      # every refusal in one line, exit 2
    stalemate-record kappa mycase.csv      # Cohen's kappa of two or more codings
    stalemate-record show mycase.csv       # a timeline figure (mycase.png)
    stalemate-fit record=mycase.csv train=2002-01:2003-06 test=2003-07:2003-12

A record is named by the path of its ``.csv`` or, for the packaged ones
(``us_dprk_2018_2019``, …), by name. Every refusal is one line on stderr naming the
file, the row and what is allowed, with exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sim.analysis.record import (
    CODE_COLUMNS,
    EVENT_COLUMNS,
    NAME_PATTERN,
    RecordError,
    built_rows,
    load_record,
    month_after,
    read_codes,
    reliability,
)
from sim.model.names import ACTION_NAMES, ROLES, STATE_VARS


class _Parser(argparse.ArgumentParser):
    """argparse that refuses in one line with exit status 2."""

    def error(self, message):  # noqa: D401
        raise RecordError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="stalemate-record", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser(
        "check", help="check records; every refusal names the file, the row and what is allowed"
    )
    c.add_argument("records", nargs="+")
    n = sub.add_parser(
        "new", help="a template record to fill: CSV, YAML with roles and start, events and codes"
    )
    n.add_argument("name")
    n.add_argument("--actors", nargs="+", required=True, metavar="ACTOR=ROLE",
                   help=f"each actor and its role ({', '.join(ROLES)}); exactly one target and one principal")  # fmt: skip
    n.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="the first month")
    n.add_argument("--months", type=int, required=True, help="how many months (at least 2)")
    n.add_argument("--dir", default=".", help="where to write (default: the current folder)")
    b = sub.add_parser("build", help="rebuild a record's months from its events and resolved codes")
    b.add_argument("record")
    k = sub.add_parser("kappa", help="Cohen's kappa of the codings in the record's codes file")
    k.add_argument("record")
    s = sub.add_parser("show", help="a timeline figure of a record")
    s.add_argument("record")
    s.add_argument(
        "-o", "--output", help="the figure's file (default: <record>.png in the current folder)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stalemate-record`` console script."""
    try:
        args = _parser().parse_args(argv)
        return {"check": check, "new": new, "build": build, "kappa": kappa, "show": show}[
            args.command
        ](args)
    except RecordError as err:
        text = str(err)
        prefix = "" if text.startswith("stalemate-record") else "stalemate-record: "
        print(prefix + text.splitlines()[0], file=sys.stderr)
        return 2


def check(args) -> int:
    for name in args.records:
        rec = load_record(name)
        counts = "; ".join(
            f"{a} ({rec.roles[a]}) " + " ".join(f"{n} {int((rec.actions[:, i] == k).sum())}"
                                              for k, n in enumerate(ACTION_NAMES))
            for i, a in enumerate(rec.actors)
        )  # fmt: skip
        extra = ""
        events = rec.path.with_suffix("").with_suffix(".events.csv")
        if events.exists():
            ev, codes = read_codes(rec)
            rebuilt = built_rows(rec, ev, codes)
            differ = [f"{r['actor']} {r['period']}" for r, row in zip(rebuilt, _rows_in_order(rec))
                      if r["action"] != row["action"].strip()]  # fmt: skip
            flag_differ = [p for p, f in zip(rec.periods, rec.flagged)
                           if any(int(r["flagged"]) != int(f) for r in rebuilt if r["period"] == p)]  # fmt: skip
            if flag_differ:
                raise RecordError(
                    f"{rec.path}: the flag of {flag_differ[0]} differs from the events' flag reports "
                    f"({len(flag_differ)} month(s)); run: stalemate-record build {rec.path}"
                )
            if differ:
                raise RecordError(
                    f"{rec.path}: {len(differ)} actor-month(s) differ from what the resolved codes give "
                    f"(first: {differ[0]}); run: stalemate-record build {rec.path}"
                )
            extra = f", {len(ev)} sourced events, {len(codes)} codes (months agree with the codes)"
        print(f"{rec.path}: ok — {rec.name}, {rec.periods[0]} .. {rec.periods[-1]} ({rec.n_months} months), "
              f"{int(rec.flagged.sum())} flagged months{extra}; {counts}")  # fmt: skip
    return 0


def _rows_in_order(rec):
    by = {(r["period"].strip(), r["actor"].strip()): r for r in rec.rows}
    return [by[p, a] for p in rec.periods for a in rec.actors]


def new(args) -> int:
    name = args.name
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", name):
        raise RecordError(f"name = {name!r}: use letters, digits, _ and - (it names the files)")
    roles: dict[str, str] = {}
    for item in args.actors:
        actor, _, role = item.partition("=")
        if not re.fullmatch(NAME_PATTERN, actor) or role not in ROLES:
            raise RecordError(
                f"--actors {item!r} must be ACTOR=ROLE, ACTOR letters, digits and _ starting with a "
                f"letter, ROLE one of {', '.join(ROLES)}"
            )
        if actor in roles:
            raise RecordError(f"--actors names {actor} twice")
        roles[actor] = role
    for role in ("target", "principal"):
        if sum(r == role for r in roles.values()) != 1:
            raise RecordError(f"--actors: exactly one actor must be the {role}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.first):
        raise RecordError(f"--from {args.first!r} must be a month as YYYY-MM")
    if not 2 <= args.months <= 1200:
        raise RecordError(f"--months {args.months} must be a whole number from 2 to 1200")
    folder = Path(args.dir)
    paths = [folder / f"{name}{ext}" for ext in (".csv", ".yaml", ".events.csv", ".codes.csv")]
    for p in paths:
        if p.exists():
            raise RecordError(f"{p} exists; choose another name or folder (nothing was written)")
    folder.mkdir(parents=True, exist_ok=True)
    target = next(a for a, r in roles.items() if r == "target")
    months = [month_after(args.first, k) for k in range(args.months)]
    lines = ["period,actor,action,flagged,events,sources,event_ids"]
    for month in months:
        for a in roles:
            lines.append(f"{month},{a},hedge,{0 if a == target else ''},,,")
    paths[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths[1].write_text(_template_yaml(name, roles, months), encoding="utf-8")
    paths[2].write_text(",".join(EVENT_COLUMNS) + "\n", encoding="utf-8")
    paths[3].write_text(
        ",".join((*CODE_COLUMNS[:3], "coder_b", *CODE_COLUMNS[3:])) + "\n", encoding="utf-8"
    )
    print(f"Wrote {', '.join(str(p) for p in paths)}.")
    print("Next: add sourced events to the .events.csv, code them in the .codes.csv (docs/record.md), "
          "state the start in the .yaml, then: stalemate-record build " + str(paths[0]))  # fmt: skip
    return 0


def _template_yaml(name: str, roles: dict[str, str], months: list[str]) -> str:
    from sim.model.params import ModelConfig

    actors = "\n".join(f"  {a}: {{role: {r}}}" for a, r in roles.items())
    start = "\n".join(
        f"  # TODO: justify from the sources (the model's default is {getattr(ModelConfig, v):g})\n"
        f"  {v}: {getattr(ModelConfig, v):g}"
        for v in STATE_VARS
    )
    return (
        f"# {name}: a coded record, one row per actor per month, {months[0]} to {months[-1]}.\n"
        f"# Coded by the codebook in docs/record.md from the sourced events in {name}.events.csv.\n"
        f"name: {name}\n"
        f'description: "TODO: the case in one line"\n'
        f"events: {name}.events.csv\n"
        "# who sits at the table and in which role (docs/record.md: mapping actors to roles)\n"
        f"actors:\n{actors}\n"
        f"# the state in {months[0]}, each number in [0, 1] with one line of justification\n"
        f"start:\n{start}\n"
        "# who must move first: denuclearization_first | action_for_action | relief_first\n"
        "regime: denuclearization_first\n"
        "# how the case ended within the record: a month as YYYY-MM, or null\n"
        "outcome:\n  agreement: null\n  breakdown: null\n"
    )


def build(args) -> int:
    import csv

    from sim.report.io import write_text

    rec = load_record(args.record)
    events, codes = read_codes(rec)
    rows = built_rows(rec, events, codes)
    old = _rows_in_order(rec)
    changed = [f"{r['actor']} {r['period']} {o['action'].strip()} -> {r['action']}"
               for r, o in zip(rows, old) if r["action"] != o["action"].strip()]  # fmt: skip
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_text(buf.getvalue(), rec.path)
    load_record(rec.path)  # what was written loads
    print(f"{rec.path}: {len(rows)} rows from {len(events)} events and {len(codes)} codes; "
          f"{len(changed)} actor-month(s) changed" + (": " + "; ".join(changed[:12]) if changed else ""))  # fmt: skip
    return 0


def kappa(args) -> int:
    table = reliability(args.record)
    rec = load_record(args.record)
    print(f"{rec.name}: agreement of each coding with {sorted(set(['coder_a']))[0]} "
          "(Cohen's kappa; share agreeing)")  # fmt: skip
    for (coder, level), grp in table.groupby(["coder", "level"], sort=False):
        parts = [f"{r.actor} {r.kappa:.2f} ({r.agree:.0%} of {r.n})" for r in grp.itertuples()]
        print(f"  {coder:<8} {level + 's':<7} " + "   ".join(parts))
    return 0


def show(args) -> int:
    from sim.report.io import save_figure
    from sim.report.timeline import plot_timeline

    rec = load_record(args.record)
    labels = {
        (r["period"].strip(), r["actor"].strip()): (r.get("events") or "").strip() for r in rec.rows
    }
    out = Path(args.output) if args.output else Path(f"{rec.path.stem}.png")
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise RecordError(f"--output {str(out)!r} must end in .png, .svg or .pdf")
    fig = plot_timeline(rec.periods, rec.actors, rec.actions, rec.flagged, labels,
                        f"{rec.name}: {rec.description}", rec.roles)  # fmt: skip
    save_figure(fig, out, dpi=130)
    print(f"Wrote {out}")
    return 0


def console() -> None:
    """Console entry point: exit with :func:`main`'s status."""
    raise SystemExit(main())


if __name__ == "__main__":
    console()

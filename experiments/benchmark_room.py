#!/usr/bin/env python3
"""Benchmark the room with a class on one machine: N students, the teacher and the projector.

Starts ``stalemate-room`` (the 2018 replay, seed 0, no timer) offline on a free
loopback port, opens the teacher's console and the projector view in Debian's
chromium (Playwright), seats N students in four teams, and plays ``--rounds``
months. Every student sends a move with a reason of its own each month, at a
random moment within ``--spread`` seconds, except one team (another each month),
which sends last, all at once: its first send completes the month, and its
teammates' sends, a few milliseconds later, find the month closed and are refused
on their pages (counted, and kept in the export: not lost).

Students are light protocol clients by default (the websocket a seat's page
uses, with its cookie: the server does the same work as for a browser, the
clients almost none), or real chromium pages with ``--browsers`` (the same path
end to end, at the price of a browser per student on the same cores).

What it measures:

- **last move → next month on every screen**: from the moment the move that
  completes a month leaves its page to the moment each screen (every student,
  the console, the projector) shows the next month — median and 95th percentile
  over screens and months. Browser pages time it themselves (``Date.now()`` when
  the clock changes, by a MutationObserver), protocol clients on receipt.
- **server CPU** (its process only, not the clients'): while playing, and idle
  (a month open, everyone connected, nobody acting) over ``--idle`` seconds;
  **memory**: the server's largest resident size.
- **lost**: every send is looked up in the teacher's "every send" export (same
  round, seat, student and reason, character for character) and every month's
  counted move in the rounds export (the team's latest taken send); a send
  missing, changed, or answered differently from what the export says is lost.

The last line reads ``N students: median X s, p95 Y s, server CPU Z%, lost L``.

Usage (from the repository root)::

    .venv/bin/python experiments/benchmark_room.py --students 30
    .venv/bin/python experiments/benchmark_room.py --students 8 --browsers

Goals (issue 26): 30 students, teacher and projector: median ≤ 1 s, p95 ≤ 2 s;
server CPU ≤ 1 core while playing, ≤ 10% of a core idle; memory ≤ 1 GiB.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import re
import signal
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sim.classroom.headless import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_up

CODE = "ABC234"
TEAMS = ("USA", "DPRK", "ROK", "PRC")
MONTHS = (
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "January",
    "February",
)
#: Words for the reasons (each reason is unique: student, month and a few of these).
WORDS = (
    "relief first",
    "verify",
    "keep talking",
    "no list yet",
    "assurances",
    "the imagery",
    "Yongbyon",
    "ça suffit",
    "Ñandú",
    "平和",
    "two  spaces",
    "a\nline break",
    "-not a formula",
)
#: In a page: the time (ms since the epoch) each text of the room's clock first showed.
CLOCK_WATCH = """
window.__shown = {};
new MutationObserver(() => {
  const e = document.querySelector('.sm-room-clock');
  if (e && !(e.textContent in window.__shown)) window.__shown[e.textContent] = Date.now();
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


@dataclass
class SendLog:
    student: str
    actor: str
    round: int
    why: str
    move: str
    sent: float  # time.time() when it left
    ok: bool | None = None
    error: str = ""
    local: bool = False  # refused by the page itself (the month closed first): never sent


@dataclass
class Student:
    name: str
    actor: str
    sends: list[SendLog] = field(default_factory=list)
    shown: dict = field(default_factory=dict)  # round (or "end") -> time.time() first shown


class ProtocolStudent(Student):
    """A seat's page reduced to its websocket: the cookie, the messages, no drawing."""

    async def connect(self, base: str) -> None:
        from websockets.asyncio.client import connect

        def cookie():
            with urllib.request.urlopen(f"http://{base}/") as r:
                return r.headers["set-cookie"].split(";")[0]

        self.cookie = await asyncio.to_thread(cookie)
        self.ws = await connect(
            f"ws://{base}/room/socket",
            additional_headers={"Cookie": self.cookie, "Origin": f"http://{base}"},
            max_size=None,
        )
        self.state, self.acks, self.n = None, {}, 0
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.time()
            msg = json.loads(raw)
            if msg["t"] == "state":
                self.state = msg
                room = msg["room"]
                key = "end" if room.get("phase") == "finished" else room.get("round")
                if key is not None and key not in self.shown:
                    self.shown[key] = now
            elif msg["t"] == "ack":
                self.acks[msg["id"]] = msg
            self.changed.set()

    async def until(self, check, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while not (self.state and check(self.state)):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, end - time.monotonic()))

    async def call(self, timeout: float = 60, **msg) -> dict:
        self.n += 1
        ident = self.n
        await self.ws.send(json.dumps({**msg, "id": ident}))
        end = time.monotonic() + timeout
        while ident not in self.acks:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, end - time.monotonic()))
        return self.acks.pop(ident)

    async def join(self) -> None:
        assert (await self.call(t="join", code=CODE, name=self.name))["ok"]
        assert (await self.call(t="claim", actor=self.actor))["ok"]

    async def send(self, r: int, move: str, why: str) -> None:
        log = SendLog(self.name, self.actor, r, why, move, time.time())
        self.sends.append(log)
        try:
            ack = await self.call(t="move", round=r, actor=self.actor, action=move, why=why)
            log.ok, log.error = ack["ok"], ack.get("error", "")
        except TimeoutError:
            log.ok = None

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


class BrowserStudent(Student):
    """A seat's page in chromium: it joins, picks its state and sends by clicking."""

    async def connect(self, browser, url: str) -> None:
        self.context = await browser.new_context(viewport={"width": 800, "height": 900})
        self.page = await self.context.new_page()
        self.page.set_default_timeout(120_000)
        await self.page.goto(url)

    async def join(self) -> None:
        p = self.page
        await p.get_by_label("Room code").fill(CODE)
        await p.get_by_label("Your name").fill(self.name)
        await p.get_by_role("button", name="Join", exact=True).click()
        await p.get_by_role("button", name=f"Play {self.actor}", exact=True).click()
        await p.locator(".sm-you", has_text=f"You are {self.actor}").wait_for()

    async def wait_round(self, r: int) -> None:
        await self.page.locator(".sm-room-clock", has_text=f"round {r} of").wait_for()

    async def send(self, r: int, move: str, why: str) -> None:
        p = self.page
        await p.get_by_role("button", name=move.capitalize(), exact=True).click()
        await p.locator("textarea").fill(why)
        log = SendLog(self.name, self.actor, r, why, move, time.time())
        self.sends.append(log)
        n = await p.evaluate("() => (window.stalemateAnswers || []).length")
        await p.get_by_role("button", name="Send our move", exact=True).click()
        # the page's answer: the server's, or its own (the month closed while typing)
        await p.wait_for_function(f"() => (window.stalemateAnswers || []).length > {n}")
        answer = await p.evaluate(f"() => window.stalemateAnswers[{n}]")
        log.ok, log.error, log.local = answer["ok"], answer["error"], bool(answer.get("local"))
        sent_at = await p.evaluate(f"() => (window.stalemateSent || {{}})[{r}]")
        if sent_at and not log.local:
            log.sent = sent_at / 1000

    async def collect(self) -> None:
        shown = await self.page.evaluate("() => window.stalemateShown")
        for k, v in shown.items():
            self.shown["end" if k == "end" else int(k)] = v / 1000

    async def close(self) -> None:
        await self.context.close()


async def sample_until(server, stop: asyncio.Event) -> None:
    while not stop.is_set():
        server.sample()
        await asyncio.sleep(0.5)


async def open_watched(browser, url: str):
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    await context.add_init_script(CLOCK_WATCH)
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(url)
    return context, page


async def shown_times(page) -> dict:
    """The screen's clock texts with the time each first showed (seconds since the epoch)."""
    return {k: v / 1000 for k, v in (await page.evaluate("() => window.__shown")).items()}


def first_shown(times: dict, r: int, rounds: int) -> float | None:
    """When a console/projector first showed round ``r`` (or the end, past the last round)."""
    want = "The talks are over" if r > rounds else f"round {r} of"
    hits = [t for text, t in times.items() if want in text]
    return min(hits) if hits else None


class Server:
    def __init__(self):
        self.log = Path(tempfile.mkdtemp(prefix="stalemate-bench-room-")) / "room.log"
        self.proc, self.url = start_server(
            "sim.classroom.room_app",
            ["--seed", "0", "--timer", "0", "--code", CODE],
            self.log,
        )
        if not wait_until_up(self.proc, self.url, 180):
            raise SystemExit("the room did not start:\n" + self.log.read_text())
        printed = self.log.read_text()
        self.key = re.search(r"teacher\?key=(\S+)", printed).group(1)
        self.screen = re.search(r"projector\?key=(\S+)", printed).group(1)
        self.base = self.url.removeprefix("http://").rstrip("/")
        import psutil

        self.ps = psutil.Process(self.proc.pid)
        self.rss = 0

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return t.user + t.system

    def sample(self) -> None:
        self.rss = max(self.rss, self.ps.memory_info().rss)

    def export(self, what: str) -> list[dict]:
        url = f"{self.url}teacher/export/{what}.csv?key={self.key}"
        with urllib.request.urlopen(url) as r:
            return list(csv.DictReader(io.StringIO(r.read().decode("utf-8"))))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


def unspoil(cell: str) -> str:
    """A cell as typed (the export defuses a leading = + - @ with an apostrophe)."""
    return cell[1:] if cell[:2] in ("'=", "'+", "'-", "'@") else cell


def count_lost(students: list[Student], sends: list[dict], rounds: list[dict]) -> tuple[int, list]:
    """Sends missing from the exports, changed, or answered otherwise than the export says."""
    rows = {}
    for row in sends:
        rows.setdefault((int(row["round"]), row["state"], row["student"]), []).append(row)
    problems = []
    taken_last = {}
    for s in students:
        for log in s.sends:
            if log.local:
                continue
            found = [
                row
                for row in rows.get((log.round, log.actor, log.student), [])
                if unspoil(row["reason"]) == log.why
            ]
            if not found:
                problems.append(f"not in the export: {log}")
                continue
            taken = found[0]["status"] == "taken"
            if log.ok is None or log.ok != taken:
                problems.append(
                    f"answered {log.ok} but the export says {found[0]['status']}: {log}"
                )
            if taken:
                prev = taken_last.get((log.round, log.actor))
                if prev is None or found[0]["sent_at"] >= prev[0]:
                    taken_last[(log.round, log.actor)] = (found[0]["sent_at"], log)
    for row in rounds:
        key = (int(row["round"]), row["state"])
        if key in taken_last:
            log = taken_last[key][1]
            if row["chosen_by"] != log.student or unspoil(row["justification"]) != log.why:
                problems.append(f"round {key}: counted {row['chosen_by']!r}, expected {log}")
    return len(problems), problems


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    rng = random.Random(args.seed)
    server = Server()
    result: dict = {"students": args.students, "browsers": args.browsers}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            t_ctx, teacher = await open_watched(browser, f"{server.url}teacher?key={server.key}")
            p_ctx, projector = await open_watched(
                browser, f"{server.url}projector?key={server.screen}"
            )
            await teacher.get_by_role("button", name="Start the talks", exact=True).wait_for()
            await projector.locator(".sm-join-code", has_text=CODE).wait_for()
            names = [f"S{i:02d}" for i in range(args.students)]
            cls = BrowserStudent if args.browsers else ProtocolStudent
            students = [cls(n, TEAMS[i % len(TEAMS)]) for i, n in enumerate(names)]
            t0 = time.monotonic()
            if args.browsers:
                await asyncio.gather(*(s.connect(browser, server.url) for s in students))
            else:
                await asyncio.gather(*(s.connect(server.base) for s in students))
            await asyncio.gather(*(s.join() for s in students))
            result["seating_s"] = time.monotonic() - t0
            await teacher.get_by_role("button", name="Start the talks", exact=True).click()
            if args.browsers:
                await asyncio.gather(*(s.wait_round(1) for s in students))
            else:
                await asyncio.gather(
                    *(s.until(lambda st: st["room"].get("round") == 1) for s in students)
                )
            await projector.locator(".sm-room-clock", has_text="round 1 of").wait_for()
            # idle: a month open, everyone connected, nobody acting
            await asyncio.sleep(2)
            c0, w0 = server.cpu(), time.monotonic()
            for _ in range(int(args.idle * 2)):
                await asyncio.sleep(0.5)
                server.sample()
            result["idle_cpu"] = (server.cpu() - c0) / (time.monotonic() - w0)
            # play
            c0, w0 = server.cpu(), time.monotonic()
            completing = {}  # round -> time the move that completed it left its page
            for r in range(1, args.rounds + 1):
                # three teams send at random moments over the spread; the fourth (a different
                # one each month) last, all at once: its first send completes the month, its
                # teammates' sends a few ms later find it closed (refused on their page)
                last = TEAMS[r % len(TEAMS)]
                plan = []
                for s in students:
                    why = f"{s.name} for {MONTHS[r - 1]}: " + ", ".join(rng.sample(WORDS, 2))
                    delay = (
                        args.spread + rng.uniform(0, 0.05)
                        if s.actor == last
                        else rng.uniform(0, args.spread)
                    )
                    plan.append((delay, s, rng.choice(("concede", "hedge", "escalate")), why))

                async def later(delay, s, move, why, r=r):
                    await asyncio.sleep(delay)
                    await s.send(r, move, why)

                stop = asyncio.Event()
                samp = asyncio.create_task(sample_until(server, stop))
                await asyncio.gather(*(later(*p) for p in plan))
                # wait until every screen shows the next month (or the end)
                nxt = r + 1
                if args.browsers:
                    if nxt <= len(MONTHS):
                        await asyncio.gather(*(s.wait_round(nxt) for s in students))
                else:
                    await asyncio.gather(
                        *(
                            s.until(
                                lambda st, nxt=nxt: (
                                    st["room"].get("round") == nxt
                                    or st["room"].get("phase") == "finished"
                                )
                            )
                            for s in students
                        )
                    )
                want = f"round {nxt} of" if nxt <= len(MONTHS) else "The talks are over"
                await teacher.locator(".sm-room-clock", has_text=want).wait_for()
                await projector.locator(".sm-room-clock", has_text=want).wait_for()
                stop.set()
                await samp
                # the completing move: the latest of each team's first taken send
                firsts = {}
                for s in students:
                    for log in s.sends:
                        if log.round == r and log.ok:
                            firsts[log.actor] = min(firsts.get(log.actor, 1e18), log.sent)
                completing[r] = max(firsts.values())
                if nxt > args.rounds:
                    break
                await asyncio.sleep(0.5)  # the class reads the last month's moves
            play_wall = time.monotonic() - w0
            result["play_cpu"] = (server.cpu() - c0) / play_wall
            if args.browsers:
                for s in students:
                    await s.collect()
            times = {
                "teacher": await shown_times(teacher),
                "projector": await shown_times(projector),
            }
            latencies: dict[str, list[float]] = {"students": [], "teacher": [], "projector": []}
            for r, t_last in completing.items():
                nxt = r + 1
                key = nxt if nxt <= len(MONTHS) else "end"
                for s in students:
                    if key in s.shown:
                        latencies["students"].append(s.shown[key] - t_last)
                for screen in ("teacher", "projector"):
                    t = first_shown(times[screen], nxt, len(MONTHS))
                    if t is not None:
                        latencies[screen].append(t - t_last)
            every = [x for v in latencies.values() for x in v]
            result["screens_expected"] = len(completing) * (args.students + 2)
            result["screens_measured"] = len(every)
            result["median_s"] = statistics.median(every)
            result["p95_s"] = pct(every, 95)
            result["max_s"] = max(every)
            for k, v in latencies.items():
                result[f"{k}_median_s"] = statistics.median(v) if v else float("nan")
                result[f"{k}_p95_s"] = pct(v, 95)
            sends = server.export("sends")
            rounds = server.export("rounds")
            lost, problems = count_lost(students, sends, rounds)
            result["sends"] = sum(len(s.sends) for s in students)
            result["taken"] = sum(1 for s in students for x in s.sends if x.ok)
            result["refused"] = sum(1 for s in students for x in s.sends if x.ok is False)
            result["refused_by_page"] = sum(1 for s in students for x in s.sends if x.local)
            result["lost"] = lost + (result["screens_expected"] - result["screens_measured"])
            result["problems"] = problems[:10]
            for s in students:
                await s.close()
            await t_ctx.close()
            await p_ctx.close()
            await browser.close()
    finally:
        server.sample()
        result["rss_mib"] = server.rss / 2**20
        server.stop()
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=6, help="months played (at most 11)")
    ap.add_argument(
        "--spread", type=float, default=3.0, help="seconds over which a month's sends arrive"
    )
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of the idle measurement")
    ap.add_argument(
        "--browsers", action="store_true", help="students in chromium, not protocol clients"
    )
    ap.add_argument("--seed", type=int, default=0, help="the random moments and moves")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args(argv)
    args.rounds = max(1, min(args.rounds, len(MONTHS)))
    res = asyncio.run(run(args))
    kind = "in chromium" if args.browsers else "as protocol clients"
    print(
        f"Room benchmark ({os.cpu_count()} cores, offline): {args.students} students {kind}, teacher and projector in chromium, {args.rounds} months"
    )
    print(f"  seating {args.students} students: {res['seating_s']:.1f} s")
    print(
        f"  last move -> next month on every screen ({res['screens_measured']} of {res['screens_expected']}): "
        f"median {res['median_s']:.2f} s, p95 {res['p95_s']:.2f} s, max {res['max_s']:.2f} s"
    )
    print(
        f"    students median {res['students_median_s']:.2f} s (p95 {res['students_p95_s']:.2f}); "
        f"console {res['teacher_median_s']:.2f} s (p95 {res['teacher_p95_s']:.2f}); "
        f"projector {res['projector_median_s']:.2f} s (p95 {res['projector_p95_s']:.2f})"
    )
    print(
        f"  server CPU: {100 * res['play_cpu']:.0f}% of a core while playing, "
        f"{100 * res['idle_cpu']:.1f}% idle (a month open, nobody acting); memory {res['rss_mib']:.0f} MiB"
    )
    print(
        f"  sends: {res['sends']} ({res['taken']} taken, {res['refused']} refused on their page: "
        f"the month had closed; {res['refused_by_page']} of them before leaving it), lost {res['lost']}"
    )
    for p in res["problems"]:
        print(f"    ! {p}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    print(
        f"{args.students} students: median {res['median_s']:.2f} s, p95 {res['p95_s']:.2f} s, "
        f"server CPU {100 * res['play_cpu']:.0f}%, lost {res['lost']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

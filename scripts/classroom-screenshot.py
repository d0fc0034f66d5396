#!/usr/bin/env python3
"""Screenshots for docs/classroom.md: the page and the room's projector view at 1366×768.

Starts ``stalemate-app`` and ``stalemate-room`` on free loopback ports (offline, as
in class), drives them in Debian's chromium through Playwright, saves what a
projector at 1366×768 shows, and stops each server by its process id:

- ``docs/img/classroom_page.png`` — the page after 30 rounds of the 2018 baseline
  (seed 0);
- ``docs/img/room_projector.png`` — the room (the 2018 replay, seed 0) after four
  students have played five months, each move with its reason.

Usage (from the repository root)::

    .venv/bin/python scripts/classroom-screenshot.py            # both
    .venv/bin/python scripts/classroom-screenshot.py --only page
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
from pathlib import Path

from sim.classroom.headless import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
SCREEN = {"width": 1366, "height": 768}
CODE = "ABC234"
#: Five months of the 2018 replay as four students might play them: (state, move, reason).
PLAN = [
    [("USA", "Hedge", "Keep sanctions until we see a list"), ("DPRK", "Concede", "Show good faith"),
     ("ROK", "Concede", "Engage"), ("PRC", "Hedge", "Wait and see")],
    [("USA", "Hedge", "No list yet"), ("DPRK", "Concede", "Blow up the tunnels"),
     ("ROK", "Hedge", "Stay with the US"), ("PRC", "Concede", "Ease enforcement")],
    [("USA", "Concede", "Offer assurances at the summit"), ("DPRK", "Hedge", "Keep the bases"),
     ("ROK", "Concede", "Summit!"), ("PRC", "Concede", "Lax")],
    [("USA", "Concede", "Relief for a freeze"), ("DPRK", "Concede", "Freeze Yongbyon"),
     ("ROK", "Concede", "Engage"), ("PRC", "Concede", "Lax")],
    [("USA", "Hedge", "Verify first"), ("DPRK", "Escalate", "Test, to be heard"),
     ("ROK", "Escalate", "Drills"), ("PRC", "Hedge", "Nominal")],
]  # fmt: skip
STUDENTS = {"USA": "Ana", "DPRK": "Ben", "ROK": "Cleo", "PRC": "Dev"}


def serve(module: str, args: list[str]) -> tuple[subprocess.Popen, str, Path]:
    log = (
        Path(os.environ.get("TMPDIR", "/tmp")) / f"stalemate-screenshot-{os.getpid()}-{module}.log"
    )
    proc, url = start_server(module, args, log)
    if wait_until_up(proc, url):
        return proc, url, log
    stop(proc)
    raise SystemExit(f"{module} did not start:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def shoot_page(browser, rounds: int) -> Path:
    proc, url, _ = serve("sim.classroom.page_cli", [])
    try:
        page = browser.new_page(viewport=SCREEN)
        page.set_default_timeout(60_000)
        page.goto(url)
        page.locator(".stalemate-round", has_text="Round 0 of").wait_for()
        for n in range(1, rounds + 1):
            button(page, "Step").click()
            page.locator(".stalemate-round", has_text=f"Round {n} of").wait_for()
        page.wait_for_timeout(1500)  # the charts' last redraw
        out = OUT / "classroom_page.png"
        page.screenshot(path=str(out))
        return out
    finally:
        stop(proc)


def shoot_room(browser) -> Path:
    proc, url, log = serve(
        "sim.classroom.room_app", ["--seed", "0", "--timer", "0", "--code", CODE]
    )
    try:
        printed = log.read_text()
        key = re.search(r"teacher\?key=(\S+)", printed).group(1)
        screen = re.search(r"projector\?key=(\S+)", printed).group(1)  # the projector's own
        projector = browser.new_page(viewport=SCREEN)
        teacher = browser.new_page(viewport=SCREEN)
        for p in (projector, teacher):
            p.set_default_timeout(60_000)
        projector.goto(f"{url}projector?key={screen}")
        teacher.goto(f"{url}teacher?key={key}")
        button(teacher, "Start the talks").wait_for()
        pages = {}
        for actor, name in STUDENTS.items():
            page = browser.new_context(viewport={"width": 800, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_label("Room code").fill(CODE)
            page.get_by_label("Your name").fill(name)
            button(page, "Join").click()
            button(page, f"Play {actor}").click()
            page.locator(".sm-you", has_text=f"You are {actor}").wait_for()
            pages[actor] = page
        button(teacher, "Start the talks").click()
        for r, moves in enumerate(PLAN, start=1):
            projector.locator(".sm-room-clock", has_text=f"round {r} of").wait_for()
            for actor, move, why in moves:
                page = pages[actor]
                page.locator(".sm-room-clock", has_text=f"round {r} of").wait_for()
                button(page, move).click()
                page.locator("textarea").fill(why)
                button(page, "Send our move").click()
        projector.locator(".sm-room-clock", has_text=f"round {len(PLAN) + 1} of").wait_for()
        projector.wait_for_timeout(1500)
        out = OUT / "room_projector.png"
        projector.screenshot(path=str(out))
        return out
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("page", "room"), help="one screenshot only")
    parser.add_argument("--rounds", type=int, default=30, help="rounds played on the page")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            if args.only in (None, "page"):
                print(f"wrote {shoot_page(browser, args.rounds).relative_to(ROOT)}")
            if args.only in (None, "room"):
                print(f"wrote {shoot_room(browser).relative_to(ROOT)}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

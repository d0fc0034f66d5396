#!/usr/bin/env python3
"""Screenshot of the classroom page for the README: results/figures/classroom_page.png.

Starts the page on a free loopback port (as ``stalemate-app`` does), plays the
2018 baseline (seed 0) for a number of rounds in Debian's chromium, saves the
screenshot and stops the server by its process id.

Usage (from the repository root)::

    .venv/bin/python scripts/classroom-screenshot.py              # 30 rounds of baseline_2018
    .venv/bin/python scripts/classroom-screenshot.py --rounds 11 --scenario replay_2018
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("STALEMATE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--scenario", default="baseline_2018")
    parser.add_argument("--out", default=str(ROOT / "results" / "figures" / "classroom_page.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.classroom.page", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1320})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_text("Round 0 of").wait_for()
            if args.scenario != "baseline_2018":
                page.locator(".v-input", has_text="Scenario").first.click()
                page.get_by_role("option", name=args.scenario, exact=True).click()
                page.get_by_text(f"On the table: {args.scenario}").wait_for()
            step = page.get_by_role("button", name="Step", exact=True)
            for n in range(1, args.rounds + 1):
                if step.is_disabled():
                    break
                step.click()
                page.get_by_text(f"Round {n} of").wait_for()
            page.wait_for_timeout(1000)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out)
            browser.close()
        print(f"wrote {args.out}")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

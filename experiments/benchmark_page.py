#!/usr/bin/env python3
"""Benchmark the classroom page in real browser sessions (Debian's chromium, Playwright).

Starts ``stalemate-app`` on a free loopback port with ``STALEMATE_TIMING`` set (the
page then logs the server time of every step: model, snapshot, redraw and the
messages to the browser) and measures what a class would feel:

1. **Step, one session**: server time per step, and the time from the click to
   the new round on screen with its chart redrawn.
2. **▶ at the fastest speed** (20 rounds/s), one session: rounds per second
   reached, as the browser shows them.
3. **10 sessions at once**, each pressing Step as soon as the last step shows: the
   time from click to the new round on screen, median and 90th percentile.

Usage (from the repository root)::

    .venv/bin/python experiments/benchmark_page.py            # the figures in docs/classroom.md
    .venv/bin/python experiments/benchmark_page.py --steps 20 --sessions 5 --json out.json

Targets from the issue: a step ≤ 150 ms server time; ▶ ≥ 10 rounds/s; 10 sessions
median step ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from sim.classroom.headless import CHROMIUM, CHROMIUM_ARGS, start_server, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
ROUND = ".stalemate-round"


def start_page(timing: Path) -> tuple[subprocess.Popen, str]:
    """The page's server, offline as in class, writing its step timings to ``timing``."""
    proc, url = start_server("sim.classroom.page_cli", [], env={"STALEMATE_TIMING": str(timing)})
    if not wait_until_up(proc, url):
        raise SystemExit("the page did not start")
    return proc, url


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the page's server and by every chromium process."""
    import psutil

    def total(p):
        t = p.cpu_times()
        return t.user + t.system

    server = total(psutil.Process(server_pid))
    browsers = 0.0
    for p in psutil.process_iter(["name"]):
        try:
            if "chrom" in (p.info["name"] or "").lower():
                browsers += total(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return server, browsers


def read_timing(path: Path, since: float) -> list[dict]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [t for t in lines if t["t"] >= since]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


async def open_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(url)
    await page.locator(ROUND, has_text="Round 0 of").wait_for()
    await page.locator(".sm-chart-state canvas").first.wait_for()
    return context, page


#: Click Step and resolve when round n shows, in the page itself: a MutationObserver,
#: not Playwright's polling, so the harness adds almost nothing to the browser's work.
STEP_JS = """n => new Promise(resolve => {
    const status = document.querySelector('.sm-status');
    const done = () => {
        const r = document.querySelector('.stalemate-round');
        return r && r.textContent.startsWith('Round ' + n + ' of');
    };
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
        if (done()) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(status, {childList: true, subtree: true, characterData: true});
    const step = [...document.querySelectorAll('.sm-side button')]
        .find(b => b.textContent.trim() === 'Step');
    step.click();
})"""


async def step_once(page, n: int) -> float:
    """Click Step; seconds until round ``n`` shows on the page."""
    return await page.evaluate(STEP_JS, n) / 1000


async def bench_steps(browser, url: str, timing: Path, steps: int) -> dict:
    context, page = await open_page(browser, url)
    for n in range(1, 4):  # warm up: first steps load the numba code paths
        await step_once(page, n)
    since = time.time()
    client = [await step_once(page, n) for n in range(4, 4 + steps)]
    await asyncio.sleep(0.3)
    server = [t["seconds"] for t in read_timing(timing, since) if t["kind"] == "step"]
    await context.close()
    return {
        "steps": steps,
        "server_ms_median": 1000 * statistics.median(server),
        "server_ms_p90": 1000 * pct(server, 90),
        "client_ms_median": 1000 * statistics.median(client),
        "client_ms_p90": 1000 * pct(client, 90),
    }


async def bench_play(browser, url: str, timing: Path, seconds: float) -> dict:
    context, page = await open_page(browser, url)
    await page.locator(".v-btn-toggle").get_by_role("button", name="20", exact=True).click()
    await page.get_by_role("button", name="▶ Play", exact=True).click()
    await page.wait_for_function(
        "() => !document.querySelector('.stalemate-round').textContent.startsWith('Round 0 ')"
    )
    since = time.time()
    t0 = time.perf_counter()
    first = await page.locator(ROUND).inner_text()
    frames = 0
    last = first
    while time.perf_counter() - t0 < seconds:
        await page.wait_for_timeout(50)
        now = await page.locator(ROUND).inner_text()
        frames += now != last
        last = now
    elapsed = time.perf_counter() - t0
    await page.get_by_role("button", name="❚❚ Pause", exact=True).click()
    r0, r1 = (int(s.split()[1]) for s in (first, last))
    server = read_timing(timing, since)
    played = sum(t["rounds"] for t in server if t["kind"] == "step")
    await context.close()
    return {
        "seconds": round(elapsed, 2),
        "rounds_per_second_on_screen": (r1 - r0) / elapsed,
        "rounds_per_second_server": played / elapsed,
        "server_ms_per_frame_median": 1000 * statistics.median([t["seconds"] for t in server]),
        "screen_updates_seen": frames,
    }


async def bench_sessions(
    browser, url: str, timing: Path, sessions: int, steps: int, server_pid: int
) -> dict:
    opened = await asyncio.gather(*(open_page(browser, url) for _ in range(sessions)))
    for _, page in opened:
        await step_once(page, 1)
        if os.environ.get("BENCH_NO_CHARTS"):  # diagnostics: how much do the charts cost?
            await page.evaluate(
                "() => document.querySelectorAll('.stalemate-vega').forEach(e => "
                "{ const vm = e.__vue__; vm.view.finalize(); vm.view = null; })"
            )
    since = time.time()

    async def run(page):
        return [await step_once(page, n) for n in range(2, 2 + steps)]

    cpu0 = cpu_seconds(server_pid)
    t0 = time.perf_counter()
    client = [x for xs in await asyncio.gather(*(run(p) for _, p in opened)) for x in xs]
    wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(server_pid)
    await asyncio.sleep(0.3)
    server = [t["seconds"] for t in read_timing(timing, since) if t["kind"] == "step"]
    for context, _ in opened:
        await context.close()
    return {
        "sessions": sessions,
        "steps_each": steps,
        "client_ms_median": 1000 * statistics.median(client),
        "client_ms_p90": 1000 * pct(client, 90),
        "server_ms_median": 1000 * statistics.median(server),
        "steps_per_second_all_sessions": len(client) / wall,
        "wall_seconds": wall,
        "server_cpu_seconds": cpu1[0] - cpu0[0],
        "browser_cpu_seconds": cpu1[1] - cpu0[1],
        "load_average": os.getloadavg()[0],
    }


async def main_async(args) -> dict:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        timing = Path(tmp) / "timing.jsonl"
        proc, url = start_page(timing)
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                out = {
                    "cores": len(os.sched_getaffinity(0)),
                    "step": await bench_steps(browser, url, timing, args.steps),
                    "play": await bench_play(browser, url, timing, args.play_seconds),
                    "sessions": await bench_sessions(
                        browser, url, timing, args.sessions, args.session_steps, proc.pid
                    ),
                }
                await browser.close()
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
    return out


def report(r: dict) -> str:
    s, p, m = r["step"], r["play"], r["sessions"]
    return "\n".join(
        [
            f"Classroom page benchmark ({r['cores']} cores, chromium headless, offline)",
            f"  Step, 1 session ({s['steps']} steps):   server {s['server_ms_median']:.0f} ms median"
            f" (p90 {s['server_ms_p90']:.0f}); click to new round on screen "
            f"{s['client_ms_median']:.0f} ms (p90 {s['client_ms_p90']:.0f})     target ≤ 150 ms server",
            f"  ▶ at 20 rounds/s ({p['seconds']:.0f} s):       {p['rounds_per_second_on_screen']:.1f} rounds/s"
            f" on screen, {p['rounds_per_second_server']:.1f} played; "
            f"{p['server_ms_per_frame_median']:.0f} ms server per frame        target ≥ 10 rounds/s",
            f"  {m['sessions']} sessions at once ({m['steps_each']} steps each): "
            f"click to new round {m['client_ms_median']:.0f} ms median (p90 {m['client_ms_p90']:.0f}); "
            f"server {m['server_ms_median']:.0f} ms per step; "
            f"{m['steps_per_second_all_sessions']:.1f} steps/s in all          target median ≤ 500 ms",
            f"     CPU in that test: server {m['server_cpu_seconds']:.1f} s, browsers "
            f"{m['browser_cpu_seconds']:.1f} s, in {m['wall_seconds']:.1f} s on {r['cores']} cores "
            f"(load average {m['load_average']:.1f} at the end)",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps in the one-session test")
    parser.add_argument("--play-seconds", type=float, default=10.0, help="seconds of ▶")
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions at once")
    parser.add_argument("--session-steps", type=int, default=10, help="steps per session")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The classroom page in a real browser: Debian's chromium driven by Playwright.

The server is started as a subprocess on a free loopback port, exactly as a
teacher starts it (``python -m sim.classroom.page`` = ``stalemate-app``), with Solara's CDN
pointed at an unreachable address: every front-end file must come from the
local asset cache (``scripts/fetch-solara-assets.py``), as on a machine with no
network. The test loads the page, presses Step (the round counter and the chart
change), moves a slider (it takes effect at Reset, not before), checks that the
browser reported no JavaScript error and no failed request, and saves a
screenshot to ``results/test-artifacts/classroom_page.png``.

Chromium comes from ``scripts/install-chromium.sh`` (Playwright cannot download
its own browsers here). Without it the test is skipped, except under ``CI=true``,
where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "results" / "test-artifacts"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("STALEMATE_CHROMIUM", "/usr/bin/chromium")
#: what Chromium needs as root in a sandboxed machine with a closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: nothing listens there: a file missing from the asset cache fails at once
UNREACHABLE_CDN = "http://127.0.0.1:9/npm/"
STARTUP_TIMEOUT = 90  # seconds for the server to answer
UI_TIMEOUT = 30_000  # milliseconds for the page to show something


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the server did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server by its process id: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page served on a free loopback port; yields its URL."""
    try:
        import solara  # noqa: F401
    except ImportError:
        _require(False, "solara is not installed (the app extra: pip install -e '.[app]')")
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch-solara-assets.py"), "--check"],
        capture_output=True,
        text=True,
    )
    _require(
        check.returncode == 0,
        "Solara's asset cache is not filled: run python scripts/fetch-solara-assets.py\n"
        + check.stdout,
    )
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {
        **os.environ,
        "SOLARA_ASSETS_CDN": UNREACHABLE_CDN,  # offline: the cache or nothing
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "PYTHONUNBUFFERED": "1",
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.classroom.page",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_ready(url, proc, log)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    _require(
        Path(CHROMIUM).exists(),
        f"Debian's chromium is not installed at {CHROMIUM} (sh scripts/install-chromium.sh)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "playwright is not installed (the app extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_page_in_a_real_browser(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console error: {msg.text}") if msg.type == "error" else None,
    )
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.on(
        "response",
        lambda resp: (
            errors.append(f"HTTP {resp.status}: {resp.url}") if resp.status >= 400 else None
        ),
    )
    page.set_default_timeout(UI_TIMEOUT)
    try:
        page.goto(server)
        page.get_by_text("Round 0 of 200").wait_for()
        charts = page.locator(".stalemate-chart img")
        charts.first.wait_for()
        assert charts.count() == 3
        src0 = charts.first.get_attribute("src")

        # Step: the round counter and the chart move
        page.get_by_role("button", name="Step", exact=True).click()
        page.get_by_text("Round 1 of 200").wait_for()
        page.wait_for_function(
            "src0 => document.querySelector('.stalemate-chart img').src !== src0", arg=src0
        )
        page.get_by_text("Outcome: undecided").wait_for()

        # a slider: takes effect at Reset, not before
        table = page.locator(".stalemate-table")
        assert "assurance 0.40" in table.inner_text()
        slider = page.locator(".v-input", has_text="Security assurance on the table").get_by_role(
            "slider"
        )
        slider.focus()
        for _ in range(3):
            slider.press("ArrowRight")
        page.wait_for_timeout(300)
        assert "assurance 0.40" in table.inner_text()
        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_text("Round 0 of 200").wait_for()
        page.wait_for_function(
            "() => document.querySelector('.stalemate-table').innerText.includes('assurance 0.55')"
        )

        # a few rounds for the screenshot: the log and the timeline fill up
        for n in range(1, 6):
            page.get_by_role("button", name="Step", exact=True).click()
            page.get_by_text(f"Round {n} of 200").wait_for()
        page.wait_for_timeout(500)
        assert "Round" in page.locator(".stalemate-log").inner_text()
    finally:
        shot = tmp_path / "classroom_page.png"
        page.screenshot(path=str(shot), full_page=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ARTIFACTS / "classroom_page.png")
        page.close()
    assert not errors, "the browser reported:\n" + "\n".join(errors)

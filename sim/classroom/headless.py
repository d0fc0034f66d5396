"""The classroom in a headless browser: one way to start a page's server offline and
the Chromium flags this needs, shared by the browser tests, the page benchmark and
the screenshot script (``tests/test_browser.py``, ``experiments/benchmark_page.py``,
``scripts/classroom-screenshot.py``).

The server is ``python -m <module> --host 127.0.0.1 --port <free port> ...`` with
telemetry off and the front-end assets forced to come from the local cache
(``scripts/fetch-solara-assets.py``): the CDN address points where nothing listens,
so a file missing from the cache fails at once, as it would in a class offline.

Example:
    >>> port = free_port()
    >>> 1024 <= port <= 65535
    True
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

#: Debian's chromium (``scripts/install-chromium.sh``), or ``$STALEMATE_CHROMIUM``.
CHROMIUM = os.environ.get("STALEMATE_CHROMIUM", "/usr/bin/chromium")
#: What Chromium needs as root in a sandboxed machine with a closed network.
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
#: Nothing listens there: a front-end file missing from the asset cache fails at once.
UNREACHABLE_CDN = "http://127.0.0.1:9/npm/"
_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    module: str, args: list[str], log: Path | None = None, env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """Start ``python -m module --host 127.0.0.1 --port P *args`` offline; return the
    process and its URL at once (see :func:`wait_until_up`). Its output goes to ``log``
    (or nowhere); ``env`` adds variables to the server's environment."""
    port = free_port()
    environ = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_ASSETS_CDN": UNREACHABLE_CDN,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    out = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=_ROOT,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None:
            out.close()  # the child has its own copy
    return proc, f"http://127.0.0.1:{port}/"


def wait_until_up(proc: subprocess.Popen, url: str, timeout: float = 120.0) -> bool:
    """Poll ``url`` until it answers (True), the server exits or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except OSError:
            if proc.poll() is not None:
                return False
            time.sleep(0.5)
    return False

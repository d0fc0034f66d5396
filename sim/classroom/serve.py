"""Serving the classroom: one way for ``stalemate-app`` and ``stalemate-room`` to check
their command line, open their port and run Solara's server in their own process.

Why in-process (and not ``solara run`` in a new process, as before): the room's
settings reach its pages as a checked Python object, not as environment strings;
a busy port or an unknown host is refused in one line *before* anything starts;
the server's limits (message sizes, cookies, shutdown) are set here, in one place.

- :class:`OneLineParser` — argparse whose errors are one line on stderr, exit code 2.
- :func:`listen` — bind the listening socket now: a busy port, a host that is not
  this machine's or a port that needs administrator rights is a :class:`ServeError`.
- :func:`run` — Solara's Starlette app (with the classroom's own routes first) on
  that socket, with uvicorn: messages over :data:`MAX_MESSAGE_BYTES` close the
  connection; Solara's session cookie is ``HttpOnly`` and ``SameSite=Lax``.

Nothing here imports Solara at import time: a bad argument is refused at once.

Example:
    >>> p = port_number("8766"), port_number("0")
    >>> p
    (8766, 0)
    >>> port_number("99999")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 99999 is not a port: use a whole number from 1024 to 65535 (0: any free port)
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import warnings
from pathlib import Path

#: The largest message a browser may send to the server (bytes); larger closes its connection.
MAX_MESSAGE_BYTES = 1024 * 1024
#: Solara's own settings (environment variables it reads when imported): no calls home, the
#: front-end files from the local cache, no banner, a session cookie page scripts cannot read.
SOLARA_DEFAULTS = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_SESSION_HTTP_ONLY": "True",
}
#: The front-end files the pages need offline (in Solara's asset cache).
ASSETS = ("@widgetti/solara-vuetify*-app@*", "vega@6*", "vega-lite@6*", "vega-embed@7*")


class ServeError(Exception):
    """Why a server cannot start (one line, shown as ``prog: message``, exit code 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``prog: message``) and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: Seconds per round of a room unless the teacher says otherwise (0: no timer); here, in a
#: module without the model, so ``stalemate-room`` can check its flags before importing it.
DEFAULT_TIMER = 90
#: Join codes: letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L);
#: here too, so that the command draws its code without importing the room and the model.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_code(length: int = CODE_LENGTH) -> str:
    """A random code of ``length`` characters of :data:`CODE_ALPHABET`."""
    import secrets

    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def port_number(text: str) -> int:
    """A port from the command line: 1–65535, or 0 for any free one."""
    try:
        port = int(text.strip()) if text.strip().isascii() else -1
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text} is not a port: use a whole number from 1024 to 65535 (0: any free port)"
        )
    return port


def whole_number(lo: int | None = None, hi: int | None = None):
    """An argparse type: a whole number written in ASCII digits, within ``[lo, hi]`` if given
    (a command whose settings are checked by :func:`sim.model.validation.validate` gives
    neither: the range is the settings' own)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
            ok = (
                text.strip().isascii()
                and (lo is None or value >= lo)
                and (hi is None or value <= hi)
            )
        except ValueError:
            ok = False
        if not ok:
            what = (
                f" from {lo} to {hi:,}"
                if lo is not None and hi is not None
                else f" of at least {lo}"
                if lo is not None
                else ""
            )
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{what}")
        return value

    return parse


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, ready to serve; refused in one line if it cannot be.

    Raises:
        ServeError: the host is not an address of this machine (or cannot be resolved),
            the port is busy, or it needs administrator rights.
    """
    try:
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except (socket.gaierror, UnicodeError):
        raise ServeError(
            f"--host {host}: not an address or a name of this machine "
            "(127.0.0.1: this machine only; 0.0.0.0: the class network)"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is busy: another program listens there (choose another with --port)"
            ) from None
        if err.errno == errno.EADDRNOTAVAIL:
            raise ServeError(
                f"--host {host}: not an address of this machine "
                "(127.0.0.1: this machine only; 0.0.0.0: the class network)"
            ) from None
        if err.errno == errno.EACCES:
            raise ServeError(
                f"port {port} needs administrator rights: use one from 1024 to 65535"
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def lan_address() -> str | None:
    """This machine's address on the local network (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return None


def shown_host(host: str) -> str:
    """The address to print for ``host`` (the LAN address when listening on every interface)."""
    if host in ("0.0.0.0", "::", ""):
        return lan_address() or "<this machine's address>"
    return host


def local_url(host: str, port: int) -> str:
    """The address the teacher opens on this machine."""
    if host in ("0.0.0.0", "::", "", "127.0.0.1", "localhost"):
        return f"http://127.0.0.1:{port}"
    return f"http://{host}:{port}"


def asset_cache_dir() -> Path:
    """Where Solara's server looks for its cached front-end files."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def check_assets(prog: str) -> None:
    """Warn (on stderr) when the front-end files are missing from the local cache."""
    cache = asset_cache_dir()
    missing = [name for name in ASSETS if not any(cache.glob(name))]
    if missing:
        print(
            f"{prog}: front-end files are missing from {cache} ({', '.join(missing)}); without a "
            "network the page stays blank or without charts. Fill the cache with: "
            "python scripts/fetch-solara-assets.py",
            file=sys.stderr,
        )


def configure_solara() -> None:
    """Solara's settings for the classroom (:data:`SOLARA_DEFAULTS`; a value already set in
    the environment wins). Solara reads them when first imported: call this first."""
    for name, value in SOLARA_DEFAULTS.items():
        os.environ.setdefault(name, value)


def solara_app(module: str, routes=()):
    """Solara's Starlette app serving the Solara app ``module``, with ``routes`` tried first."""
    configure_solara()
    os.environ["SOLARA_APP"] = module
    import solara.settings
    from solara.server import settings

    # the same values again, in case Solara was imported before configure_solara() (a page
    # module imports it at its top); a different value set in the environment still wins
    def ours(name: str) -> bool:
        return os.environ.get(name) == SOLARA_DEFAULTS[name]

    if ours("SOLARA_TELEMETRY_MIXPANEL_ENABLE"):
        settings.telemetry.mixpanel_enable = False
    if ours("SOLARA_ASSETS_PROXY"):
        solara.settings.assets.proxy = True
    if ours("SOLARA_THEME_SHOW_BANNER"):
        settings.theme.show_banner = False
    if ours("SOLARA_SESSION_HTTP_ONLY"):
        settings.session.http_only = True  # page scripts never read the session cookie
    from solara.server import starlette as solara_starlette

    # Solara warns on every plain-http page that its cookie falls back to SameSite=Lax: it is meant to
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    app = solara_starlette.app
    app.router.routes[0:0] = list(routes)
    return app


def run(app, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C or SIGTERM (connections get 3 s to close)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        ws_max_size=MAX_MESSAGE_BYTES,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])

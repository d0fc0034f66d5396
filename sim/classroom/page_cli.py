"""``stalemate-app``: its command line, checked and the port opened before Solara is imported.

The page itself (:mod:`sim.classroom.page`) imports Solara, the model and the charts at
its top, several CPU-seconds; a bad flag, a busy port or a host that is not this
machine's is refused in one line (exit code 2) without them. Solara then loads the page
module by name, once.
"""

from __future__ import annotations

import sys
import threading

HOST, PORT = "127.0.0.1", 8765


def _warm_up() -> None:
    """Load the compiled model and build the chart specs before the first visitor arrives."""
    try:
        from sim.classroom import page
        from sim.classroom.charts import warm_up

        warm_up()
        m = page.build(page.initial_settings())
        m.step()
        page.stage_game_html(page.Runner(m).snapshot)
    except Exception:  # pragma: no cover - a warm-up never stops the page
        pass


def main(argv: list[str] | None = None) -> int:
    """Serve the page (entry point of ``stalemate-app``): the command line is checked, and the
    port opened, before anything starts; a bad value or a busy port is one line, exit code 2."""
    from sim.classroom.serve import (
        OneLineParser,
        ServeError,
        bound_port,
        check_assets,
        listen,
        port_number,
        run,
        solara_app,
    )

    description = (
        "The classroom page: run a negotiation round by round, on a projector, in a browser."
    )
    parser = OneLineParser(prog="stalemate-app", description=description)
    parser.add_argument(
        "--host", default=HOST, help=f"address to listen on (default {HOST}: this machine only)"
    )
    parser.add_argument(
        "--port", type=port_number, default=PORT, help=f"port (default {PORT}; 0: any free one)"
    )
    args = parser.parse_args(argv)
    try:
        sock = listen(args.host, args.port)
    except ServeError as err:
        print(f"stalemate-app: {err}", file=sys.stderr)
        return 2
    check_assets("stalemate-app")
    app = solara_app("sim.classroom.page")  # (configures Solara before importing it)
    print(
        f"Stalemate classroom page on http://{args.host}:{bound_port(sock)}  (Ctrl-C stops it)",
        flush=True,
    )
    threading.Thread(target=_warm_up, name="stalemate-warm-up", daemon=True).start()
    run(app, sock)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``stalemate-room``: the command line and the server of the room.

The room's settings are read from the command line into one :class:`RoomSettings`,
checked once, in full, before anything starts: a bad value is refused in one line
with exit code 2, and so is a busy port or a host that is not this machine's. The
room (:class:`~sim.classroom.room.Room`) is then made from those settings in this
process and handed to the pages (:mod:`sim.classroom.room_pages`), which Solara's
server serves from here (:mod:`sim.classroom.serve`).

The pages themselves live by job: the student's page
(:mod:`~sim.classroom.room_student`), the teacher's console
(:mod:`~sim.classroom.room_teacher`), the projector view
(:mod:`~sim.classroom.room_projector`), what they share
(:mod:`~sim.classroom.room_views`) and the styles (:mod:`~sim.classroom.room_styles`).

Importing this module starts nothing; :func:`main` warms the model up in a thread
while the server starts.

Example:
    >>> s = RoomSettings(seed=3, code="xyz789")
    >>> s.code, s.port, s.scenario
    ('XYZ789', 8766, 'replay_2018')
    >>> RoomSettings(max_team=0)
    Traceback (most recent call last):
    ...
    sim.classroom.room_app.SettingsError: --max-team 0: a team needs at least 1 student (at most 60)
"""

from __future__ import annotations

import secrets
import sys
import threading
from dataclasses import dataclass, field

from sim.classroom.serve import (
    OneLineParser,
    ServeError,
    bound_port,
    check_assets,
    configure_solara,
    listen,
    local_url,
    port_number,
    shown_host,
    whole_number,
)

HOST, PORT = "127.0.0.1", 8766
DEFAULT_SCENARIO = "replay_2018"
#: The most students one seat takes (a class of 30 in four teams fits many times over).
MAX_TEAM = 60
MAX_TIMER = 3600


class SettingsError(ValueError):
    """A setting the room cannot start with (the message names the option)."""


@dataclass(frozen=True)
class RoomSettings:
    """Everything ``stalemate-room`` is started with, checked once when made.

    Args:
        host: the address to listen on (127.0.0.1: this machine only).
        port: the port (0: any free one).
        scenario: the scenario the class plays.
        rounds: rounds to play (None: the scenario's months, else 12).
        seed: the run's seed (None: a random one).
        timer: seconds per round (0: none).
        max_team: students per seat (None: no limit).
        code: the join code (None: a random one; kept upper-case).
        teacher_key: the secret in the teacher's URLs (default: a random one).
        projector_key: the projector's (default: a random one): it opens the projector
            view only, so the projector's URL cannot be turned into the console's.

    Raises:
        SettingsError: a value out of range, naming the option as typed on the command line.
    """

    host: str = HOST
    port: int = PORT
    scenario: str = DEFAULT_SCENARIO
    rounds: int | None = None
    seed: int | None = None
    timer: int = 90
    max_team: int | None = None
    code: str | None = None
    teacher_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    projector_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)

    def __post_init__(self):
        from sim.classroom.room import new_code

        problem = self.problem()
        if problem:
            raise SettingsError(problem)
        object.__setattr__(self, "code", (self.code or new_code()).upper())

    def problem(self) -> str | None:
        """Why the room cannot start with these settings (None if it can)."""
        from sim.engines.state import MAX_SEED
        from sim.hydra.compose import scenario_names

        if not isinstance(self.host, str) or not self.host.strip():
            return (
                "--host: give an address (127.0.0.1: this machine only; 0.0.0.0: the class network)"
            )
        if not 0 <= self.port <= 65535:
            return f"--port {self.port}: use a whole number from 1024 to 65535 (0: any free port)"
        names = scenario_names()
        if self.scenario not in names:
            return f"--scenario {self.scenario}: no such scenario (one of {', '.join(names)})"
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            return f"--seed {self.seed}: use a whole number from 0 to {MAX_SEED:,} (or none for a random one)"
        if not 0 <= self.timer <= MAX_TIMER:
            return f"--timer {self.timer}: use 0 (no timer) to {MAX_TIMER} seconds"
        if self.max_team is not None and not 1 <= self.max_team <= MAX_TEAM:
            return (
                f"--max-team {self.max_team}: a team needs at least 1 student (at most {MAX_TEAM})"
            )
        if self.code is not None and not (
            4 <= len(self.code) <= 12 and self.code.isascii() and self.code.isalnum()
        ):
            return f"--code {self.code}: use 4 to 12 letters (A-Z) or digits (0-9)"
        if self.rounds is not None:
            from sim.hydra.compose import scenario_kwargs
            from sim.model.params import make_config
            from sim.model.validation import ConfigError

            try:
                make_config(**scenario_kwargs(self.scenario, rounds=self.rounds))
            except ConfigError as err:
                return f"--rounds {self.rounds}: {err}"
        return None

    def room(self):
        """The room these settings describe."""
        from sim.classroom.room import Room

        return Room(
            code=self.code,
            teacher_key=self.teacher_key,
            projector_key=self.projector_key,
            scenario=self.scenario,
            seed=self.seed,
            rounds=self.rounds,
            timer=self.timer,
            max_team=self.max_team,
        )


def parser() -> OneLineParser:
    from sim.classroom.room import DEFAULT_TIMER

    p = OneLineParser(
        prog="stalemate-room",
        description="A whole class plays one negotiation: students join with a code and each plays a state.",
    )
    p.add_argument(
        "--host",
        default=HOST,
        help=f"address to listen on (default {HOST}: this machine only; 0.0.0.0: the class network)",
    )
    p.add_argument(
        "--port", type=port_number, default=PORT, help=f"port (default {PORT}; 0: any free one)"
    )
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help="scenario (default replay_2018: a month per round)",
    )
    p.add_argument(
        "--rounds",
        type=whole_number(1),
        default=None,
        help="rounds to play (default: the scenario's months, else 12)",
    )
    p.add_argument(
        "--seed", type=whole_number(0), default=None, help="seed (default: a random one)"
    )
    p.add_argument(
        "--timer",
        type=whole_number(0, MAX_TIMER),
        default=DEFAULT_TIMER,
        help=f"seconds per round, 0 for none (default {DEFAULT_TIMER})",
    )
    p.add_argument(
        "--max-team",
        type=whole_number(1, MAX_TEAM),
        default=None,
        help="students per state (default: no limit)",
    )
    p.add_argument("--code", default=None, help="the join code (default: a random one)")
    return p


def settings_from(argv: list[str] | None = None) -> RoomSettings:
    """The checked settings of a command line (exits with code 2 and one line if bad)."""
    p = parser()
    args = p.parse_args(argv)
    try:
        return RoomSettings(
            host=args.host,
            port=args.port,
            scenario=args.scenario,
            rounds=args.rounds,
            seed=args.seed,
            timer=args.timer,
            max_team=args.max_team,
            code=args.code,
        )
    except SettingsError as err:
        p.error(str(err))
        raise  # pragma: no cover - error() exits


def _warm_up(room) -> None:
    """Load the compiled model, the batch engine and the chart specs before the class arrives."""
    try:
        from sim.classroom.charts import warm_up
        from sim.classroom.room import compare_with_model
        from sim.classroom.seats import ClassroomModel

        warm_up()
        m = ClassroomModel(rounds=2, rng=0)
        m.run()
        compare_with_model(m, runs=4)
        room.view()
    except Exception:  # pragma: no cover - a warm-up never stops the room
        pass


def serve(settings: RoomSettings, sock) -> None:
    """Serve the room these settings describe on ``sock`` until Ctrl-C."""
    from sim.classroom.serve import configure_solara, run, solara_app

    configure_solara()  # first: Solara reads its settings on import
    from sim.classroom import room_views
    from sim.classroom.room_student import Students
    from sim.classroom.room_teacher import export_routes

    port = bound_port(sock)
    room = settings.room()
    room_views.serve_room(room, join_url=f"http://{shown_host(settings.host)}:{port}/")
    app = solara_app("sim.classroom.room_pages", Students(room).routes() + export_routes(room))
    threading.Thread(target=_warm_up, args=(room,), name="room-warm-up", daemon=True).start()
    try:
        run(app, sock)
    finally:
        room.close()


def main(argv: list[str] | None = None) -> int:
    """Serve the room (entry point of ``stalemate-room``)."""
    configure_solara()  # before anything imports Solara
    from sim.classroom.words import scenario_title

    settings = settings_from(argv)
    try:
        sock = listen(settings.host, settings.port)
    except ServeError as err:
        print(f"stalemate-room: {err}", file=sys.stderr)
        return 2
    port = bound_port(sock)
    local = local_url(settings.host, port)
    check_assets("stalemate-room")
    print(f"Stalemate room — {scenario_title(settings.scenario)}")
    print(f"  Join code:        {settings.code}")
    print(f"  Students open:    http://{shown_host(settings.host)}:{port}/  (and enter the code)")
    print(f"  Teacher console:  {local}/teacher?key={settings.teacher_key}")
    print(f"  Projector view:   {local}/projector?key={settings.projector_key}")
    if settings.host == "127.0.0.1":
        print(
            "  The room listens on this machine only; to let students' devices in, start it with --host 0.0.0.0"
        )
    print(
        "  (Ctrl-C stops the room; keep the console's link to yourself: its key runs the room.)",
        flush=True,
    )
    serve(settings, sock)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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
    sim.classroom.room_app.SettingsError: --max-team = 0 is outside the allowed range [1, 60]
"""

from __future__ import annotations

import secrets
import sys
import threading
from dataclasses import dataclass, field

from sim.classroom.serve import (
    DEFAULT_TIMER,
    OneLineParser,
    ServeError,
    bound_port,
    check_assets,
    configure_solara,
    listen,
    local_url,
    new_code,
    shown_host,
    whole_number,
)
from sim.model.validation import ConfigError, param, validate

HOST, PORT = "127.0.0.1", 8766
DEFAULT_SCENARIO = "replay_2018"
#: The most students one seat takes (a class of 30 in four teams fits many times over).
MAX_TEAM = 60
MAX_TIMER = 3600


#: The largest seed (int64; :data:`sim.engines.state.MAX_SEED`, not imported at start-up).
MAX_SEED = 2**63 - 1


class SettingsError(ConfigError):
    """A setting the room cannot start with (the message names the option)."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_host(key: str, value) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{key}: give an address (127.0.0.1: this machine only; 0.0.0.0: the class network)"
        )


def _check_code(key: str, value) -> None:
    if value is not None and not (
        isinstance(value, str) and 4 <= len(value) <= 12 and value.isascii() and value.isalnum()
    ):
        raise ConfigError(f"{key} = {value!r}: use 4 to 12 letters (A-Z) or digits (0-9)")


def _scenarios() -> tuple:
    from sim.hydra.compose import scenario_names

    return tuple(scenario_names())


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

    host: str = param(HOST, doc="the address to listen on", check=_check_host)
    port: int = param(PORT, 0, 65535, "the port (0: any free one)")
    scenario: str = param(DEFAULT_SCENARIO, doc="the scenario the class plays", choices=_scenarios)
    rounds: int | None = param(None, 1, None, "rounds to play (None: the scenario's)")
    seed: int | None = param(None, 0, MAX_SEED, "the run's seed (None: a random one)")
    timer: int = param(DEFAULT_TIMER, 0, MAX_TIMER, "seconds per round (0: none)")
    max_team: int | None = param(None, 1, MAX_TEAM, "students per seat (None: no limit)")
    code: str | None = param(None, doc="the join code (None: a random one)", check=_check_code)
    teacher_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    projector_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)

    def __post_init__(self):
        try:  # every value against its metadata, then the rounds against the scenario
            validate(self, name=_flag)
        except ConfigError as err:
            raise SettingsError(str(err)) from None
        object.__setattr__(self, "code", (self.code or new_code()).upper())

    def __validate__(self, prefix: str = "") -> None:
        if self.rounds is not None:
            from sim.hydra.compose import scenario_kwargs
            from sim.model.params import make_config

            try:
                make_config(**scenario_kwargs(self.scenario, rounds=self.rounds))
            except ConfigError as err:
                raise ConfigError(f"--rounds = {self.rounds}: {err}") from None

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
        "--port", type=whole_number(), default=PORT, help=f"port (default {PORT}; 0: any free one)"
    )
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help="scenario (default replay_2018: a month per round)",
    )
    p.add_argument(
        "--rounds",
        type=whole_number(),
        default=None,
        help="rounds to play (default: the scenario's months, else 12)",
    )
    p.add_argument("--seed", type=whole_number(), default=None, help="seed (default: a random one)")
    p.add_argument(
        "--timer",
        type=whole_number(),
        default=DEFAULT_TIMER,
        help=f"seconds per round, 0 for none (default {DEFAULT_TIMER})",
    )
    p.add_argument(
        "--max-team",
        type=whole_number(),
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

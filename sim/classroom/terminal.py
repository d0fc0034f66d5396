"""The terminal game: a student plays one state against the model's agents, round by round.

At the end the run is compared with the model's own policy on the same seed
(:func:`sim.classroom.seats.comparison`).

From the terminal (the ``stalemate-play`` console script)::

    stalemate-play --actor DPRK --scenario baseline_2018 --rounds 12 --seed 0
    stalemate-play --actor USA --scenario grit --moves hhcchhcc     # no prompts

From Python:
    >>> m = play("DPRK", rounds=3, seed=0, moves="chh", write=lambda line: None)
    >>> [t.played.name for t in m.seat.turns]
    ['CONCEDE', 'HEDGE', 'HEDGE']
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from sim.hydra.compose import scenario_kwargs, scenario_names
from sim.model.names import ACTION_NAMES, Action
from sim.model.params import ModelConfig
from sim.model.validation import ConfigError, param, refusal, validate

# The game (the model, Mesa) is imported where it is played: a refused command line
# costs none of it
if TYPE_CHECKING:
    from sim.classroom.seats import ClassroomModel, HumanSeat
    from sim.engines.mesa_model import NegotiationModel

#: The largest seed (int64; :data:`sim.engines.state.MAX_SEED`, not imported at start-up).
MAX_SEED = 2**63 - 1

#: What a student types for each action (the first letter is enough).
KEYS = {"c": Action.CONCEDE, "h": Action.HEDGE, "e": Action.ESCALATE}


def format_comparison(model: ClassroomModel, color: bool = False) -> str:
    """The end-of-game report: the student's run next to the model's, and round by round."""
    from sim.classroom.seats import comparison
    from sim.report.narrate import paint

    c = comparison(model)
    seat = model.seat
    assert seat is not None, "the comparison is of a game with a student's seat"
    lines = [
        f"You played {c['actor']} (seed {c['seed']}, scenario {model.scenario_name}).",
        "",
        f"{'':30}{'you':>18}{'the model':>18}",
        f"{'outcome':30}{c['outcome']:>18}{c['reference_outcome']:>18}",
        f"{'rounds played':30}{c['rounds']:>18}{c['reference_rounds']:>18}",
    ]
    for k in c["state"]:
        lines.append(
            f"{k + ' at the end':30}{c['state'][k]:>18.2f}{c['reference_state'][k]:>18.2f}"
        )
    for a in ACTION_NAMES:
        lines.append(
            f"{'rounds ' + c['actor'] + ' played ' + a:30}{c['counts'][a]:>18}"
            f"{c['reference_counts'][a]:>18}"
        )
    lines += ["", f"You:       {c['ending']}", f"The model: {c['reference_ending']}", ""]
    if c["chosen"]:
        lines.append(
            f"In {c['agree']} of the {c['chosen']} rounds you chose, you played what the model's "
            f"{seat.policy_name} policy drew in the same situation."
        )
    if seat.policy_name != "logit":
        lines.append(
            f"(The model plays {c['actor']} by the {seat.policy_name} rule; the probabilities "
            "below are what the logit rule would have given.)"
        )
    lines.append("Round by round — what the model's logit policy would have played in your place:")
    lines.append(
        f"{'round':>5}  {'you':<9}{'P(concede)':>11}{'P(hedge)':>10}{'P(escalate)':>12}  policy drew"
    )
    for t in seat.turns:
        who = paint(ACTION_NAMES[t.played], ACTION_NAMES[t.played], color) + " " * (
            9 - len(ACTION_NAMES[t.played])
        )
        note = {"event": " (forced by an event)", "model": " (you let the model play)"}.get(
            t.source, ""
        )
        p = t.probabilities
        lines.append(
            f"{t.round:>5}  {who}{p[0]:>11.3f}{p[1]:>10.3f}{p[2]:>12.3f}  "
            f"{ACTION_NAMES[t.policy]}{note}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The terminal game


def state_line(model: NegotiationModel) -> str:
    """The shared state and the main pair's trust, in one line."""
    p = model.structure
    tp, pr = p.names[p.target], p.names[p.principal]
    trust = model.trust_matrix()
    lv = model.level
    return (
        f"  assurance {lv('assurance'):.2f} · relief {lv('relief'):.2f} · "
        f"verified denuclearization {lv('denuclearization'):.2f} · undeclared "
        f"{lv('undeclared'):.2f} · tension {lv('tension'):.2f} · trust "
        f"{pr}→{tp} {trust[p.principal, p.target]:.2f}, {tp}→{pr} {trust[p.target, p.principal]:.2f}"
    )


def _prompt_chooser(read: Callable[[str], str], write: Callable[[str], None], show_probs: bool):
    """A chooser that asks at the terminal; 'q' or end of input hands the seat to the model."""
    from sim.model.actors import ROLE_WORDS
    from sim.model.events import describe

    state = {"auto": False}

    def choose(seat: HumanSeat, decision) -> Action | None:
        if state["auto"]:
            return None
        probs = decision.probabilities
        m = seat.model
        t = m.state.round + 1
        events = m.events_by_round.get(t, [])
        if events:
            write(f"  This round: {', '.join(describe(e) for e in events)}.")
        if show_probs:
            write(
                f"  (the model would play concede {probs[0]:.0%}, hedge {probs[1]:.0%}, "
                f"escalate {probs[2]:.0%})"
            )
        while True:
            try:
                answer = (
                    read(
                        f"Round {t}: {seat.actor} — [c]oncede, [h]edge or [e]scalate? "
                        "(? explains, q lets the model finish) "
                    )
                    .strip()
                    .lower()
                )
            except EOFError:
                answer = "q"
            if answer[:1] in KEYS:
                return KEYS[answer[:1]]
            if answer[:1] == "q":
                write("  The model plays your seat for the remaining rounds.")
                state["auto"] = True
                return None
            if answer[:1] == "?":
                for name, words in ROLE_WORDS[seat.agent.role].items():
                    write(f"    {name[0]} = {name}: {seat.actor} {words}")
                continue
            write("  Please type c, h or e.")

    return choose


def _moves_chooser(moves: str):
    """A chooser that plays a fixed list of moves (``"chhe"``), then lets the model play."""
    queue = [KEYS[ch] for ch in moves.lower() if ch in KEYS]

    def choose(seat, decision):
        return queue.pop(0) if queue else None

    return choose


def play(
    actor: str = "DPRK",
    scenario: str = "baseline_2018",
    rounds: int = 12,
    seed: int = 0,
    moves: str | None = None,
    color: bool = False,
    show_probs: bool = False,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    **params,
) -> ClassroomModel:
    """Play one game in the terminal; return the finished model.

    Args:
        actor: the seat the student plays.
        scenario: a scenario name.
        rounds: the horizon.
        seed: the seed (the reference run uses the same one).
        moves: play these moves (``c``/``h``/``e`` letters) instead of asking.
        color: colour actions in the narrative.
        show_probs: show the model's probabilities before each choice (a hint).
        read: how to ask (``input``).
        write: how to print (``print``).
        **params: model parameters that override the scenario's.
    """
    from sim.classroom.seats import ClassroomModel
    from sim.report.narrate import RESET, ending, round_lines

    model = ClassroomModel(scenario_name=scenario, player=actor, rng=seed, rounds=rounds, **params)
    chooser = (
        _moves_chooser(moves) if moves is not None else _prompt_chooser(read, write, show_probs)
    )
    assert model.seat is not None  # made with a player
    model.seat.chooser = chooser
    write(f"You are {actor} in the scenario '{scenario}': {rounds} rounds, seed {seed}.")
    write("The others are the model's agents. Each round everyone moves at once.")
    write(state_line(model))
    while model.running:
        model.step()
        t = model.round
        write(f"Round {t} — " + " ".join(round_lines(model, t, color)))
        write(state_line(model))
    write("")
    end = ending(model)
    write(f"\033[1m{end}{RESET}" if color else end)
    write("")
    write(format_comparison(model, color))
    return model


#: The horizons a game may have (the model's own range of ``rounds``).
_ROUNDS = next(f.metadata["range"] for f in fields(ModelConfig) if f.name == "rounds")


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise _ArgError(message)


@dataclass
class PlayArgs:
    """A game's settings from the command line, checked in one pass by
    :func:`sim.model.validation.validate` (messages name the flags)."""

    actor: str = param("DPRK", doc="the state you play")
    scenario: str = param(
        "baseline_2018", doc="a scenario from configs/scenario/", choices=scenario_names
    )
    rounds: int = param(12, _ROUNDS[0], _ROUNDS[1], "rounds to play")
    seed: int = param(0, 0, MAX_SEED, "the seed")
    moves: str | None = param(
        None, doc="moves played without asking", check=lambda key, value: check_moves(value, key)
    )
    hints: bool = param(False, doc="show the model's probabilities before each choice")
    color: str = param("auto", doc="colours", choices=("auto", "always", "never"))

    def __validate__(self, prefix: str = "") -> None:
        names = [
            n for n, a in scenario_kwargs(self.scenario)["actors"].items() if a.get("enabled", True)
        ]
        if self.actor not in names:
            raise ConfigError(
                f"--actor = {self.actor!r} is not at the table in {self.scenario}; choose one "
                f"of: {', '.join(names)}"
            )


def check_moves(moves: str | None, key: str = "--moves") -> None:
    """Moves are letters c, h and e (upper or lower case), one per round; spaces, commas and
    line breaks between them are ignored.

    Raises:
        ConfigError: naming the first other character and what is allowed.
    """
    for ch in moves or "":
        if ch.lower() not in KEYS and not ch.isspace() and ch != ",":
            raise ConfigError(
                f"{key} = {_short(moves or '')}: {ch!r} is not a move; give one letter per round: "
                "c (concede), h (hedge) or e (escalate), e.g. hhcc"
            )


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stalemate-play`` console script.

    Every refusal is one line on stderr and exit code 2, naming the flag, the value and
    what is allowed, before the game starts."""
    parser = _Parser(
        prog="stalemate-play",
        description="Play one state against the model's agents, round by round; at the end, "
        "compare your run with the model's own policy on the same seed.",
    )
    parser.add_argument("--actor", default="DPRK", help="the state you play (USA, DPRK, ROK, PRC)")
    parser.add_argument(
        "--scenario",
        default="baseline_2018",
        help="a scenario from configs/scenario/ (default: baseline_2018)",
    )
    parser.add_argument("--rounds", type=int, default=12, help="rounds to play (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    parser.add_argument(
        "--moves",
        default=None,
        help="play these moves without asking, e.g. 'hhcc' (then the model plays)",
    )
    parser.add_argument(
        "--hints", action="store_true", help="show the model's probabilities before each choice"
    )
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    try:
        args = parser.parse_args(argv)
    except _ArgError as err:
        print(
            f"stalemate-play: {err} (usage: stalemate-play [--actor A] [--scenario S] "
            "[--rounds N] [--seed N] [--moves chhe] [--hints] [--color auto|always|never])",
            file=sys.stderr,
        )
        return 2
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    try:
        validate(PlayArgs(**vars(args)), name=lambda f: "--" + f)
        moves = args.moves
        if moves is None and not sys.stdin.isatty():
            # no one to ask (a pipe, CI): read the moves from stdin if any, else let the model play
            moves = sys.stdin.read()
            check_moves(moves, "the moves on standard input")
        # the game's own checks (rounds, seed) before its first line is printed
        from sim.classroom.seats import ClassroomModel

        ClassroomModel(
            scenario_name=args.scenario, player=args.actor, rng=args.seed, rounds=args.rounds
        )
        play(
            args.actor,
            args.scenario,
            args.rounds,
            args.seed,
            moves=moves,
            color=color,
            show_probs=args.hints,
        )
    except ConfigError as err:
        print(refusal("stalemate-play", err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstalemate-play: stopped.", file=sys.stderr)
        return 130
    return 0


__all__ = ["format_comparison", "main", "play", "state_line"]

if __name__ == "__main__":
    raise SystemExit(main())

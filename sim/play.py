"""Play as a state: a student chooses one actor's action each round.

The other actors are the model's own agents. The student's actor still *decides*
as the model would (so we can show what its policy would have played, and with
which logit probabilities), then the student's choice overrides that decision
before the round is played. Nothing in the model's mathematics changes: the
override happens between Mesa's ``decide`` and ``advance``, exactly where a
``scripted`` actor's action would be chosen. Every random number has a fixed slot
(one per actor and round), so the other actors see the same random numbers as in
the run where the model plays every seat, and the two runs can be compared.

From the terminal (the ``stalemate-play`` console script)::

    stalemate-play --actor DPRK --scenario baseline_2018 --rounds 12 --seed 0
    stalemate-play --actor USA --scenario grit --moves hhcchhcc     # no prompts

From Python:
    >>> from sim.actors import Action
    >>> m = ClassroomModel(scenario_name="baseline_2018", player="DPRK", rounds=5, rng=0)
    >>> m.seat.choice = Action.CONCEDE     # the student's move for the next round
    >>> m.step()
    >>> m.seat.turns[0].played.name, m.agent("DPRK").action.name
    ('CONCEDE', 'CONCEDE')
    >>> m.run()                            # no choice set: the model's policy plays the seat
    >>> len(m.seat.turns), m.seat.turns[-1].source
    (5, 'model')
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.actors import ACTION_NAMES, POLICIES, Action
from sim.config import scenario_kwargs
from sim.decisions import action_probabilities
from sim.dynamics import V, begin_round
from sim.model import NegotiationModel, seed_from
from sim.narrate import RESET, ending, paint, round_lines

#: What a student types for each action (the first letter is enough).
KEYS = {"c": Action.CONCEDE, "h": Action.HEDGE, "e": Action.ESCALATE}
NOBODY = "nobody"

def scenario_description(name: str) -> str:
    """The one-line description of scenario ``name``.

    Example:
        >>> scenario_description("relief_first")
        'Relief first: assurances and relief delivered up front'
    """
    from sim.config import compose

    return compose([f"scenario={name}"]).description


def scenario_names() -> list[str]:
    """The scenarios in ``configs/scenario/``, baseline first."""
    from sim.config import CONFIG_DIR

    names = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    return sorted(names, key=lambda n: (n != "baseline_2018", n))


@dataclass
class Turn:
    """One round from the student's seat.

    Attributes:
        round: the round played (1-based).
        played: the action the seat played.
        policy: the action the model's own policy drew for the seat this round
            (same random number), had the student not chosen.
        probabilities: the logit policy's (concede, hedge, escalate) probabilities
            in the state the student faced.
        source: ``student``, ``model`` (no choice was made: the policy played) or
            ``event`` (the scenario forced the action this round).
    """

    round: int
    played: Action
    policy: Action
    probabilities: tuple[float, float, float]
    source: str


@dataclass
class HumanSeat:
    """A person in one actor's seat of a :class:`sim.NegotiationModel`.

    Set :attr:`choice` before :meth:`~sim.NegotiationModel.step` (the page's
    buttons do this), or give a ``chooser`` that is asked during the round (the
    terminal game prompts). With neither, the model's policy plays the seat.
    An action forced by a scheduled event (e.g. a ``test``) is kept.

    Args:
        model: the model (not yet stepped past the rounds to be played).
        actor: the actor key, e.g. ``"DPRK"``.
        chooser: ``chooser(seat, probabilities) -> Action | None``; None lets the
            policy play this round.
    """

    model: NegotiationModel
    actor: str
    chooser: Callable | None = None
    choice: Action | None = None
    turns: list[Turn] = field(default_factory=list)

    def __post_init__(self):
        self.agent = self.model.agent(self.actor)
        policy_decide = self.agent.decide

        def decide():
            policy_decide()  # the model's own choice for this round (uses its random number)
            self._override(self.agent.next_action)

        # The hook: this agent's decide() is wrapped on the instance, so
        # Mesa's ``agents.do("decide").do("advance")`` picks the student's move.
        self.agent.decide = decide

    @property
    def policy_name(self) -> str:
        """The decision rule the model uses for this seat (``logit``, ``grit``, …)."""
        return POLICIES[int(self.model.params.policy[self.agent.index])]

    def probabilities(self, state=None) -> tuple[float, float, float]:
        """Logit probabilities of (concede, hedge, escalate) for this seat.

        Args:
            state: the state the seat decides from; default: the coming round's
                (the current state with that round's scheduled events applied).
        """
        m = self.model
        if state is None:
            state = begin_round(m.state, m.params) if m.running else m.state
        prob = action_probabilities(state, m.params, self.agent._idx)[:, 0, 0]
        return tuple(float(q) for q in prob)

    def forced_next(self) -> Action | None:
        """The action a scheduled event forces on this seat in the coming round, if any."""
        m = self.model
        t = m.round + 1
        if t > m.params.rounds:
            return None
        code = int(m.params.forced[t - 1, self.agent.index])
        return Action(code) if code >= 0 else None

    def _override(self, policy_action: Action) -> None:
        m = self.model
        t = m.state.round + 1
        probs = self.probabilities(m.state)  # begin_round has run: this round's state
        forced = int(m.params.forced[t - 1, self.agent.index])
        if forced >= 0:
            played, source = Action(forced), "event"
        else:
            choice = self.choice
            if choice is None and self.chooser is not None:
                choice = self.chooser(self, probs)
            played, source = (policy_action, "model") if choice is None else (Action(choice), "student")
        self.choice = None
        self.agent.next_action = played
        self.turns.append(Turn(t, played, policy_action, probs, source))


class ClassroomModel(NegotiationModel):
    """A :class:`sim.NegotiationModel` built from a named scenario, with an optional human seat.

    The page (:mod:`sim.app`) and the terminal game use it. Keyword arguments
    other than ``scenario_name``, ``player`` and ``rng`` override the scenario's
    parameters (e.g. ``assurance=0.7``).

    Args:
        scenario_name: a scenario name from ``configs/scenario/``.
        player: the actor a person plays, or ``"nobody"``.
        rng: a seed (an int, or a string from a text box); blank or None draws one,
            kept in :attr:`seed` so the run can be replayed.
        scenario: ignored: Mesa's own ``Scenario`` object, which SolaraViz's Reset
            hands to every model.
        **params: model parameters that override the scenario's.

    Attributes:
        seed: the seed of this run.
        scenario_name: the scenario name.
        model_kwargs: every model parameter of this run (scenario plus changes).
        seat: the :class:`HumanSeat`, or None.
    """

    def __init__(self, scenario_name: str = "baseline_2018", player: str = NOBODY, rng=None,
                 scenario=None, **params):
        # ``scenario`` is Mesa's own Scenario object, which SolaraViz's Reset passes to
        # every model (mesa 3.5); the negotiation scenario is ``scenario_name``.
        del scenario
        seed = seed_from(rng)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**31)
        self.scenario_name = scenario_name
        self.model_kwargs = scenario_kwargs(scenario_name, **params)
        super().__init__(rng=seed, **self.model_kwargs)
        self.seed = seed
        self.player = player or NOBODY
        self.seat = HumanSeat(self, self.player) if self.player != NOBODY else None

    def reference(self) -> NegotiationModel:
        """The same run (parameters and seed) with the model playing every seat, played to the end."""
        ref = NegotiationModel(rng=self.seed, **self.model_kwargs)
        ref.run()
        return ref


# --------------------------------------------------------------------------------------
# Comparing the student's play with the model's policy


def counts(actions) -> dict[str, int]:
    """How often each action was played."""
    actions = list(actions)
    return {name: sum(int(a) == i for a in actions) for i, name in enumerate(ACTION_NAMES)}


def comparison(model: ClassroomModel) -> dict:
    """How the student's run compares with the model's own policy on the same seed.

    Returns:
        A dict with ``outcome`` and ``reference_outcome``, ``rounds`` and
        ``reference_rounds``, the state at the end of both runs, the seat's
        action counts in both, and ``agree``: in how many rounds the student
        played what the model's policy drew in the same state.
    """
    seat = model.seat
    ref = model.reference()
    i = seat.agent.index
    ref_actions = ref.recorder.actions[1 : ref.round + 1, i, 0]
    chosen = [t for t in seat.turns if t.source == "student"]

    def state(m):
        x = m.state.x[:, 0]
        return {k: float(x[V[k]]) for k in ("assurance", "relief", "denuclearization",
                                            "undeclared", "tension")}

    return {
        "actor": seat.actor,
        "seed": model.seed,
        "outcome": model.outcome,
        "reference_outcome": ref.outcome,
        "rounds": model.round,
        "reference_rounds": ref.round,
        "state": state(model),
        "reference_state": state(ref),
        "counts": counts(t.played for t in seat.turns),
        "reference_counts": counts(ref_actions),
        "chosen": len(chosen),
        "agree": sum(t.played == t.policy for t in chosen),
        "ending": ending(model),
        "reference_ending": ending(ref),
    }


def format_comparison(model: ClassroomModel, color: bool = False) -> str:
    """The end-of-game report: the student's run next to the model's, and round by round."""
    c = comparison(model)
    seat = model.seat
    lines = [
        f"You played {c['actor']} (seed {c['seed']}, scenario {model.scenario_name}).",
        "",
        f"{'':30}{'you':>18}{'the model':>18}",
        f"{'outcome':30}{c['outcome']:>18}{c['reference_outcome']:>18}",
        f"{'rounds played':30}{c['rounds']:>18}{c['reference_rounds']:>18}",
    ]
    for k in ("assurance", "relief", "denuclearization", "undeclared", "tension"):
        lines.append(f"{k + ' at the end':30}{c['state'][k]:>18.2f}{c['reference_state'][k]:>18.2f}")
    for a in ACTION_NAMES:
        lines.append(f"{'rounds ' + c['actor'] + ' played ' + a:30}{c['counts'][a]:>18}"
                     f"{c['reference_counts'][a]:>18}")
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
    lines.append(f"{'round':>5}  {'you':<9}{'P(concede)':>11}{'P(hedge)':>10}{'P(escalate)':>12}  policy drew")
    for t in seat.turns:
        who = paint(ACTION_NAMES[t.played], ACTION_NAMES[t.played], color) + " " * (9 - len(ACTION_NAMES[t.played]))
        note = {"event": " (forced by an event)", "model": " (you let the model play)"}.get(t.source, "")
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
    x = model.state.x[:, 0]
    p = model.params
    tr = model.state.trust[:, :, 0]
    tp, pr = p.target, p.principal
    return (
        f"  assurance {x[V['assurance']]:.2f} · relief {x[V['relief']]:.2f} · "
        f"verified denuclearization {x[V['denuclearization']]:.2f} · undeclared "
        f"{x[V['undeclared']]:.2f} · tension {x[V['tension']]:.2f} · trust "
        f"{p.names[pr]}→{p.names[tp]} {tr[pr, tp]:.2f}, {p.names[tp]}→{p.names[pr]} {tr[tp, pr]:.2f}"
    )


def _prompt_chooser(read: Callable[[str], str], write: Callable[[str], None], show_probs: bool):
    """A chooser that asks at the terminal; 'q' or end of input hands the seat to the model."""
    state = {"auto": False}

    def choose(seat: HumanSeat, probs) -> Action | None:
        if state["auto"]:
            return None
        m = seat.model
        t = m.state.round + 1
        events = m.events_by_round.get(t, [])
        if events:
            from sim.events import describe

            write(f"  This round: {', '.join(describe(e) for e in events)}.")
        if show_probs:
            write(f"  (the model would play concede {probs[0]:.0%}, hedge {probs[1]:.0%}, "
                  f"escalate {probs[2]:.0%})")
        while True:
            try:
                answer = read(f"Round {t}: {seat.actor} — [c]oncede, [h]edge or [e]scalate? "
                              "(? explains, q lets the model finish) ").strip().lower()
            except EOFError:
                answer = "q"
            if answer[:1] in KEYS:
                return KEYS[answer[:1]]
            if answer[:1] == "q":
                write("  The model plays your seat for the remaining rounds.")
                state["auto"] = True
                return None
            if answer[:1] == "?":
                from sim.actors import ROLE_WORDS

                for name, words in ROLE_WORDS[seat.agent.role].items():
                    write(f"    {name[0]} = {name}: {seat.actor} {words}")
                continue
            write("  Please type c, h or e.")

    return choose


def _moves_chooser(moves: str):
    """A chooser that plays a fixed list of moves (``"chhe"``), then lets the model play."""
    queue = [KEYS[ch] for ch in moves.lower() if ch in KEYS]

    def choose(seat, probs):
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
    model = ClassroomModel(scenario_name=scenario, player=actor, rng=seed, rounds=rounds, **params)
    chooser = _moves_chooser(moves) if moves is not None else _prompt_chooser(read, write, show_probs)
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stalemate-play`` console script."""
    from sim.params import ConfigError

    parser = argparse.ArgumentParser(
        prog="stalemate-play",
        description="Play one state against the model's agents, round by round; at the end, "
        "compare your run with the model's own policy on the same seed.",
    )
    parser.add_argument("--actor", default="DPRK", help="the state you play (USA, DPRK, ROK, PRC)")
    parser.add_argument("--scenario", default="baseline_2018",
                        help="a scenario from configs/scenario/ (default: baseline_2018)")
    parser.add_argument("--rounds", type=int, default=12, help="rounds to play (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    parser.add_argument("--moves", default=None,
                        help="play these moves without asking, e.g. 'hhcc' (then the model plays)")
    parser.add_argument("--hints", action="store_true",
                        help="show the model's probabilities before each choice")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    args = parser.parse_args(argv)
    if args.scenario not in scenario_names():
        parser.error(f"unknown scenario {args.scenario!r}; choose one of: {', '.join(scenario_names())}")
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    moves = args.moves
    if moves is None and not sys.stdin.isatty():
        # no one to ask (a pipe, CI): read the moves from stdin if any, else let the model play
        moves = sys.stdin.read()
    try:
        names = [n for n, a in scenario_kwargs(args.scenario)["actors"].items()
                 if a.get("enabled", True)]
        if args.actor not in names:
            parser.error(f"unknown actor {args.actor!r}; choose one of: {', '.join(names)}")
        play(args.actor, args.scenario, args.rounds, args.seed, moves=moves, color=color,
             show_probs=args.hints)
    except ConfigError as err:
        print(f"stalemate-play: config error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstalemate-play: stopped.", file=sys.stderr)
        return 130
    return 0


__all__ = ["ClassroomModel", "HumanSeat", "Turn", "comparison", "format_comparison", "main", "play",
           "scenario_description", "scenario_names"]

if __name__ == "__main__":
    raise SystemExit(main())

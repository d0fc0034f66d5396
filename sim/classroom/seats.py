"""Seats for people: a student in one actor's seat, and the scenario-built model the page and the game share.

The other actors are the model's own agents. The student's agent still *decides*
as the model would (so we can show what its policy would have drawn, and with
which logit probabilities); the student's choice replaces that decision through
the agent's public :attr:`~sim.engines.mesa_model.StateAgent.chooser` hook.
Nothing in the model's mathematics changes. Every random number has a fixed slot
(one per actor and round), so the other actors see the same random numbers as in
the run where the model plays every seat, and the two runs can be compared.

Example:
    >>> from sim.model.names import Action
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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.engines.mesa_model import NegotiationModel, seed_from
from sim.engines.state import MAX_SEED
from sim.hydra.compose import DEFAULT_SCENARIO, scenario_kwargs
from sim.model.names import ACTION_NAMES, STATE_VARS, Action
from sim.model.validation import ConfigError
from sim.report.narrate import ending

#: The "player" value for a run with no human seat.
NOBODY = "nobody"
#: The models a lesson may name, as command-line overrides (``stalemate model=… actors=…``).
MODELS = {
    "default": (),
    "earlier": ("model=trust_rule", "actors=no_types"),
}


def model_kwargs(scenario: str, model: str) -> dict:
    """The model parameters that make ``scenario`` run on the lesson model ``model``
    (:data:`MODELS`): nothing for the default; ``model`` and ``actors`` composed as the
    command line composes ``stalemate scenario=… model=trust_rule actors=no_types``.

    Example:
        >>> kw = model_kwargs("grit", "earlier")
        >>> kw["model"], kw["actors"]["DPRK"]["types"], kw["actors"]["USA"]["policy"]
        ('trust_rule', {}, 'grit')
    """
    if model not in MODELS:
        raise ConfigError(f"model = {model!r}: choose one of {', '.join(MODELS)}")
    if not MODELS[model]:
        return {}
    from dataclasses import asdict

    from sim.hydra.compose import compose

    app = asdict(compose([f"scenario={scenario}", *MODELS[model]]))
    return {"model": app["model"], "actors": app["actors"]}


def lesson_model(config) -> str:
    """Which of :data:`MODELS` a run's config is (``earlier``: the trust rule without types)."""
    typed = any(getattr(a, "types", None) for a in config.actors.values())
    return "earlier" if config.model == "trust_rule" and not typed else "default"


def seed_of(value) -> int | None:
    """A seed from what a person typed: blank is None (draw one); digits in any script
    ("12", "１２", "١٢") are that number; anything else is refused — also characters that
    look like digits but are not decimal ("²", "①", "½"), which Python's ``int`` cannot read.

    Example:
        >>> seed_of(" 12 "), seed_of("１２"), seed_of(""), seed_of(7)
        (12, 12, None, 7)
        >>> seed_of("²")
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: seed = '²' must be a whole number in [0, 9223372036854775807] (or blank for a random one)
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not text.isdecimal() or len(text) > 20:
            raise ConfigError(
                f"seed = {value[:24]!r} must be a whole number in [0, {MAX_SEED}] (or blank for a random one)"
            )
        value = int(text)
    return seed_from(value)


def seed_problem(text: str) -> str | None:
    """Why ``text`` is not a seed, in words for the page (None if it is one; blank draws one).

    Example:
        >>> seed_problem("12"), seed_problem(" "), seed_problem("-5")[:30], seed_problem("①")[:30]
        (None, None, 'The seed must be a whole numbe', 'The seed must be a whole numbe')
    """
    try:
        seed_of(text)
    except ConfigError:
        shown = text if len(text) <= 24 else text[:21] + "…"
        return (
            f"The seed must be a whole number from 0 to {MAX_SEED:,}, or blank for a random "
            f"one — “{shown}” is not."
        )
    return None


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
        chooser: ``chooser(seat, decision) -> Action | None`` (a
            :class:`~sim.engines.mesa_model.Decision`: the round, the policy's draw,
            the logit probabilities); None lets the policy play this round.

    The seat uses the agent's public hook, :attr:`sim.engines.mesa_model.StateAgent.chooser`.
    """

    model: NegotiationModel
    actor: str
    chooser: Callable | None = None
    choice: Action | None = None
    turns: list[Turn] = field(default_factory=list)

    def __post_init__(self):
        self.agent = self.model.agent(self.actor)
        self.agent.chooser = self._choose  # the agent's public decision hook

    @property
    def policy_name(self) -> str:
        """The decision rule the model uses for this seat (``logit``, ``grit``, …)."""
        return self.model.policy_of(self.actor)

    def probabilities(self, state=None) -> tuple[float, float, float]:
        """Logit probabilities of (concede, hedge, escalate) for this seat.

        Args:
            state: the state the seat decides from; default: the coming round's
                (the current state with that round's scheduled events applied).
        """
        return self.agent.probabilities(state)

    def forced_next(self) -> Action | None:
        """The action a scheduled event forces on this seat in the coming round, if any."""
        return self.agent.forced_action()

    def _choose(self, agent, decision) -> Action | None:
        """The agent's chooser: the student's choice, or None to let the policy play.

        Every round is logged as a :class:`Turn`; an event-forced round is not asked.
        """
        d = decision
        if d.forced is not None:
            self.choice = None
            self.turns.append(Turn(d.round, d.forced, d.policy_action, d.probabilities, "event"))
            return None
        choice = self.choice
        if choice is None and self.chooser is not None:
            choice = self.chooser(self, d)
        self.choice = None
        if choice is None:
            self.turns.append(
                Turn(d.round, d.policy_action, d.policy_action, d.probabilities, "model")
            )
            return None
        played = Action(int(choice))
        self.turns.append(Turn(d.round, played, d.policy_action, d.probabilities, "student"))
        return played


class ClassroomModel(NegotiationModel):
    """A :class:`sim.NegotiationModel` built from a named scenario, with an optional human seat.

    The page (:mod:`sim.classroom.page`) and the terminal game use it. Keyword arguments
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

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        player: str = NOBODY,
        rng=None,
        scenario=None,
        **params,
    ):
        # ``scenario`` is Mesa's own Scenario object, which SolaraViz's Reset passes to
        # every model (mesa 3.5); the negotiation scenario is ``scenario_name``.
        del scenario
        seed = seed_from(seed_of(rng) if isinstance(rng, str) else rng)
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


#: The state variables an end-of-game comparison shows: every row of the table but
#: enforcement, which a student sees through the relief it leaves felt.
COMPARED_VARS = tuple(v for v in STATE_VARS if v != "enforcement")


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
    ref_actions = ref.actions_of(seat.actor)
    chosen = [t for t in seat.turns if t.source == "student"]

    def state(m):
        return {k: m.level(k) for k in COMPARED_VARS}

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


# --------------------------------------------------------------------------------------
# What a seat knows privately

#: Role of each seat in words.
ROLE_TITLES = {
    "target": "the target of the talks: its nuclear and missile programme is on the table",
    "principal": "the principal: it offers (or withholds) security assurances and sanctions relief",
    "ally": "an ally of the principal, next door to the target",
    "enforcer": "a neighbour that enforces (or not) the sanctions on the target",
}

#: What each utility feature means to the seat that weighs it.
FEATURE_WORDS = {
    "package": "the deal on the table (assurances times the relief you feel)",
    "insecurity": "feeling insecure (few security assurances)",
    "tension": "high tension",
    "trust": "your trust in your counterpart",
    "reciprocity": "your counterpart conceding last round (if you trust it)",
    "provocation": "your counterpart escalating last round",
    "alarm": "imagery catching the target hedging last round",
    "unverified": "conceding before denuclearization is verified",
    "hedge_risk": "the relief you would lose if imagery caught you hedging",
    "stalemate": "how much the impasse hurts",
    "exposure": "the risk of conceding first to a state you distrust",
}


def _weighs(weights: dict[str, float]) -> tuple[list[str], list[str]]:
    ranked = sorted(
        ((k, w) for k, w in weights.items() if k != "bias" and abs(w) >= 0.5),
        key=lambda kw: -abs(kw[1]),
    )
    pull = [FEATURE_WORDS.get(k, k.replace("_", " ")) for k, w in ranked if w > 0]
    push = [FEATURE_WORDS.get(k, k.replace("_", " ")) for k, w in ranked if w < 0]
    return pull, push


def private_info(model: NegotiationModel, actor: str) -> dict[str, str]:
    """What the person in ``actor``'s seat knows and the others do not, as labelled lines.

    The room shows it to that seat only (and to everyone when the teacher reveals
    types). It holds the seat's role, what its three moves mean, what its
    preferences make it weigh, and its own trust in its counterpart now. A model
    that has private *types* or *beliefs* offers them through a
    ``model.private_info(actor) -> dict[str, str]`` method, whose lines come first.

    Example:
        >>> m = ClassroomModel(rounds=5, rng=0)
        >>> info = private_info(m, "DPRK")
        >>> info["Your role"].startswith("the target"), "Concede" in info
        (True, True)
    """
    out: dict[str, str] = {}
    own = getattr(model, "private_info", None)
    if callable(own):
        out.update({str(k): str(v) for k, v in own(actor).items()})
    agent = model.agent(actor)
    out.setdefault("Your role", ROLE_TITLES.get(agent.role, agent.role))
    for a in Action:
        out.setdefault(ACTION_NAMES[a].capitalize(), f"{actor} {agent.describe(a)}")
    cfg = model.config.actors[actor]
    for a in Action:
        name = ACTION_NAMES[a]
        pull, push = _weighs(getattr(cfg, name))
        parts = []
        if pull:
            parts.append("drawn by " + "; ".join(pull) + ".")
        if push:
            parts.append(("Held back by " if pull else "held back by ") + "; ".join(push) + ".")
        if parts:
            out.setdefault(f"You weigh, to {name}", " ".join(parts))
    if model.policy_of(actor) != "logit":
        out.setdefault(
            "When you let the model play",
            f"it plays your seat by the {model.policy_of(actor)} rule",
        )
    s = model.structure
    i = s.names.index(actor)
    cp = s.names[s.counterpart[i]]
    out.setdefault(
        f"Your trust in {cp}",
        f"{model.trust_matrix()[i, s.counterpart[i]]:.2f} (0 = none, 1 = full)",
    )
    return out

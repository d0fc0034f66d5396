"""The Mesa model: one :class:`StateAgent` per state at the table.

Rounds are simultaneous, as in Mesa's ``pd_grid`` example: every agent decides
from last round's state (``decide``), then all adopt their choice (``advance``),
then the model moves the shared state. The mathematics lives in
:mod:`sim.model.dynamics` and :mod:`sim.model.decisions`; this module is a thin Mesa layer.

Example:
    >>> from sim import NegotiationModel
    >>> m = NegotiationModel(assurance=0.4, relief=0.0, rounds=20, rng=7)
    >>> m.run()
    >>> m.outcome in {"agreement", "stalemate", "hedged_stalemate", "breakdown"}
    True
    >>> [a.name for a in m.agents]
    ['USA', 'DPRK', 'ROK', 'PRC']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np

from sim.model.actors import describe_action
from sim.model.compile import compile_configs
from sim.model.decisions import action_probabilities, choose_actions, felt_relief
from sim.model.dynamics import Recorder, begin_round, end_round, initial_state
from sim.model.names import ACTION_NAMES, OUTCOME_NAMES, STATE_VARS, Action
from sim.model.params import config_dict, make_config
from sim.model.validation import ConfigError


def seed_from(rng):
    """Accept what Mesa front ends hand over: SolaraViz's seed box gives a string."""
    if isinstance(rng, str):
        rng = rng.strip()
        if not rng:
            return None
        if not rng.lstrip("-").isdigit():
            raise ConfigError(f"seed = {rng!r} must be a whole number (or blank for a random one)")
        return int(rng)
    return rng


@dataclass(frozen=True)
class Decision:
    """What an agent's policy proposes for the coming round, handed to a :attr:`StateAgent.chooser`.

    Attributes:
        round: the round being decided (1-based).
        policy_action: the action the agent's own policy drew (its random number
            is consumed either way, so other agents are unaffected by a choice).
        probabilities: the logit rule's (concede, hedge, escalate) probabilities
            in the state the agent faces (for a rule policy: what a logit player
            in its seat would weigh).
        forced: the action a scheduled event forces this round, or None.
    """

    round: int
    policy_action: Action
    probabilities: tuple[float, float, float]
    forced: Action | None


#: A decision hook: ``chooser(agent, decision) -> Action | None`` (None: the policy plays).
Chooser = Callable[["StateAgent", Decision], "Action | int | None"]


class StateAgent(mesa.Agent):
    """A state at the table (USA, DPRK, ROK, PRC, …).

    Attributes:
        name: the actor key, e.g. ``"DPRK"``.
        index: the actor's position in the model's actor order.
        role: ``target``, ``principal``, ``ally`` or ``enforcer``.
        action: the action played in the last round (an :class:`Action`).
        next_action: the action chosen for the coming round.
        chooser: the decision hook for a human or an external program (the
            classroom page and the terminal game use it): called in
            :meth:`decide` with the agent and its :class:`Decision`; it returns
            the action to play, or None to let the policy play. It is called
            every round; in a round where a scheduled event forces the action
            (``decision.forced``), its answer is ignored.
        decision: the last :class:`Decision` made (None before round 1).
        source: who chose the last action: ``policy``, ``chooser`` or ``event``.
    """

    def __init__(self, model: NegotiationModel, name: str, index: int, role: str):
        super().__init__(model)
        self.name = name
        self.index = index
        self.role = role
        self._idx = np.array([index])
        self.action: Action | None = None
        self.next_action: Action | None = None
        self.chooser: Chooser | None = None
        self.decision: Decision | None = None
        self.source: str | None = None

    def probabilities(self, state=None) -> tuple[float, float, float]:
        """The logit rule's (concede, hedge, escalate) probabilities for this agent.

        Args:
            state: the state to decide from; default: the coming round's (the
                current state with that round's scheduled events applied).
        """
        m = self.model
        if state is None:
            state = begin_round(m.state, m.params) if m.running else m.state
        prob = action_probabilities(state, m.params, self._idx)[:, 0, 0]
        return (float(prob[0]), float(prob[1]), float(prob[2]))

    def forced_action(self, t: int | None = None) -> Action | None:
        """The action a scheduled event forces on this agent in round ``t`` (default: the coming one)."""
        p = self.model.params
        t = self.model.round + 1 if t is None else t
        if not 1 <= t <= p.rounds:
            return None
        code = int(p.forced[t - 1, self.index])
        return Action(code) if code >= 0 else None

    def decide(self) -> None:
        """Choose this round's action from the state at the start of the round
        (the previous round's state with this round's scheduled events applied)."""
        m = self.model
        t = m.state.round + 1
        u = m.uniforms[m.state.round, self._idx]  # (1 actor, 1 run)
        drawn = Action(int(choose_actions(m.state, m.params, t, u, self._idx)[0, 0]))
        forced = self.forced_action(t)
        self.decision = Decision(t, drawn, self.probabilities(m.state), forced)
        action, self.source = drawn, ("event" if forced is not None else "policy")
        if self.chooser is not None:
            choice = self.chooser(self, self.decision)
            if choice is not None and forced is None:
                action, self.source = Action(int(choice)), "chooser"
        self.next_action = action

    def advance(self) -> None:
        """Adopt the chosen action (all agents have decided by now)."""
        self.action = self.next_action

    @property
    def trust_in_counterpart(self) -> float:
        p = self.model.params
        return float(self.model.state.trust[self.index, p.counterpart[self.index], 0])

    def describe(self, action: Action | None = None) -> str:
        """What the action means for this actor, in words."""
        action = self.action if action is None else action
        return describe_action(self.role, action) if action is not None else "—"


class NegotiationModel(mesa.Model):
    """Negotiation between states that concede, hedge or escalate each round.

    Every keyword except ``rng`` is a model parameter of
    :class:`sim.model.params.ModelConfig` (defaults: the 2018 baseline), so
    ``mesa.batch_run(NegotiationModel, parameters={...}, rng=[...])`` and
    SolaraViz work with no adapter.

    Args:
        rng: seed or generator; the only source of randomness.
        scenario: ignored. Mesa's SolaraViz hands its own ``Scenario`` object to
            every model on Reset (mesa 3.5); named negotiation scenarios come from
            :func:`sim.hydra.compose.scenario_kwargs`.
        **params: model parameters, e.g. ``assurance=0.6``, ``regime="relief_first"``,
            ``actors={"JPN": {"role": "ally"}}``, ``events=[{"round": 3, "kind": "summit"}]``.

    Raises:
        sim.model.params.ConfigError: for an unknown parameter or a value out of range.
    """

    def __init__(self, rng=None, scenario=None, **params):
        del scenario
        self.config = make_config(**params)  # validates before anything runs
        super().__init__(rng=seed_from(rng))
        self.params = compile_configs([self.config])
        p = self.params
        # every random number has a fixed slot: one per actor per round, plus imagery
        self.uniforms = self.rng.random((p.rounds, p.n_actors + 1))[:, :, None]
        self.state = initial_state(p)
        self.recorder = Recorder(p)
        self.recorder.record(self.state, np.ones(1, dtype=bool))
        self.actor_list = [
            StateAgent(self, name, i, role) for i, (name, role) in enumerate(zip(p.names, p.roles))
        ]
        self.events_by_round = {}
        for ev in self.config.events:
            self.events_by_round.setdefault(ev.round, []).append(ev)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                # "<var>_level", not "<var>": batch_run rows also hold the parameters
                **{
                    f"{v}_level": (lambda m, j=j: float(m.state.x[j, 0]))
                    for j, v in enumerate(STATE_VARS)
                },
                "felt_relief": lambda m: float(
                    felt_relief(m.state.var("relief"), m.state.var("enforcement"))[0]
                ),
                "flagged": lambda m: bool(m.state.flagged[0]),
                "outcome": lambda m: m.outcome,
            },
            agent_reporters={
                "actor": "name",
                "action": lambda a: ACTION_NAMES[a.action] if a.action is not None else None,
                "trust_in_counterpart": "trust_in_counterpart",
            },
        )
        self.running = True
        self.datacollector.collect(self)

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return self.state.round

    @property
    def outcome(self) -> str:
        """``undecided`` while running, then the run's outcome name."""
        return OUTCOME_NAMES[int(self.state.outcome[0])]

    @property
    def actor_names(self) -> tuple[str, ...]:
        """The actors at the table, in actor order."""
        return tuple(self.params.names)

    def level(self, var: str) -> float:
        """The current value of a state variable (or ``felt_relief``).

        Example:
            >>> NegotiationModel(rng=0, rounds=3).level("tension")
            0.3
        """
        if var == "felt_relief":
            return float(felt_relief(self.state.var("relief"), self.state.var("enforcement"))[0])
        return float(self.state.var(var)[0])

    def actions_of(self, actor: str) -> np.ndarray:
        """The actions ``actor`` played in rounds 1 .. :attr:`round` (codes of :class:`Action`)."""
        i = self.params.names.index(actor)
        return self.recorder.actions[1 : self.round + 1, i, 0].copy()

    def trust_matrix(self) -> np.ndarray:
        """``trust[i, j]``: actor i's trust in actor j now (actor order; diagonal 1)."""
        return self.state.trust[:, :, 0].copy()

    def policy_of(self, actor: str) -> str:
        """The name of the decision policy ``actor`` plays by."""
        return self.config.actors[actor].policy

    def agent(self, name: str) -> StateAgent:
        """The agent of actor ``name``."""
        return next(a for a in self.actor_list if a.name == name)

    def step(self) -> None:
        """Play one round: events, simultaneous decisions, state update."""
        if not self.running:
            return
        live = ~self.state.done
        self.state = begin_round(self.state, self.params)
        self.agents.do("decide").do("advance")
        actions = np.array([[a.action] for a in self.actor_list], dtype=np.int8)
        u_imagery = self.uniforms[self.state.round, -1]
        self.state = end_round(self.state, self.params, actions, u_imagery)
        self.recorder.record(self.state, live, actions)
        self.datacollector.collect(self)
        if self.state.done[0]:
            self.running = False

    def run(self) -> None:
        """Play until the run ends (agreement, breakdown, or the horizon)."""
        while self.running:
            self.step()

    def config_dict(self) -> dict:
        """The full configuration of this run, as plain values."""
        return config_dict(self.config)

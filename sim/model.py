"""The Mesa model: one :class:`StateAgent` per state at the table.

Rounds are simultaneous, as in Mesa's ``pd_grid`` example: every agent decides
from last round's state (``decide``), then all adopt their choice (``advance``),
then the model moves the shared state. The mathematics lives in
:mod:`sim.dynamics` and :mod:`sim.decisions`; this module is a thin Mesa layer.

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

import mesa
import numpy as np

from sim.actors import ACTION_NAMES, OUTCOME_NAMES, ROLE_WORDS, STATE_VARS, Action
from sim.compiled import compile_configs
from sim.decisions import choose_actions, felt_relief
from sim.dynamics import Recorder, begin_round, end_round, initial_state
from sim.params import ConfigError, config_dict, make_config


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


class StateAgent(mesa.Agent):
    """A state at the table (USA, DPRK, ROK, PRC, …).

    Attributes:
        name: the actor key, e.g. ``"DPRK"``.
        role: ``target``, ``principal``, ``ally`` or ``enforcer``.
        action: the action played in the last round (an :class:`Action`).
        next_action: the action chosen for the coming round.
    """

    def __init__(self, model: NegotiationModel, name: str, index: int, role: str):
        super().__init__(model)
        self.name = name
        self.index = index
        self.role = role
        self._idx = np.array([index])
        self.action: Action | None = None
        self.next_action: Action | None = None

    def decide(self) -> None:
        """Choose this round's action from the state the previous round left."""
        m = self.model
        u = m.uniforms[m.state.round, self._idx]  # (1 actor, 1 run)
        code = choose_actions(m.state, m.params, m.state.round + 1, u, self._idx)[0, 0]
        self.next_action = Action(int(code))

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
        return ROLE_WORDS[self.role][ACTION_NAMES[action]] if action is not None else "—"


class NegotiationModel(mesa.Model):
    """Negotiation between states that concede, hedge or escalate each round.

    Every keyword except ``rng`` is a model parameter of
    :class:`sim.params.ModelConfig` (defaults: the 2018 baseline), so
    ``mesa.batch_run(NegotiationModel, parameters={...}, rng=[...])`` and
    SolaraViz work with no adapter.

    Args:
        rng: seed or generator; the only source of randomness.
        scenario: ignored. Mesa's SolaraViz hands its own ``Scenario`` object to
            every model on Reset (mesa 3.5); named negotiation scenarios come from
            :func:`sim.config.scenario_kwargs`.
        **params: model parameters, e.g. ``assurance=0.6``, ``regime="relief_first"``,
            ``actors={"JPN": {"role": "ally"}}``, ``events=[{"round": 3, "kind": "summit"}]``.

    Raises:
        sim.params.ConfigError: for an unknown parameter or a value out of range.
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
                **{f"{v}_level": (lambda m, j=j: float(m.state.x[j, 0])) for j, v in enumerate(STATE_VARS)},
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

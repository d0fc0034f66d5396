"""The Mesa model: one :class:`StateAgent` per state at the table.

Rounds are simultaneous, as in Mesa's ``pd_grid`` example: every agent decides
from the state at the start of the round (``decide``), then all adopt their
choice (``advance``), then the model finishes the round. The mathematics is the
compiled one-run code of :mod:`sim.model.dynamics`: each agent's ``decide``
calls :func:`~sim.model.dynamics.decide` for its own seat, and the model calls
:func:`~sim.model.dynamics.begin_round` and
:func:`~sim.model.dynamics.finish_round` — the very functions the batch engine
loops over runs — so both engines give the same run for the same seed.

The :class:`HistoryCollector` is a Mesa ``DataCollector`` that reads the run's
history arrays on demand, so collecting costs nothing per step and
``mesa.batch_run`` and ``get_*_dataframe()`` work as usual.

Example:
    >>> from sim import NegotiationModel
    >>> m = NegotiationModel(assurance=0.4, relief=0.0, rounds=20, rng=7)
    >>> m.run()
    >>> m.outcome in {"agreement", "stalemate", "hedged_stalemate", "breakdown", "undecided"}
    True
    >>> [a.name for a in m.agents]
    ['USA', 'DPRK', 'ROK', 'PRC']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import mesa
import numpy as np

from sim.engines import tables
from sim.engines.batch import Results, check_configs
from sim.engines.inputs import config_from
from sim.engines.kernels import stream_starts
from sim.engines.point import DecisionPoint
from sim.engines.state import MAX_SEED, History, OneRun, State
from sim.model.actors import describe_action
from sim.model.beliefs import BELIEFS, draw_types
from sim.model.compile import compile_configs, slot, with_run_values
from sim.model.decisions import felt_relief
from sim.model.dynamics import (
    begin_round,
    decide,
    end_round,
    finish_round,
    imagery,
    learn_moves,
    play,
    record_round,
    start_run,
)
from sim.model.names import (
    ACTION_NAMES,
    N_ACTIONS,
    OUTCOME_NAMES,
    STATE_VARS,
    TP,
    Action,
    Outcome,
    T,
    V,
)
from sim.model.params import ModelConfig, config_dict
from sim.model.policies import code as policy_code
from sim.model.uncertainty import Uncertainty
from sim.model.validation import ConfigError

_ACTIONS = tuple(Action)
_ROUND, _OUTCOME, _UNDECIDED = int(T.round), int(T.outcome), int(Outcome.UNDECIDED)
_LOGIT = policy_code("logit")


def seed_from(rng) -> int:
    """The run's seed from what Mesa front ends hand over: an int, a numpy integer,
    SolaraViz's seed box (a string; blank draws one), a numpy Generator, or None
    (a fresh random seed). The seed is kept so the run can be replayed.

    Example:
        >>> seed_from(" 5 "), seed_from(7)
        (5, 7)
    """
    if isinstance(rng, str):
        text = rng.strip()
        if not text:
            rng = None
        elif not text.isdigit():
            raise ConfigError(
                f"seed = {rng!r} must be a whole number in [0, {MAX_SEED}] (or blank for a random one)"
            )
        else:
            rng = int(text)
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, MAX_SEED))
    if (
        isinstance(rng, bool)
        or not isinstance(rng, int | np.integer)
        or not 0 <= int(rng) <= MAX_SEED
    ):
        raise ConfigError(f"seed = {rng!r} must be a whole number in [0, {MAX_SEED}]")
    return int(rng)


@dataclass(frozen=True)
class Decision:
    """What an agent's policy proposes for the coming round, handed to a :attr:`StateAgent.chooser`.

    Attributes:
        round: the round being decided (1-based).
        policy_action: the action the agent's own policy drew (its random number
            is consumed either way, so other agents are unaffected by a choice).
        probabilities: the logit rule's probability of each action (concede, hedge,
            escalate, …: the action table's order) in the state the agent faces (for a rule policy: what a logit player
            in its seat would weigh).
        forced: the action a scheduled event forces this round, or None.
    """

    round: int
    policy_action: Action
    probabilities: tuple[float, ...]
    forced: Action | None


#: A decision hook: ``chooser(agent, decision) -> Action | None`` (None: the policy plays).
Chooser = Callable[["StateAgent", Decision], "Action | int | None"]


@dataclass(frozen=True)
class Verification:
    """What the round's imagery showed, handed to a :attr:`NegotiationModel.verifier`.

    Attributes:
        round: the round just played (1-based).
        target_action: what the target did this round.
        flagged: what the imagery draw (or a scheduled report) showed.
    """

    round: int
    target_action: Action
    flagged: bool


#: A verification hook: ``verifier(model, verification) -> bool | None`` (None: keep the draw).
Verifier = Callable[["NegotiationModel", Verification], "bool | None"]


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
        decision: the last :class:`Decision` (kept only while a chooser is set).
        source: who chose the last action: ``policy``, ``chooser`` or ``event``.

    While no agent has a chooser (and no agent is a subclass), the model plays each
    round in one compiled call and only sets :attr:`action`; give an agent a chooser,
    or subclass it and override :meth:`decide`, and every round goes through
    :meth:`decide` and :meth:`advance` (:meth:`NegotiationModel.step`).
    """

    def __init__(self, model: NegotiationModel, name: str, index: int, role: str):
        super().__init__(model)
        self.name = name
        self.index = index
        self.role = role
        self.action: Action | None = None
        self.next_action: Action | None = None
        self.chooser: Chooser | None = None
        self.decision: Decision | None = None
        self.source: str | None = None
        self._probs = np.empty(N_ACTIONS)

    def probabilities(self, policy: str = "logit") -> tuple[float, ...]:
        """The probability of each action (concede, hedge, escalate, …) this agent faces in the coming
        round (the current state with that round's scheduled events applied), under
        the logit rule (default) or under its own policy (``policy="own"``)."""
        p = self.model.decision_point().probabilities(self.name, policy)
        return tuple(float(q) for q in p)

    def forced_action(self, t: int | None = None) -> Action | None:
        """The action a scheduled event forces on this agent in round ``t`` (default: the coming one)."""
        s = self.model.structure
        t = self.model.round + 1 if t is None else t
        if not 1 <= t <= s.rounds:
            return None
        code = int(s.forced[t - 1, self.index])
        return Action(code) if code >= 0 else None

    def decide(self) -> None:
        """Choose this round's action from the state at the start of the round
        (the previous round's state with this round's scheduled events applied)."""
        code = decide(*self._decide_args)
        self.source = "policy"
        if self.chooser is not None:
            code = self._ask_chooser(self.model.round + 1, code)
        self.next_action = _ACTIONS[code]

    def _ask_chooser(self, t: int, code: int) -> int:
        forced = self.forced_action(t)
        if forced is not None:
            self.source = "event"
        if self.model.structure.policy[self.index] == _LOGIT:
            probs = tuple(float(q) for q in self._probs)
        else:
            probs = self.probabilities()
        self.decision = Decision(t, _ACTIONS[code], probs, forced)
        choice = self.chooser(self, self.decision) if self.chooser is not None else None
        if choice is not None and forced is None:
            self.source = "chooser"
            return int(choice)
        return code

    def advance(self) -> None:
        """Adopt the chosen action (all agents have decided by now)."""
        self.action = self.next_action
        self.model._actions[self.index] = int(self.next_action)

    @property
    def trust_in_counterpart(self) -> float:
        """This agent's trust in its counterpart now."""
        m = self.model
        return float(m.state.trust[0, self.index, m.structure.counterpart[self.index]])

    def describe(self, action: Action | None = None) -> str:
        """What the action means for this actor, in words."""
        action = self.action if action is None else action
        return describe_action(self.role, action) if action is not None else "—"


class HistoryCollector(mesa.DataCollector):
    """Mesa's DataCollector, filled from the run's history arrays when read.

    The engine already records every round (:attr:`NegotiationModel.history`), so
    :meth:`collect` only notes the step; ``model_vars`` and the agent records are
    built from the history when someone reads them (``get_model_vars_dataframe``,
    ``get_agent_vars_dataframe``, ``mesa.batch_run``). Model variables:
    ``<var>_level`` for each state variable (not ``<var>``: ``batch_run`` rows also
    hold the parameters), ``felt_relief``, ``flagged``, ``outcome``; agent
    variables: ``actor``, ``action``, ``trust_in_counterpart``.
    """

    MODEL_VARS = (*(f"{v}_level" for v in STATE_VARS), "felt_relief", "flagged", "outcome")
    AGENT_VARS = ("actor", "action", "trust_in_counterpart")

    def __init__(self, model: NegotiationModel):
        self._model = model
        self._cached: tuple | None = None
        super().__init__(
            model_reporters={name: name for name in self.MODEL_VARS},
            agent_reporters={name: name for name in self.AGENT_VARS},
        )

    def collect(self, model) -> None:  # noqa: D401 - Mesa's signature
        """Note that the current step is collected (the values are in the history)."""
        self._collection_steps.append(model.time)
        self._validated = True

    def _build(self):
        key = len(self._collection_steps)
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1], self._cached[2]
        m = self._model
        h = m.history
        n = len(self._collection_steps)
        x = h.x[0, :n]
        end = int(m.state.tally[0, T.end_round])
        final = OUTCOME_NAMES[int(m.state.tally[0, T.outcome])]
        model_vars: dict[str, list] = {
            f"{v.name}_level": [float(val) for val in x[:, v]] for v in V
        }
        model_vars["felt_relief"] = [
            float(v) for v in felt_relief(x[:, V.relief], x[:, V.enforcement])
        ]
        model_vars["flagged"] = [bool(f) for f in h.flag[0, :n]]
        model_vars["outcome"] = [
            final if k >= end and final != "undecided" else "undecided" for k in range(n)
        ]
        records = {}
        for k, step in enumerate(self._collection_steps):
            rows = []
            for agent in m.actor_list:
                code = int(h.actions[0, k, agent.index])
                rows.append((step, agent.unique_id, agent.name, ACTION_NAMES[code] if code >= 0 else None,
                             float(h.trust[0, k, agent.index])))  # fmt: skip
            records[step] = rows
        self._cached = (key, model_vars, records)
        return model_vars, records

    @property
    def model_vars(self) -> dict[str, list]:
        return self._build()[0] if hasattr(self, "_model") and self._collection_steps else {}

    @model_vars.setter
    def model_vars(self, value) -> None:  # Mesa's __init__ assigns {}; the history is the store
        pass

    @property
    def _agent_records(self) -> dict:
        return self._build()[1] if hasattr(self, "_model") and self._collection_steps else {}

    @_agent_records.setter
    def _agent_records(self, value) -> None:
        pass


class NegotiationModel(OneRun, mesa.Model):
    """Negotiation between states that concede, hedge or escalate each round.

    Every keyword except ``rng`` is a model parameter of
    :class:`sim.model.params.ModelConfig` (defaults: the 2018 baseline), so
    ``mesa.batch_run(NegotiationModel, parameters={...}, rng=[...])`` and
    SolaraViz work with no adapter.

    Args:
        rng: the seed (an int in [0, 2**63 - 1], a numeric string, or None for a
            random one); every random number of the run follows from it
            (:mod:`sim.model.rng`), as in the batch engine.
        uncertainty: draw this run's values of some parameters from a posterior or
            priors, by its seed (:class:`sim.model.uncertainty.Uncertainty`) — the
            same draw the batch engine makes for the same seed.
        scenario: ignored. Mesa's SolaraViz hands its own ``Scenario`` object to
            every model on Reset (mesa 3.5); named negotiation scenarios come from
            :func:`sim.hydra.compose.scenario_kwargs`.
        **params: model parameters, e.g. ``assurance=0.6``, ``regime="relief_first"``,
            ``actors={"JPN": {"role": "ally"}}``, ``events=[{"round": 3, "kind": "summit"}]``.

    Attributes:
        seed: the run's seed.
        config: the validated :class:`~sim.model.params.ModelConfig`.
        compiled, structure: the parameters as arrays (:mod:`sim.model.compile`).
        state: the run's state now (a one-run :class:`~sim.engines.batch.State`).
        history: every round so far (a one-run :class:`~sim.engines.batch.History`).
        verifier: the verification hook (None: the imagery draw stands). Called
            after each round with the model and a :class:`Verification`; it returns
            whether the target is flagged this round, or None to keep the draw. A
            class can play the satellite with it, and replaying a coded record
            feeds it the record's flags (``tests/test_estimate.py``).

    Raises:
        sim.ConfigError: for an unknown parameter or a value out of range.
    """

    def __init__(self, rng=None, scenario=None, uncertainty: Uncertainty | None = None, **params):
        del scenario
        self.config = config_from(params)  # validates before anything runs
        self.seed = seed_from(rng)
        super().__init__(rng=self.seed)
        c = compile_configs([self.config])
        self.uncertainty = uncertainty
        self.drawn = None
        if uncertainty is not None:  # this run's draw of what we do not know, by its seed
            self.drawn = uncertainty.values_for(np.array([self.seed]))
            c = with_run_values(c, [slot(c.structure, k) for k in uncertainty.keys], self.drawn)
        self.compiled = c
        s = c.structure  # also self.structure (OneRun)
        A = s.n_actors
        self.state = State.empty(1, A, c.tparams.shape[2])
        self.history = History.empty(1, s.rounds, A)
        self._starts = np.empty(A + 1, dtype=np.uint64)
        stream_starts(self.seed, s.streams, self._starts)
        self._tracked = s.tracked(full_trust=True)  # one run: the page shows the whole matrix
        self._actions = np.full(A, 1, dtype=np.int64)
        self._f = np.empty(c.weights.shape[3])  # work arrays: features, utilities
        self._u = np.empty(N_ACTIONS)
        self._lik = np.empty(c.tparams.shape[2])
        self._probs = np.empty((A, c.tparams.shape[2], N_ACTIONS))  # by actor and type (decide)
        st = self.state
        # one-run views, made once: each step hands the compiled functions the same arrays
        run = (st.x[0], st.trust[0], st.last[0], st.tally[0])
        self._decide_args = (*run, c.coef[0], c.terms[0], st.types[0], c.theta[0], self._starts,
                             s.counterpart, s.principal, s.policy, s.rule_params, s.script, s.forced,
                             s.n_types, s.model == BELIEFS, self._probs)  # fmt: skip
        self._learn_args = (
            self._actions,
            s.forced,
            self._probs,
            st.belief[0],
            s.n_types,
            self._lik,
        )
        h = self.history
        self._types_args = (st.types[0], st.belief[0], c.tparams[0], s.n_types, s.model, self._lik)
        self._finish_args = (*run, st.counts[0], st.peak[0], self._actions, c.theta[0], c.initial[0],
                             c.effects[0], self._starts, s.report, s.target, self._tracked, s.counterpart,
                             True, h.x[0], h.actions[0], h.trust[0], h.flag[0],
                             *self._types_args)  # fmt: skip
        self._begin_args = (st.x[0], st.trust[0], st.tally[0], s.shift, s.target, s.principal)
        # the whole round in one call (see step): the batch engine's play, for this run
        self._play_args = (*run, st.counts[0], st.peak[0], c.theta[0], c.initial[0], c.coef[0],
                           c.effects[0], self._starts, s.counterpart, s.target, s.principal,
                           s.policy, s.rule_params, s.script, s.forced, s.report, s.shift, self._tracked,
                           True, h.x[0], h.actions[0], h.trust[0], h.flag[0], self._actions,
                           self._probs, self._f, self._u, c.terms[0], c.tparams[0], s.n_types,
                           s.model, st.types[0], st.belief[0], self._lik)  # fmt: skip
        self._tally = st.tally[0]
        self._rounds = s.rounds
        start_run(st.x[0], st.trust[0], st.last[0], st.tally[0], st.counts[0], st.peak[0],
                  c.initial[0], c.trust0[0], s.rounds, st.belief[0], c.tparams[0], s.n_types,
                  s.model)  # fmt: skip
        draw_types(st.types[0], c.tparams[0], s.n_types, s.fixed_type, self._starts)
        h = self.history
        record_round(0, st.x[0], st.trust[0], st.tally[0], st.last[0], s.counterpart,
                     h.x[0], h.actions[0], h.trust[0], h.flag[0])  # fmt: skip
        self.actor_list = [
            StateAgent(self, name, i, role) for i, (name, role) in enumerate(zip(s.names, s.roles))
        ]
        for agent in self.actor_list:  # each agent's call, built once
            agent._decide_args = (agent.index, *self._decide_args, self._f, self._u, c.tparams[0])
            agent._probs = self._probs[agent.index, st.types[0, agent.index]]  # as its own type
        self.events_by_round: dict[int, list] = {}
        for ev in self.config.events:
            self.events_by_round.setdefault(ev.round, []).append(ev)
        self.datacollector = HistoryCollector(self)
        self.verifier: Verifier | None = None
        self.running = True
        self.datacollector.collect(self)

    @property
    def actor_names(self) -> tuple[str, ...]:
        """The actors at the table, in actor order."""
        return self.structure.names

    def level(self, var: str) -> float:
        """The current value of a state variable (or ``felt_relief``).

        Example:
            >>> NegotiationModel(rng=0, rounds=3).level("tension")
            0.3
        """
        x = self.state.x[0]
        if var == "felt_relief":
            return float(felt_relief(x[V.relief], x[V.enforcement]))
        return float(x[V[var]])

    def decision_point(self) -> DecisionPoint:
        """The coming round as the actors will face it (its events applied), without
        changing the run: utilities and probabilities for teaching tools."""
        st = self.state
        return DecisionPoint.coming(
            self.compiled, st.x[0], st.trust[0], st.last[0], st.tally[0], st.types[0]
        )

    def actions_of(self, actor: str) -> np.ndarray:
        """The actions ``actor`` played in rounds 1 .. :attr:`round` (codes of :class:`Action`)."""
        i = self.structure.names.index(actor)
        return self.history.actions[0, 1 : self.round + 1, i].copy()

    def trust_matrix(self) -> np.ndarray:
        """``trust[i, j]``: actor i's trust in actor j now (actor order; diagonal 1)."""
        return self.state.trust[0].copy()

    def type_of(self, actor: str) -> str:
        """``actor``'s private type in this run ('' for an actor without types)."""
        i = self.structure.names.index(actor)
        return self.structure.type_name(i, int(self.state.types[0, i]))

    def private_info(self, actor: str) -> dict[str, str]:
        """What only ``actor`` knows: its private type, and what the others now believe of it
        (the classroom's room shows these lines to that seat alone).

        Example:
            >>> m = NegotiationModel(rng=3, rounds=5, actors={"DPRK": {"type": "holdout"}})
            >>> m.private_info("DPRK")["Your type"].startswith("holdout")
            True
        """
        s, c = self.structure, self.compiled
        i = s.names.index(actor)
        if s.n_types[i] == 0:
            return {}
        from sim.model.names import TP as _TP

        k = int(self.state.types[0, i])
        spec = self.config.actors[actor].types[s.type_name(i, k)]
        shifts = "; ".join(
            f"{a} {f} {w:+g}" for a in ACTION_NAMES for f, w in (spec.get(a) or {}).items()
        )
        prior = c.tparams[0, i, k, _TP.prior]
        belief = float(self.state.belief[0, i, :].dot(c.tparams[0, i, :, _TP.trustworthy]))
        return {
            "Your type": f"{s.type_name(i, k)} (a {prior:.0%} chance before the talks; the "
            f"others do not know it){' — your weights shift: ' + shifts if shifts else ''}",
            "What the others believe of you": f"that you keep your word: {belief:.2f}, "
            "updated from every move you make and every imagery flag",
        }

    def policy_of(self, actor: str) -> str:
        """The name of the decision policy ``actor`` plays by."""
        return self.config.actors[actor].policy

    def agent(self, name: str) -> StateAgent:
        """The agent of actor ``name``."""
        return self.actor_list[self.structure.names.index(name)]

    def _agents_are_stock(self) -> bool:
        """True when nothing but the compiled policies decides this round: every agent is
        a plain :class:`StateAgent` without a chooser and there is no verifier."""
        if self.verifier is not None or len(self.agents) != len(self.actor_list):
            return False
        for a in self.actor_list:
            if a.chooser is not None or type(a) is not StateAgent:
                return False
        return True

    def step(self) -> None:
        """Play one round: events, simultaneous decisions, verification and state update.

        Each agent decides (:meth:`StateAgent.decide`, the compiled
        :func:`~sim.model.dynamics.decide` for its own seat), then all adopt their
        choices at once (``agents.do("decide").do("advance")``), beliefs learn from
        the moves and the round is finished. When no agent is driven from Python —
        every agent a plain :class:`StateAgent` with no chooser, and no verifier — the
        round is played by one call of the same compiled functions
        (:func:`~sim.model.dynamics.play`, as the batch engine does) and each agent
        then takes its action: the same numbers, without a call per agent
        (``tests/test_engines.py`` checks both paths against the batch engine).
        """
        if not self.running:
            return
        if self._agents_are_stock():
            play(self._tally[_ROUND] + 1, *self._play_args)
            actions = self._actions.tolist()
            for agent in self.actor_list:
                agent.source = "policy"
                agent.next_action = agent.action = _ACTIONS[actions[agent.index]]
        else:
            begin_round(*self._begin_args)
            self.agents.do("decide").do("advance")
            if self.structure.model == BELIEFS:  # everyone sees the moves: Bayes' rule on types
                learn_moves(int(self._tally[T.round]) + 1, *self._learn_args)
            if self.verifier is None:
                finish_round(*self._finish_args)
            else:
                self._verify_and_finish()
        tally = self._tally
        self.datacollector.collect(self)
        if tally[_OUTCOME] != _UNDECIDED or tally[_ROUND] >= self._rounds:
            self.running = False

    def _verify_and_finish(self) -> None:
        """:func:`finish_round` with the verifier's say on the imagery (its random number
        is drawn either way, so nothing else in the run moves)."""
        (x, trust, last, tally, counts, peak, actions, theta, initial, effects, starts, report,
         target, tracked, counterpart, _, rec_x, rec_actions, rec_trust, rec_flag,
         types, belief, tparams, n_types, model, lik) = self._finish_args  # fmt: skip
        t = int(tally[T.round]) + 1
        covert = tparams[target, types[target], TP.covert]
        flagged, detected, false_alarm = imagery(t, actions[target], covert, theta, starts, report)
        seen = Verification(t, Action(int(actions[target])), bool(flagged))
        shown = self.verifier(self, seen) if self.verifier is not None else None
        if shown is not None and bool(shown) != bool(flagged):
            hedged = actions[target] == Action.HEDGE
            flagged, detected, false_alarm = (
                bool(shown),
                bool(shown) and hedged,
                bool(shown) and not hedged,
            )
        end_round(t, x, trust, last, tally, counts, peak, actions, flagged, detected, false_alarm,
                  effects, initial, theta, target, tracked, report.shape[0], belief, tparams, n_types,
                  model, model == BELIEFS, report[t - 1], covert, lik)  # fmt: skip
        record_round(
            t, x, trust, tally, actions, counterpart, rec_x, rec_actions, rec_trust, rec_flag
        )

    def run(self) -> None:
        """Play until the run ends (agreement, breakdown, or the horizon)."""
        while self.running:
            self.step()

    def tables(self, run_id: int = 0, record: bool = True) -> dict:
        """This run's result tables (Arrow), the same as the batch engine's for its seed."""
        st, h = self.state, self.history
        runs = tables.runs_table(
            [self.config], np.array([self.seed]), np.array([run_id]), self.compiled, st.final()
        )
        if self.drawn is not None:
            runs = tables.with_drawn(runs, self.uncertainty.keys, self.drawn)
        out = {"runs": runs}
        if record:
            played = st.tally[:, T.round]
            seeds, ids = np.array([self.seed]), np.array([run_id])
            out["states"] = tables.states_table(seeds, ids, h.as_dict(), played)
            out["actions"] = tables.actions_table(
                seeds, ids, self.structure.names, h.as_dict(), played
            )
        return out

    def config_dict(self) -> dict:
        """The full configuration of this run, as plain values."""
        return config_dict(self.config)


def run_mesa(
    configs: Sequence[ModelConfig] | Iterable,
    seeds: Iterable[int],
    record: bool = True,
    progress: bool = True,
    uncertainty: Uncertainty | None = None,
) -> Results:
    """Run each config with the Mesa model, one model at a time; the same tables as :func:`run_batch`
    (with ``uncertainty``, the same per-run draws)."""
    import pyarrow as pa
    from tqdm.auto import tqdm

    configs, seeds = check_configs(configs, seeds)
    parts: dict[str, list[pa.Table]] = {"runs": [], "states": [], "actions": []}
    for i, (cfg, seed) in enumerate(
        tqdm(list(zip(configs, seeds)), unit="run", disable=not progress, desc="runs (mesa)")
    ):
        m = NegotiationModel(
            rng=int(seed),
            uncertainty=uncertainty,
            **{k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
        )
        m.run()
        for kind, table in m.tables(run_id=i, record=record).items():
            parts[kind].append(table)
    runs = tables.to_pandas(pa.concat_tables(parts["runs"]))
    if not record:
        return Results(runs=runs)
    return Results(
        runs=runs,
        states=tables.to_pandas(pa.concat_tables(parts["states"])),
        actions=tables.to_pandas(pa.concat_tables(parts["actions"])),
    )

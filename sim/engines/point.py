"""A decision point: one run's state as a round is about to be decided, for teaching and analysis.

The stage game (:mod:`sim.analysis.stagegame`) and the classroom ask "what does
each actor weigh now?". A :class:`DecisionPoint` answers with the model's own
compiled functions (:func:`sim.model.dynamics.actor_utilities`,
:func:`sim.model.dynamics.action_probabilities`) on a copy of the run's state
with the coming round's events applied; nothing of the run changes.

Example:
    >>> from sim import make_config
    >>> point = decision_point(make_config(rounds=10), seed=0, round=3)
    >>> point.round, point.probabilities("DPRK").shape
    (3, (3,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.compile import Compiled, compile_configs
from sim.model.dynamics import action_probabilities, actor_utilities, begin_round
from sim.model.names import N_ACTIONS, Outcome, T
from sim.model.params import ModelConfig
from sim.model.policies import code as policy_code


@dataclass
class DecisionPoint:
    """One run's state as round :attr:`round` is decided (its scheduled events applied).

    Attributes:
        compiled: the run's compiled parameters (one parameter set).
        x, trust, last, tally: copies of the run's arrays (see :mod:`sim.model.dynamics`).
        ended: the run had already ended (then this is the state it ended in).
        types: each actor's private type in this run (its utilities are its type's).
    """

    compiled: Compiled
    x: np.ndarray
    trust: np.ndarray
    last: np.ndarray
    tally: np.ndarray
    ended: bool
    types: np.ndarray

    @classmethod
    def coming(cls, compiled: Compiled, x, trust, last, tally, types) -> DecisionPoint:
        """The point before the coming round of a run in this state (events applied)."""
        s = compiled.structure
        x, trust, last, tally = x.copy(), trust.copy(), last.copy(), tally.copy()
        ended = tally[T.outcome] != Outcome.UNDECIDED or tally[T.round] >= s.rounds
        if not ended:
            begin_round(x, trust, tally, s.shift, s.target, s.principal)
        return cls(compiled, x, trust, last, tally, bool(ended), np.array(types, dtype=np.int64))

    @property
    def round(self) -> int:
        """The round being decided (the last round, once the run has ended)."""
        return int(min(self.tally[T.round] + 1, self.compiled.structure.rounds))

    def index(self, actor: str) -> int:
        return self.compiled.structure.names.index(actor)

    def utilities(
        self, actor: str, reacting_to: str | None = None, action: int | None = None
    ) -> np.ndarray:
        """``actor``'s utility of each action (concede, hedge, escalate, …); with ``reacting_to`` and
        ``action``, as if that actor had just played ``action`` instead."""
        s, c = self.compiled.structure, self.compiled
        last = self.last.copy()
        if reacting_to is not None:
            last[self.index(reacting_to)] = action
        f, u = np.empty(c.weights.shape[3]), np.empty(N_ACTIONS)
        i = self.index(actor)
        actor_utilities(i, self.types[i], self.x, self.trust, last, self.tally, c.coef[0],
                        c.terms[0], c.theta[0], s.counterpart, s.principal, f, u,
                        c.tparams[0])  # fmt: skip
        return u

    def probabilities(self, actor: str, policy: str = "logit") -> np.ndarray:
        """``actor``'s probability of each action under the logit rule, or
        under its own policy (``policy="own"``)."""
        s, c = self.compiled.structure, self.compiled
        pol = s.policy if policy == "own" else np.full_like(s.policy, policy_code("logit"))
        out, f, u = np.empty(N_ACTIONS), np.empty(c.weights.shape[3]), np.empty(N_ACTIONS)
        i = self.index(actor)
        action_probabilities(i, self.types[i], self.round, self.x, self.trust, self.last, self.tally,
                             c.coef[0], c.terms[0], c.theta[0], s.counterpart, s.principal, pol,
                             s.rule_params, s.script, c.tparams[0], out, f, u)  # fmt: skip
        return out


def decision_point(cfg: ModelConfig, seed: int, round: int) -> DecisionPoint:
    """The state of the run with ``seed`` as round ``round`` is decided.

    Raises:
        ValueError: for a round outside 1..rounds.
    """
    from sim.engines.batch import simulate

    if not 1 <= round <= cfg.rounds:
        raise ValueError(f"round = {round} is outside 1..{cfg.rounds}")
    c = compile_configs([cfg])
    st, _ = simulate(c, [seed], record=False, stop=round - 1, threads=1)  # stop 0: the start
    return DecisionPoint.coming(c, st.x[0], st.trust[0], st.last[0], st.tally[0], st.types[0])

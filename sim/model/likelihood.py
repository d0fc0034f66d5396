"""The exact likelihood of a recorded history, with the model's own functions.

Given what every actor did each month and whether the target was flagged, the
state path is determined: the actions move the state (:func:`~sim.model.dynamics.advance`),
the flags enter the features and the trust updates. So the log-likelihood of a
record is the sum over actor-months of ``log P_i(observed action | state)``, where
``P_i`` is :func:`~sim.model.dynamics.action_probabilities` — the very
probabilities the engines draw from. There is no second copy of the model.

How the other pieces enter:

- **rule policies and scripted actors** (tit-for-tat, GRIT, scripts): their
  probabilities are 1 on the rule's move and 0 elsewhere, so a month where a rule
  actor did something else has probability 0 (log-likelihood -inf: the model
  cannot produce the record). Use logit actors for estimation;
- **scheduled events** shift the state at the start of their month as in a run, and
  an event that forces an action counts like a rule (probability 1 on the forced move);
- **outcomes** are not applied: the record goes on whatever the model would call
  its outcome (a replay cannot "end" a history that went on);
- **flags** come from the record, not from the imagery draw; their probability
  given the history and the target's move is returned separately (``logf``), so
  the joint likelihood of moves and flags is ``logp.sum() + logf.sum()``;
- **private types** (:mod:`sim.model.beliefs`) are not known to the likelihood any
  more than to the actors: each move's probability is the belief-weighted mixture
  over the actor's types, and the belief is updated by Bayes' rule from the move
  and the flag. Beliefs are a deterministic function of the recorded history, so
  this forward filter is the exact likelihood: it equals the sum over type
  profiles of prior x product of the type-conditional probabilities
  (``tests/test_beliefs.py`` checks it against the Mesa agents).

Example:
    >>> import numpy as np
    >>> from sim.model.compile import compile_configs
    >>> from sim.model.names import ACTION_NAMES
    >>> from sim.model.params import make_config
    >>> c = compile_configs([make_config(rounds=3)])
    >>> observed = np.ones((3, 4), dtype=np.int64)           # everybody hedges
    >>> logp = np.empty((3, 4)); probs = np.empty((3, 4, len(ACTION_NAMES)))
    >>> replay_record(c, 0, observed, np.zeros(3, dtype=np.bool_), logp, probs)
    >>> bool(np.all(logp < 0)), np.allclose(probs.sum(axis=2), 1.0)
    (True, True)
"""

from __future__ import annotations

import numpy as np

from sim.model.beliefs import bayes
from sim.model.dynamics import advance, begin_round, start_run, type_mixture
from sim.model.jit import kernel
from sim.model.names import N_ACTIONS, T


@kernel
def replay(
    observed, flagged, theta, initial, trust0, coef, effects,
    counterpart, target, principal, policy, rule_params, script, forced, shift, tracked,
    x, trust, last, tally, counts, peak, logp, probs, out, f, u,
    terms, tparams, n_types, model, report, belief, lik, mix, logf,
):  # fmt: skip
    """Replay ``observed`` (months, actors) with ``flagged`` (months,) for one parameter set.

    Fills ``logp[t, i]`` with log P(actor i did what it did in month t) and
    ``probs[t, i]`` with its probability of each action, both one step ahead (from the
    history before month t), and ``logf[t]`` with log P(month t's imagery verdict |
    the history and the target's move). Actors with private types enter through
    the forward filter: the probabilities are mixtures over their types weighted
    by the public belief, which Bayes' rule then updates (:mod:`sim.model.beliefs`;
    an observer does not know the types, and neither does the likelihood). Leaves
    the state after the last month in the state arrays and the final belief in
    ``belief``. ``out``, ``f``, ``u``, ``lik``, ``mix`` are work arrays.
    """
    n_months, n_actors = observed.shape
    start_run(
        x, trust, last, tally, counts, peak, initial, trust0, script.shape[0],
        belief, tparams, n_types, model,
    )  # fmt: skip
    for t in range(1, n_months + 1):
        begin_round(x, trust, tally, shift, target, principal)
        for i in range(n_actors):
            move = observed[t - 1, i]
            type_mixture(
                i, move, t, x, trust, last, tally, coef, terms, theta, counterpart, principal,
                policy, rule_params, script, forced, belief, n_types, lik, mix, out, f, u, tparams,
            )  # fmt: skip
            for a in range(mix.shape[0]):
                probs[t - 1, i, a] = mix[a]
            logp[t - 1, i] = np.log(mix[move])
            # safe before the other actors: decisions read trust, which moves in advance()
            if n_types[i] > 1:
                bayes(belief, i, lik, n_types[i])
        p_flag = advance(
            t, x, trust, last, tally, counts, peak, observed[t - 1], flagged[t - 1], effects,
            initial, theta, target, tracked, belief, tparams, n_types, model, True,
            report[t - 1], 0.0, lik,
        )  # fmt: skip
        logf[t - 1] = np.log(p_flag)


def replay_record(c, s: int, observed, flagged, logp, probs, state=None, logf=None) -> None:
    """:func:`replay` for parameter set ``s`` of a :class:`~sim.model.compile.Compiled`
    (Python convenience; the estimation loops over sets in :mod:`sim.engines.kernels`)."""
    st = c.structure
    A = st.n_actors
    x, trust = np.empty(c.initial.shape[1]), np.empty((A, A))
    last, tally = np.empty(A, dtype=np.int64), np.empty(len(T), dtype=np.int64)
    counts, peak = np.empty((A, N_ACTIONS), dtype=np.int64), np.empty(2)
    belief = np.empty(c.tparams.shape[1:3])
    if logf is None:
        logf = np.empty(observed.shape[0])
    replay(
        np.ascontiguousarray(observed, dtype=np.int64), np.ascontiguousarray(flagged, dtype=np.bool_),
        c.theta[s], c.initial[s], c.trust0[s], c.coef[s], c.effects[s],
        st.counterpart, st.target, st.principal, st.policy, st.rule_params, st.script, st.forced, st.shift,
        st.tracked(), x, trust, last, tally, counts, peak, logp, probs,
        np.empty(N_ACTIONS), np.empty(c.weights.shape[3]), np.empty(N_ACTIONS),
        c.terms[s], c.tparams[s], st.n_types, st.model, st.report, belief,
        np.empty(c.tparams.shape[2]), np.empty(N_ACTIONS), logf,
    )  # fmt: skip
    if state is not None:
        state.update(
            x=x, trust=trust, last=last, tally=tally, counts=counts, peak=peak, belief=belief
        )

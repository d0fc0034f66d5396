"""Decisions: utility features, the logit (quantal-response) rule, and rule policies.

Every actor i scores each action a by a weighted sum of features of last
round's state, seen from its own seat:

    U_i(a) = sum_k  w_i[a, k] * f_i[k]

and, under the default ``logit`` policy, plays a with probability

    P_i(a) = exp(rationality * U_i(a)) / sum_b exp(rationality * U_i(b)).

One uniform number per actor and round picks the action from the cumulative
probabilities, so both engines draw the same action from the same number.
``tit_for_tat``, ``grit`` and ``scripted`` actors ignore the utilities.

All functions take arrays with the runs axis last and an index ``idx`` of the
actors to decide for: the batch engine passes every actor, a Mesa agent itself.
"""

from __future__ import annotations

import numpy as np

from sim.model.names import FEATURES, Action
from sim.model.policies import POLICIES

LOGIT, TIT_FOR_TAT, GRIT, SCRIPTED = (POLICIES.index(p) for p in POLICIES)


def felt_relief(relief, enforcement):
    """Relief the target actually feels: sanctions still in force bite only as
    far as they are enforced.  ``1 - (1 - relief) * enforcement``.

    Example:
        >>> felt_relief(0.0, 0.8), felt_relief(0.5, 1.0)
        (0.19999999999999996, 0.5)
    """
    return 1.0 - (1.0 - relief) * enforcement


def features(state, p, idx):
    """Utility features for the actors ``idx``; shape (K, len(idx), runs).

    Args:
        state: a :class:`sim.model.dynamics.State`.
        p: the :class:`sim.model.compile.Compiled` parameters.
        idx: integer array of actor indices.
    """
    assurance, relief, enforcement, denuc, _, tension = state.x
    cp = p.counterpart[idx]
    trust_cp = state.trust[idx, cp]  # (n, R)
    last_cp = state.last[cp]
    kappa = p.kappa
    f = np.empty((len(FEATURES), len(idx), state.n_runs))
    f[0] = 1.0
    f[1] = assurance * felt_relief(relief, enforcement)
    f[2] = 1.0 - assurance
    f[3] = tension
    f[4] = trust_cp
    f[5] = (last_cp == Action.CONCEDE) * trust_cp
    f[6] = last_cp == Action.ESCALATE
    f[7] = state.flagged * p.detection_response
    f[8] = kappa * (1.0 - denuc)
    f[9] = kappa * p.detect_prob * relief
    f[10] = p.stalemate_cost
    f[11] = kappa * (1.0 - state.trust[idx, p.principal])
    return f


def utilities(feats, weights):
    """U[a] = sum_k w[a, k] * f[k], summed in feature order; shape (3, n, runs)."""
    u = weights[:, 0] * feats[0]
    for k in range(1, feats.shape[0]):
        u = u + weights[:, k] * feats[k]
    return u


def logit_probabilities(u, rationality):
    """Quantal-response choice probabilities over the first axis (3 actions).

    Example:
        >>> import numpy as np
        >>> logit_probabilities(np.array([[1.0], [0.0], [0.0]]), 0.0).ravel().tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]
    """
    z = rationality * u
    z = z - np.maximum(np.maximum(z[0], z[1]), z[2])
    e = np.exp(z)
    return e / (e[0] + e[1] + e[2])


def draw(prob, uniform):
    """The action whose cumulative-probability interval holds ``uniform``."""
    return (uniform >= prob[0]).astype(np.int8) + (uniform >= prob[0] + prob[1])


def rule_actions(policy, last_cp, t, script_t, grit_period):
    """Actions of the rule-based policies (logit entries are left at -1).

    - tit-for-tat: concede in round 1, then copy the counterpart's last action;
    - GRIT (Osgood): answer an escalation with one escalation, reciprocate a
      concession, and otherwise make a small unilateral concession every
      ``grit_period`` rounds (from round 1), hedging in between;
    - scripted: the configured action for the round.
    """
    out = np.full(last_cp.shape, -1, dtype=np.int8)
    pol = policy[:, None]
    tft = np.full_like(out, Action.CONCEDE) if t == 1 else last_cp.astype(np.int8)
    out = np.where(pol == TIT_FOR_TAT, tft, out)
    initiative = ((t - 1) % grit_period == 0)[:, None]
    grit = np.where(
        last_cp == Action.ESCALATE,
        Action.ESCALATE,
        np.where((last_cp == Action.CONCEDE) | initiative, Action.CONCEDE, Action.HEDGE),
    )
    out = np.where(pol == GRIT, grit, out)
    out = np.where(pol == SCRIPTED, script_t[:, None], out)
    return out.astype(np.int8)


def choose_actions(state, p, t, uniforms, idx):
    """Actions of actors ``idx`` in round ``t`` (1-based), shape (len(idx), runs).

    Args:
        state: last round's :class:`sim.model.dynamics.State`.
        p: compiled parameters.
        t: the round being played.
        uniforms: this round's uniforms for the actors ``idx``, shape (n, runs).
        idx: integer array of actor indices.
    """
    chosen = draw(action_probabilities(state, p, idx), uniforms)
    policy = p.policy[idx]
    if (policy != LOGIT).any():  # rule-based actors replace the drawn action
        rules = rule_actions(
            policy, state.last[p.counterpart[idx]], t, p.script[t - 1, idx], p.grit_period[idx]
        )
        chosen = np.where(rules >= 0, rules, chosen)
    forced = p.forced[t - 1, idx][:, None]
    if (forced >= 0).any():  # an event forces the action
        chosen = np.where(forced >= 0, forced, chosen)
    return chosen.astype(np.int8)


def action_probabilities(state, p, idx):
    """The logit policy's probabilities for actors ``idx`` (for teaching and plots)."""
    return logit_probabilities(
        utilities(features(state, p, idx), p.weights[:, :, idx]), p.rationality
    )

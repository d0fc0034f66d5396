"""Private types and public Bayesian beliefs about them.

Each actor may have private **types** (``actors.<actor>.types``): the DPRK a
*dealmaker*, who values the package more than the bomb, or a *holdout*, who
values the bomb more; the USA *conciliatory* or *resolved*. A type is a set of
utility weights (the actor's weights plus the type's shifts), a prior
probability, how ``trustworthy`` it is (1 if it keeps its side of a deal) and,
for the target, how often it works at undeclared sites while it talks
(``covert``). Each run draws every actor's type from its prior, once, with round
0 of the actor's own random stream (:func:`draw_types`).

Nobody sees another's type. Everyone sees every move and every imagery flag,
and starts from the same prior, so the belief about actor j is common knowledge:
``belief[j, k]``, the probability that j is of type k given the public history.
After each round it is updated by Bayes' rule (:func:`bayes`) from evidence with
a likelihood:

- j's move: ``P(move | type k)`` is j's own choice probability as type k, from
  the model's own decision functions (:func:`sim.model.dynamics.learn_moves`);
- for the target, the imagery flag: ``P(flag | move, type k)`` from detect_prob,
  false_alarm_prob and the type's covert work
  (:func:`sim.model.verification.flag_probability`); a published report flags
  regardless of type and tells nothing (:func:`learn_flag`).

Under ``model=beliefs`` an actor's trust in a counterpart that has types *is* a
belief: the expected trustworthiness ``sum_k belief[j, k] * trustworthy[j, k]``
(:func:`derive_trust`), and it enters the decisions as trust did. Under
``model=trust_rule`` trust follows the older heuristic rule and beliefs are not
used. Actors without types are judged by the trust rule in both models.

Because beliefs are a deterministic function of the public history, the exact
likelihood of a recorded history is a forward filter over the types
(:mod:`sim.model.likelihood`): ``P(move_t | history) = sum_k belief_t[j, k] *
P(move_t | type k, history)``.

Example (a two-type target that conceded, which a dealmaker does with
probability 0.6 and a holdout with 0.2, from a 50:50 prior):

    >>> import numpy as np
    >>> belief = np.array([[0.5, 0.5]]); lik = np.array([0.6, 0.2])
    >>> round(float(bayes(belief, 0, lik, 2)), 6), belief.round(6).tolist()
    (0.4, [[0.75, 0.25]])
"""

from __future__ import annotations

from sim.model.jit import kernel
from sim.model.names import TP
from sim.model.params import P
from sim.model.rng import uniform
from sim.model.verification import flag_probability

#: Model codes (positions in :data:`sim.model.names.MODELS`).
BELIEFS = 0
TRUST_RULE = 1


@kernel(inline="always")
def pick_type(u, weights, n):
    """The type whose cumulative-weight interval holds the uniform ``u`` (of ``n`` types,
    ``weights[k]`` type k's probability; the last takes what is left)."""
    k = 0
    cum = weights[0] if n > 0 else 1.0
    while k < n - 1 and u >= cum:
        k += 1
        cum += weights[k]
    return k


@kernel(inline="always")
def draw_types(types, tparams, n_types, fixed_type, starts):
    """Each actor's private type: the fixed one, or drawn from its prior with the
    uniform number of round 0 of the actor's own stream (decisions use rounds 1, 2, …)."""
    for i in range(types.shape[0]):
        if fixed_type[i] >= 0:
            types[i] = fixed_type[i]
            continue
        types[i] = pick_type(uniform(starts[i], 0), tparams[i, :, TP.prior], max(1, n_types[i]))


@kernel(inline="always")
def start_beliefs(belief, tparams):
    """Round 0: every belief is the common prior."""
    for j in range(belief.shape[0]):
        for k in range(belief.shape[1]):
            belief[j, k] = tparams[j, k, TP.prior]


@kernel(inline="always")
def expected_trustworthiness(belief, tparams, n_types, j):
    """``sum_k belief[j, k] * trustworthy[j, k]``: how far j is believed to keep its word."""
    s = 0.0
    for k in range(n_types[j]):
        s += belief[j, k] * tparams[j, k, TP.trustworthy]
    return min(1.0, max(0.0, s))


@kernel(inline="always")
def derive_trust(trust, belief, tparams, n_types, j):
    """Every other actor's trust in ``j`` is the belief about ``j`` (actors with types only)."""
    value = expected_trustworthiness(belief, tparams, n_types, j)
    for i in range(trust.shape[0]):
        if i != j:
            trust[i, j] = value


@kernel(inline="always")
def bayes(belief, j, lik, n):
    """Bayes' rule for actor ``j``'s ``n`` types with likelihoods ``lik``; returns the
    evidence's predictive probability ``sum_k belief[j, k] * lik[k]``. Evidence no type
    could produce (probability 0) leaves the belief as it was."""
    total = 0.0
    for k in range(n):
        total += belief[j, k] * lik[k]
    if total > 0.0:
        for k in range(n):
            belief[j, k] = belief[j, k] * lik[k] / total
    return total


@kernel(inline="always")
def learn_flag(belief, tparams, n_types, target, target_action, flagged, reported, theta, lik):
    """Update the belief about the target from this round's imagery; returns
    P(what the imagery showed | history and the target's move) (1 for a report)."""
    n = n_types[target]
    if reported:
        return 1.0
    if n == 0:  # nothing to learn; the flag's probability under the one implicit type
        p = flag_probability(target_action, theta[P.detect_prob], theta[P.false_alarm_prob], 0.0)
        return p if flagged else 1.0 - p
    for k in range(n):
        p = flag_probability(
            target_action,
            theta[P.detect_prob],
            theta[P.false_alarm_prob],
            tparams[target, k, TP.covert],
        )
        lik[k] = p if flagged else 1.0 - p
    return bayes(belief, target, lik, n)

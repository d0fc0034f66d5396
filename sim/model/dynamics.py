"""The round, for one run: events, simultaneous decisions, verification, transition, outcome.

This module is the model's single source of truth for how a run moves. Every
function works on **one run**: the shared state ``x`` (one entry per
:class:`~sim.model.names.Var`), the trust matrix, the last actions and the
run's tallies (one entry per :class:`~sim.model.names.Tally`), with its
parameters ``theta`` (one entry per :data:`sim.model.params.P`), its utility
weights (as ``coef`` and ``terms``) and action effects. The batch engine loops them over runs
(:mod:`sim.engines.kernels`), each Mesa agent calls :func:`decide` for its own
seat (:mod:`sim.engines.mesa_model`), and the likelihood replays them on a
recorded history (:mod:`sim.model.likelihood`); all are compiled by numba.

A round t (1-based) is played in three steps, identical in every engine:

1. :func:`begin_round` applies the events scheduled for round t;
2. every actor decides from that state (:func:`decide`): the same state for all,
   so the order of actors does not matter (simultaneous moves);
3. :func:`end_round` inspects the target (verification), moves the state
   (:func:`transition`), classifies the run and updates the tallies.

A run that has ended (agreement or breakdown) is not played further. Every sum
over actors runs in actor order, so results do not depend on how many runs are
computed together, on which thread, or in which engine.

Arrays of one run (A actors, N actions — the rows of
:data:`~sim.model.names.ACTION_TABLE` —, V state variables, K features, R rounds); every
loop over actions runs over the length of the array it is given:

============  =============  ==================================================
name          shape, type    meaning
============  =============  ==================================================
x             (V,) float     the shared state
trust         (A, A) float   trust[i, j]: i's trust in j (diagonal 1)
last          (A,) int       each actor's last action (HEDGE before round 1)
tally         (T,) int       round, outcome, end_round, flagged, detections, …
counts        (A, N) int     rounds each actor played each action
peak          (2,) float     the highest tension so far; the best progress so far
types         (A,) int       each actor's private type (drawn once per run)
belief        (A, Kt) float  the public belief about each actor's type
probs         (A, Kt, N)     this round's action probabilities by actor and type
theta         (P,) float     per-run parameters by name (``theta[P.detect_prob]``)
initial       (V,) float     the state at round 0 (resting levels for drift)
trust0        (A,) float     each actor's initial trust in the others
coef          (A, Kt, N, M)  each type's nonzero utility weights (the actor's weights
                             plus the type's shift), feature by feature
terms         (A, Kt, N, M)  int: the feature of each coefficient, in feature order;
                             -1 ends the list (see :func:`sim.model.decisions.utilities`)
tparams       (A, Kt, TP)    each type's prior, trustworthiness, covert work, momentum
n_types       (A,) int       each actor's number of declared types (0: none)
fixed_type    (A,) int       a type fixed by the config, -1 to draw it
model         int            0 beliefs, 1 trust_rule (sim.model.beliefs)
effects       (A, N, V)      each action's push on each state variable
starts        (A + 1,) u64   random stream starts: one per actor, then imagery
counterpart   (A,) int       whom each actor watches
policy        (A,) int       each actor's policy code (:mod:`sim.model.policies`)
rule_params   (A, M) float   each actor's rule parameters (a GRIT period, …), ctx.params
script        (R, A) int     scripted action per round (-1: none)
forced        (R, A) int     action forced by an event (-1: none)
report        (R,) bool      a published report flags the target that round
shift         (R, S) float   event shifts at the start of each round
tracked       (n,) int       the trust columns to update (see :func:`transition`)
============  =============  ==================================================
"""

from __future__ import annotations

from sim.model import events
from sim.model.beliefs import (
    BELIEFS,
    bayes,
    derive_trust,
    learn_flag,
    start_beliefs,
)
from sim.model.decisions import draw, features, momentum, utilities
from sim.model.jit import kernel
from sim.model.names import TP, Action, Outcome, T, V
from sim.model.outcomes import check_absorbing, classify_final, progress
from sim.model.params import P
from sim.model.policies import Context
from sim.model.policies.dispatch import policy_probabilities
from sim.model.rng import uniform
from sim.model.verification import inspect

#: Variables that revert to their starting level at rate ``reversion`` (what is on the table).
ANCHORED = (V.assurance, V.relief, V.enforcement)

apply_shift = kernel(inline="always")(events.apply_shift)


@kernel(inline="always")
def start_run(
    x, trust, last, tally, counts, peak, initial, trust0, rounds, belief, tparams, n_types, model
):
    """Round 0: the configured starting values, trust, nobody has moved, every belief
    at the common prior (under ``model=beliefs``, trust in actors with types is that
    belief). Types are drawn separately (:func:`sim.model.beliefs.draw_types`)."""
    n = trust.shape[0]
    for v in range(x.shape[0]):
        x[v] = initial[v]
    for i in range(n):
        for j in range(n):
            trust[i, j] = 1.0 if i == j else trust0[i]
        last[i] = Action.HEDGE
        for a in range(counts.shape[1]):
            counts[i, a] = 0
    for k in range(tally.shape[0]):
        tally[k] = 0
    tally[T.outcome] = Outcome.UNDECIDED
    tally[T.end_round] = rounds
    peak[0] = initial[V.tension]
    peak[1] = progress(initial)
    start_beliefs(belief, tparams)
    if model == BELIEFS:
        for j in range(n):
            if n_types[j] > 0:
                derive_trust(trust, belief, tparams, n_types, j)


@kernel(inline="always")
def begin_round(x, trust, tally, shift, target, principal):
    """Apply the shifts of the events scheduled for the coming round (before anyone decides).

    The coming round is ``tally[T.round] + 1``, as everywhere below. (A ``report``
    event's flag is applied with the round's imagery, in :func:`finish_round`.)
    """
    row = tally[T.round]  # indexing, not slicing: no shared reference count touched per round
    for k in range(shift.shape[1]):
        if shift[row, k] != 0.0:
            apply_shift(x, trust, shift, row, target, principal)
            return


@kernel(inline="always")
def action_probabilities(
    i,
    ty,
    t,
    x,
    trust,
    last,
    tally,
    coef,
    terms,
    theta,
    counterpart,
    principal,
    policy,
    rule_params,
    script,
    tparams,
    out,
    f,
    u,
):
    """Actor ``i``'s probability of each action in round ``t`` if it is of type ``ty``,
    into ``out``.

    Features of the state seen from i's seat (into ``f``), then utilities with the
    type's momentum (into ``u``), then i's policy.
    """
    cp = counterpart[i]
    features(f, x, trust[i, cp], trust[i, principal], last[cp], tally[T.flagged], theta, last[i])
    utilities(u, coef, terms, i, ty, f)
    momentum(u, last[i], last[cp], tparams[i, ty, TP.inertia], tparams[i, ty, TP.in_kind])
    ctx = Context(t, last[i], last[cp], script[t - 1, i], rule_params[i], theta[P.rationality])
    policy_probabilities(policy[i], ctx, u, out)


@kernel(inline="always")
def decide(
    i, x, trust, last, tally, coef, terms, types, theta, starts, counterpart, principal,
    policy, rule_params, script, forced, n_types, learn, probs, f, u, tparams,
):  # fmt: skip
    """Actor ``i``'s action in the coming round t: its policy's probabilities as its own
    type (``types[i]``), drawn with its own uniform number of round t; an action forced
    by an event replaces the draw.

    The probabilities go into ``probs[i, types[i]]``. With ``learn`` (under
    ``model=beliefs``) and an actor with several types, ``probs[i, k]`` gets them for
    every type k it might be: what the others' Bayes' rule reads once everyone has
    moved (:func:`learn_moves`). ``f`` and ``u`` are work arrays (features, utilities).

    Returns the action code.
    """
    t = tally[T.round] + 1
    ty = types[i]
    n = n_types[i] if learn else 0
    for k in range(n if n > 1 else 1):
        kk = k if n > 1 else ty
        action_probabilities(
            i, kk, t, x, trust, last, tally, coef, terms, theta, counterpart, principal,
            policy, rule_params, script, tparams, probs[i, kk], f, u,
        )  # fmt: skip
    action = draw(probs[i, ty], uniform(starts[i], t))
    if forced[t - 1, i] >= 0:
        action = forced[t - 1, i]
    return action


@kernel
def type_mixture(
    i, move, t, x, trust, last, tally, coef, terms, theta, counterpart, principal,
    policy, rule_params, script, forced, belief, n_types, lik, mix, out, f, u, tparams,
):  # fmt: skip
    """What an observer who does not know actor ``i``'s type expects it to do in round
    ``t``: ``mix[a] = sum_k belief[i, k] * P(a | type k)`` (the type-k probabilities from
    :func:`action_probabilities`), and ``lik[k] = P(move | type k)`` for its types. A move
    forced by an event has probability 1 whatever the type."""
    n = max(1, n_types[i])
    for a in range(mix.shape[0]):
        mix[a] = 0.0
    for k in range(n):
        if forced[t - 1, i] >= 0:
            for a in range(out.shape[0]):
                out[a] = 1.0 if a == forced[t - 1, i] else 0.0
        else:
            action_probabilities(
                i, k, t, x, trust, last, tally, coef, terms, theta, counterpart, principal,
                policy, rule_params, script, tparams, out, f, u,
            )  # fmt: skip
        w = belief[i, k] if n_types[i] > 0 else 1.0
        for a in range(mix.shape[0]):
            mix[a] += w * out[a]
        lik[k] = out[move]


@kernel(inline="always")
def learn_moves(t, actions, forced, probs, belief, n_types, lik):
    """Bayes' rule on every actor with several types from its move in round ``t``: the
    likelihood of type k is ``probs[j, k, move]``, the probability :func:`decide` gave
    the move as type k in the state the actors decided in (a move forced by an event
    has probability 1 whatever the type). Call it after the decisions, before
    :func:`finish_round`. (The exact likelihood of a record computes the same numbers
    with :func:`type_mixture`.)"""
    for j in range(actions.shape[0]):
        n = n_types[j]
        if n > 1:
            for k in range(n):
                lik[k] = 1.0 if forced[t - 1, j] >= 0 else probs[j, k, actions[j]]
            bayes(belief, j, lik, n)


@kernel(inline="always")
def transition(
    x, trust, actions, flagged, effects, initial, theta, target, tracked,
    belief, tparams, n_types, model, learn, reported, covert, lik,
):  # fmt: skip
    """Move the shared state, beliefs and trust by one round's actions; return the
    probability of the imagery's verdict given the history (see
    :func:`sim.model.beliefs.learn_flag`; 1 without ``learn``).

    1. Action effects: each actor's action pushes each variable v; positive
       pushes move v toward 1, negative toward 0:
       ``v += step_size * (sum(push+) * (1 - v) - sum(push-) * v)``. A target
       that did not hedge adds ``covert`` (its type's covert work) times its
       hedge's pushes: undeclared work goes on behind a concession.
    2. Snapback: a flag withdraws ``kappa * snapback`` of the relief in force.
    3. Drift: assurance, relief and enforcement revert to their starting levels
       (``reversion``), tension to its resting level (``tension_decay``), and
       verified denuclearization decays (``reversibility``).
    4. Beliefs (with ``learn``): the belief about the target's type takes in the
       imagery's verdict (its moves were taken in by :func:`learn_moves`).
    5. Trust: under ``model=beliefs``, trust in an actor with types is the belief
       about it (:func:`sim.model.beliefs.derive_trust`). Otherwise (the trust
       rule) observer i's trust in j rises by ``trust_gain * (1 - trust)`` when j
       concedes and falls by ``trust_loss * trust`` when j escalates or, for the
       target, when it is flagged. Only the columns in ``tracked`` are updated:
       decisions read trust in the target and in the principal, so the engines
       track those two unless a caller asks for the whole matrix.
    """
    n = actions.shape[0]
    step = theta[P.step_size]
    hid = covert if actions[target] != Action.HEDGE else 0.0
    for v in range(x.shape[0]):
        pos = 0.0
        neg = 0.0
        for i in range(n):  # summed in actor order
            push = effects[i, actions[i], v]
            pos += max(push, 0.0)
            neg += max(-push, 0.0)
        if hid > 0.0:
            push = hid * effects[target, Action.HEDGE, v]
            pos += max(push, 0.0)
            neg += max(-push, 0.0)
        x[v] = x[v] + step * (pos * (1.0 - x[v]) - neg * x[v])
    if flagged:
        x[V.relief] = x[V.relief] - theta[P.kappa] * theta[P.snapback] * x[V.relief]
    for v in ANCHORED:
        x[v] = x[v] + theta[P.reversion] * (initial[v] - x[v])
    x[V.tension] = x[V.tension] + theta[P.tension_decay] * (initial[V.tension] - x[V.tension])
    x[V.denuclearization] = x[V.denuclearization] - theta[P.reversibility] * x[V.denuclearization]
    for v in range(x.shape[0]):
        x[v] = min(1.0, max(0.0, x[v]))

    p_flag = 1.0
    if learn:
        p_flag = learn_flag(
            belief, tparams, n_types, target, actions[target], flagged, reported, theta, lik
        )
    gain, loss = theta[P.trust_gain], theta[P.trust_loss]
    for c in range(tracked.shape[0]):
        j = tracked[c]
        if model == BELIEFS and n_types[j] > 0:
            derive_trust(trust, belief, tparams, n_types, j)
            continue
        conceded = actions[j] == Action.CONCEDE
        escalated = actions[j] == Action.ESCALATE
        caught = flagged and j == target
        for i in range(n):
            if i == j:
                continue  # the diagonal stays 1
            tr = trust[i, j]
            if conceded:
                tr = tr + gain * (1.0 - tr)
            if escalated:
                tr = tr - loss * tr
            if caught:
                tr = tr - loss * tr
            trust[i, j] = min(1.0, max(0.0, tr))
    return p_flag


@kernel(inline="always")
def advance(
    t, x, trust, last, tally, counts, peak, actions, flagged, effects, initial, theta, target,
    tracked, belief, tparams, n_types, model, learn, reported, covert, lik,
):  # fmt: skip
    """Move the run through round ``t`` with these ``actions`` and this ``flagged``: the
    transition and the bookkeeping, but no outcome. (The likelihood replays a recorded
    history with it: the record goes on whatever the model would call its outcome.)
    Returns the probability of the imagery's verdict (see :func:`transition`)."""
    p_flag = transition(
        x, trust, actions, flagged, effects, initial, theta, target, tracked,
        belief, tparams, n_types, model, learn, reported, covert, lik,
    )  # fmt: skip
    tally[T.round] = t
    tally[T.flagged] = 1 if flagged else 0
    for i in range(actions.shape[0]):
        last[i] = actions[i]
        counts[i, actions[i]] += 1
    if x[V.tension] > peak[0]:
        peak[0] = x[V.tension]
    level = progress(x)
    if level >= peak[1] + theta[P.progress_step]:
        peak[1] = level
        tally[T.progress_round] = t
    return p_flag


@kernel(inline="always")
def end_round(
    t, x, trust, last, tally, counts, peak, actions, flagged, detected, false_alarm, effects,
    initial, theta, target, tracked, rounds, belief, tparams, n_types, model, learn, reported,
    covert, lik,
):  # fmt: skip
    """Finish round ``t`` with the actors' ``actions`` and the imagery's verdict
    (``flagged``, ``detected``, ``false_alarm``; see :func:`imagery`): :func:`advance`,
    then the outcome and the verification tallies. The outcome is final once
    decided; at the horizon an undecided run is a (hedged) stalemate if it made no
    progress in its last ``stalemate_window`` rounds, else it stays undecided
    (:func:`sim.model.outcomes.classify_final`)."""
    advance(
        t, x, trust, last, tally, counts, peak, actions, flagged, effects, initial, theta, target,
        tracked, belief, tparams, n_types, model, learn, reported, covert, lik,
    )  # fmt: skip
    outcome = check_absorbing(x, theta)
    if outcome == Outcome.UNDECIDED and t == rounds:
        outcome = classify_final(x, initial, theta, t - tally[T.progress_round])
    tally[T.outcome] = outcome
    if outcome != Outcome.UNDECIDED:
        tally[T.end_round] = t
    tally[T.detections] += 1 if detected else 0
    tally[T.false_alarms] += 1 if false_alarm else 0


@kernel(inline="always")
def imagery(t, target_action, covert, theta, starts, report):
    """This round's verification of the target (whose type works covertly with
    probability ``covert``) with the run's imagery number: (flagged, detected, false_alarm)."""
    u = uniform(starts[starts.shape[0] - 1], t)
    return inspect(
        target_action, u, theta[P.detect_prob], theta[P.false_alarm_prob], covert, report[t - 1]
    )


@kernel(inline="always")
def record_round(t, x, trust, tally, actions, counterpart, rec_x, rec_actions, rec_trust, rec_flag):
    """Store the state after round ``t`` (round 0: the start) in a run's history."""
    for v in range(x.shape[0]):
        rec_x[t, v] = x[v]
    for i in range(trust.shape[0]):
        rec_trust[t, i] = trust[i, counterpart[i]]
        rec_actions[t, i] = actions[i] if t > 0 else -1  # nobody has moved at the start
    rec_flag[t] = tally[T.flagged] == 1 if t > 0 else False


@kernel(inline="always")
def finish_round(
    x, trust, last, tally, counts, peak, actions, theta, initial, effects, starts,
    report, target, tracked, counterpart, record, rec_x, rec_actions, rec_trust, rec_flag,
    types, belief, tparams, n_types, model, lik,
):  # fmt: skip
    """The second half of the coming round t once every actor has chosen (and, under
    ``model=beliefs``, beliefs took in the moves: :func:`learn_moves`): verification
    with the run's imagery number, :func:`end_round`, and (with ``record``) the history."""
    t = tally[T.round] + 1
    covert = tparams[target, types[target], TP.covert]
    flagged, detected, false_alarm = imagery(t, actions[target], covert, theta, starts, report)
    end_round(
        t, x, trust, last, tally, counts, peak, actions, flagged, detected, false_alarm,
        effects, initial, theta, target, tracked, report.shape[0], belief, tparams, n_types,
        model, model == BELIEFS, report[t - 1], covert, lik,
    )  # fmt: skip
    if record:
        record_round(
            t, x, trust, tally, actions, counterpart, rec_x, rec_actions, rec_trust, rec_flag
        )


@kernel
def play(
    t_stop, x, trust, last, tally, counts, peak, theta, initial, coef, effects, starts,
    counterpart, target, principal, policy, rule_params, script, forced, report, shift, tracked,
    record, rec_x, rec_actions, rec_trust, rec_flag, actions, probs, f, u,
    terms, tparams, n_types, model, types, belief, lik,
):  # fmt: skip
    """Play one run from the round after ``tally[T.round]`` through ``t_stop``, or until it ends.

    The state arrays are updated in place. With ``record``, the state after each
    round goes into the history arrays (see :func:`record_round`). ``actions``
    (one int per actor), ``probs`` (actor x type x action), ``f`` (one per feature), ``u``
    (one per action) and ``lik`` (one per type) are work arrays.
    """
    n = last.shape[0]
    learn = model == BELIEFS
    for _ in range(
        tally[T.round] + 1, t_stop + 1
    ):  # each call plays the round after tally[T.round]
        if tally[T.outcome] != Outcome.UNDECIDED:
            break
        begin_round(x, trust, tally, shift, target, principal)
        for i in range(n):
            actions[i] = decide(
                i, x, trust, last, tally, coef, terms, types, theta, starts, counterpart,
                principal, policy, rule_params, script, forced, n_types, learn, probs, f, u, tparams,
            )  # fmt: skip
        if learn:
            learn_moves(tally[T.round] + 1, actions, forced, probs, belief, n_types, lik)
        finish_round(
            x, trust, last, tally, counts, peak, actions, theta, initial, effects, starts,
            report, target, tracked, counterpart, record, rec_x, rec_actions, rec_trust, rec_flag,
            types, belief, tparams, n_types, model, lik,
        )  # fmt: skip


@kernel
def actor_utilities(
    i, ty, x, trust, last, tally, coef, terms, theta, counterpart, principal, f, u, tparams
):
    """Actor ``i``'s utility of each action in this state as type ``ty``, into ``u``
    (``f`` gets the features): the same features, weights and momentum the decisions
    use, for teaching tools."""
    cp = counterpart[i]
    features(f, x, trust[i, cp], trust[i, principal], last[cp], tally[T.flagged], theta, last[i])
    utilities(u, coef, terms, i, ty, f)
    momentum(u, last[i], last[cp], tparams[i, ty, TP.inertia], tparams[i, ty, TP.in_kind])

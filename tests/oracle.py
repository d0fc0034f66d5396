"""An independent oracle: the model's equations in plain numpy, vectorized over runs.

This is the yardstick the compiled engines are checked against (``tests/test_oracle.py``).
It is written from the equations of ``docs/model.md`` (the ODD document), not from the
compiled functions: it imports none of :mod:`sim.model`'s kernels (not the features, the
utilities, the logit, the draw, the transition, Bayes' rule, the imagery, the outcome
classification, nor the random numbers) — only the names of array positions
(:mod:`sim.model.names`, :data:`sim.model.params.P`) and the compiled *parameters*
(:class:`sim.model.compile.Compiled`: the arrays a config becomes). Where the compiled code
loops over one run, this works on every run at once, the way a numpy programmer would
write it; so an equation changed in one of them and not the other shows as a difference.

It covers the whole model of one round: private types drawn from their priors, the
fifteen features (with the lag features ``conceded``, ``escalated``, ``concession``), the
utilities with each type's shifts, momentum (``inertia``, ``in_kind``), the logit rule
and the rule policies (tit-for-tat, GRIT, win-stay-lose-shift, scripted), the draw,
events (shifts, forced moves, reports), imagery with covert work, the transition
(pushes, snapback, drift, clipping), Bayesian beliefs over types from moves and
imagery (``model=beliefs``) or the trust rule (``model=trust_rule``), progress and the
outcome.

The equations are module-level functions so that a test can change one of them
(``monkeypatch.setattr(oracle, "felt_relief", …)``) and see the comparison fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.names import TP, Action, F, Outcome, V
from sim.model.params import P

# ------------------------------------------------------------------ random numbers
# SplitMix64 streams: start(seed, stream) = mix(mix(seed) ^ stream);
# u(t) = (mix(start + t * GAMMA) >> 11) * 2**-53  (docs/model.md, "Random numbers").
_M1, _M2, _GAMMA = (
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0x9E3779B97F4A7C15),
)

BELIEFS, TRUST_RULE = 0, 1  # positions in sim.model.names.MODELS


def _mix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def stream_starts(seeds: np.ndarray, streams: np.ndarray) -> np.ndarray:
    """(runs, streams) starting states."""
    return _mix(_mix(seeds.astype(np.uint64))[:, None] ^ streams.astype(np.uint64)[None, :])


def uniforms(starts: np.ndarray, t: int) -> np.ndarray:
    """Round ``t``'s uniform number of every stream of every run (same shape as ``starts``)."""
    with np.errstate(over="ignore"):
        z = _mix(starts + np.uint64(t) * _GAMMA)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


# ------------------------------------------------------------------ the equations
def felt_relief(relief, enforcement):
    """What the target feels of the relief: 1 - (1 - relief) x enforcement."""
    return 1.0 - (1.0 - relief) * enforcement


def delivered(x):
    """What the principal has delivered: mean(assurance, relief)."""
    return 0.5 * (x[:, V.assurance] + x[:, V.relief])


def progress(x):
    """How far the talks have come: min(verified denuclearization, delivered)."""
    return np.minimum(x[:, V.denuclearization], delivered(x))


def features(x, theta, trust_cp, trust_principal, last_cp, last_own, flagged):
    """(R, K) the features one actor sees (Feature table of docs/model.md §8.3)."""
    kappa = theta[:, P.kappa]
    f = np.empty((x.shape[0], len(F)))
    f[:, F.bias] = 1.0
    f[:, F.package] = x[:, V.assurance] * felt_relief(x[:, V.relief], x[:, V.enforcement])
    f[:, F.insecurity] = 1.0 - x[:, V.assurance]
    f[:, F.tension] = x[:, V.tension]
    f[:, F.trust] = trust_cp
    f[:, F.reciprocity] = np.where(last_cp == Action.CONCEDE, trust_cp, 0.0)
    f[:, F.provocation] = last_cp == Action.ESCALATE
    f[:, F.alarm] = flagged * theta[:, P.detection_response]
    f[:, F.unverified] = kappa * (1.0 - x[:, V.denuclearization])
    f[:, F.hedge_risk] = kappa * theta[:, P.detect_prob] * x[:, V.relief]
    f[:, F.stalemate] = theta[:, P.stalemate_cost]
    f[:, F.exposure] = kappa * (1.0 - trust_principal)
    f[:, F.conceded] = last_own == Action.CONCEDE
    f[:, F.escalated] = last_own == Action.ESCALATE
    f[:, F.concession] = last_cp == Action.CONCEDE
    return f


def utilities(weights, f, inertia, in_kind, last_own, last_cp):
    """(R, N) U(a) = sum_k w[a, k] f[k], plus inertia on the own last move and in_kind on
    the counterpart's last move (momentum)."""
    u = np.zeros(weights.shape[:2])
    for k in range(f.shape[1]):  # in feature order
        u += weights[:, :, k] * f[:, k, None]
    rows = np.arange(u.shape[0])
    u[rows, last_own] += inertia
    u[rows, last_cp] += in_kind
    return u


def logit(u, rationality):
    """(R, N) quantal response: exp(rationality U(a)) / sum_b exp(rationality U(b))."""
    z = rationality[:, None] * u
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(move, n):
    return (np.arange(n)[None, :] == np.asarray(move)[:, None]).astype(float)


def rule(name, t, own_last, cp_last, script, params, n):
    """(R, N) the deterministic rules (docs/model.md §4.3); ``params`` are the actor's rule
    parameters (GRIT: the period)."""
    c, h, e = Action.CONCEDE, Action.HEDGE, Action.ESCALATE
    R = own_last.shape[0]
    if name == "tit_for_tat":
        move = np.full(R, c) if t == 1 else cp_last
    elif name == "grit":
        initiative = (t - 1) % int(params[0]) == 0
        move = np.where(cp_last == e, e, np.where((cp_last == c) | initiative, c, h))
    elif name == "win_stay_lose_shift":
        if t == 1:
            move = np.full(R, c)
        else:
            move = np.where(cp_last == c, own_last, np.where(own_last == h, c, h))
    elif name == "scripted":
        move = np.full(R, script)
    else:
        raise ValueError(f"the oracle has no rule {name!r}")
    return one_hot(move, n)


def draw(prob, u):
    """The action whose cumulative-probability interval holds u."""
    cum = np.cumsum(prob[:, :-1], axis=1)
    return (u[:, None] >= cum).sum(axis=1)


def push(x, pos, neg, step):
    """Positive pushes move a variable toward 1, negative toward 0."""
    return x + step[:, None] * (pos * (1.0 - x) - neg * x)


def drift(x, initial, theta):
    """Snapback aside: assurance, relief and enforcement revert to their start, tension to
    its resting level, verified denuclearization decays."""
    x = x.copy()
    for v in (V.assurance, V.relief, V.enforcement):
        x[:, v] += theta[:, P.reversion] * (initial[:, v] - x[:, v])
    x[:, V.tension] += theta[:, P.tension_decay] * (initial[:, V.tension] - x[:, V.tension])
    x[:, V.denuclearization] -= theta[:, P.reversibility] * x[:, V.denuclearization]
    return x


def snapback(x, flagged, theta):
    """A flag withdraws kappa x snapback of the relief in force."""
    x = x.copy()
    x[:, V.relief] -= flagged * theta[:, P.kappa] * theta[:, P.snapback] * x[:, V.relief]
    return x


def flag_probability(hedged, detect, false_alarm, covert):
    """P(flag | the target's move, its type)."""
    return np.where(hedged, detect, covert * detect + (1.0 - covert) * false_alarm)


def bayes(belief, lik):
    """(R, K) posterior; evidence no type could produce leaves the belief as it was."""
    total = (belief * lik).sum(axis=1, keepdims=True)
    post = belief * lik / np.where(total > 0, total, 1.0)
    return np.where(total > 0, post, belief)


def trust_rule(tr, conceded, escalated, caught, theta):
    """Trust in one actor: up by trust_gain (1 - trust) when it concedes, down by
    trust_loss x trust when it escalates and again when it is caught."""
    tr = np.where(conceded[:, None], tr + theta[:, P.trust_gain, None] * (1.0 - tr), tr)
    tr = np.where(escalated[:, None], tr - theta[:, P.trust_loss, None] * tr, tr)
    tr = np.where(caught[:, None], tr - theta[:, P.trust_loss, None] * tr, tr)
    return np.clip(tr, 0.0, 1.0)


# ------------------------------------------------------------------ a run
@dataclass
class Result:
    """What the oracle's runs end with (one row per run)."""

    outcome: np.ndarray
    end_round: np.ndarray
    x: np.ndarray
    trust: np.ndarray
    belief: np.ndarray
    types: np.ndarray
    counts: np.ndarray
    last: np.ndarray
    detections: np.ndarray
    false_alarms: np.ndarray
    progress_round: np.ndarray
    peak: np.ndarray


def simulate(c, seeds, policies: tuple[str, ...]) -> Result:
    """Play every run of ``c`` (a :class:`sim.model.compile.Compiled`) to its end.

    Args:
        c: the compiled parameters (one structure, one parameter set per run via ``c.slot``).
        seeds: one seed per run.
        policies: the registered policy names in code order (``sim.model.policies.POLICIES``).
    """
    s = c.structure
    seeds = np.asarray(seeds, dtype=np.int64)
    R, A = len(seeds), s.n_actors
    theta = c.theta[c.slot]
    initial = c.initial[c.slot]
    tparams = c.tparams[c.slot]  # (R, A, Kt, TP)
    weights = c.weights[c.slot][:, :, None] + c.tshift[c.slot]  # (R, A, Kt, N, K)
    effects = c.effects[c.slot]  # (R, A, N, V)
    N = weights.shape[3]
    Kt = tparams.shape[2]
    n_types = s.n_types
    model = s.model
    learn = model == BELIEFS
    rows = np.arange(R)
    starts = stream_starts(seeds, s.streams)  # (R, A + 1)
    tgt, pri, cp = s.target, s.principal, s.counterpart

    # round 0
    x = initial.copy()
    trust = np.repeat(c.trust0[c.slot][:, :, None], A, axis=2)  # trust[r, i, j] = trust0[i]
    trust[:, np.arange(A), np.arange(A)] = 1.0
    last = np.full((R, A), int(Action.HEDGE))
    belief = tparams[:, :, :, TP.prior].copy()
    types = np.zeros((R, A), dtype=np.int64)
    u0 = uniforms(starts, 0)
    for i in range(A):
        if s.fixed_type[i] >= 0:
            types[:, i] = s.fixed_type[i]
        else:
            n = max(1, n_types[i])
            cum = np.cumsum(tparams[:, i, : n - 1, TP.prior], axis=1)
            types[:, i] = (u0[:, i, None] >= cum).sum(axis=1)

    def expected_trustworthiness(j):
        n = n_types[j]
        value = (belief[:, j, :n] * tparams[:, j, :n, TP.trustworthy]).sum(axis=1)
        return np.clip(value, 0.0, 1.0)

    def derive_trust(j):
        value = expected_trustworthiness(j)
        for i in range(A):
            if i != j:
                trust[:, i, j] = value

    if learn:
        for j in range(A):
            if n_types[j] > 0:
                derive_trust(j)
    counts = np.zeros((R, A, N), dtype=np.int64)
    flagged = np.zeros(R, dtype=bool)
    outcome = np.full(R, int(Outcome.UNDECIDED))
    end_round = np.full(R, s.rounds)
    detections = np.zeros(R, dtype=np.int64)
    false_alarms = np.zeros(R, dtype=np.int64)
    progress_round = np.zeros(R, dtype=np.int64)
    peak = np.stack([initial[:, V.tension], progress(initial)], axis=1)

    for t in range(1, s.rounds + 1):
        live = outcome == Outcome.UNDECIDED
        if not live.any():
            break
        x_in, trust_in, belief_in = x.copy(), trust.copy(), belief.copy()
        # events at the start of the round
        sh = s.shift[t - 1]
        x = np.clip(x + sh[None, : x.shape[1]], 0.0, 1.0)
        dt = sh[x.shape[1]]
        for a, b in ((tgt, pri), (pri, tgt)):
            trust[:, a, b] = np.clip(trust[:, a, b] + dt, 0.0, 1.0)
        # decisions: every actor, every type it might be
        u = uniforms(starts, t)
        actions = np.zeros((R, A), dtype=np.int64)
        probs = np.zeros((R, A, Kt, N))
        for i in range(A):
            j = cp[i]
            f = features(
                x, theta, trust[:, i, j], trust[:, i, pri], last[:, j], last[:, i], flagged
            )
            for k in range(max(1, n_types[i])):
                name = policies[s.policy[i]]
                if name == "logit":
                    ut = utilities(
                        weights[:, i, k], f, tparams[:, i, k, TP.inertia],
                        tparams[:, i, k, TP.in_kind], last[:, i], last[:, j],
                    )  # fmt: skip
                    probs[:, i, k] = logit(ut, theta[:, P.rationality])
                else:
                    probs[:, i, k] = rule(
                        name, t, last[:, i], last[:, j], s.script[t - 1, i], s.rule_params[i], N
                    )
            own = probs[:, i][rows, types[:, i]]
            actions[:, i] = draw(own, u[:, i])
            if s.forced[t - 1, i] >= 0:
                actions[:, i] = s.forced[t - 1, i]
        # beliefs take in the moves (model=beliefs)
        if learn:
            for j in range(A):
                n = n_types[j]
                if n > 1:
                    if s.forced[t - 1, j] >= 0:
                        lik = np.ones((R, n))
                    else:
                        lik = probs[:, j, :n][rows, :, actions[:, j]]
                    belief[:, j, :n] = bayes(belief[:, j, :n], lik)
        # imagery
        covert = tparams[rows, tgt, types[:, tgt], TP.covert]
        hedged = actions[:, tgt] == Action.HEDGE
        ui = u[:, A]
        detect, fa = theta[:, P.detect_prob], theta[:, P.false_alarm_prob]
        detected = np.where(hedged, ui < detect, ui < covert * detect)
        false_alarm = ~hedged & ~detected & (ui < covert * detect + (1.0 - covert) * fa)
        reported = bool(s.report[t - 1])
        flag = detected | false_alarm | reported
        # the transition
        pushes = effects[rows[:, None], np.arange(A)[None, :], actions]  # (R, A, V)
        pos = np.maximum(pushes, 0.0).sum(axis=1)
        neg = np.maximum(-pushes, 0.0).sum(axis=1)
        hid = np.where(hedged, 0.0, covert)[:, None] * effects[:, tgt, Action.HEDGE]
        hid = np.where(hid != 0.0, hid, 0.0)
        pos, neg = pos + np.maximum(hid, 0.0), neg + np.maximum(-hid, 0.0)
        new = push(x, pos, neg, theta[:, P.step_size])
        new = snapback(new, flag, theta)
        new = np.clip(drift(new, initial, theta), 0.0, 1.0)
        x = new
        if learn and not reported and n_types[tgt] > 0:
            n = n_types[tgt]
            p = flag_probability(
                hedged[:, None], detect[:, None], fa[:, None], tparams[:, tgt, :n, TP.covert]
            )
            belief[:, tgt, :n] = bayes(belief[:, tgt, :n], np.where(flag[:, None], p, 1.0 - p))
        for j in range(A):
            if learn and n_types[j] > 0:
                derive_trust(j)
                continue
            col = trust[:, :, j]
            updated = trust_rule(
                col,
                actions[:, j] == Action.CONCEDE,
                actions[:, j] == Action.ESCALATE,
                flag & (j == tgt),
                theta,
            )
            updated[:, j] = 1.0
            trust[:, :, j] = updated
        # bookkeeping and the outcome (only runs still going move)
        level = progress(x)
        moved = level >= peak[:, 1] + theta[:, P.progress_step]
        peak_now = np.stack(
            [np.maximum(peak[:, 0], x[:, V.tension]), np.where(moved, level, peak[:, 1])], axis=1
        )
        progress_now = np.where(moved, t, progress_round)
        broke = x[:, V.tension] >= theta[:, P.breakdown_threshold]
        bar = theta[:, P.agreement_threshold]
        agreed = (x[:, V.denuclearization] >= bar) & (delivered(x) >= bar)
        now = np.where(
            broke, Outcome.BREAKDOWN, np.where(agreed, Outcome.AGREEMENT, Outcome.UNDECIDED)
        )
        if t == s.rounds:
            stalled = t - progress_now
            grew = x[:, V.undeclared] - initial[:, V.undeclared] > theta[:, P.hedged_margin]
            final = np.where(grew, Outcome.HEDGED_STALEMATE, Outcome.STALEMATE)
            final = np.where(stalled < theta[:, P.stalemate_window], Outcome.UNDECIDED, final)
            now = np.where(now == Outcome.UNDECIDED, final, now)
        keep = ~live
        x = np.where(keep[:, None], x_in, x)
        trust = np.where(keep[:, None, None], trust_in, trust)
        belief = np.where(keep[:, None, None], belief_in, belief)
        peak = np.where(keep[:, None], peak, peak_now)
        progress_round = np.where(live, progress_now, progress_round)
        for a in range(N):
            counts[:, :, a] += (actions == a) & live[:, None]
        last = np.where(live[:, None], actions, last)
        flagged = np.where(live, flag, flagged)
        detections += detected & live
        false_alarms += false_alarm & live
        ended = live & (now != Outcome.UNDECIDED)
        end_round = np.where(ended, t, end_round)
        outcome = np.where(live, now, outcome)

    return Result(
        outcome, end_round, x, trust, belief, types, counts, last, detections, false_alarms,
        progress_round, peak,
    )  # fmt: skip


def compare(c, seeds, result: Result, state, tol: float = 1e-9) -> list[str]:
    """Where the compiled engine's final ``state`` (:class:`sim.engines.state.State`)
    differs from the oracle's ``result``: a list of lines, empty when they agree.

    Discrete quantities must be equal (outcome, end round, types, action counts, last
    moves, detections, false alarms, the last round of progress); continuous ones within
    ``tol`` (the state, trust in the tracked columns, beliefs, peaks).
    """
    from sim.model.names import T

    tracked = c.structure.tracked()
    Kt = result.belief.shape[2]
    same = {
        "outcome": (result.outcome, state.tally[:, T.outcome]),
        "end_round": (result.end_round, state.tally[:, T.end_round]),
        "types": (result.types, state.types),
        "counts": (result.counts, state.counts),
        "last": (result.last, state.last),
        "detections": (result.detections, state.tally[:, T.detections]),
        "false_alarms": (result.false_alarms, state.tally[:, T.false_alarms]),
        "progress_round": (result.progress_round, state.tally[:, T.progress_round]),
    }
    close = {
        "x": (result.x, state.x),
        "trust": (result.trust[:, :, tracked], state.trust[:, :, tracked]),
        "belief": (result.belief, state.belief[:, :, :Kt]),
        "peak": (result.peak, state.peak),
    }
    out = []
    for name, (want, got) in same.items():
        bad = np.asarray(want) != np.asarray(got)
        bad = bad.reshape(len(bad), -1).any(axis=1)
        if bad.any():
            out.append(
                f"{name}: {int(bad.sum())} of {len(bad)} runs differ (first: run {int(np.argmax(bad))})"
            )
    for name, (want, got) in close.items():
        diff = np.abs(np.asarray(want) - np.asarray(got))
        if not np.all(diff <= tol):
            out.append(f"{name}: largest difference {float(np.nanmax(diff)):.3g} > {tol:g}")
    return out

"""The compiled engine against an independent oracle (``tests/oracle.py``, plain numpy).

The engine-equivalence tests elsewhere show that the batch engine, the Mesa model and the
likelihood agree with each other; they all call the same compiled functions, so an
equation that is wrong in those functions is wrong in all of them. Here the engine is
checked against the equations written a second time, vectorized over runs and sharing
no code with the kernels: 600 runs with random parameters under each model (1,200 in all)
(``beliefs`` and ``trust_rule``), over structures with private types, momentum, events
(shifts, forced moves, reports), every rule policy and a fixed type. Outcomes, types,
action counts and tallies must be equal; the state, trust, beliefs and peaks within
1e-9 (the two compute the same sums in the same order; exp may differ in its last bit).

And the comparison has teeth: an equation changed in the oracle (the felt relief, the
trust rule, Bayes' rule, momentum, the snapback) makes it fail.
"""

from __future__ import annotations

import numpy as np
import oracle
import pytest

from sim.engines.batch import simulate
from sim.model.compile import Compiled, compile_configs
from sim.model.names import TP
from sim.model.params import P, make_config
from sim.model.policies import POLICIES

RUNS = 150  # per structure: 4 structures x 150 = 600 runs under each model
TOL = 1e-9

EVENTS = [
    {"round": 2, "kind": "summit"},
    {"round": 4, "kind": "report"},
    {"round": 6, "kind": "test"},
    {"round": 9, "kind": "cancelled_meeting"},
    {"round": 11, "kind": "custom", "force": {"ROK": "concede", "USA": "escalate"}},
    {"round": 14, "kind": "relief_offer"},
]

STRUCTURES = {
    "default": {},
    "rules_and_events": {
        "rounds": 40,
        "regime": "relief_first",
        "events": EVENTS,
        "actors": {
            "USA": {"policy": "grit", "grit_period": 3},
            "ROK": {"policy": "tit_for_tat"},
            "PRC": {"policy": "win_stay_lose_shift"},
        },
    },
    "scripted_fixed_type": {
        "rounds": 60,
        "regime": "action_for_action",
        "actors": {
            "DPRK": {"type": "holdout"},
            "PRC": {"policy": "scripted", "script": ["hedge", "escalate", "concede"] * 20},
        },
    },
    "long_horizon": {"rounds": 300, "events": [{"round": 150, "kind": "report"}]},
}


def randomized(c: Compiled, n: int, rng: np.random.Generator) -> Compiled:
    """``n`` parameter sets around ``c``'s (one run each): random per-run parameters,
    starting state, initial trust, weights, type shifts, priors, trustworthiness, covert
    work, momentum and effects."""
    s = c.structure
    theta = np.repeat(c.theta[:1], n, axis=0)
    ranges = {
        P.rationality: (0.0, 4.0), P.detect_prob: (0.0, 1.0), P.false_alarm_prob: (0.0, 0.3),
        P.detection_response: (0.0, 2.0), P.snapback: (0.0, 1.0), P.stalemate_cost: (0.0, 1.0),
        P.step_size: (0.02, 0.3), P.reversion: (0.0, 0.1), P.tension_decay: (0.0, 0.1),
        P.reversibility: (0.0, 0.05), P.trust_gain: (0.0, 0.3), P.trust_loss: (0.0, 0.4),
        P.kappa: (0.0, 1.0), P.breakdown_threshold: (0.6, 0.95),
        P.agreement_threshold: (0.35, 0.8), P.progress_step: (0.0, 0.05),
        P.hedged_margin: (0.0, 0.2),
    }  # fmt: skip
    for p, (lo, hi) in ranges.items():
        theta[:, p] = rng.uniform(lo, hi, n)
    theta[:, P.stalemate_window] = rng.integers(1, 60, n)
    initial = rng.uniform(0.0, 0.7, (n, c.initial.shape[1]))
    trust0 = rng.uniform(0.0, 1.0, (n, c.trust0.shape[1]))
    weights = c.weights[:1] + rng.normal(0.0, 0.7, (n, *c.weights.shape[1:])) * (
        rng.random((n, *c.weights.shape[1:])) < 0.4
    )
    tshift = c.tshift[:1] + rng.normal(0.0, 0.7, (n, *c.tshift.shape[1:])) * (
        rng.random((n, *c.tshift.shape[1:])) < 0.3
    )
    effects = c.effects[:1] * rng.uniform(0.5, 1.5, (n, *c.effects.shape[1:]))
    tparams = np.repeat(c.tparams[:1], n, axis=0)
    for i, k in enumerate(s.n_types):
        if k > 0:
            tparams[:, i, :k, TP.prior] = rng.dirichlet(np.ones(k), n)
            tparams[:, i, :k, TP.trustworthy] = rng.uniform(0.0, 1.0, (n, k))
            tparams[:, i, :k, TP.covert] = rng.uniform(0.0, 1.0, (n, k)) * (i == s.target)
    momentum = rng.normal(0.0, 1.0, (n, *tparams.shape[1:3], 2)) * (
        rng.random((n, *tparams.shape[1:3], 2)) < 0.5
    )
    tparams[..., [TP.inertia, TP.in_kind]] = momentum
    return Compiled(
        s, theta=theta, initial=initial, trust0=trust0, weights=weights, effects=effects,
        tshift=tshift, tparams=tparams, slot=np.arange(n, dtype=np.int64),
    )  # fmt: skip


def cases(model: str):
    """(name, compiled, seeds) for each structure under ``model``, with random parameters."""
    for k, (name, kw) in enumerate(STRUCTURES.items()):
        rng = np.random.default_rng([k, len(model)])
        base = compile_configs([make_config(model=model, **kw)])
        yield name, randomized(base, RUNS, rng), rng.integers(0, 2**40, RUNS)


@pytest.mark.parametrize("model", ["beliefs", "trust_rule"])
def test_the_engine_agrees_with_the_oracle(model):
    """600 random runs under each model: same outcomes, types, counts and tallies; the
    state, trust, beliefs and peaks within 1e-9 — and the runs are varied (every
    outcome but one at least, several types, some learning)."""
    outcomes = []
    for name, c, seeds in cases(model):
        want = oracle.simulate(c, seeds, POLICIES)
        st, _ = simulate(c, seeds, record=False)
        problems = oracle.compare(c, seeds, want, st, TOL)
        assert not problems, (model, name, problems)
        outcomes.extend(want.outcome.tolist())
        if model == "beliefs" and c.structure.n_types.max() > 1:
            moved = np.abs(want.belief - c.tparams[c.slot][..., TP.prior]).max()
            assert moved > 0.1, (name, moved)  # beliefs did learn
    assert len(outcomes) >= 500
    assert len(set(outcomes)) >= 4, sorted(set(outcomes))


BREAKS = {
    "felt relief without enforcement": ("felt_relief", lambda relief, enforcement: relief),
    "trust rule: escalation costs nothing": (
        "trust_rule",
        lambda tr, conceded, escalated, caught, theta: oracle_trust_rule(
            tr, conceded, np.zeros_like(escalated), caught, theta
        ),
    ),
    "Bayes' rule without the prior": (
        "bayes",
        lambda belief, lik: lik / np.maximum(lik.sum(axis=1, keepdims=True), 1e-300),
    ),
    "momentum: inertia on the wrong move": (
        "utilities",
        lambda w, f, inertia, in_kind, last_own, last_cp: oracle_utilities(
            w, f, inertia, in_kind, last_cp, last_cp
        ),
    ),
    "snapback at twice the rate": (
        "snapback",
        lambda x, flagged, theta: oracle_snapback(
            oracle_snapback(x, flagged, theta), flagged, theta
        ),
    ),
}
oracle_trust_rule, oracle_utilities, oracle_snapback = (
    oracle.trust_rule,
    oracle.utilities,
    oracle.snapback,
)


@pytest.mark.parametrize("broken", list(BREAKS))
def test_a_changed_equation_is_caught(broken, monkeypatch):
    """One equation of the oracle changed (as a bug in one place would change it): the
    comparison with the engine fails, under the model that uses the equation."""
    attr, fn = BREAKS[broken]
    monkeypatch.setattr(oracle, attr, fn)
    model = "beliefs" if attr == "bayes" else "trust_rule"
    found = []
    for _, c, seeds in cases(model):
        want = oracle.simulate(c, seeds, POLICIES)
        st, _ = simulate(c, seeds, record=False)
        found += oracle.compare(c, seeds, want, st, TOL)
    assert found, broken

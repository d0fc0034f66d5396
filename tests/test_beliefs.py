"""Private types and Bayesian beliefs: a hand-computed update, the exact likelihood against
the Mesa agents summed over type profiles, the engines identical under both models."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import NegotiationModel, make_config, run_batch, run_mesa
from sim.analysis.estimate import RecordModel, as_changes
from sim.analysis.record import load_record
from sim.model.beliefs import bayes, learn_flag
from sim.model.compile import compile_configs, compile_structure
from sim.model.likelihood import replay_record
from sim.model.names import TP, Action
from sim.model.params import P, config_dict, type_priors
from sim.model.verification import flag_probability


def test_bayes_matches_a_hand_computed_update():
    """Prior 0.5 dealmaker / 0.5 holdout. The DPRK concedes: a dealmaker does so with
    probability 0.6, a holdout 0.2, so P(dealmaker | concede) = 0.3 / 0.4 = 0.75.
    Then imagery flags it (detect 0.3, false alarm 0.05; the holdout works covertly
    half the time): P(flag | dealmaker) = 0.05, P(flag | holdout) = 0.5 x 0.3 + 0.5 x
    0.05 = 0.175, so P(dealmaker) = 0.0375 / (0.0375 + 0.04375) = 6/13."""
    belief = np.array([[0.5, 0.5]])
    assert bayes(belief, 0, np.array([0.6, 0.2]), 2) == pytest.approx(0.4)
    np.testing.assert_allclose(belief, [[0.75, 0.25]], rtol=1e-15)
    theta = np.zeros(len(P))
    theta[P.detect_prob], theta[P.false_alarm_prob] = 0.3, 0.05
    tparams = np.zeros((1, 2, len(TP)))
    tparams[0, :, TP.covert] = [0.0, 0.5]
    p = learn_flag(
        belief, tparams, np.array([2]), 0, Action.CONCEDE, True, False, theta, np.empty(2)
    )
    assert p == pytest.approx(0.75 * 0.05 + 0.25 * 0.175)
    np.testing.assert_allclose(belief, [[6 / 13, 7 / 13]], rtol=1e-12)
    # a published report flags whatever the type: it tells nothing
    before = belief.copy()
    assert (
        learn_flag(
            belief, tparams, np.array([2]), 0, Action.CONCEDE, True, True, theta, np.empty(2)
        )
        == 1.0
    )
    np.testing.assert_array_equal(belief, before)


@settings(max_examples=200, deadline=None)
@given(
    prior=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=4),
    lik=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
)
def test_bayes_keeps_a_distribution_and_orders_types_by_likelihood(prior, lik):
    """For any prior and likelihoods, the posterior sums to 1 and the ratio of two
    types' beliefs moves by the ratio of their likelihoods (Bayes' rule)."""
    n = len(prior)
    b = np.array([prior]) / sum(prior)
    lk = np.array(lik[:n])
    before = b.copy()
    total = bayes(b, 0, lk, n)
    if total == 0:
        np.testing.assert_array_equal(b, before)
        return
    assert b.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(b[0], before[0] * lk / total, rtol=1e-12, atol=1e-300)


def _draw_shares(prior: float, n: int = 4000):
    cfg = make_config(rounds=1, actors={"DPRK": {"types": {"dealmaker": {"prior": prior}}}})
    runs = run_batch([cfg] * n, range(n), record=False, progress=False).runs
    return runs["type_DPRK"].astype(str), runs["type_USA"].astype(str)


def test_type_draws_follow_the_prior_and_are_per_actor():
    """Over 4,000 runs the DPRK is a dealmaker in a share whose 95% Wilson interval
    holds its prior (0.3, then 0.8); the USA's types are the same run by run whatever
    the DPRK's prior (each actor draws from its own stream)."""
    from helpers import wilson

    d3, u3 = _draw_shares(0.3)
    d8, u8 = _draw_shares(0.8)
    for draws, prior in ((d3, 0.3), (d8, 0.8)):
        lo, hi = wilson(int((draws == "dealmaker").sum()), len(draws))
        assert lo <= prior <= hi
    pd.testing.assert_series_equal(u3, u8)


def test_a_fixed_type_is_kept_and_beliefs_start_at_the_prior():
    """``actors.DPRK.type=holdout`` fixes the type in every run; the USA's trust in the
    DPRK at round 0 is the prior's expected trustworthiness (0.3 x 1 + 0.7 x 0)."""
    cfg = make_config(
        rounds=2, actors={"DPRK": {"type": "holdout", "types": {"dealmaker": {"prior": 0.3}}}}
    )
    r = run_batch([cfg] * 50, range(50), progress=False)
    assert (r.runs["type_DPRK"] == "holdout").all()
    t0 = r.trajectories.query("round == 0 and actor == 'USA'")["trust_in_counterpart"]
    np.testing.assert_allclose(t0, 0.3, rtol=0, atol=1e-15)


def test_the_belief_model_learns_the_type_from_play():
    """Over 200 runs of 100 rounds with an informative offer (assurance 0.6, relief 0.6),
    the public belief that the DPRK is a dealmaker ends higher when it is one: the mean
    final belief of dealmakers exceeds the holdouts' by more than 0.3 (Welch 95% interval)."""
    from helpers import mean_diff_ci

    cfg = make_config(rounds=100, assurance=0.6, relief=0.6, agreement_threshold=1.0)
    runs = run_batch([cfg] * 200, range(200), record=False, progress=False).runs
    deal = runs.loc[runs["type_DPRK"] == "dealmaker", "belief_DPRK"]
    hold = runs.loc[runs["type_DPRK"] == "holdout", "belief_DPRK"]
    lo, _ = mean_diff_ci(deal, hold)
    assert lo > 0.3


@pytest.mark.parametrize("model", ["beliefs", "trust_rule"])
def test_engines_are_identical_under_both_models(model):
    """Batch and Mesa engines give identical runs tables (types, beliefs, outcomes) for
    60 seeds of the default actors with types, under either model."""
    cfg = make_config(rounds=60, model=model, assurance=0.6, relief=0.3)
    seeds = list(range(60))
    a = run_batch([cfg] * 60, seeds, progress=False).runs
    b = run_mesa([cfg] * 60, seeds, progress=False).runs
    pd.testing.assert_frame_equal(a, b, check_exact=True)


# --- the exact likelihood, against the Mesa agents ----------------------------------------


def _profile_loglik(record, keys, values, profile: dict[str, str], months: int):
    """log P(moves and flags | these types): force the Mesa agents (types fixed by the
    config) through the record and multiply each agent's probability of its observed
    move and the imagery's probability of the observed flag under the target's type."""
    changes = as_changes(keys, values, compile_structure(record.config()))
    actors = changes.pop("actors", {}) or {}
    for name, ty in profile.items():
        actors.setdefault(name, {})["type"] = ty
    cfg = record.config(rounds=months, actors=actors, **changes)
    model = NegotiationModel(rng=1, **config_dict(cfg))
    model.verifier = lambda model, seen: bool(record.flagged[seen.round - 1])
    total = 0.0
    for agent in model.agents:
        i = record.actors.index(agent.name)

        def choose(agent, decision, i=i):
            nonlocal total
            observed = int(record.actions[decision.round - 1, i])
            total += np.log(decision.probabilities[observed])
            return Action(observed)

        agent.chooser = choose
    c, s = model.compiled, model.structure
    target = s.target
    covert = c.tparams[0, target, model.state.types[0, target], TP.covert]
    for t in range(months):
        model.step()
        if not s.report[t]:
            p = flag_probability(
                int(record.actions[t, record.actors.index(s.names[target])]),
                c.theta[0, P.detect_prob],
                c.theta[0, P.false_alarm_prob],
                covert,
            )
            total += np.log(p if record.flagged[t] else 1.0 - p)
    np.testing.assert_array_equal(model.history.actions[0, 1 : months + 1], record.actions[:months])
    return total


@pytest.mark.parametrize("which", ["default", "other"])
def test_likelihood_is_the_prior_weighted_sum_over_type_profiles_of_the_mesa_agents(which):
    """The forward filter's joint log-likelihood of the record's moves and flags equals,
    to 1e-9, log sum over the four type profiles (DPRK dealmaker/holdout x USA
    conciliatory/resolved) of prior x the Mesa agents' product of probabilities on the
    forced history: the beliefs, a deterministic function of the history, make the
    likelihood exact."""
    record = load_record("us_dprk_2018_2019")
    months = 14
    six = ["rationality", "target.concede.bias", "target.escalate.bias", "principal.concede.bias",
           "principal.escalate.bias", "trust_loss"]  # fmt: skip
    rm = RecordModel(record, None if which == "default" else six)
    values = (
        rm.default_values() if which == "default" else np.array([1.5, 1.0, -0.5, -0.3, 0.4, 0.3])
    )
    mask = np.zeros(record.n_months, dtype=bool)
    mask[:months] = True
    filtered = float(rm.loglik(values[None], mask)[0])
    cfg = rm.config
    dprk, usa = type_priors(cfg.actors["DPRK"].types), type_priors(cfg.actors["USA"].types)
    terms = []
    for (kd, pd_), (ku, pu) in itertools.product(dprk.items(), usa.items()):
        ll = _profile_loglik(record, rm.keys, values, {"DPRK": kd, "USA": ku}, months)
        terms.append(np.log(pd_) + np.log(pu) + ll)
    summed = float(np.logaddexp.reduce(terms))
    assert filtered == pytest.approx(summed, rel=1e-9)
    assert np.isfinite(filtered)


def test_a_record_with_only_dealmaker_moves_raises_the_belief():
    """Replaying 12 months where the DPRK concedes every month moves the public belief
    that it is a dealmaker above its prior; 12 months of escalation move it below."""
    record = load_record("us_dprk_2018_2019")
    rm = RecordModel(record)
    c = compile_configs([rm.config])
    i = c.structure.names.index("DPRK")
    beliefs = {}
    for move in (Action.CONCEDE, Action.ESCALATE):
        observed = np.ones((12, c.structure.n_actors), dtype=np.int64)
        observed[:, i] = move
        state: dict = {}
        replay_record(
            c, 0, observed, np.zeros(12, dtype=bool), np.empty((12, 4)), np.empty((12, 4, 3)), state
        )
        beliefs[move] = state["belief"][i, 0]
    assert beliefs[Action.CONCEDE] > 0.5 > beliefs[Action.ESCALATE]


def test_the_no_types_preset_gives_the_earlier_model():
    """``actors=no_types`` removes the DPRK's and the USA's types through Hydra (a type
    set to null is removed), and with ``model=trust_rule`` the runs equal those of a
    config built without types in Python."""
    from sim.hydra.compose import compose
    from sim.hydra.schema import MODEL_FIELDS
    from sim.model.params import NO_TYPES

    app = compose(["actors=no_types", "model=trust_rule", "rounds=40"])
    cfg = make_config(**{k: getattr(app, k) for k in MODEL_FIELDS})
    assert not cfg.actors["DPRK"].types and not cfg.actors["USA"].types
    plain = make_config(model="trust_rule", actors=NO_TYPES, rounds=40)
    a = run_batch([cfg] * 20, range(20), record=False, progress=False).runs
    b = run_batch([plain] * 20, range(20), record=False, progress=False).runs
    pd.testing.assert_frame_equal(a, b, check_exact=True)

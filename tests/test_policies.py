"""Rule policies pinned by exact action sequences against known opponents (Axelrod style).

Every expected sequence below is worked out by hand from the rules in
:func:`sim.model.decisions.rule_actions`:

- tit-for-tat: concede in round 1, then copy the counterpart's last action;
- GRIT: escalate after a counterpart escalation; concede after a counterpart
  concession or on an initiative round (1, 1 + p, 1 + 2p, … for grit_period p);
  hedge otherwise; before round 1 everybody counts as having hedged;
- scripted: the script, then its last action repeated.

The counterpart of the principal (USA) and of the allies/enforcers is the target
(DPRK); the target's counterpart is the principal. Runs use unreachable
agreement/breakdown thresholds so they always play the whole horizon.
"""

import pytest
from helpers import FULL_HORIZON

from sim import Action, NegotiationModel, make_config, run_batch

C, H, E = "concede", "hedge", "escalate"
LETTER = {Action.CONCEDE: "C", Action.HEDGE: "H", Action.ESCALATE: "E"}


def seq(text: str) -> list[str]:
    """'CHE' -> ['concede', 'hedge', 'escalate']."""
    return [{"C": C, "H": H, "E": E}[ch] for ch in text]


def play(actors: dict, rounds: int, rng=0, **params) -> NegotiationModel:
    """A full-horizon Mesa run with the given actor overrides."""
    m = NegotiationModel(rng=rng, rounds=rounds, actors=actors, **FULL_HORIZON, **params)
    m.run()
    assert m.round == rounds, "the run ended before the horizon: thresholds not unreachable"
    return m


def played(m: NegotiationModel, name: str) -> str:
    """The actor's actions over the run as letters, e.g. 'CHHE'."""
    codes = m.actions_of(name)
    return "".join(LETTER[Action(int(c))] for c in codes)


# --- tit-for-tat ----------------------------------------------------------------------


def test_tit_for_tat_opens_with_a_concession_then_copies_the_target():
    """TFT concedes in round 1, then plays the DPRK's previous action; the script's
    last action (escalate) repeats after the script ends."""
    m = play(
        {
            "USA": {"policy": "tit_for_tat"},
            "DPRK": {"policy": "scripted", "script": seq("CCEHHCE")},
        },
        rounds=10,
    )
    assert played(m, "DPRK") == "CCEHHCEEEE"
    assert played(m, "USA") == "CCCEHHCEEE"


def test_tit_for_tat_against_always_escalate():
    """TFT concedes once, then answers every escalation with an escalation."""
    m = play(
        {"USA": {"policy": "tit_for_tat"}, "DPRK": {"policy": "scripted", "script": [E]}}, rounds=6
    )
    assert played(m, "USA") == "CEEEEE"


def test_tit_for_tat_against_always_hedge():
    """TFT's opening concession is not reciprocated: it hedges from round 2 on."""
    m = play(
        {"USA": {"policy": "tit_for_tat"}, "DPRK": {"policy": "scripted", "script": [H]}}, rounds=6
    )
    assert played(m, "USA") == "CHHHHH"


def test_tit_for_tat_pair_concedes_forever():
    """Two TFT players (USA and DPRK) open with concessions and never leave them."""
    m = play({"USA": {"policy": "tit_for_tat"}, "DPRK": {"policy": "tit_for_tat"}}, rounds=12)
    assert played(m, "USA") == "C" * 12
    assert played(m, "DPRK") == "C" * 12


def test_target_on_tit_for_tat_copies_the_principal():
    """The DPRK's counterpart is the USA: a DPRK on TFT echoes the USA's script."""
    m = play(
        {"USA": {"policy": "scripted", "script": seq("EHCCH")}, "DPRK": {"policy": "tit_for_tat"}},
        rounds=7,
    )
    assert played(m, "USA") == "EHCCHHH"
    assert played(m, "DPRK") == "CEHCCHH"


def test_ally_on_tit_for_tat_copies_the_target_not_the_principal():
    """The ROK watches the DPRK: with USA and DPRK on different scripts, the ROK's
    TFT sequence follows the DPRK's."""
    m = play(
        {
            "USA": {"policy": "scripted", "script": [E]},
            "DPRK": {"policy": "scripted", "script": seq("HCEC")},
            "ROK": {"policy": "tit_for_tat"},
        },
        rounds=6,
    )
    assert played(m, "ROK") == "CHCECC"


# --- GRIT -----------------------------------------------------------------------------


def test_grit_period_4_against_a_mixed_script():
    """GRIT (period 4, initiatives in rounds 1, 5, 9, 13): concedes on initiative
    rounds unless the DPRK just escalated (round 5), reciprocates the DPRK's
    concession (round 10), answers each escalation with one (rounds 5, 7, 14, 15),
    and hedges otherwise."""
    dprk = "HHHEHEHHCHHHEEHH"
    m = play(
        {
            "USA": {"policy": "grit", "grit_period": 4},
            "DPRK": {"policy": "scripted", "script": seq(dprk)},
        },
        rounds=16,
    )
    assert played(m, "DPRK") == dprk
    assert played(m, "USA") == "CHHHEHEHCCHHCEEH"


def test_grit_period_3_against_always_hedge():
    """Against a hedger GRIT concedes exactly on rounds 1, 4, 7, 10 and hedges otherwise."""
    m = play(
        {
            "USA": {"policy": "grit", "grit_period": 3},
            "DPRK": {"policy": "scripted", "script": [H]},
        },
        rounds=10,
    )
    assert played(m, "USA") == "CHHCHHCHHC"


def test_grit_period_1_always_concedes_to_a_hedger():
    """With grit_period 1 every round is an initiative round."""
    m = play(
        {
            "USA": {"policy": "grit", "grit_period": 1},
            "DPRK": {"policy": "scripted", "script": [H]},
        },
        rounds=8,
    )
    assert played(m, "USA") == "C" * 8


def test_grit_against_always_escalate():
    """GRIT's first initiative is unanswered; then escalation beats every initiative."""
    m = play(
        {
            "USA": {"policy": "grit", "grit_period": 4},
            "DPRK": {"policy": "scripted", "script": [E]},
        },
        rounds=9,
    )
    assert played(m, "USA") == "CEEEEEEEE"


def test_grit_reciprocates_a_conceding_target():
    """Against a DPRK that hedges twice and then concedes forever, GRIT concedes
    from round 4 on (round 1 is an initiative)."""
    m = play(
        {
            "USA": {"policy": "grit", "grit_period": 4},
            "DPRK": {"policy": "scripted", "script": seq("HHC")},
        },
        rounds=8,
    )
    assert played(m, "USA") == "CHHCCCCC"


# --- scripted play --------------------------------------------------------------------


def test_scripted_play_follows_the_script_then_repeats_its_last_action():
    """A scripted USA plays E, H, C and then keeps conceding."""
    m = play(
        {
            "USA": {"policy": "scripted", "script": seq("EHC")},
            "DPRK": {"policy": "scripted", "script": seq("HCHE")},
        },
        rounds=6,
    )
    assert played(m, "USA") == "EHCCCC"
    assert played(m, "DPRK") == "HCHEEE"


def test_scripted_history_longer_than_the_horizon_is_cut():
    """Only the first ``rounds`` entries of a long script are played."""
    m = play(
        {
            "USA": {"policy": "scripted", "script": seq("CHECHECHE")},
            "DPRK": {"policy": "scripted", "script": [H]},
        },
        rounds=4,
    )
    assert played(m, "USA") == "CHEC"


def test_agent_action_when_stepping_matches_the_expected_sequence():
    """Stepping the Mesa model by hand, ``agent.action`` after each step is the
    round's action (TFT vs a script), and agrees with the recorder."""
    m = NegotiationModel(
        rng=3,
        rounds=7,
        **FULL_HORIZON,
        actors={
            "USA": {"policy": "tit_for_tat"},
            "DPRK": {"policy": "scripted", "script": seq("HCEEC")},
        },
    )
    usa, dprk = m.agent("USA"), m.agent("DPRK")
    assert usa.action is None and dprk.action is None
    seen_usa, seen_dprk = [], []
    for _ in range(7):
        m.step()
        seen_usa.append(LETTER[usa.action])
        seen_dprk.append(LETTER[dprk.action])
    assert "".join(seen_dprk) == "HCEECCC"
    assert "".join(seen_usa) == "CHCEECC"
    assert "".join(seen_usa) == played(m, "USA")


def test_rule_policies_ignore_the_random_numbers():
    """GRIT against a script is deterministic: 20 seeds (the other actors on a fully
    random logit, rationality 0) give the same USA sequence in the batch engine."""
    cfg = make_config(
        rounds=12,
        rationality=0.0,
        **FULL_HORIZON,
        actors={
            "USA": {"policy": "grit", "grit_period": 4},
            "DPRK": {"policy": "scripted", "script": seq("HHCHEHH")},
        },
    )
    traj = run_batch([cfg] * 20, range(20), progress=False).trajectories
    usa = traj[traj["actor"] == "USA"]
    by_run = usa.groupby("run_id", observed=True)["action"].apply(
        lambda s: "".join(a[0].upper() for a in s)
    )
    assert set(by_run) == {"CHHCCEHHCHHH"}
    # the logit-playing ROK does vary across seeds (the seeds do matter)
    rok = traj[traj["actor"] == "ROK"].groupby("run_id", observed=True)["action"].apply(tuple)
    assert rok.nunique() > 1


def test_a_forced_action_overrides_the_policy_for_one_round():
    """An event forcing the USA to escalate in round 3 overrides TFT that round;
    in round 4 TFT again copies the DPRK."""
    m = play(
        {"USA": {"policy": "tit_for_tat"}, "DPRK": {"policy": "scripted", "script": [C]}},
        rounds=5,
        events=[{"round": 3, "kind": "custom", "force": {"USA": E}}],
    )
    assert played(m, "USA") == "CCECC"


@pytest.mark.parametrize("policy", ["tit_for_tat", "grit", "scripted"])
def test_rule_policies_ignore_utility_weights(policy):
    """Rule policies never consult utilities: a huge bias toward escalation leaves
    the sequence unchanged."""
    usa = {"policy": policy, "script": seq("CHE")}
    dprk = {"policy": "scripted", "script": seq("HCHE")}
    plain = play({"USA": usa, "DPRK": dprk}, rounds=8)
    biased = play({"USA": {**usa, "escalate": {"bias": 50.0}}, "DPRK": dprk}, rounds=8)
    assert played(plain, "USA") == played(biased, "USA")
    # sanity: the same bias does change a logit player
    logit = play({"USA": {"escalate": {"bias": 50.0}}, "DPRK": dprk}, rounds=8)
    assert played(logit, "USA") == "E" * 8


# --- win-stay, lose-shift: a rule added through the registry (one file + these tests) -----


def test_win_stay_lose_shift_against_always_hedge():
    """Open with a concession; a hedge answered is a loss: concede -> hedge -> concede …"""
    m = play(
        {"USA": {"policy": "win_stay_lose_shift"}, "DPRK": {"policy": "scripted", "script": [H]}},
        rounds=6,
    )
    assert played(m, "USA") == "CHCHCH"


def test_win_stay_lose_shift_against_always_concede():
    """Every move is met with a concession (a win): WSLS keeps conceding."""
    m = play(
        {"USA": {"policy": "win_stay_lose_shift"}, "DPRK": {"policy": "scripted", "script": [C]}},
        rounds=6,
    )
    assert played(m, "USA") == "CCCCCC"


def test_win_stay_lose_shift_against_always_escalate():
    """Escalation is a loss every round: WSLS alternates, never escalating itself."""
    m = play(
        {"USA": {"policy": "win_stay_lose_shift"}, "DPRK": {"policy": "scripted", "script": [E]}},
        rounds=6,
    )
    assert played(m, "USA") == "CHCHCH"


def test_win_stay_lose_shift_against_a_mixed_script():
    """Against H C E H C C: C (opening), H (loss after C), H (win: stay), C (loss after H),
    H (loss after C), H (win: stay)."""
    m = play(
        {
            "USA": {"policy": "win_stay_lose_shift"},
            "DPRK": {"policy": "scripted", "script": seq("HCEHCC")},
        },
        rounds=6,
    )
    assert played(m, "USA") == "CHHCHH"


def test_win_stay_lose_shift_pair_and_against_tit_for_tat_concede_forever():
    """Two WSLS players, or WSLS against TFT, concede from round 1 on."""
    for dprk in ("win_stay_lose_shift", "tit_for_tat"):
        m = play({"USA": {"policy": "win_stay_lose_shift"}, "DPRK": {"policy": dprk}}, rounds=8)
        assert played(m, "USA") == played(m, "DPRK") == "C" * 8


def test_win_stay_lose_shift_is_pavlov_on_concede_and_hedge():
    """On concede/hedge alone it is Pavlov: CC -> C, CH -> H, HC -> H, HH -> C."""
    import numpy as np

    from sim.model.policies import Context, policy_class

    fn = policy_class("win_stay_lose_shift").probabilities
    out = np.empty(3)
    for own, cp, expected in ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)):
        fn(Context(5, own, cp, -1, np.array([4.0]), 5.0), np.zeros(3), out)
        assert out.tolist() == [1.0 if a == expected else 0.0 for a in range(3)]


# --- the registry ------------------------------------------------------------------------


def test_every_policy_file_registers_one_rule_named_after_it():
    """Each file in sim/model/policies/ defines exactly one Policy subclass whose name is
    the file's, with a docstring and a classifier; logit (the default) is code 0."""
    from pathlib import Path

    import sim.model.policies as policies
    from sim.model.policies import POLICIES, policy_class

    files = sorted(
        p.stem
        for p in Path(policies.__file__).parent.glob("*.py")
        if p.stem not in ("__init__", "dispatch")
    )
    assert sorted(POLICIES) == files
    assert POLICIES[0] == "logit"
    for name in POLICIES:
        cls = policy_class(name)
        assert cls.name == name and cls.describe()
        assert {"stochastic", "memory_depth", "uses_utility", "reference"} <= set(cls.classifier)


@pytest.mark.parametrize("name", ["tit_for_tat", "grit", "scripted", "win_stay_lose_shift"])
def test_deterministic_rules_put_all_probability_on_one_action(name):
    """A rule classified as not stochastic returns a one-hot vector in every context."""
    import itertools

    import numpy as np

    from sim.model.policies import Context, policy_class

    cls = policy_class(name)
    assert cls.classifier["stochastic"] is False
    out = np.empty(3)
    for t, own, cp, script in itertools.product((1, 2, 5, 9), range(3), range(3), range(3)):
        cls.probabilities(
            Context(t, own, cp, script, np.array([4.0]), 5.0), np.array([3.0, -1.0, 2.0]), out
        )
        assert sorted(out.tolist()) == [0.0, 0.0, 1.0]


def test_an_unknown_policy_is_refused_with_the_registered_names():
    from sim import ConfigError

    with pytest.raises(ConfigError, match="win_stay_lose_shift"):
        make_config(actors={"USA": {"policy": "pavlov"}})

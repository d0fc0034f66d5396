"""Play as a state: the student's seat, the comparison with the model, the terminal game.

Pinned like Axelrod's strategies: exact action sequences from a given seat and
seed, and the property that a seat the student leaves to the model replays the
model's own run exactly.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from sim import NegotiationModel
from sim.classroom.seats import ClassroomModel, HumanSeat, comparison
from sim.classroom.terminal import format_comparison, main, play
from sim.model.names import Action

C, H, E = Action.CONCEDE, Action.HEDGE, Action.ESCALATE


def actions(model, actor):
    i = model.agent(actor).index
    return [Action(int(a)) for a in model.history.actions[0, 1 : model.round + 1, i]]


def test_student_moves_are_played_in_order():
    moves = [C, H, E, C, C, H]
    m = ClassroomModel(player="DPRK", rounds=6, rng=0)
    for move in moves:
        m.seat.choice = move
        m.step()
    assert actions(m, "DPRK") == moves
    assert [t.source for t in m.seat.turns] == ["student"] * 6
    assert [t.round for t in m.seat.turns] == [1, 2, 3, 4, 5, 6]
    assert not m.running


def test_a_seat_left_to_the_model_replays_the_model_exactly():
    """No choices: every actor's actions and the state equal the plain model's, same seed."""
    for seed in range(5):
        m = ClassroomModel(player="USA", rounds=40, rng=seed)
        m.run()
        ref = NegotiationModel(rng=seed, **m.model_kwargs)
        ref.run()
        np.testing.assert_array_equal(m.history.actions, ref.history.actions)
        np.testing.assert_array_equal(m.history.x, ref.history.x)
        assert m.outcome == ref.outcome
        assert all(t.source == "model" and t.played == t.policy for t in m.seat.turns)


def test_playing_the_policy_draw_replays_the_model():
    """A chooser that plays what the policy drew gives the reference run."""
    m = ClassroomModel(scenario_name="grit", player="USA", rounds=30, rng=3)
    m.seat.chooser = lambda seat, decision: decision.policy_action  # through the public hook
    m.run()
    ref = m.reference()
    np.testing.assert_array_equal(m.history.actions, ref.history.actions)
    c = comparison(m)
    assert c["agree"] == c["chosen"] == m.round
    assert c["outcome"] == c["reference_outcome"]


def test_other_actors_keep_their_random_numbers():
    """Overriding the DPRK changes nothing in round 1 for the others (same uniforms, same state)."""
    m = ClassroomModel(player="DPRK", rounds=5, rng=11)
    m.seat.choice = E
    m.step()
    ref = m.reference()
    i = m.agent("DPRK").index
    others = [j for j in range(len(m.actor_list)) if j != i]
    np.testing.assert_array_equal(
        m.history.actions[0, 1, others], ref.history.actions[0, 1, others]
    )


def test_event_forced_action_is_kept():
    """A scheduled test forces the DPRK to escalate, whatever the student chose."""
    m = ClassroomModel(player="DPRK", rounds=4, rng=0, events=[{"round": 2, "kind": "test"}])
    assert m.seat.forced_next() is None
    for move in (C, C, C, C):
        if m.round == 1:
            assert m.seat.forced_next() == E
        m.seat.choice = move
        m.step()
    assert actions(m, "DPRK") == [C, E, C, C]
    assert [t.source for t in m.seat.turns] == ["student", "event", "student", "student"]


def test_probabilities_are_the_logit_policy():
    m = ClassroomModel(player="DPRK", rounds=10, rng=0)
    probs = m.seat.probabilities()
    assert len(probs) == 3 and abs(sum(probs) - 1) < 1e-12
    m.step()
    assert m.seat.turns[0].probabilities == pytest.approx(probs)


def test_seat_on_a_plain_model():
    """The seat works on any NegotiationModel, not only the classroom one."""
    m = NegotiationModel(rounds=3, rng=2)
    seat = HumanSeat(m, "ROK", chooser=lambda seat, probs: Action.ESCALATE)
    m.run()
    assert actions(m, "ROK") == [E, E, E]
    assert [t.source for t in seat.turns] == ["student"] * 3


def test_mesa_scenario_object_is_accepted():
    """SolaraViz's Reset hands every model Mesa's own Scenario object: it is ignored."""
    from mesa.experimental.scenarios import Scenario

    m = ClassroomModel(scenario_name="relief_first", rng="5", scenario=Scenario())
    assert m.seed == 5 and m.config.regime == "relief_first"
    assert ClassroomModel(rng="").seed >= 0  # blank seed box: a seed is drawn and kept


def test_format_comparison_reports_both_runs():
    m = ClassroomModel(player="DPRK", rounds=8, rng=0)
    for move in (C, C, C, C):
        m.seat.choice = move
        m.step()
    m.run()
    text = format_comparison(m)
    assert "You played DPRK (seed 0, scenario baseline_2018)" in text
    assert "the model" in text and "outcome" in text
    import re

    assert re.search(r"In \d of the 4 rounds you chose", text)
    assert text.count("(you let the model play)") == 4


def test_terminal_game_with_prompts():
    answers = iter(["?", "x", "c", "h", "e", "q"])
    out: list[str] = []
    m = play(
        "DPRK",
        "baseline_2018",
        rounds=6,
        seed=0,
        read=lambda prompt: next(answers),
        write=out.append,
    )
    text = "\n".join(out)
    assert actions(m, "DPRK")[:3] == [C, H, E]
    assert "Please type c, h or e." in text
    assert "c = concede: DPRK dismantles a site" in text
    assert "The model plays your seat for the remaining rounds." in text
    assert "Round 6 — " in text and "You played DPRK" in text


def test_terminal_game_end_of_input_hands_over():
    def eof(prompt):
        raise EOFError

    out: list[str] = []
    m = play("USA", "grit", rounds=5, seed=1, read=eof, write=out.append)
    assert not m.running and all(t.source == "model" for t in m.seat.turns)


def test_cli_moves(capsys):
    assert (
        main(
            [
                "--actor",
                "DPRK",
                "--rounds",
                "6",
                "--seed",
                "0",
                "--moves",
                "cch",
                "--color",
                "never",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "You are DPRK in the scenario 'baseline_2018': 6 rounds, seed 0." in out
    assert "Round 1 — " in out and "DPRK concedes" in out
    assert "the model" in out


def test_cli_reads_moves_from_a_pipe(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("e\ne\n"))
    assert main(["--actor", "USA", "--rounds", "4", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert out.count("USA escalates") >= 2


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--actor", "FRA"], "--actor = 'FRA' is not at the table in baseline_2018; choose one of: USA, DPRK"),
        (["--scenario", "nowhere"], "--scenario = 'nowhere' is not allowed; choose one of: baseline_2018"),
        (["--scenario", "../config"], "--scenario = '../config' is not allowed"),
        (["--rounds", "0"], "--rounds = 0 is outside the allowed range [1, 100000]"),
        (["--rounds", "abc"], "argument --rounds: invalid int value: 'abc' (usage: stalemate-play"),
        (["--seed", "-1"], "--seed = -1 is outside the allowed range [0, 9223372036854775807]"),
        (["--moves", "hxc"], "--moves = 'hxc': 'x' is not a move; give one letter per round: c (concede)"),
        (["--color", "maybe"], "argument --color: invalid choice: 'maybe'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)  # fmt: skip
def test_cli_refuses_in_one_line_before_the_game_starts(capsys, argv, words):
    """Each was argparse's usage block and error (two lines), or a game that silently
    dropped the moves it could not read."""
    assert main([*argv, "--color", "never"] if "--color" not in argv else argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and words in err, err


def test_cli_refuses_moves_it_cannot_read_on_a_pipe(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("h\nq\n"))
    assert main(["--rounds", "4", "--color", "never"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "the moves on standard input = 'h\\nq\\n': 'q' is not a move" in err

"""The stage game of one round, for teaching: payoff matrix and Nash equilibria.

Plays one run of a scenario (seed ``--seed``) up to the chosen round, then shows
the 3 x 3 game between two actors in that round — each cell the two actors' own
utilities (see :mod:`sim.analysis.stagegame` for the definition) — with its pure and mixed
Nash equilibria, the logit equilibrium, and what the model's actors actually play.
Writes ``results/stage_game/<scenario>_round<r>_<A>_<B>.txt`` and ``.csv``.

Usage::

    python experiments/stage_game.py --scenario baseline_2018 --round 6 --actors USA DPRK
    python experiments/stage_game.py --scenario replay_2018 --round 5 --actors USA DPRK
    python experiments/stage_game.py --scenario relief_first --round 10 --actors ROK DPRK --seed 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.analysis.stagegame import decision_state, format_stage_game, payoff_table, stage_game
from sim.hydra.compose import scenario_kwargs
from sim.model.params import make_config
from sim.report.io import write_text


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scenario", default="baseline_2018", help="a scenario in configs/scenario/")
    ap.add_argument(
        "--round", type=int, default=6, help="the round whose stage game to show (1-based)"
    )
    ap.add_argument("--actors", nargs=2, default=["USA", "DPRK"], metavar=("ROW", "COLUMN"))
    ap.add_argument("--seed", type=int, default=0, help="the run whose state is used")
    ap.add_argument("--out", default="results/stage_game")
    args = ap.parse_args(argv)

    cfg = make_config(**scenario_kwargs(args.scenario))
    point, ended = decision_state(cfg, args.seed, args.round)
    if ended:
        raise SystemExit(
            f"the run with seed {args.seed} ended before round {args.round}; "
            "choose an earlier round or another seed"
        )
    names = point.compiled.structure.names
    for name in args.actors:
        if name not in names:
            raise SystemExit(f"unknown actor {name!r}; actors: {', '.join(names)}")
    game = stage_game(point, *args.actors)
    when = f"{args.scenario}, seed {args.seed}"
    if args.scenario == "replay_2018":
        from sim.analysis.replay import round_month

        when += f", {round_month(args.round)}"
    text = format_stage_game(game, when)
    print(text)
    stem = Path(args.out) / f"{args.scenario}_round{args.round}_{args.actors[0]}_{args.actors[1]}"
    write_text(text + "\n", stem.with_suffix(".txt"))
    write_text(payoff_table(game).to_csv(), stem.with_suffix(".csv"))
    print(f"\nWrote {stem}.txt and .csv")


if __name__ == "__main__":
    main()

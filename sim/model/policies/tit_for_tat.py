"""Tit-for-tat: open with a concession, then copy the counterpart's last move."""

from sim.model.jit import kernel
from sim.model.names import Action
from sim.model.policies import Policy


@kernel(inline="always")
def _probabilities(ctx, utility, out):
    move = Action.CONCEDE if ctx.round == 1 else ctx.counterpart_last
    for a in range(out.shape[0]):
        out[a] = 1.0 if a == move else 0.0


class TitForTat(Policy):
    """Tit-for-tat: concede in round 1, then play the counterpart's previous action (Axelrod 1984)."""

    name = "tit_for_tat"
    classifier = {
        "stochastic": False,
        "memory_depth": 1,
        "uses_utility": False,
        "reference": "Axelrod (1984), The Evolution of Cooperation",
    }
    probabilities = _probabilities

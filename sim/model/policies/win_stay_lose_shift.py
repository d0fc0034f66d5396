"""Win-stay, lose-shift (Pavlov): keep a move that was met with a concession, change one that was not."""

from sim.model.jit import kernel
from sim.model.names import Action
from sim.model.policies import Policy


@kernel(inline="always")
def _probabilities(ctx, utility, out):
    if ctx.round == 1:
        move = Action.CONCEDE
    elif ctx.counterpart_last == Action.CONCEDE:
        move = ctx.own_last  # a win: stay
    elif ctx.own_last == Action.HEDGE:
        move = Action.CONCEDE  # a loss after hedging: try a concession
    else:
        move = Action.HEDGE  # a loss after conceding or escalating: step back to hedging
    for a in range(out.shape[0]):
        out[a] = 1.0 if a == move else 0.0


class WinStayLoseShift(Policy):
    """Win-stay, lose-shift: concede in round 1; after the counterpart conceded, repeat
    the own last move; otherwise shift (hedge -> concede, concede or escalate -> hedge).

    On concede/hedge alone this is Pavlov in the prisoner's dilemma (Kraines &
    Kraines 1989; Nowak & Sigmund 1993): CC -> C, CD -> D, DC -> D, DD -> C.
    """

    name = "win_stay_lose_shift"
    classifier = {
        "stochastic": False,
        "memory_depth": 1,
        "uses_utility": False,
        "reference": "Nowak & Sigmund (1993), Nature 364: 56-58",
    }
    probabilities = _probabilities

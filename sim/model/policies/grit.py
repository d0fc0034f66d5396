"""Osgood's GRIT: small unilateral concessions at a steady pace, reciprocated."""

from sim.model.jit import kernel
from sim.model.names import Action
from sim.model.policies import Policy


@kernel(inline="always")
def _probabilities(ctx, utility, out):
    initiative = (ctx.round - 1) % int(ctx.params[0]) == 0  # the period
    if ctx.counterpart_last == Action.ESCALATE:
        move = Action.ESCALATE  # answer an escalation with one escalation
    elif ctx.counterpart_last == Action.CONCEDE or initiative:
        move = Action.CONCEDE  # reciprocate, or take the scheduled initiative
    else:
        move = Action.HEDGE
    for a in range(out.shape[0]):
        out[a] = 1.0 if a == move else 0.0


class Grit(Policy):
    """GRIT: concede every ``grit_period`` rounds from round 1 and after a concession,
    answer an escalation with one escalation, hedge otherwise (Osgood 1962)."""

    name = "grit"
    parameters = {"grit_period": 4}  # (default: ActorConfig.grit_period's)
    classifier = {
        "stochastic": False,
        "memory_depth": 1,
        "uses_utility": False,
        "reference": "Osgood (1962), An Alternative to War or Surrender",
    }
    probabilities = _probabilities

"""Scripted play: replay a given sequence of actions (e.g. history)."""

from sim.model.jit import kernel
from sim.model.policies import Policy


@kernel(inline="always")
def _probabilities(ctx, utility, out):
    for a in range(out.shape[0]):
        out[a] = 1.0 if a == ctx.script else 0.0


class Scripted(Policy):
    """Scripted: the configured action for each round, then the script's last action repeated."""

    name = "scripted"
    classifier = {
        "stochastic": False,
        "memory_depth": 0,
        "uses_utility": False,
        "reference": "for replaying a recorded history",
    }
    probabilities = _probabilities

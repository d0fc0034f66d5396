"""The logit (quantal-response) rule: the model's default."""

from sim.model.decisions import logit_probabilities
from sim.model.jit import kernel
from sim.model.policies import Policy


@kernel(inline="always")
def _probabilities(ctx, utility, out):
    logit_probabilities(utility, ctx.rationality, out)


class Logit(Policy):
    """Logit choice: P(a) proportional to exp(rationality x U(a)) (McKelvey & Palfrey 1995).

    Rationality 0 plays each action with probability 1/3; as it grows the actor
    plays its best reply to the state it faces.
    """

    name = "logit"
    classifier = {
        "stochastic": True,
        "memory_depth": float("inf"),
        "uses_utility": True,
        "reference": "McKelvey & Palfrey (1995), quantal response equilibria",
    }
    probabilities = _probabilities

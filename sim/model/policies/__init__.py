"""Decision policies: each rule is one file in this folder, registered by name.

A policy turns what an actor faces into the probabilities of its three actions
(concede, hedge, escalate); the engines then draw the action with the actor's
own uniform number (:func:`sim.model.decisions.draw`). A deterministic rule
puts probability 1 on one action, so it ignores the random number; the exact
likelihood of a recorded history (:mod:`sim.model.likelihood`) reads the same
probabilities.

Adding a rule is one new file, ``sim/model/policies/<name>.py``, with one
subclass of :class:`Policy` whose ``name`` is the file's name, and a test. The
registry finds it by the file name (so configs can be validated without
compiling anything); the engines import it and dispatch to it by number
(:mod:`sim.model.policies.dispatch`). No other policy's code changes.

A policy's ``probabilities`` is a compiled function (``@kernel``) with the
signature ``probabilities(ctx, utility, out)``:

- ``ctx`` — a :class:`Context`: the round, the actor's and its counterpart's
  last actions, this round's scripted action, the GRIT period, the rationality;
- ``utility`` — the actor's utilities of the three actions in this state;
- ``out`` — where to write the three probabilities.

Example:
    >>> POLICIES[0], "tit_for_tat" in POLICIES, "win_stay_lose_shift" in POLICIES
    ('logit', True, True)
    >>> policy_class("grit").classifier["stochastic"]
    False
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import namedtuple
from typing import ClassVar

#: What a rule may look at when it decides (built inside compiled code, so free to extend).
Context = namedtuple(
    "Context",
    ["round", "own_last", "counterpart_last", "script", "period", "rationality"],
)
Context.__doc__ = """What a policy sees when it decides for round ``round`` (1-based).

Fields:
    round: the round being decided.
    own_last: the actor's own action last round (HEDGE before round 1).
    counterpart_last: its counterpart's action last round (HEDGE before round 1).
    script: this round's action from the actor's script (-1 if it has none).
    period: the actor's GRIT period (rounds between unilateral concessions).
    rationality: the logit precision.
"""

_NOT_POLICIES = {"dispatch"}


def _discover() -> tuple[str, ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_POLICIES)
    return tuple(sorted(names, key=lambda n: (n != "logit", n)))  # logit (the default) is code 0


#: Every registered policy by name; a policy's code in compiled arrays is its position here.
POLICIES: tuple[str, ...] = _discover()


class Policy:
    """Base of a decision rule. Subclasses set ``name``, ``classifier`` and ``probabilities``.

    The classifier, as in Axelrod's library, says what kind of rule it is:
    ``stochastic`` (does it use the random number), ``memory_depth`` (how many past
    rounds it reads; ``inf`` for the state-dependent logit rule), ``uses_utility``
    (does it read the utilities) and ``reference`` (where the rule comes from).
    """

    name: ClassVar[str] = ""
    classifier: ClassVar[dict] = {}
    probabilities = None  # a @kernel function (ctx, utility, out) -> None

    @classmethod
    def describe(cls) -> str:
        """The first line of the rule's docstring."""
        return (cls.__doc__ or cls.name).strip().splitlines()[0]


def policy_class(name: str) -> type[Policy]:
    """The :class:`Policy` subclass registered as ``name`` (imports its file).

    Raises:
        KeyError: for a name that is not registered.
    """
    if name not in POLICIES:
        raise KeyError(f"no policy {name!r}; registered: {', '.join(POLICIES)}")
    module = importlib.import_module(f"{__name__}.{name}")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Policy)
        and obj is not Policy
        and obj.name == name
    ]
    if len(found) != 1:
        raise TypeError(f"{module.__file__} must define exactly one Policy subclass named {name!r}")
    return found[0]


def code(name: str) -> int:
    """The number of a policy in compiled arrays.

    Example:
        >>> code("logit")
        0
    """
    return POLICIES.index(name)

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

A rule may also live in **another package**: it registers under the entry-point
group ``stalemate.policies`` (:data:`ENTRY_POINTS`), its name pointing at its
:class:`Policy` subclass::

    [project.entry-points."stalemate.policies"]
    every_nth = "my_rules:EveryNth"

Installed, it is a policy like the package's own (``actors.USA.policy=every_nth``),
numbered after them (the package's own codes do not move), and compiled into the
engines' dispatch; its source is part of the compiled code's hash
(:func:`plugin_sources`), so installing or editing one recompiles.

A rule's own per-actor parameters are declared once, in ``Policy.parameters`` (name
-> default, e.g. GRIT's ``{"grit_period": 4}``); each actor's values are set by
``actors.<actor>.rule.<name>`` and travel to the rule as one array, ``ctx.params``,
in the declared order — nothing is threaded by hand through the engines.

A policy's ``probabilities`` is a compiled function (``@kernel``) with the
signature ``probabilities(ctx, utility, out)``:

- ``ctx`` — a :class:`Context`: the round, the actor's and its counterpart's
  last actions, this round's scripted action, the actor's rule parameters, the
  rationality;
- ``utility`` — the actor's utility of each action in this state;
- ``out`` — where to write the probability of each action.

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
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

#: What a rule may look at when it decides (built inside compiled code, so free to extend).
Context = namedtuple(
    "Context",
    ["round", "own_last", "counterpart_last", "script", "params", "rationality"],
)
Context.__doc__ = """What a policy sees when it decides for round ``round`` (1-based).

Fields:
    round: the round being decided.
    own_last: the actor's own action last round (HEDGE before round 1).
    counterpart_last: its counterpart's action last round (HEDGE before round 1).
    script: this round's action from the actor's script (-1 if it has none).
    params: the actor's rule parameters (float array), in the order its policy's
        ``parameters`` declares them (GRIT: ``params[0]``, the period).
    rationality: the logit precision.
"""

_NOT_POLICIES = {"dispatch"}

#: The entry-point group through which other packages register rules.
ENTRY_POINTS = "stalemate.policies"


def _discover() -> tuple[str, ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_POLICIES)
    return tuple(sorted(names, key=lambda n: (n != "logit", n)))  # logit (the default) is code 0


#: The package's own rules (one file each in this folder), logit first.
BUILTIN: tuple[str, ...] = _discover()


def _plugins() -> dict[str, EntryPoint]:
    """Rules other packages register (:data:`ENTRY_POINTS`), by name; a name the package
    already uses is not taken over."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINTS)}
    return {n: found[n] for n in sorted(found) if n not in BUILTIN and n.isidentifier()}


#: The installed plug-in rules' entry points, by name.
PLUGINS: dict[str, EntryPoint] = _plugins()

#: Every registered policy by name; a policy's code in compiled arrays is its position here:
#: the package's own rules, then the plug-ins in name order.
POLICIES: tuple[str, ...] = BUILTIN + tuple(PLUGINS)


class Policy:
    """Base of a decision rule. Subclasses set ``name``, ``classifier`` and ``probabilities``.

    The classifier, as in Axelrod's library, says what kind of rule it is:
    ``stochastic`` (does it use the random number), ``memory_depth`` (how many past
    rounds it reads; ``inf`` for the state-dependent logit rule), ``uses_utility``
    (does it read the utilities) and ``reference`` (where the rule comes from).
    """

    name: ClassVar[str] = ""
    classifier: ClassVar[dict] = {}
    #: The rule's per-actor parameters, name -> default, in the order ``ctx.params`` holds
    #: them; an actor sets them by ``actors.<actor>.rule.<name>``.
    parameters: ClassVar[dict[str, float]] = {}
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
    if name in PLUGINS:
        obj = PLUGINS[name].load()
        if not (isinstance(obj, type) and issubclass(obj, Policy) and obj.name == name):
            raise TypeError(
                f"entry point {name} = {PLUGINS[name].value!r} ({ENTRY_POINTS}) must be a "
                f"Policy subclass named {name!r}"
            )
        return obj
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


def plugin_sources() -> bytes:
    """What the compiled dispatch reads from outside the package: each plug-in rule's name,
    entry point and module source (so the compiled code's cache and hash follow them)."""
    import importlib.util

    out = []
    for name, ep in PLUGINS.items():
        out.append(f"{name}={ep.value}".encode())
        spec = importlib.util.find_spec(ep.module)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, "rb") as f:
                out.append(f.read())
    return b"\n".join(out)


def code(name: str) -> int:
    """The number of a policy in compiled arrays.

    Example:
        >>> code("logit")
        0
    """
    return POLICIES.index(name)

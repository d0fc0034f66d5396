"""What the Python API and the command line are handed, checked before the model builds a config.

:func:`sim.model.params.make_config` fills in what an input leaves out, as a
dataclass does: an event given as ``{}`` becomes a summit in round 1. Two
inputs are refused here, at the edges (``run_batch``, ``NegotiationModel``, the
``stalemate`` command and its sweeps), with the model's own
:class:`~sim.model.validation.ConfigError`:

- an event that does not say when and what: each event given as a mapping
  needs at least ``round`` and ``kind`` (an :class:`~sim.model.params.EventConfig`
  object is taken as built);
- an actor name that cannot stand in a column name (``hedge_share_<NAME>``):
  letters, digits and underscores, starting with a letter, at most
  :data:`MAX_ACTOR_NAME` characters.

(Both checks belong with the model's own validation; they live here until it
adopts them, and any caller of ``make_config`` that goes through the engines or
the Hydra layer gets them.)

Example:
    >>> check_events([{"round": 3, "kind": "summit"}])
    >>> check_events([{}])
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: events[0] = {} does not say when and what: an event needs at least round and kind, e.g. {round: 3, kind: summit}; kinds: summit, cancelled_meeting, report, test, relief_offer, custom
    >>> check_actor_names(["USA", "J\\nP"])
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: actors: 'J\\nP' cannot be an actor name (it names columns such as hedge_share_<NAME>): use letters, digits and '_', starting with a letter, at most 32 characters
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sim.model.events import EVENT_KINDS
from sim.model.params import EventConfig, ModelConfig, is_dataclass_instance, make_config
from sim.model.validation import ConfigError

#: The longest actor name (it becomes part of column names).
MAX_ACTOR_NAME = 32
#: What an actor name may look like.
ACTOR_NAME = re.compile(rf"[A-Za-z][A-Za-z0-9_]{{0,{MAX_ACTOR_NAME - 1}}}")
#: What every event given as a mapping must say.
EVENT_REQUIRED = ("round", "kind")
#: What an event may say.
EVENT_KEYS = tuple(EventConfig.__dataclass_fields__)


def check_actor_names(names: Iterable[Any]) -> None:
    """Every actor name is a safe column-name part (see :data:`ACTOR_NAME`).

    Raises:
        ConfigError: naming the first bad name and what is allowed.
    """
    for name in names:
        if not isinstance(name, str) or not ACTOR_NAME.fullmatch(name):
            raise ConfigError(
                f"actors: {name!r} cannot be an actor name (it names columns such as "
                "hedge_share_<NAME>): use letters, digits and '_', starting with a letter, "
                f"at most {MAX_ACTOR_NAME} characters"
            )


def check_events(events: Any, key: str = "events") -> None:
    """Each event given as a mapping says at least when (``round``) and what (``kind``).

    Anything that is not a list of mappings is left to the model's validation, which
    names it.

    Raises:
        ConfigError: naming the event, what it lacks and the kinds allowed.
    """
    if not isinstance(events, list | tuple):
        return
    for i, event in enumerate(events):
        if is_dataclass_instance(event) or not isinstance(event, dict):
            continue
        if any(k not in EVENT_KEYS for k in event):
            continue  # the model names the unknown key (and suggests the one meant)
        missing = [k for k in EVENT_REQUIRED if k not in event]
        if missing:
            shown = "{}" if not event else repr(event)
            raise ConfigError(
                f"{key}[{i}] = {shown} does not say when and what: an event needs at least "
                f"round and kind, e.g. {{round: 3, kind: summit}}; kinds: {', '.join(EVENT_KINDS)}"
            )


def check_config(cfg: ModelConfig) -> ModelConfig:
    """A built config's actor names checked (its events were checked when given); returned."""
    check_actor_names(cfg.actors)
    return cfg


def config_from(params: dict) -> ModelConfig:
    """:func:`~sim.model.params.make_config` of keyword arguments, with this module's
    checks first (events) and after (actor names)."""
    check_events(params.get("events"))
    if isinstance(params.get("actors"), dict):
        check_actor_names(params["actors"])
    return check_config(make_config(**params))

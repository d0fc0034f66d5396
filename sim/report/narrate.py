"""A run told in plain words, round by round (for the terminal and the classroom).

Example:
    >>> from sim import NegotiationModel
    >>> m = NegotiationModel(rounds=12, rng=1)
    >>> m.run()
    >>> print(narrate(m, color=False).splitlines()[0])  # doctest: +ELLIPSIS
    Round 1 — ...
"""

from __future__ import annotations

import numpy as np

from sim.model.actors import describe_action
from sim.model.events import describe
from sim.model.names import ACTION_NAMES, ACTION_TABLE, Action, Outcome, T, V
from sim.model.params import P

VERBS = {a.name: a.verb for a in ACTION_TABLE}
COLORS = {"concede": "\033[32m", "hedge": "\033[33m", "escalate": "\033[31m"}  # others: none
RESET, BOLD = "\033[0m", "\033[1m"


def paint(text: str, action: str, color: bool) -> str:
    """``text`` in the colour of ``action`` (green concede, yellow hedge, red escalate)."""
    return f"{COLORS[action]}{text}{RESET}" if color and action in COLORS else text


def _actor_phrase(name, role, action, color) -> str:
    words = describe_action(role, ACTION_NAMES.index(action))
    return paint(f"{name} {VERBS[action]}", action, color) + f": {words}"


def ending(model) -> str:
    """Why the run ended as it did, in one or two sentences."""
    tally, x = model.state.tally[0], model.state.x[0]
    theta, initial = model.compiled.theta[0], model.compiled.initial[0]
    t = int(tally[T.end_round])
    out = Outcome(int(tally[T.outcome]))
    theta_a, theta_b = theta[P.agreement_threshold], theta[P.breakdown_threshold]
    if out == Outcome.AGREEMENT:
        return (
            f"Agreement in round {t}: verified denuclearization reached {x[V.denuclearization]:.2f} "
            f"and the package delivered (assurance {x[V.assurance]:.2f}, relief {x[V.relief]:.2f}) "
            f"passed {theta_a:.2f}."
        )
    if out == Outcome.BREAKDOWN:
        return (
            f"Breakdown in round {t}: tension reached {x[V.tension]:.2f} (crisis at {theta_b:.2f})."
        )
    u0, u1 = initial[V.undeclared], x[V.undeclared]
    d = x[V.denuclearization]
    if out == Outcome.HEDGED_STALEMATE:
        return (
            f"No deal after {t} rounds: a hedged stalemate. Undeclared capability grew from "
            f"{u0:.2f} to {u1:.2f} while verified denuclearization stands at {d:.2f}."
        )
    if out == Outcome.STALEMATE:
        return f"No deal after {t} rounds: a stalemate (verified denuclearization {d:.2f})."
    if model.round >= model.structure.rounds:
        last = int(tally[T.progress_round])
        return (
            f"Undecided after {t} rounds: the talks were still moving (last progress in round "
            f"{last}); a stalemate needs {theta[P.stalemate_window]:.0f} rounds without progress."
        )
    return f"Still negotiating after {model.round} rounds."


def round_lines(model, t: int, color: bool = True) -> list[str]:
    """The words for round ``t`` (already played): events, actions, imagery."""
    s, h = model.structure, model.history
    acts = h.actions[0, t]
    flagged = bool(h.flag[0, t])
    parts = []
    for ev in model.events_by_round.get(t, []):
        parts.append(f"[{describe(ev)}]")
    for i, (name, role) in enumerate(zip(s.names, s.roles)):
        if i in (s.target, s.principal) or acts[i] != Action.HEDGE:
            phrase = _actor_phrase(name, role, ACTION_NAMES[acts[i]], color)
            if i == s.target and flagged:
                reported = any(ev.kind == "report" for ev in model.events_by_round.get(t, []))
                source = "a published report" if reported else "satellite imagery"
                if acts[i] == Action.HEDGE:
                    phrase += f" (caught by {source})"
                else:
                    phrase += f" (a false alarm: {source} says it is hedging)"
            parts.append(phrase + ".")
    if flagged:
        parts.append(
            trust_change(
                s.names[s.principal],
                s.names[s.target],
                h.trust[0, t - 1, s.principal],
                h.trust[0, t, s.principal],
            )
        )
    return parts


def trust_change(observer: str, observed: str, before: float, after: float) -> str:
    """One sentence on how ``observer``'s trust in ``observed`` moved this round.

    A flag costs trust, but a concession in the same round may earn more back, so
    the direction is read from the numbers, never assumed.

    Example:
        >>> trust_change("USA", "DPRK", 0.20, 0.224)
        'USA trust in the DPRK rises to 0.22 (from 0.20).'
        >>> trust_change("USA", "DPRK", 0.20, 0.16)
        'USA trust in the DPRK falls to 0.16 (from 0.20).'
    """
    if round(after, 2) == round(before, 2):
        return f"{observer} trust in the {observed} stays at {after:.2f}."
    verb = "rises" if after > before else "falls"
    return f"{observer} trust in the {observed} {verb} to {after:.2f} (from {before:.2f})."


def _quiet(model, t: int) -> bool:
    s, h = model.structure, model.history
    acts = h.actions[0, t]
    return (
        acts[s.target] == Action.HEDGE
        and acts[s.principal] == Action.HEDGE
        and not h.flag[0, t]
        and t not in model.events_by_round
    )


def narrate(model, max_rounds: int = 24, color: bool = True) -> str:
    """Tell a finished (or partly played) run of a :class:`sim.NegotiationModel`.

    Stretches of rounds where the main parties both hedge and nothing is
    detected are told in one line. Rounds after ``max_rounds`` are summarised.

    Args:
        model: the model after some steps.
        max_rounds: how many rounds to tell in full.
        color: colour actions (green concede, yellow hedge, red escalate).
    """
    s, h = model.structure, model.history
    played = model.round
    lines: list[str] = []
    t = 1
    shown = min(played, max_rounds)
    while t <= shown:
        if _quiet(model, t):
            start = t
            while t + 1 <= shown and _quiet(model, t + 1):
                t += 1
            u = h.x[0, t, V.undeclared]
            span = f"Round {start}" if start == t else f"Rounds {start}–{t}"
            hedge = paint("both hedge", "hedge", color)
            lines.append(
                f"{span} — {s.names[s.target]} and {s.names[s.principal]} {hedge}; "
                f"undeclared capability {u:.2f}, tension {h.x[0, t, V.tension]:.2f}."
            )
        else:
            lines.append(f"Round {t} — " + " ".join(round_lines(model, t, color)))
        t += 1
    if played > shown:
        acts = h.actions[0, shown + 1 : played + 1, s.target]
        counts = {a: int(np.sum(acts == a)) for a in Action}
        lines.append(
            f"Rounds {shown + 1}–{played} — {s.names[s.target]} conceded {counts[Action.CONCEDE]}, "
            f"hedged {counts[Action.HEDGE]} and escalated {counts[Action.ESCALATE]} times; "
            f"imagery flagged it {int(h.flag[0, shown + 1 : played + 1].sum())} times."
        )
    end = ending(model)
    lines.append(f"{BOLD}{end}{RESET}" if color else end)
    return "\n".join(lines)

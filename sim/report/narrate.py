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

from sim.model.actors import ROLE_WORDS
from sim.model.dynamics import V
from sim.model.events import describe
from sim.model.names import ACTION_NAMES, Action, Outcome

VERBS = {"concede": "concedes", "hedge": "hedges", "escalate": "escalates"}
COLORS = {"concede": "\033[32m", "hedge": "\033[33m", "escalate": "\033[31m"}
RESET, BOLD = "\033[0m", "\033[1m"


def paint(text: str, action: str, color: bool) -> str:
    """``text`` in the colour of ``action`` (green concede, yellow hedge, red escalate)."""
    return f"{COLORS[action]}{text}{RESET}" if color else text


def _actor_phrase(name, role, action, color) -> str:
    words = ROLE_WORDS[role][action]
    return paint(f"{name} {VERBS[action]}", action, color) + f": {words}"


def ending(model) -> str:
    """Why the run ended as it did, in one or two sentences."""
    p, st = model.params, model.state
    x = st.x[:, 0]
    t = int(st.end_round[0])
    out = Outcome(int(st.outcome[0]))
    theta_a, theta_b = p.agreement_threshold[0], p.breakdown_threshold[0]
    if out == Outcome.AGREEMENT:
        return (
            f"Agreement in round {t}: verified denuclearization reached {x[V['denuclearization']]:.2f} "
            f"and the package (assurance {x[V['assurance']]:.2f}, relief {x[V['relief']]:.2f}) "
            f"passed {theta_a:.2f}."
        )
    if out == Outcome.BREAKDOWN:
        return f"Breakdown in round {t}: tension reached {x[V['tension']]:.2f} (crisis at {theta_b:.2f})."
    u0, u1 = p.initial[V["undeclared"], 0], x[V["undeclared"]]
    d = x[V["denuclearization"]]
    if out == Outcome.HEDGED_STALEMATE:
        return (
            f"No deal after {t} rounds: a hedged stalemate. Undeclared capability grew from "
            f"{u0:.2f} to {u1:.2f} while verified denuclearization stands at {d:.2f}."
        )
    if out == Outcome.STALEMATE:
        return f"No deal after {t} rounds: a stalemate (verified denuclearization {d:.2f})."
    return f"Still negotiating after {model.round} rounds."


def round_lines(model, t: int, color: bool = True) -> list[str]:
    """The words for round ``t`` (already played): events, actions, imagery."""
    p, rec = model.params, model.recorder
    acts = rec.actions[t, :, 0]
    parts = []
    for ev in model.events_by_round.get(t, []):
        parts.append(f"[{describe(ev)}]")
    for i, (name, role) in enumerate(zip(p.names, p.roles)):
        if i in (p.target, p.principal) or acts[i] != Action.HEDGE:
            phrase = _actor_phrase(name, role, ACTION_NAMES[acts[i]], color)
            if i == p.target and rec.flagged[t, 0]:
                reported = any(ev.kind == "report" for ev in model.events_by_round.get(t, []))
                source = "a published report" if reported else "satellite imagery"
                if acts[i] == Action.HEDGE:
                    phrase += f" (caught by {source})"
                else:
                    phrase += f" (a false alarm: {source} says it is hedging)"
            parts.append(phrase + ".")
    if rec.flagged[t, 0]:
        parts.append(
            trust_change(
                p.names[p.principal],
                p.names[p.target],
                rec.trust[t - 1, p.principal, 0],
                rec.trust[t, p.principal, 0],
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
    p, rec = model.params, model.recorder
    acts = rec.actions[t, :, 0]
    return (
        acts[p.target] == Action.HEDGE
        and acts[p.principal] == Action.HEDGE
        and not rec.flagged[t, 0]
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
    p, rec = model.params, model.recorder
    played = model.round
    lines: list[str] = []
    t = 1
    shown = min(played, max_rounds)
    while t <= shown:
        if _quiet(model, t):
            start = t
            while t + 1 <= shown and _quiet(model, t + 1):
                t += 1
            u = rec.x[t, V["undeclared"], 0]
            span = f"Round {start}" if start == t else f"Rounds {start}–{t}"
            hedge = paint("both hedge", "hedge", color)
            lines.append(
                f"{span} — {p.names[p.target]} and {p.names[p.principal]} {hedge}; "
                f"undeclared capability {u:.2f}, tension {rec.x[t, V['tension'], 0]:.2f}."
            )
        else:
            lines.append(f"Round {t} — " + " ".join(round_lines(model, t, color)))
        t += 1
    if played > shown:
        acts = rec.actions[shown + 1 : played + 1, p.target, 0]
        counts = {a: int(np.sum(acts == a)) for a in Action}
        lines.append(
            f"Rounds {shown + 1}–{played} — {p.names[p.target]} conceded {counts[Action.CONCEDE]}, "
            f"hedged {counts[Action.HEDGE]} and escalated {counts[Action.ESCALATE]} times; "
            f"imagery flagged it {int(rec.flagged[shown + 1 : played + 1, 0].sum())} times."
        )
    end = ending(model)
    lines.append(f"{BOLD}{end}{RESET}" if color else end)
    return "\n".join(lines)

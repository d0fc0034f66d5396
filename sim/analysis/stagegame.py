"""The stage game of one round, for teaching: a payoff matrix and its Nash equilibria.

The model has no payoff table: each actor scores its three actions with its own
utilities (:func:`sim.model.decisions.utilities` over :func:`sim.model.decisions.features`)
and plays a logit response. The stage game makes that score a two-player game.

**Definition of the payoffs.** Fix a run's state as it stands when round t is
decided (after round t's events). For actors a (rows) and b (columns), the
payoff ``A[i, j]`` is a's utility of action i *if b's action j were the move a
reacts to* — i.e. the model's own utility, with a's counterpart's last action
set to j (this moves a's ``reciprocity`` and ``provocation`` features); every
other feature (package, insecurity, tension, trust, alarm, …) is taken from the
state. ``B[i, j]`` is b's utility of j when a plays i. So the matrix answers "if
each could see the other's move, what would each prefer?", in the model's own
terms. Two consequences worth telling a class:

- an actor reacts only to its counterpart (the DPRK to the USA; the USA, ROK
  and PRC to the DPRK). For a pair where b is not a's counterpart, a's payoffs do
  not depend on b's action (the game is degenerate and has many equilibria);
- actors with a rule policy (tit-for-tat, GRIT, scripted) ignore utilities; the
  matrix then shows what a logit player in their seat would weigh.

Equilibria are found by support enumeration (:func:`nash_equilibria`); the
model's own noisy play corresponds to the logit quantal-response equilibrium
(:func:`logit_equilibrium`), which tends to a Nash equilibrium as rationality
grows.

Example:
    >>> import numpy as np
    >>> A = np.array([[3, 0], [5, 1]]); B = A.T          # prisoner's dilemma
    >>> [(e.row.tolist(), e.col.tolist()) for e in nash_equilibria(A, B)]
    [([0.0, 1.0], [0.0, 1.0])]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from sim.engines.point import DecisionPoint, decision_point
from sim.model.decisions import logit_probabilities
from sim.model.names import ACTION_NAMES, Tally
from sim.model.params import P
from sim.model.policies import POLICIES

ACTIONS = ACTION_NAMES  # rows / columns order: concede, hedge, escalate


@dataclass
class Equilibrium:
    """A Nash equilibrium: each player's mixed strategy over (concede, hedge, escalate)."""

    row: np.ndarray
    col: np.ndarray
    row_payoff: float
    col_payoff: float

    @property
    def pure(self) -> bool:
        return bool(np.isclose(self.row.max(), 1.0) and np.isclose(self.col.max(), 1.0))

    def describe(self, a: str = "row", b: str = "col", names=ACTIONS) -> str:
        def mix(p):
            if np.isclose(p.max(), 1.0):
                return names[int(p.argmax())]
            return ", ".join(f"{names[k]} {p[k]:.2f}" for k in range(len(p)) if p[k] > 1e-9)

        return (
            f"{a}: {mix(self.row)}  |  {b}: {mix(self.col)}"
            f"   (payoffs {round(self.row_payoff, 6) + 0.0:+.2f}, {round(self.col_payoff, 6) + 0.0:+.2f})"
        )


def _mixture(M: np.ndarray, tol: float) -> tuple[np.ndarray, float] | None:
    """Probabilities y over M's columns making every row of M pay the same v."""
    k1, k2 = M.shape
    lhs = np.zeros((k1 + 1, k2 + 1))
    lhs[:k1, :k2] = M
    lhs[:k1, k2] = -1.0  # M y - v = 0
    lhs[k1, :k2] = 1.0  # sum y = 1
    rhs = np.zeros(k1 + 1)
    rhs[k1] = 1.0
    sol, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    if np.abs(lhs @ sol - rhs).max() > tol:
        return None
    return sol[:k2], float(sol[k2])


def nash_equilibria(A, B, tol: float = 1e-9) -> list[Equilibrium]:
    """All Nash equilibria of the bimatrix game (A, B) by support enumeration.

    For every pair of supports (S of rows, T of columns) solve the indifference
    conditions — the column mix makes every row in S equally good, the row mix
    every column in T — and keep the solution if both mixes are probabilities and
    no action outside a support pays more. A nondegenerate game has finitely many
    equilibria and all are found; a degenerate one (e.g. a player indifferent to
    the other's move) may have a continuum, of which one representative per support
    pair is reported.

    Args:
        A: row player's payoffs, shape (m, n).
        B: column player's payoffs, shape (m, n).
        tol: numerical tolerance.

    Returns:
        Equilibria, pure ones first, without duplicates.
    """
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    m, n = A.shape
    found: list[Equilibrium] = []
    for k1 in range(1, m + 1):
        for S in combinations(range(m), k1):
            for k2 in range(1, n + 1):
                for T in combinations(range(n), k2):
                    ys = _mixture(A[np.ix_(S, T)], tol)
                    xs = _mixture(B[np.ix_(S, T)].T, tol)
                    if ys is None or xs is None:
                        continue
                    x, y = np.zeros(m), np.zeros(n)
                    x[list(S)], y[list(T)] = xs[0], ys[0]
                    if x.min() < -tol or y.min() < -tol:
                        continue
                    x, y = np.clip(x, 0, None), np.clip(y, 0, None)
                    x, y = x / x.sum(), y / y.sum()
                    row_pay, col_pay = A @ y, x @ B
                    v, w = float(x @ row_pay), float(col_pay @ y)
                    if row_pay.max() > v + 1e-7 or col_pay.max() > w + 1e-7:
                        continue
                    if any(
                        np.allclose(x, e.row, atol=1e-6) and np.allclose(y, e.col, atol=1e-6)
                        for e in found
                    ):
                        continue
                    found.append(Equilibrium(x.round(12), y.round(12), v, w))
    return sorted(found, key=lambda e: (not e.pure, -e.row_payoff - e.col_payoff))


def logit_equilibrium(A, B, rationality: float, iters: int = 5000, damping: float = 0.5):
    """The logit quantal-response equilibrium: each player's logit response (the
    model's choice rule, precision ``rationality``) to the other's mixed strategy.

    Found by damped fixed-point iteration from uniform play; returns (row, col)
    probabilities.
    """
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    x, y = np.full(A.shape[0], 1 / A.shape[0]), np.full(A.shape[1], 1 / A.shape[1])
    for _ in range(iters):
        x_new, y_new = np.empty(3), np.empty(3)
        logit_probabilities(A @ y, float(rationality), x_new)
        logit_probabilities(x @ B, float(rationality), y_new)
        x_next, y_next = (1 - damping) * x + damping * x_new, (1 - damping) * y + damping * y_new
        if max(np.abs(x_next - x).max(), np.abs(y_next - y).max()) < 1e-12:
            x, y = x_next, y_next
            break
        x, y = x_next, y_next
    return x, y


def payoff_matrix(source, actor_a: str, actor_b: str) -> tuple[np.ndarray, np.ndarray]:
    """The 3 x 3 stage game of actors a (rows) and b (columns) in the coming round.

    Args:
        source: a :class:`sim.NegotiationModel` (its coming round, events
            applied), or a :class:`~sim.engines.point.DecisionPoint` (see
            :func:`decision_state`).
        actor_a: row player, e.g. ``"USA"``.
        actor_b: column player, e.g. ``"DPRK"``.

    Returns:
        (A, B): a's and b's utilities; rows a's action, columns b's, both in
        order of the action table (concede, hedge, escalate, …).
    """
    point = _resolve(source)
    n = len(ACTION_NAMES)
    A, B = np.empty((n, n)), np.empty((n, n))
    for k in range(n):
        A[:, k] = point.utilities(actor_a, reacting_to=actor_b, action=k)
        B[k, :] = point.utilities(actor_b, reacting_to=actor_a, action=k)
    return A, B


def _resolve(source) -> DecisionPoint:
    if isinstance(source, DecisionPoint):
        return source
    return source.decision_point()  # a NegotiationModel between steps


def decision_state(cfg, seed: int, round: int) -> tuple[DecisionPoint, bool]:
    """The run ``seed`` as round ``round`` is decided (its events applied).

    Returns:
        The :class:`~sim.engines.point.DecisionPoint` for :func:`payoff_matrix`, and
        whether the run had already ended before that round.
    """
    point = decision_point(cfg, seed, round)
    return point, point.ended


@dataclass
class StageGame:
    """A round's stage game between two actors, its equilibria and the model's own play."""

    actors: tuple[str, str]
    round: int
    A: np.ndarray
    B: np.ndarray
    equilibria: list[Equilibrium]
    logit_play: tuple[np.ndarray, np.ndarray]  # what each plays this round under the logit rule
    qre: tuple[np.ndarray, np.ndarray]  # the logit equilibrium of the matrix
    last: tuple[str, str]  # each actor's action last round
    notes: list[str] = field(default_factory=list)


def stage_game(source, actor_a: str, actor_b: str) -> StageGame:
    """Everything a classroom page needs about the coming round's stage game.

    Args:
        source: a :class:`sim.NegotiationModel` or a :class:`~sim.engines.point.DecisionPoint`.
        actor_a: row player.
        actor_b: column player.
    """
    point = _resolve(source)
    s = point.compiled.structure
    A, B = payoff_matrix(point, actor_a, actor_b)
    lam = float(point.compiled.theta[0, P.rationality])
    notes = []
    for name, other in ((actor_a, actor_b), (actor_b, actor_a)):
        i = s.names.index(name)
        cp = s.names[s.counterpart[i]]
        if cp != other:
            notes.append(
                f"{name} reacts to {cp}, not to {other}: its payoffs do not depend on {other}'s action."
            )
        policy = POLICIES[int(s.policy[i])]
        if policy != "logit":
            notes.append(f"{name} plays {policy}: it ignores these utilities.")
    last = tuple(ACTIONS[int(point.last[s.names.index(n)])] for n in (actor_a, actor_b))
    if point.ended:
        notes.append(
            f"The run has ended (after round {int(point.tally[Tally.round])}): this is the game its last "
            "state would pose, not a round that is played."
        )
    return StageGame(
        actors=(actor_a, actor_b),
        round=point.round,
        A=A,
        B=B,
        equilibria=nash_equilibria(A, B),
        logit_play=(point.probabilities(actor_a), point.probabilities(actor_b)),
        qre=logit_equilibrium(A, B, lam),
        last=last,
        notes=notes,
    )


def payoff_table(game: StageGame) -> pd.DataFrame:
    """The matrix as a table of "u_a, u_b" cells; a ``*`` marks a best reply."""
    a, b = game.actors
    A, B = game.A, game.B
    best_a = np.isclose(A, A.max(axis=0, keepdims=True))
    best_b = np.isclose(B, B.max(axis=1, keepdims=True))
    cells = [
        [
            f"{A[i, j]:+.2f}{'*' if best_a[i, j] else ' '}, {B[i, j]:+.2f}{'*' if best_b[i, j] else ' '}"
            for j in range(B.shape[1])
        ]
        for i in range(A.shape[0])
    ]
    return pd.DataFrame(
        cells, index=[f"{a} {x}" for x in ACTIONS], columns=[f"{b} {x}" for x in ACTIONS]
    )


def format_stage_game(game: StageGame, when: str | None = None) -> str:
    """The stage game as readable text: matrix, equilibria, and what the model plays."""
    a, b = game.actors
    head = f"Stage game of round {game.round}" + (f" ({when})" if when else "")
    lines = [
        head + f": {a} (rows) vs {b} (columns)",
        f"Last round {a} played {game.last[0]}, {b} played {game.last[1]}.",
        f"Cells: ({a}'s utility, {b}'s utility); * marks a best reply to the other's action.",
        "",
        payoff_table(game).to_string(),
        "",
    ]
    pure = [e for e in game.equilibria if e.pure]
    mixed = [e for e in game.equilibria if not e.pure]
    for title, eqs in (("Pure Nash equilibria", pure), ("Mixed Nash equilibria", mixed)):
        lines.append(f"{title}:" + ("" if eqs else " none"))
        lines += [f"  {e.describe(a, b)}" for e in eqs]

    def mix(p):
        return ", ".join(f"{ACTIONS[k]} {p[k]:.2f}" for k in range(len(p)))

    lines += [
        "",
        "The model's own noisy play (logit rule):",
        f"  this round, given last round's moves:  {a}: {mix(game.logit_play[0])}  |  "
        f"{b}: {mix(game.logit_play[1])}",
        f"  logit equilibrium of this matrix:      {a}: {mix(game.qre[0])}  |  {b}: {mix(game.qre[1])}",
    ]
    if game.notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in game.notes]
    return "\n".join(lines)

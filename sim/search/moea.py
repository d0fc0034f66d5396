"""The multi-objective search: NSGA-II (pymoo) over the levers, checkpointed every generation.

Each lever is one gene in [0, 1] (:meth:`sim.search.spec.Lever.decode`: a real
range, whole numbers, or a list of choices split into equal parts), so pymoo's
simulated binary crossover and polynomial mutation work on every kind of lever.
pymoo's ask-and-tell interface hands over a generation's candidates; they are
scored together by :class:`sim.search.evaluate.Evaluator` (one batch on every
core) and told back. A policy seen before is not played again: with common
random numbers its objectives are a fixed function of its levers.

**Convergence** is tracked over everything evaluated so far, on objectives
normalised to [0, 1] and turned into minimisation (:func:`normalise`):

- the **hypervolume** of the non-dominated set (moocore, through pymoo) with the
  reference point at 1 in every objective — the worst each can be (no agreement,
  certain breakdown, all relief given, all capability hidden, no agreement within
  the horizon);
- **ε-progress** (Hadka & Reed 2013): the number of times a new policy entered the
  ε-box archive (:class:`EpsilonArchive`) in a box no member held before.

The archive is the search's answer: its members are the ε-non-dominated policies
(the Pareto set at the resolution ε of each objective).

**Checkpoints.** After every generation the whole search — pymoo's algorithm with
its random generator, the evaluated policies, the archive and the history — is
pickled to ``checkpoint.pkl`` (temporary file, then renamed), so a killed search
resumes from its last finished generation and ends exactly where an unbroken one
would (``tests/test_search.py``).

Example:
    >>> a = EpsilonArchive([0.1, 0.1])
    >>> a.add(np.array([0.5, 0.5]), 0), a.add(np.array([0.52, 0.52]), 1), a.add(np.array([0.2, 0.9]), 2)
    (True, False, True)
    >>> sorted(a.keys)
    [0, 2]
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.search.spec import Checked

#: The checkpoint's file name in the search's directory.
CHECKPOINT = "checkpoint.pkl"
#: Share of the last generations over which convergence is judged, and the largest
#: relative hypervolume gain over them that counts as converged.
TAIL, TOLERANCE = 0.1, 0.01


def normalise(est: np.ndarray, checked: Checked, rounds: int) -> np.ndarray:
    """Objectives as minimisation in [0, 1]: ``1 - f`` for a maximised share, rounds
    divided by the horizon, the rest as they are (relief and capability lie in [0, 1])."""
    g = np.array(est, dtype=float, copy=True)
    for j, ob in enumerate(checked.objectives):
        if ob.metric == "rounds_to_agreement":
            g[:, j] = g[:, j] / rounds
        if ob.sense == "max":
            g[:, j] = 1 - g[:, j]
    return np.clip(g, 0.0, 1.0)


def nondominated(g: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``g`` (minimisation) no other row dominates."""
    keep = []
    for i in range(len(g)):
        dominated = np.all(g <= g[i], axis=1) & np.any(g < g[i], axis=1)
        if not dominated.any():
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def hypervolume(g: np.ndarray) -> float:
    """Hypervolume of the points ``g`` (minimisation, in [0, 1]) up to the reference point 1."""
    from pymoo.indicators.hv import HV

    if len(g) == 0:
        return 0.0
    front = g[nondominated(g)]
    return float(HV(ref_point=np.ones(g.shape[1]))(front))


@dataclass
class EpsilonArchive:
    """An ε-box dominance archive (Laumanns et al. 2002), as Borg keeps it.

    A point's box is ``floor(g / ε)``. A point enters if no member's box dominates
    its box; it replaces a member in the same box if it is closer to the box's
    corner, and removes members whose boxes its box dominates. Entering a box no
    member held is **ε-progress**.
    """

    epsilons: list[float]
    members: dict[int, np.ndarray] = field(default_factory=dict)  # key -> g

    def _box(self, g):
        return np.floor(np.asarray(g) / np.asarray(self.epsilons) + 1e-9)

    @property
    def keys(self) -> list[int]:
        return list(self.members)

    def add(self, g: np.ndarray, key: int) -> bool:
        """Offer a point; return True if it is ε-progress (it entered a new box)."""
        box = self._box(g)
        for k, other in list(self.members.items()):
            ob = self._box(other)
            if np.all(ob <= box) and np.any(ob < box):
                return False  # a member's box dominates
            if np.array_equal(ob, box):
                corner = box * np.asarray(self.epsilons)
                if np.sum((g - corner) ** 2) < np.sum((other - corner) ** 2) and not np.all(
                    other <= g
                ):
                    del self.members[k]
                    self.members[key] = np.asarray(g, dtype=float)
                return False
        for k, other in list(self.members.items()):
            ob = self._box(other)
            if np.all(box <= ob) and np.any(box < ob):
                del self.members[k]
        self.members[key] = np.asarray(g, dtype=float)
        return True


def lever_problem(n_var: int, n_obj: int):
    """pymoo's view of the search: one gene per lever in [0, 1], one value per
    objective (the scoring itself happens outside, in batches)."""
    from pymoo.core.problem import Problem

    return Problem(n_var=n_var, n_obj=n_obj, xl=0.0, xu=1.0)


@dataclass
class SearchState:
    """Everything a search has done: what a checkpoint holds besides pymoo's algorithm."""

    genes: list[np.ndarray] = field(default_factory=list)  # per evaluated policy
    policies: list[dict] = field(default_factory=list)
    est: list[np.ndarray] = field(default_factory=list)
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)
    generation: list[int] = field(default_factory=list)  # when each was first evaluated
    index: dict[tuple, int] = field(default_factory=dict)  # policy values -> row
    history: list[dict] = field(default_factory=list)  # one row per generation
    archive: EpsilonArchive | None = None
    progress: int = 0  # ε-progress so far
    runs: int = 0  # runs played
    evaluations: int = 0  # candidates scored (policies seen before included)


def fingerprint(checked: Checked, base: dict) -> str:
    """What a checkpoint must match to be resumed: the preset and the base model. (The
    code that made it is compared on its own, :func:`read_checkpoint`.)"""
    from dataclasses import asdict

    text = json.dumps({"spec": asdict(checked.spec), "base": base}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CheckpointMismatch(ValueError):
    """A checkpoint in the search's directory belongs to another search or other code,
    or cannot be read; the message is one line."""


def write_checkpoint(path: Path, algorithm, state: SearchState, fp: str) -> None:
    """Pickle the search to ``path`` atomically (temporary file, fsync, rename), with the
    provenance of the code that made it (:mod:`sim.engines.provenance`)."""
    from sim.engines.provenance import provenance
    from sim.report.io import atomic_path

    saved = {"fingerprint": fp, "provenance": provenance(), "algorithm": algorithm, "state": state}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            pickle.dump(saved, f)


def read_checkpoint(path: Path, fp: str, where: str | None = None):
    """The (algorithm, state) of a checkpoint, or None if there is none.

    Args:
        path: the checkpoint.
        fp: the :func:`fingerprint` of the search that wants to resume it.
        where: how to name the search's directory in a refusal (default: the path).

    Raises:
        CheckpointMismatch: it was made by other code (both hashes named), belongs to
            another search (another preset or base model), or cannot be read.
    """
    from sim.engines.provenance import check_same_code
    from sim.model.validation import ConfigError

    path = Path(path)
    where = where or str(path.parent)
    if not path.exists():
        return None
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)  # noqa: S301 - our own checkpoint, in the search's own directory
        saved["algorithm"], saved["state"]  # noqa: B018 - must be there
    except Exception as err:  # noqa: BLE001 - truncated, or pickled by incompatible code
        raise CheckpointMismatch(
            f"{where}: {path.name} cannot be read ({type(err).__name__}); remove it to start "
            "the search again, or choose another directory (hydra.run.dir=…)"
        ) from None
    try:
        check_same_code(saved.get("provenance"), where)
    except ConfigError as err:
        raise CheckpointMismatch(str(err)) from None
    if saved.get("fingerprint") != fp:
        raise CheckpointMismatch(
            f"{where} holds another search (another preset or base model): choose a new "
            "directory (hydra.run.dir=…), or run that search's own command"
        )
    return saved["algorithm"], saved["state"]


def run_search(checked: Checked, evaluator, out: Path, progress: bool = True, say=print):
    """Run (or resume) the search; return its :class:`SearchState`.

    Args:
        checked: the checked preset.
        evaluator: an :class:`~sim.search.evaluate.Evaluator` over the search's scenarios.
        out: the search's directory (the checkpoint lives there).
        progress: show a progress bar over generations and evaluations.
        say: where lines of text go.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator as PymooEvaluator
    from pymoo.problems.static import StaticProblem
    from tqdm.auto import tqdm

    from sim.report.io import failpoint

    spec = checked.spec
    fp = fingerprint(checked, evaluator.base)
    path = Path(out) / CHECKPOINT
    problem = lever_problem(len(checked.levers), len(checked.objectives))
    resumed = read_checkpoint(path, fp)
    if resumed is None:
        algorithm = NSGA2(pop_size=spec.population, eliminate_duplicates=True, seed=spec.seed)
        algorithm.setup(problem, termination=("n_gen", spec.generations), verbose=False)
        state = SearchState(archive=EpsilonArchive([o.epsilon for o in checked.objectives]))
    else:
        algorithm, state = resumed
        evaluator.runs = state.runs  # runs counted on from where the search stopped
        say(f"Resuming from {path}: {len(state.history)} of {spec.generations} generations done")
    total = spec.population * spec.generations
    bar = tqdm(total=total, initial=min(total, state.evaluations), unit="eval",
               disable=not progress, desc="policy search", leave=False)  # fmt: skip
    while algorithm.has_next():
        pop = algorithm.ask()
        genes = pop.get("X")
        est = _score(checked, evaluator, state, genes, len(state.history) + 1)
        PymooEvaluator().eval(StaticProblem(problem, F=_minimised(est, checked)), pop)
        algorithm.tell(infills=pop)
        _record(checked, evaluator, state)
        write_checkpoint(path, algorithm, state, fp)
        failpoint(f"search.generation.{len(state.history)}")  # the tests kill a search here
        bar.update(len(genes))
        h = state.history[-1]
        bar.set_postfix_str(f"generation {h['generation']}/{spec.generations}, "
                            f"hypervolume {h['hypervolume']:.4f}, archive {h['archive']}")  # fmt: skip
    bar.close()
    return state


def _minimised(est: np.ndarray, checked: Checked) -> np.ndarray:
    """pymoo minimises: maximised objectives change sign."""
    sign = np.array([-1.0 if o.sense == "max" else 1.0 for o in checked.objectives])
    return est * sign


def _score(checked: Checked, evaluator, state: SearchState, genes: np.ndarray, generation: int):
    """Objectives of a generation's candidates; new policies are played, known ones looked up."""
    policies = [
        {lv.key: lv.decode(float(u)) for lv, u in zip(checked.levers, row)} for row in genes
    ]
    keys = [tuple(p.values()) for p in policies]
    new = {}
    for k, p, row in zip(keys, policies, genes):
        if k not in state.index and k not in new:
            new[k] = (p, row)
    if new:
        est, lo, hi, _ = evaluator.objectives([p for p, _ in new.values()])
        g = normalise(est, checked, evaluator.rounds)
        for j, (k, (p, row)) in enumerate(new.items()):
            state.index[k] = len(state.policies)
            state.genes.append(np.asarray(row, dtype=float))
            state.policies.append(p)
            state.est.append(est[j])
            state.lo.append(lo[j])
            state.hi.append(hi[j])
            state.generation.append(generation)
            if state.archive.add(g[j], state.index[k]):
                state.progress += 1
    state.runs = evaluator.runs
    state.evaluations += len(genes)
    rows = [state.index[k] for k in keys]
    return np.array([state.est[r] for r in rows])


def _record(checked: Checked, evaluator, state: SearchState) -> None:
    """Append this generation's convergence measures to the history."""
    g = normalise(np.array(state.est), checked, evaluator.rounds)
    state.history.append(
        {
            "generation": len(state.history) + 1,
            "evaluations": state.evaluations,
            "policies": len(state.policies),
            "runs": state.runs,
            "hypervolume": hypervolume(g),
            "epsilon_progress": state.progress,
            "archive": len(state.archive.members),
        }
    )


def convergence(history: list[dict]) -> dict:
    """Relative hypervolume gain over the last :data:`TAIL` of the generations, and whether
    it stays under :data:`TOLERANCE`."""
    n = len(history)
    if n < 2:
        return {"generations": n, "from_generation": 1, "hv_gain": math.nan, "converged": False}
    start = max(1, n - max(1, math.ceil(TAIL * n)))
    hv0, hv1 = history[start - 1]["hypervolume"], history[-1]["hypervolume"]
    gain = (hv1 - hv0) / hv0 if hv0 > 0 else math.inf
    return {
        "generations": n,
        "from_generation": start,
        "hv_start": hv0,
        "hv_end": hv1,
        "hv_gain": gain,
        "epsilon_progress_tail": history[-1]["epsilon_progress"]
        - history[start - 1]["epsilon_progress"],
        "converged": bool(gain < TOLERANCE),
    }

"""The batch engine: many runs of the model at once, as numpy arrays.

It plays exactly the rounds the Mesa model plays — the same
:func:`~sim.model.dynamics.begin_round`, :func:`~sim.model.decisions.choose_actions` and
:func:`~sim.model.dynamics.end_round` — on arrays whose last axis is the run, so a
whole sweep moves in a few hundred array operations per round. Each run draws
its random numbers from ``numpy.random.default_rng(seed)`` exactly as
``mesa.Model(rng=seed)`` does, so a run gives the same actions and state in both
engines (``tests/test_engines.py``).

Example:
    >>> from sim.engines.batch import run_batch
    >>> from sim.model.params import make_config
    >>> res = run_batch([make_config(rounds=30)] * 4, seeds=range(4), progress=False)
    >>> len(res.runs), set(res.trajectories["actor"])  == {"USA", "DPRK", "ROK", "PRC"}
    (4, True)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engines.tables import runs_table, trajectories_table
from sim.model.compile import Compiled, compile_configs, structure_key
from sim.model.decisions import choose_actions
from sim.model.dynamics import Recorder, State, begin_round, end_round, initial_state
from sim.model.params import ModelConfig


@dataclass
class Results:
    """The two tables of a batch of runs (``trajectories`` is None if not recorded)."""

    runs: pd.DataFrame
    trajectories: pd.DataFrame | None


def draw_uniforms(seeds: Sequence[int], rounds: int, n_slots: int) -> np.ndarray:
    """Every run's random numbers, shape (runs, rounds, n_slots).

    Run r's block is ``default_rng(seeds[r]).random((rounds, n_slots))`` — the
    same numbers :class:`sim.model.NegotiationModel` draws from ``self.rng``.
    """
    out = np.empty((len(seeds), rounds, n_slots))
    for r, s in enumerate(seeds):
        out[r] = np.random.default_rng(int(s)).random((rounds, n_slots))
    return out


def simulate(
    p: Compiled,
    seeds: Sequence[int],
    record: bool = True,
    state: State | None = None,
    stop: int | None = None,
    recorder: Recorder | None = None,
) -> tuple[State, Recorder | None]:
    """Play the runs in ``p`` from ``state`` (default: round 0) up to round ``stop``.

    Passing the state of an earlier call with *other* parameters ``p`` branches a
    counterfactual: the runs continue from that round with the changed
    parameters and the same random numbers (common random numbers).

    Args:
        p: compiled parameters (one structure, runs axis last).
        seeds: one seed per run.
        record: keep the round-by-round history.
        state: the state to continue from (its ``round`` says where).
        stop: the last round to play (default: the horizon).
        recorder: a history to continue writing into.

    Returns:
        The state after ``stop`` (or after every run ended) and the history.
    """
    A = p.n_actors
    u = draw_uniforms(seeds, p.rounds, A + 1)
    if state is None:
        state = initial_state(p)
    rec = recorder if recorder is not None else (Recorder(p) if record else None)
    if rec is not None and state.round == 0:
        rec.record(state, np.ones(p.n_runs, dtype=bool))
    idx = np.arange(A)
    for t in range(state.round + 1, (p.rounds if stop is None else stop) + 1):
        live = ~state.done
        if not live.any():
            break
        u_t = np.ascontiguousarray(u[:, t - 1, :].T)  # (slots, runs)
        state = begin_round(state, p)
        actions = choose_actions(state, p, t, u_t[:A], idx)
        state = end_round(state, p, actions, u_t[A])
        if rec is not None:
            rec.record(state, live, actions)
    return state, rec


def _run_chunk(job) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    cfgs, seeds, run_ids, record = job
    p = compile_configs(cfgs)
    state, rec = simulate(p, seeds, record)
    runs = runs_table(cfgs, seeds, run_ids, p, state)
    traj = trajectories_table(seeds, run_ids, p, rec) if record else None
    return runs, traj


def make_jobs(configs, seeds, record: bool, chunk_size: int) -> list:
    """Group runs by structure and cut the groups into chunks (input order kept in run_id)."""
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(structure_key(c), []).append(i)
    jobs = []
    for members in groups.values():
        for k in range(0, len(members), chunk_size):
            ids = members[k : k + chunk_size]
            jobs.append(([configs[i] for i in ids], [seeds[i] for i in ids], ids, record))
    return jobs


def run_batch(
    configs: Sequence[ModelConfig],
    seeds: Iterable[int],
    record: bool = True,
    chunk_size: int = 4096,
    processes: int = 1,
    progress: bool = True,
) -> Results:
    """Run ``configs[i]`` with ``seeds[i]`` for every i, vectorized.

    Args:
        configs: validated configs (:func:`sim.model.params.make_config`), one per run.
        seeds: one integer seed per run.
        record: also build the trajectories table.
        chunk_size: runs per vectorized chunk (bounds memory).
        processes: worker processes; results are identical for any number.
        progress: show a progress bar over runs.

    Returns:
        :class:`Results` with rows in the order of ``configs``.
    """
    from tqdm.auto import tqdm

    configs, seeds = list(configs), [int(s) for s in seeds]
    if len(configs) != len(seeds):
        raise ValueError(f"{len(configs)} configs but {len(seeds)} seeds: give one seed per run")
    jobs = make_jobs(configs, seeds, record, chunk_size)
    bar = tqdm(total=len(configs), unit="run", disable=not progress, desc="runs", leave=False)
    parts = []
    if processes > 1 and len(jobs) > 1:
        workers = min(processes, len(jobs), os.cpu_count() or 1)
        # spawn: forking a process that has started threads (BLAS, tqdm) can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for job, part in zip(jobs, pool.map(_run_chunk, jobs)):
                parts.append(part)
                bar.update(len(job[1]))
    else:
        for job in jobs:
            parts.append(_run_chunk(job))
            bar.update(len(job[1]))
    bar.close()
    return _combine(parts, record)


def _combine(parts, record: bool) -> Results:
    runs = pd.concat([r for r, _ in parts], ignore_index=True)
    traj = pd.concat([t for _, t in parts], ignore_index=True) if record else None
    if len(parts) > 1:  # groups may interleave: restore input order
        runs = runs.sort_values("run_id", kind="stable", ignore_index=True)
        if record:
            traj = traj.sort_values(["run_id", "round"], kind="stable", ignore_index=True)
    return Results(runs=runs, trajectories=traj)


def run_mesa(
    configs: Sequence[ModelConfig], seeds: Iterable[int], record: bool = True, progress: bool = True
) -> Results:
    """Run each config with the Mesa model, one model at a time; same tables as :func:`run_batch`."""
    from dataclasses import asdict

    from tqdm.auto import tqdm

    from sim.engines.mesa_model import NegotiationModel

    configs, seeds = list(configs), [int(s) for s in seeds]
    parts = []
    for i, (cfg, seed) in enumerate(
        tqdm(list(zip(configs, seeds)), unit="run", disable=not progress, desc="runs (mesa)")
    ):
        m = NegotiationModel(rng=seed, **asdict(cfg))
        m.run()
        runs = runs_table([m.config], [seed], [i], m.params, m.state)
        traj = trajectories_table([seed], [i], m.params, m.recorder) if record else None
        parts.append((runs, traj))
    return _combine(parts, record)

"""The batch engine: many runs of the model at once, compiled, on every core.

It plays exactly the rounds the Mesa model plays — the same compiled functions
of :mod:`sim.model.dynamics`, one run at a time — looped over runs on all
threads (:mod:`sim.engines.kernels`). Each run's random numbers come from its
seed alone (:mod:`sim.model.rng`), so a run gives the same actions and state in
both engines, with any number of threads and any chunk size
(``tests/test_engines.py``).

Runs are processed in chunks (bounded memory); with a ``sink`` each chunk's
tables are handed over as soon as they are made (the command line streams them
to Parquet) instead of being kept.

Example:
    >>> from sim.engines.batch import run_batch
    >>> from sim.model.params import make_config
    >>> res = run_batch([make_config(rounds=30)] * 4, seeds=range(4), progress=False)
    >>> len(res.runs), set(res.actions["actor"]) == {"USA", "DPRK", "ROK", "PRC"}
    (4, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numba
import numpy as np
import pyarrow as pa

from sim.engines import tables
from sim.engines.kernels import parallel_lock, simulate_batch
from sim.engines.state import MAX_SEED, History, RunView, State
from sim.model.compile import Compiled, compile_configs, slot, structure_key, with_run_values
from sim.model.names import STATE_VARS, T
from sim.model.params import ModelConfig, make_config
from sim.model.uncertainty import Uncertainty
from sim.model.validation import ConfigError, plain_number

if TYPE_CHECKING:  # pandas is imported when tables become DataFrames
    import pandas as pd

#: Memory a chunk's histories may take (bytes): bounds chunks when trajectories are recorded.
HISTORY_BUDGET = 256 * 2**20
#: Runs per chunk when nothing is recorded.
SUMMARY_CHUNK = 65_536


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def resolve_threads(processes: int | str | None) -> int:
    """Threads for a batch: ``"auto"``/None = every core, else the number given (at most
    numba's pool size)."""
    if processes in (None, "auto"):
        n = cores()
    else:
        text = str(plain_number(processes)).strip()
        if isinstance(processes, bool) or not (text.isdigit() and 1 <= int(text) <= 4096):
            raise ConfigError(
                f"processes = {processes!r} must be 'auto' (every core) or a whole number from 1 to 4096"
            )
        n = int(text)
    return max(1, min(n, numba.config.NUMBA_NUM_THREADS))


def simulate(
    c: Compiled,
    seeds: Sequence[int] | np.ndarray,
    record: bool = True,
    state: State | None = None,
    stop: int | None = None,
    history: History | None = None,
    full_trust: bool = False,
    threads: int | str | None = "auto",
    out: History | None = None,
) -> tuple[State, History | None]:
    """Play the runs of ``c`` from ``state`` (default: round 0) through round ``stop``.

    Passing the state of an earlier call with *other* parameters ``c`` branches a
    counterfactual: the runs continue from that round with the changed
    parameters and the same random numbers (common random numbers).

    Args:
        c: compiled parameters (one structure; ``c.slot`` has one entry per run).
        seeds: one seed per run.
        record: keep the round-by-round history.
        state: the state to continue from (it is not modified).
        stop: the last round to play (default: the horizon).
        history: a history to continue writing into (it is not modified).
        full_trust: update the whole trust matrix, not only the columns decisions read.
        threads: threads to use (``"auto"``: every core).
        out: for fresh runs, a history of the right shape to write into (reused memory;
            its old contents are all overwritten) instead of a new one.

    Returns:
        The state after ``stop`` (or after every run ended) and the history.
    """
    s = c.structure
    seeds = np.ascontiguousarray(seeds, dtype=np.int64)
    R, A = len(seeds), s.n_actors
    fresh = state is None
    st = State.empty(R, A, c.tparams.shape[2]) if state is None else state.copy()
    if history is not None:
        hist = history.copy()
    elif fresh and record and out is not None:
        span = s.rounds + 1
        want = {"x": (R, span, len(STATE_VARS)), "actions": (R, span, A), "trust": (R, span, A)}
        got = {k: getattr(out, k).shape for k in want} | {"flag": out.flag.shape}
        if got != want | {"flag": (R, span)}:  # the kernel does not check bounds
            raise ValueError(f"out: a history of {R} runs x {span} rounds is needed, not {got}")
        hist = out  # every round of a fresh run is written: played, or blanked after its end
    else:
        hist = History.empty(R, s.rounds, A, record, blank=not fresh)
    record = record and hist.x.shape[1] > 0
    stop = s.rounds if stop is None else int(stop)
    n = resolve_threads(threads)
    with parallel_lock:
        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            simulate_batch(
                seeds, c.slot, c.theta, c.initial, c.trust0, c.coef, c.effects, s.streams,
                s.counterpart, s.target, s.principal, s.policy, s.rule_params, s.script, s.forced, s.report,
                s.shift, s.tracked(full_trust), stop, fresh,
                st.x, st.trust, st.last, st.tally, st.counts, st.peak,
                record, hist.x, hist.actions, hist.trust, hist.flag,
                c.terms, c.tparams, s.n_types, s.fixed_type, s.model, st.types, st.belief,
            )  # fmt: skip
        finally:
            numba.set_num_threads(previous)
    return st, (hist if record else None)


@dataclass
class Results:
    """The tables of a batch of runs (``states``/``actions`` are None if not recorded).

    ``trajectories`` joins states and actions into one row per run x round x actor
    (:func:`sim.engines.tables.long_table`).
    """

    runs: pd.DataFrame
    states: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None
    _long: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def trajectories(self) -> pd.DataFrame | None:
        """One row per run x played round x actor, with that round's shared state."""
        if self.states is None or self.actions is None:
            return None
        if self._long is None:
            self._long = tables.long_table(self.states, self.actions)
        return self._long


#: A sink receives each chunk's tables as they are made: ``sink(kind, table)`` with
#: kind ``"runs"``, ``"states"`` or ``"actions"`` (Arrow tables, rows in input order).
Sink = Callable[[str, pa.Table], None]


def check_configs(configs: Iterable, seeds: Iterable) -> tuple[list[ModelConfig], np.ndarray]:
    """Validate what :func:`run_batch` is given, as the command line would.

    Configs may be :class:`ModelConfig` objects (validated again, as the Python API
    accepts what it is handed) or dicts of keyword arguments; seeds must be whole
    numbers in [0, 2**63 - 1] (numpy integers are fine).

    Raises:
        ConfigError: naming the bad value.
    """
    from sim.engines.inputs import check_config, config_from

    _check_sequence(
        "configs", configs, "model configs (sim.make_config(...) or dicts of its keyword arguments)"
    )
    _check_sequence("seeds", seeds, "whole-number seeds, e.g. range(n) or [0, 1, 2]")
    checked: dict[int, ModelConfig] = {}
    out = []
    for c in configs:
        key = id(c)
        if key not in checked:
            if isinstance(c, ModelConfig):
                fields_ = {k: getattr(c, k) for k in c.__dataclass_fields__}
                checked[key] = check_config(make_config(**fields_))
            elif isinstance(c, dict):
                checked[key] = config_from(c)
            else:
                raise ConfigError(
                    f"configs: {c!r} is not a ModelConfig or a dict of model parameters"
                )
        out.append(checked[key])
    seed_array = _checked_seeds(seeds)
    if len(out) != len(seed_array):
        raise ConfigError(f"{len(out)} configs but {len(seed_array)} seeds: give one seed per run")
    if not out:
        raise ConfigError("configs and seeds are empty: give at least one run")
    return out, seed_array


def _check_sequence(key: str, value, what: str) -> None:
    """``value`` must be a sequence (one item per run): not None, a number, a string, a
    mapping or a single config.

    Raises:
        ConfigError: naming the argument, what it got and what is allowed.
    """
    single = isinstance(value, str | bytes | dict | ModelConfig) or value is None
    if single or not isinstance(value, Iterable):
        one = "config" if key == "configs" else _short(value)
        hint = "" if value is None else f" (for one run: [{one}])"
        raise ConfigError(
            f"{key} = {_short(value)} must be a sequence with one item per run: {what}{hint}"
        )
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ConfigError(f"{key}: an array of shape {value.shape} must be one-dimensional: {what}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked_seeds(seeds: Iterable) -> np.ndarray:
    """Seeds as an int64 array, each a whole number in [0, MAX_SEED] (else ConfigError).
    Integer arrays and ranges are checked at once, without a Python loop over them."""
    if isinstance(seeds, range) and seeds.step > 0:
        if len(seeds) and (seeds[0] < 0 or seeds[-1] > MAX_SEED):
            bad = seeds[0] if seeds[0] < 0 else seeds[-1]
            i = 0 if seeds[0] < 0 else len(seeds) - 1
            raise ConfigError(f"seeds[{i}] = {bad!r} must be a whole number in [0, {MAX_SEED}]")
        return np.arange(seeds.start, seeds.stop, seeds.step, dtype=np.int64)
    if isinstance(seeds, np.ndarray) and seeds.dtype.kind in "iu" and seeds.ndim == 1:
        if seeds.size:
            low = np.flatnonzero(seeds < 0) if seeds.dtype.kind == "i" else np.array([], int)
            high = np.flatnonzero(seeds > MAX_SEED) if seeds.dtype.kind == "u" else low[:0]
            for where in (low, high):
                if where.size:
                    i = int(where[0])
                    raise ConfigError(
                        f"seeds[{i}] = {int(seeds[i])!r} must be a whole number in [0, {MAX_SEED}]"
                    )
        return np.ascontiguousarray(seeds, dtype=np.int64)
    seed_list = []
    for i, s in enumerate(seeds):
        s = plain_number(s)
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise ConfigError(f"seeds[{i}] = {s!r} must be a whole number in [0, {MAX_SEED}]")
        seed_list.append(s)
    return np.array(seed_list, dtype=np.int64)


def chunk_size_for(rounds: int, n_actors: int, record: bool) -> int:
    """Runs per chunk: as many as fit the history budget when recording."""
    if not record:
        return SUMMARY_CHUNK
    per_run = (rounds + 1) * (len(STATE_VARS) * 8 + n_actors * 9 + 1) * 2  # arrays + table
    return int(max(64, min(SUMMARY_CHUNK, HISTORY_BUDGET // per_run)))


def _chunks(configs: list[ModelConfig], chunk_size: int | None, record: bool):
    """Contiguous slices of the input, no larger than the memory budget allows."""
    start, n = 0, len(configs)
    while start < n:
        size = chunk_size or chunk_size_for(
            configs[start].rounds, len(configs[start].actors), record
        )
        yield start, min(n, start + size)
        start += size


def run_batch(
    configs: Sequence[ModelConfig] | Iterable,
    seeds: Iterable[int],
    record: bool = True,
    chunk_size: int | None = None,
    processes: int | str | None = "auto",
    progress: bool = True,
    sink: Sink | None = None,
    full_trust: bool = False,
    uncertainty: Uncertainty | None = None,
) -> Results:
    """Run ``configs[i]`` with ``seeds[i]`` for every i.

    Args:
        configs: one model config per run (:func:`sim.make_config`, or a dict of
            its keyword arguments); repeat the same object for many seeds.
        seeds: one whole-number seed per run, in [0, 2**63 - 1].
        record: also build the states and actions tables.
        chunk_size: runs per chunk (default: as many as the memory budget allows).
        processes: threads (``"auto"``: every core); results are identical for any number.
        progress: show a progress bar over runs.
        sink: if given, each chunk's tables go to ``sink(kind, table)`` and the returned
            :class:`Results` holds empty tables (memory stays flat whatever the size).
        full_trust: update the whole trust matrix (not needed by any table).
        uncertainty: draw each run's values of some parameters from a posterior or
            priors (:class:`sim.model.uncertainty.Uncertainty`), by its seed; the
            drawn values become columns of the runs table.

    Returns:
        :class:`Results` with rows in the order of ``configs`` (``run_id`` 0..n-1).

    Raises:
        ConfigError: for an invalid config or seed, before anything runs.
    """
    parts: dict[str, list[pa.Table]] = {"runs": [], "states": [], "actions": []}
    stream_batch(
        configs,
        seeds,
        record=record,
        chunk_size=chunk_size,
        processes=processes,
        progress=progress,
        sink=sink or (lambda kind, table: parts[kind].append(table)),
        full_trust=full_trust,
        uncertainty=uncertainty,
    )
    import pandas as pd

    if sink is not None:
        return Results(runs=pd.DataFrame())
    runs = tables.to_pandas(pa.concat_tables(parts["runs"])) if parts["runs"] else pd.DataFrame()
    if not record:
        return Results(runs=runs)
    return Results(
        runs=runs,
        states=tables.to_pandas(pa.concat_tables(parts["states"])),
        actions=tables.to_pandas(pa.concat_tables(parts["actions"])),
    )


def stream_batch(
    configs: Sequence[ModelConfig] | Iterable,
    seeds: Iterable[int],
    sink: Sink,
    record: bool = True,
    chunk_size: int | None = None,
    processes: int | str | None = "auto",
    progress: bool = True,
    full_trust: bool = False,
    uncertainty: Uncertainty | None = None,
    checked: bool = False,
) -> None:
    """:func:`run_batch` handing each chunk's Arrow tables to ``sink(kind, table)`` as they
    are made, and nothing else: no pandas is imported (the command line streams them
    to Parquet). The arguments are :func:`run_batch`'s, and ``checked``: the configs are
    :class:`ModelConfig` objects just made by :func:`make_config` (as the command line's
    are), not validated again; seeds are checked all the same.

    Raises:
        ConfigError: for an invalid config or seed, before anything runs.
    """
    from sim.engines import progress_bar

    if checked and all(isinstance(c, ModelConfig) for c in configs):
        configs, seeds = list(configs), _checked_seeds(seeds)
        if len(configs) != len(seeds) or not configs:
            raise ConfigError(f"{len(configs)} configs but {len(seeds)} seeds: give one per run")
    else:
        configs, seeds = check_configs(configs, seeds)
    threads = resolve_threads(processes)
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(plain_number(chunk_size), int)
        or chunk_size < 1
    ):
        raise ConfigError(f"chunk_size = {chunk_size!r} must be a whole number >= 1 (or None)")
    bar = progress_bar(
        total=len(configs), unit="run", disable=not progress, desc="runs", leave=False
    )
    buffers: dict[tuple[int, int], History] = {}  # one history per shape, reused by every chunk
    for lo, hi in _chunks(configs, chunk_size, record):
        chunk = _run_chunk(
            configs[lo:hi],
            seeds[lo:hi],
            np.arange(lo, hi),
            record,
            threads,
            full_trust,
            uncertainty,
            buffers,
        )
        for kind, table in chunk:
            sink(kind, table)
        bar.update(hi - lo)
    bar.close()


def load_kernels() -> None:
    """Load the batch engine's compiled kernels (from the cache, or compile them) by
    playing one run of one round on one thread and tabling it, as a chunk is: a command
    does this in a thread while it composes its config, so its first simulation does
    not wait for them. (No progress bar: it would start a thread of its own.)"""
    c = compile_configs([make_config(rounds=1)])
    seeds = np.zeros(1, dtype=np.int64)
    state, hist = simulate(c, seeds, record=True, threads=1)
    assert hist is not None  # record=True
    played = state.tally[:, T.round]
    tables.states_table(seeds, seeds, hist.as_dict(), played)
    tables.actions_table(seeds, seeds, c.structure.names, hist.as_dict(), played)


def _run_chunk(
    configs,
    seeds,
    run_ids,
    record: bool,
    threads: int,
    full_trust: bool,
    uncertainty=None,
    buffers: dict | None = None,
):
    """Simulate one chunk (grouped by structure inside) and yield its tables in input order.

    With ``buffers`` the histories are written into memory kept from the chunk before
    (the tables copy what they need), not into new arrays: a new array of a few hundred
    MB costs more to fault in than the runs cost to record."""
    groups: dict[tuple, list[int]] = {}
    keys: dict[int, tuple] = {}  # a config repeated for many seeds is keyed once
    for i, cfg in enumerate(configs):
        key = keys.get(id(cfg))
        if key is None:
            key = keys[id(cfg)] = structure_key(cfg)
        groups.setdefault(key, []).append(i)
    made: dict[str, list[tuple[np.ndarray, pa.Table]]] = {"runs": [], "states": [], "actions": []}
    for members in groups.values():
        idx = np.array(members)
        cfgs = [configs[i] for i in members]
        c = compile_configs(cfgs)
        distinct = list({id(cfg): cfg for cfg in cfgs}.values())
        drawn = None
        if uncertainty is not None:  # one parameter set per run, drawn by its seed
            drawn = uncertainty.values_for(seeds[idx])
            c = with_run_values(c, [slot(c.structure, k) for k in uncertainty.keys], drawn)
            distinct = cfgs
        out = None
        if record and buffers is not None:
            shape = (c.structure.rounds, c.structure.n_actors)
            if shape not in buffers or len(buffers[shape].flag) < len(idx):
                buffers[shape] = History.empty(len(idx), *shape, blank=False)
            out = buffers[shape].rows(len(idx))
        state, hist = simulate(
            c, seeds[idx], record, full_trust=full_trust, threads=threads, out=out
        )
        runs = tables.runs_table(distinct, seeds[idx], run_ids[idx], c, state.final())
        if drawn is not None:
            runs = tables.with_drawn(runs, uncertainty.keys, drawn)
        made["runs"].append((idx, runs))
        if record:
            played = state.tally[:, T.round]
            made["states"].append(
                (idx, tables.states_table(seeds[idx], run_ids[idx], hist.as_dict(), played))
            )
            made["actions"].append(
                (
                    idx,
                    tables.actions_table(
                        seeds[idx], run_ids[idx], c.structure.names, hist.as_dict(), played
                    ),
                )
            )
    for kind, items in made.items():
        if not items:
            continue
        if len(items) == 1:
            yield kind, items[0][1]
            continue
        # several structures in one chunk: restore input order
        table = pa.concat_tables([t for _, t in items], promote_options="permissive")
        order = np.argsort(table.column("run_id").to_numpy(), kind="stable")
        yield kind, table.take(order)


__all__ = ["Results", "check_configs", "run_batch", "run_one", "simulate", "stream_batch"]


def run_one(cfg: ModelConfig, seed: int, uncertainty: Uncertainty | None = None) -> RunView:
    """Play one run with its history, without Mesa: for narration and teaching tools
    (with ``uncertainty``, the run's own draw of the uncertain parameters, as in a batch).

    Example:
        >>> from sim.report.narrate import narrate
        >>> print(narrate(run_one(make_config(rounds=8), 1), color=False).splitlines()[0])  # doctest: +ELLIPSIS
        Round...
    """
    (cfg,), seeds = check_configs([cfg], [seed])
    c = compile_configs([cfg])
    if uncertainty is not None:
        drawn = uncertainty.values_for(seeds)
        c = with_run_values(c, [slot(c.structure, k) for k in uncertainty.keys], drawn)
    state, hist = simulate(c, seeds, record=True, threads=1, full_trust=True)
    return RunView(cfg, c, state, hist, int(seeds[0]))

"""The ``stalemate`` command: run a scenario over many seeds, summarise, write tables and a figure.

Usage::

    stalemate scenario=baseline_2018 seeds=200
    stalemate scenario=relief_first seeds=200 assurance=0.6 engine=mesa
    stalemate --help          # Hydra's help: config groups and overrides
    stalemate --cfg job       # print the composed config without running

A single run writes into the Hydra output directory (``results/<name>/<time>/``),
complete or absent: :func:`main` points Hydra at the directory's hidden partial twin,
where every file is built under a lock, renamed into place at the end
(:mod:`sim.hydra.staged`). It holds:

- ``runs.parquet`` — one row per run (seed, parameters, outcome, metrics);
- ``states.parquet`` and ``actions.parquet`` — round by round, when recorded
  (:func:`sim.report.io.read_trajectories` joins them into one long table);
- ``config.yaml`` and ``trajectories.png``.

Tables are streamed to disk chunk by chunk, so memory stays flat whatever
``seeds`` is; the summary is accumulated on the way (:class:`~sim.report.summary.RunningSummary`).

In a sweep (``-m``) a job runs its grid points in blocks; each finished block is
written as ``blocks/NNNN.parquet`` and recorded, with its row count and
checksum, in the job's ``blocks.json`` (:mod:`sim.hydra.blocks`). A re-run of the
same sweep skips the blocks whose files check out and redoes the rest, naming
what it found wrong.

Before Hydra sees a command line, :func:`main` checks it (:mod:`sim.hydra.refuse`):
a bad key, value, config group option or output directory is refused with one
line on stderr and exit code 2, and nothing is written. A run that fails later
(a full disk) says so in one line and exits 1.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import sim
from sim.report.phases import mark  # the phase timer: off unless STALEMATE_PHASES is set

if TYPE_CHECKING:  # Hydra, OmegaConf and the schema are imported when used: the figures'
    # helper process is started before them (main), and imports while this one does
    from omegaconf import DictConfig

    from sim.hydra.schema import AppConfig

#: Above this many runs a single run records no trajectories unless asked (file size).
TRAJECTORY_LIMIT = 1000
#: Runs kept in memory for the single run's figure (the tables on disk hold them all).
FIGURE_RUNS = 2000
#: Runs handed to an engine at once (the batch engine cuts them into smaller chunks):
#: what bounds memory whatever ``seeds`` is.
PIECE_RUNS = {"batch": 1 << 20, "mesa": 1 << 10}
#: Settings that change how a sweep runs, not what it finds: a re-run may change them.
NOT_RESULTS = ("progress", "processes", "points")
#: ``points=sweep.json``: the job reads its grid points from the sweep's plan.
POINTS_FROM_PLAN = "sweep.json"


class JobError(RuntimeError):
    """A sweep job that could not finish; the message is one line."""


def job_points(app: AppConfig, sweep_dir: Path | None = None, num: int | None = None):
    """This job's grid points: from the sweep's plan (``points=sweep.json``), a JSON list
    (set by hand), or one empty point (a single run, or a basic-sweeper job)."""
    if app.points == POINTS_FROM_PLAN:
        plan = json.loads((Path(sweep_dir) / "sweep.json").read_text())
        return plan["jobs"][int(num)]["points"]
    return json.loads(app.points) if app.points else [[]]


def _fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _label_columns(table, app: AppConfig, choices: dict | None, swept: dict[str, list], idx):
    """Add what identifies each run to a runs table: scenario, chosen groups, swept keys,
    version. ``swept`` holds each swept key's value per point; ``idx`` each row's point."""
    import numpy as np
    import pyarrow as pa

    from sim.engines.arrow import strings
    from sim.hydra.schema import GROUPS

    n = table.num_rows
    choices = choices or {}
    same = np.zeros(n, dtype=np.int32)  # one value on every row
    # the scenario option chosen (a config-group value, what a sweep varies) and the run's name
    cols = {
        "scenario": strings([str(choices.get("scenario", app.name))], same),
        "name": strings([app.name], same),
    }
    for g in GROUPS[1:]:  # which actors/policy option
        if g in choices:
            cols[g] = strings([str(choices[g])], same)
    out = pa.Table.from_arrays([*cols.values(), *table.columns], names=[*cols, *table.column_names])
    for key, per_point in swept.items():  # nested swept keys (actors.DPRK.trust) become columns
        values = _column([per_point[i] for i in idx])
        if key in out.column_names:
            out = out.set_column(out.column_names.index(key), key, values)
        else:
            out = out.append_column(key, values)
    from sim.engines.provenance import code_hash

    out = out.append_column("version", strings([sim.__version__], same))
    return out.append_column("code", strings([code_hash()], same))  # which model made each run


def _column(values: list):
    """One swept key's values, one per row (numbers or strings), as an Arrow array."""
    import numpy as np

    from sim.engines.arrow import array, strings

    if all(isinstance(v, str) for v in values):
        distinct = {v: i for i, v in enumerate(dict.fromkeys(values))}
        return strings(list(distinct), np.array([distinct[v] for v in values], dtype=np.int32))
    if all(type(v) in (int, float) for v in values):
        return array(np.array(values))
    import pyarrow as pa

    return pa.array(values)


def point_models(app: AppConfig, base_model, points) -> tuple[list, dict[str, list]]:
    """The model config of each grid point, validated, and each swept key's value per point.

    A point that sets only plain numbers of the model (:data:`sim.hydra.schema.INDEPENDENT`:
    their validity depends on their own value alone) is the base model with those values:
    each distinct override is validated once (:func:`sim.hydra.schema.typed_alone`: of it
    alone, whose typed value is taken, and kept for the process: the sweeper's check
    already did it) instead of composing the whole model at every point (a 21 x 21 map:
    42 validations instead of 441, and none again per block). Any other point is composed
    and validated whole. The configs are equal either way.
    """
    from dataclasses import replace

    from sim.hydra.schema import INDEPENDENT, app_key, apply_point, lookup, parse_point, typed_alone

    alone: dict[str, tuple[str, object]] = {}  # override -> (key, typed value)
    models, swept = [], {}
    app_values = None
    for point in points:
        keys = [o.partition("=")[0] for o in point]
        if point and len(set(keys)) == len(keys) and all(k in INDEPENDENT for k in keys):
            values = {}
            for o in point:
                if o not in alone:  # checked by the sweeper in this process: not again
                    app_values = app_values or app_key(app)
                    alone[o] = typed_alone(app, o, app_values)
                key, value = alone[o]
                values[key] = value
            models.append(replace(base_model, **values))
            for k in values:
                swept.setdefault(k, []).append(values[k])
            continue
        point_app, model = apply_point(app, point) if point else (app, base_model)
        models.append(model)
        for k, _ in parse_point(point):
            swept.setdefault(k, []).append(lookup(point_app, k))
    return models, swept


def stream_runs(app: AppConfig, base_model, points, engine: str, record: bool, sink, choices):
    """Run every point of ``points`` over the app's seeds and hand the tables to
    ``sink(kind, table)`` piece by piece (memory stays flat whatever the size).

    Rows come point by point, seeds in order, ``run_id`` counting from 0 over all of
    them; runs tables carry the label columns (:func:`_label_columns`).
    """
    import numpy as np

    from sim.engines.arrow import array, to_numpy
    from sim.hydra.schema import run_uncertainty

    unc = run_uncertainty(app)
    models, swept = point_models(app, base_model, points)
    mark("compose points")
    n_seeds, limit = app.seeds, PIECE_RUNS[engine]
    segments = []  # (point, first seed offset, last seed offset + 1), cut to the piece size
    for p in range(len(points)):
        segments += [(p, lo, min(n_seeds, lo + limit)) for lo in range(0, n_seeds, limit)]
    offset = 0
    while segments:
        piece, size = [], 0
        while segments and size + (segments[0][2] - segments[0][1]) <= limit:
            seg = segments.pop(0)
            piece.append(seg)
            size += seg[2] - seg[1]
        if not piece:  # a segment is never larger than the limit; safety for limit < 1
            piece, size = [segments.pop(0)], 0
        configs = [models[p] for p, lo, hi in piece for _ in range(hi - lo)]
        seeds = np.concatenate(
            [np.arange(app.seed + lo, app.seed + hi, dtype=np.int64) for _, lo, hi in piece]
        )
        point_of = np.concatenate([np.full(hi - lo, p) for p, lo, hi in piece])

        def piece_sink(kind, table, offset=offset, point_of=point_of):
            rel = to_numpy(table.column("run_id"))
            at = table.column_names.index("run_id")
            table = table.set_column(at, "run_id", array((rel + offset).astype(np.int64)))
            if kind == "runs":
                table = _label_columns(table, app, choices, swept, point_of[rel])
            sink(kind, table)

        if engine == "batch":
            from sim.engines.batch import stream_batch  # no pandas: tables stay in Arrow

            stream_batch(
                configs,
                seeds,
                record=record,
                processes=app.processes,
                progress=False,
                sink=piece_sink,
                uncertainty=unc,
                checked=True,  # made by make_config just above (apply_point)
            )
        else:
            from sim.engines.mesa_model import run_mesa  # Mesa is imported only when it runs

            _feed(
                run_mesa(configs, seeds, record=record, progress=False, uncertainty=unc), piece_sink
            )
        offset += len(seeds)


def run_app(
    cfg: DictConfig,
    out: Path,
    multirun: bool = False,
    choices: dict | None = None,
    overrides: list[str] | None = None,
    job: tuple[Path, int] | None = None,
    published: Path | None = None,
) -> dict:
    """Run the configured scenario (or this job's grid points); write results into ``out``.

    Args:
        cfg: the composed config.
        out: the output directory.
        multirun: part of a sweep (quieter; no narrative or trajectories unless asked).
        choices: the config-group options chosen (``scenario``, ``actors``, ``policy``),
            recorded as columns.
        overrides: the job's command-line overrides, recorded in the metadata.
        job: the sweep directory and this job's number (where ``points=sweep.json`` looks).
        published: the directory to name in what is printed (a single run is written into its
            partial directory and renamed to this one at the end).
    """
    from sim.engines.provenance import code_hash
    from sim.hydra.schema import to_app_config

    app, base_model = to_app_config(cfg)
    points = job_points(app, *(job or (None, None)))
    seeds = [app.seed, app.seed + app.seeds - 1]
    config = json.loads(json.dumps(asdict(app), default=str))
    meta = {
        "config": config,
        "points": points,
        "seeds": seeds,
        "version": sim.__version__,
        "code": code_hash(),  # the compiled sources' hash (sim.engines.provenance)
        "overrides": list(overrides or []),
    }
    if multirun:
        return run_sweep_job(app, base_model, points, out, choices, meta)
    return run_single(app, base_model, out, choices, meta, published)


def run_single(
    app: AppConfig, base_model, out: Path, choices, meta: dict, published: Path | None = None
) -> dict:
    """One configuration over many seeds: stream the tables, print the summary, tell one run."""
    from omegaconf import OmegaConf

    from sim.engines.arrow import to_numpy
    from sim.hydra.schema import run_uncertainty
    from sim.report.drawing import Figure, FigureWorker, Prepare
    from sim.report.fans import ACTION_COLUMNS, STATE_COLUMNS, Columns, columns
    from sim.report.io import ParquetStream, write_text
    from sim.report.summary import RunningSummary

    t_job = time.perf_counter()
    # matplotlib and pandas are imported by a helper process while this one simulates
    worker = FigureWorker.take()
    first, last = meta["seeds"]
    narrate = app.narrate if app.narrate is not None else True
    record = app.trajectories
    if record is None:
        record = app.seeds <= TRAJECTORY_LIMIT
        if not record:
            print(
                f"({app.seeds:,} runs: round-by-round tables not recorded; add trajectories=true to record them)"
            )
    title = app.description or app.name
    shown = min(app.seeds, FIGURE_RUNS)
    n_note = f"{shown:,} of {app.seeds:,}" if shown < app.seeds else shown
    actors = [n for n, a in base_model.actors.items() if a.enabled]
    if record:  # the helper renders the figure's frame while this process simulates
        frame = (actors, title, n_note, Figure.dpi, app.rounds)  # rounds: the horizon
        worker.prepare(Prepare("prepare_trajectories", frame))
    # the engines give identical tables; auto takes the batch engine (no Mesa import)
    engine = app.engine if app.engine != "auto" else "batch"
    meta["engine"] = engine
    say = print if app.progress else (lambda *a, **k: None)
    say(f"Stalemate {sim.__version__} — {app.description or app.name}")
    threads = (
        ""
        if engine == "mesa"
        else f", {app.processes} cores"
        if app.processes != "auto"
        else ", every core"
    )
    say(
        f"{app.seeds:,} seeds of {app.rounds} rounds (seeds {first}–{last}), {engine} engine{threads}"
    )
    unc = run_uncertainty(app)
    if unc is not None:
        source = (
            f"the posterior {app.posterior}" if app.uncertainty == "posterior" else "their priors"
        )
        say(f"each run draws {', '.join(unc.keys)} from {source} (uncertainty={app.uncertainty})")

    from sim.engines import progress_bar

    summary = RunningSummary(actors)
    # the columns the trajectories figure reads, of the first runs: numpy arrays, so that
    # the helper drawing it imports neither pyarrow nor pandas
    keep: dict[str, list[Columns]] = {"states": [], "actions": []}
    figure_columns = {"states": STATE_COLUMNS, "actions": ACTION_COLUMNS}
    written = {
        "config": write_text(
            OmegaConf.to_yaml(OmegaConf.create(meta["config"])), out / "config.yaml"
        )
    }
    bar = progress_bar(
        total=app.seeds, unit="run", desc="runs", disable=not app.progress, leave=False
    )
    with (
        ExitStack() as stack
    ):  # closed in reverse: runs.parquet last, its presence means "finished"
        streams = {"runs": stack.enter_context(ParquetStream(out / "runs.parquet", meta))}
        if record:
            for kind in ("states", "actions"):
                streams[kind] = stack.enter_context(  # written while the next chunk runs
                    ParquetStream(out / f"{kind}.parquet", meta, background=True)
                )

        def sink(kind, table):
            if kind == "runs":
                summary.add(table)
                bar.update(table.num_rows)
            streams[kind].write(table)
            if kind in keep:  # the first runs, for the figure
                mask = to_numpy(table.column("run_id")) < FIGURE_RUNS
                if mask.any():
                    keep[kind].append(columns(table, figure_columns[kind]).take(mask))

        mark("set up the run")
        t0 = time.perf_counter()
        stream_runs(app, base_model, [[]], engine, record, sink, choices)
        elapsed = time.perf_counter() - t0
        mark("simulate")
        bar.close()
        meta["timing"] = {"simulate_s": elapsed}
        for kind, stream in streams.items():
            stream.metadata = meta
            written[kind] = stream.path
    mark("write tables")
    figures = {}
    if record:
        tables = (Columns.concat(keep["states"]), Columns.concat(keep["actions"]))
        figures["figure"] = Figure(
            "plot_trajectories", out / "trajectories.png", (*tables, title, n_note)
        )
    if summary.horizon:
        figures["survival"] = Figure(
            "plot_survival",
            out / "survival.png",
            ({app.name: summary.survival()}, title, app.seeds),
        )
    worker.draw(list(figures.values()))  # drawn while the summary and the story are told
    print()
    print(summary.format())
    if narrate:  # told from the batch engine's own record of the run: no Mesa needed
        from sim.engines.batch import run_one
        from sim.report.narrate import narrate as tell

        print(f"\nThe run with seed {first}, round by round:")
        print(tell(run_one(base_model, first, run_uncertainty(app)), color=sys.stdout.isatty()))
        mark("narrate")
    for key, path in zip(figures, worker.finish()):
        written[key] = path
    mark("figures")
    say(
        f"\n{app.seeds:,} runs simulated in {elapsed:.2f} s ({time.perf_counter() - t_job:.1f} s in all). Results in {published or out}/:"
    )
    for path in written.values():
        say(f"  {Path(path).name}")
    return written


def _feed(res, sink) -> None:
    """Hand a finished :class:`~sim.engines.batch.Results` to a sink, as the batch engine would."""
    import pyarrow as pa

    sink("runs", pa.Table.from_pandas(res.runs, preserve_index=False))
    if res.states is not None:
        sink("states", pa.Table.from_pandas(res.states, preserve_index=False))
        sink("actions", pa.Table.from_pandas(res.actions, preserve_index=False))


def verified_blocks(out: Path, points: list[list[str]], plan: str) -> dict[str, dict]:
    """The finished blocks recorded in ``out/blocks.json`` for this plan whose files
    still check out; what does not is named on stderr and will be redone."""
    from sim.hydra.blocks import check_job

    found = check_job(out, points, plan)
    for problem in found.problems:
        print(f"stalemate: job {out.name}: {problem}", file=sys.stderr)
    return found.good


def run_sweep_job(app: AppConfig, base_model, points, out: Path, choices, meta: dict) -> dict:
    """A sweep job: its grid points in blocks, each written and recorded as it finishes.

    The job holds its directory's lock while it runs (a second copy of the same job,
    e.g. one a cluster still runs after its sweep was killed, is refused), removes the
    temporaries a killed predecessor left, and keeps the blocks that check out.

    Raises:
        JobError: the job is already running elsewhere, or a file cannot be written.
    """
    from sim.hydra.lock import DirLock, LockBusy

    engine = app.engine if app.engine != "auto" else "batch"
    meta["engine"] = engine
    lock = DirLock(out, "job")
    try:
        lock.acquire()
    except LockBusy as err:
        raise JobError(str(err)) from None
    try:
        return _run_blocks(app, base_model, points, out, choices, meta, engine)
    except OSError as err:
        raise JobError(
            f"job {out.name}: cannot write {err.filename or out}: {err.strerror or err}"
        ) from None
    finally:
        lock.release()


def _run_blocks(app, base_model, points, out: Path, choices, meta: dict, engine: str) -> dict:
    from sim.engines import progress_bar
    from sim.hydra.blocks import BLOCKS_FILE, plan_blocks
    from sim.report.io import ParquetStream, failpoint, file_digest, remove_leftovers, write_json

    remove_leftovers(out)
    blocks = plan_blocks(points, app.seeds)
    config = {k: v for k, v in meta["config"].items() if k not in NOT_RESULTS}
    plan = _fingerprint(  # the code, not the version: blocks of other code are redone
        {"config": config, **{k: meta[k] for k in ("points", "seeds", "code", "engine")}}
    )
    done = verified_blocks(out, points, plan)
    provenance = {k: meta[k] for k in ("version", "code")}
    record = {"plan": plan, "points": points, "provenance": provenance, "blocks": dict(done)}
    record_flag = bool(app.trajectories)
    todo = [b for b in range(len(blocks)) if f"{b:04d}" not in done]
    total = sum(len(blocks[b]) for b in todo) * app.seeds
    bar = progress_bar(
        total=total, unit="run", desc=f"job {out.name}", file=sys.stderr, disable=not app.progress
    )
    if done:
        print(
            f"job {out.name}: {len(done)} of {len(blocks)} blocks already complete, kept",
            file=sys.stderr,
        )
    failpoint("job.start")
    for b in todo:
        key, block = f"{b:04d}", blocks[b]
        t0 = time.perf_counter()
        block_meta = {**meta, "block": b, "block_points": block}
        files = {"runs": f"blocks/{key}.parquet"}
        if record_flag:
            files.update(
                states=f"blocks/{key}.states.parquet", actions=f"blocks/{key}.actions.parquet"
            )
        with ExitStack() as stack:  # the runs file is renamed into place last
            streams = {  # trajectories are written while the next chunk runs
                kind: stack.enter_context(ParquetStream(out / name, block_meta, kind != "runs"))
                for kind, name in files.items()
            }

            def sink(kind, table, streams=streams):
                streams[kind].write(table)
                if kind == "runs":
                    bar.update(table.num_rows)

            stream_runs(app, base_model, block, engine, record_flag, sink, choices)
            mark("simulate")
            for s in streams.values():
                s.metadata = {**block_meta, "timing": {"simulate_s": time.perf_counter() - t0}}
        mark("write")
        entry = {"file": files["runs"], "points": block, **file_digest(out / files["runs"])}
        if record_flag:
            entry["extra"] = {
                kind: {"file": files[kind], **file_digest(out / files[kind])}
                for kind in ("states", "actions")
            }
        record["blocks"][key] = entry
        write_json(record, out / BLOCKS_FILE)  # after the block's files: a listed block is complete
        failpoint("job.block")  # between two blocks
    bar.close()
    write_json(record, out / BLOCKS_FILE)
    return record


_watchdog_started = False
#: Set by the sweeper to its own process id: the parent its joblib workers must outlive not.
SWEEP_PID_ENV = "STALEMATE_SWEEP_PID"


def die_with_parent(interval: float = 0.5, parent: int | None = None) -> None:
    """End this process soon after the process that started it dies.

    A joblib worker outlives a killed sweep (its pool notices only much later) and
    keeps writing into the sweep directory; this watches the parent process id and
    exits when the worker has been orphaned — at once if the parent (``parent``, or
    the sweep named in ``STALEMATE_SWEEP_PID``) is already gone. Started once per process.
    """
    global _watchdog_started
    if _watchdog_started:
        return
    _watchdog_started = True
    if parent is None:
        parent = int(os.environ.get(SWEEP_PID_ENV) or os.getppid())
    if os.getppid() != parent:  # orphaned before the job even started
        os._exit(1)

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: the sweep that started us is gone
                os._exit(1)

    threading.Thread(target=watch, name="stalemate-die-with-parent", daemon=True).start()


def hydra_app() -> None:
    """The Hydra app behind the ``stalemate`` command, on ``sys.argv`` (use :func:`main`,
    which checks first): :func:`run_job` under ``hydra.main`` (made here, not when this
    module is imported, which imports neither Hydra nor the schema)."""
    import hydra

    from sim.hydra.compose import CONFIG_MODULE

    app = hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="config", version_base="1.3")
    app(run_job)()


def run_job(cfg: DictConfig) -> None:
    """Hydra's task: a single run, or one job of a sweep (Hydra's job name is this
    module's, ``cli``)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.hydra.lock import LockBusy
    from sim.model.validation import ConfigError, refusal

    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    mark("launch" if multirun else "hydra")
    if multirun and "JoblibLauncher" in str(hc.launcher.get("_target_", "")):
        die_with_parent()
    try:
        with ExitStack() as stack:
            out = Path(hc.runtime.output_dir)
            if not multirun and _TARGET is not None:  # built in out, renamed to _TARGET
                from sim.hydra.staged import staged

                stack.enter_context(staged(_TARGET, "run", _COMMAND, replace=True, notes=_note))
            run_app(
                cfg,
                out,
                multirun=multirun,
                choices=dict(hc.runtime.choices),
                overrides=list(hc.overrides.task),
                job=(Path(hc.sweep.dir), hc.job.num) if multirun else None,
                published=_TARGET if not multirun else None,
            )
        mark("job" if multirun else "run")
    except ConfigError as err:  # normally refused before: by main() or the ValidateConfig callback
        print(refusal("stalemate", err), file=sys.stderr)
        raise SystemExit(2) from None
    except LockBusy as err:  # another run started there since the command line was checked
        print(f"stalemate: {err}; wait for it to end", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as err:
        if multirun:  # the sweeper reports failed jobs and sets the exit code
            raise JobError(f"cannot write {err.filename or ''}: {err.strerror or err}") from None
        print(
            f"stalemate: error: cannot write {err.filename or hc.runtime.output_dir}: {err.strerror or err}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stalemate`` console script (also ``python -m sim``).

    Checks the command line first (:func:`sim.hydra.refuse.preflight`): a refusal is
    one line on stderr and exit code 2, with nothing written. Then Hydra runs it.
    """
    global _TARGET, _COMMAND
    import shlex

    argv = list(sys.argv[1:] if argv is None else argv)
    runs = _runs(argv)
    if runs:  # the figures' helper imports matplotlib while we import, check and compose
        from sim.report.drawing import FigureWorker, idle_core

        if runs == "run" or idle_core():  # a sweep's only when a core is idle
            FigureWorker.prestart()  # (it leaves at once if the command is refused)
    from sim.hydra.compose import compose_once, restage
    from sim.hydra.refuse import Refusal, preflight, quote_value
    from sim.model.validation import refusal
    from sim.report.io import skip_final_collection
    from sim.report.staging import partial_dir

    skip_final_collection()
    compose_once()  # the pre-flight check's composition is Hydra's too
    mark("imports")
    try:
        output = preflight(argv)
    except Refusal as err:
        print(refusal("stalemate", err), file=sys.stderr)
        raise SystemExit(2) from None
    mark("preflight")
    _TARGET = _COMMAND = None
    if output is not None and not output.multirun:  # Hydra writes into the partial directory
        _TARGET, _COMMAND = output.directory, shlex.join(["stalemate", *argv])
        staged = str(partial_dir(_TARGET))
        before = _overrides(argv)
        argv = _overrides_first([*argv, f"hydra.run.dir={quote_value(staged)}"])
        restage(before, _overrides(argv), staged)  # Hydra's compositions reuse the check's
    if (
        runs
        and not any(a.startswith(("hydra/launcher=", "engine=mesa")) for a in argv)
        and (output is None or not output.multirun or _same_code(output.directory))
    ):
        _load_kernels_meanwhile()  # this process simulates: load them while Hydra composes
    sys.argv = [sys.argv[0], *argv]
    hydra_app()


#: A single run's directory, set by :func:`main` once the command line is checked: Hydra
#: and the run write into its partial directory, renamed to this one when the run ends
#: (``sim.hydra.staged``), so the directory is complete or absent.
_TARGET: Path | None = None
#: The command line as given (recorded in the run's lock).
_COMMAND: str | None = None


def _note(text: str) -> None:
    print(f"stalemate: {text}", file=sys.stderr)


def _overrides(argv: list[str]) -> list[str]:
    """The overrides of a command line, as Hydra's parser reads them."""
    from sim.hydra.refuse import argv_parser

    return list(argv_parser().parse_args(argv).overrides)


def _overrides_first(argv: list[str]) -> list[str]:
    """``argv`` with every override before the options (Hydra's parser reads them so)."""
    overrides = _overrides(argv)
    rest = [a for a in argv if a not in set(overrides)]
    return [*overrides, *rest]


def _load_kernels_meanwhile() -> None:
    """Load the batch engine's kernels in a thread (:func:`sim.engines.batch.load_kernels`):
    much of numba's loading runs outside the interpreter lock, so it overlaps Hydra's
    composition and the sweeper's checks. The first simulation waits for it (numba's
    own lock). It is not a daemon: a process that ends early (a sweep the sweeper refuses)
    waits for it, rather than finalizing the interpreter under it."""

    def load():
        try:
            from sim.engines.batch import load_kernels

            load_kernels()
        except Exception:  # noqa: BLE001 - the run loads them itself, and says what fails
            pass

    threading.Thread(target=load, name="load-kernels").start()


def _same_code(sweep_dir: Path) -> bool:
    """The sweep directory holds no plan, or one made by this code: a resume the sweeper
    will refuse (other code, :func:`sim.engines.provenance.check_same_code`) loads no
    kernels before its one-line refusal."""
    path = sweep_dir / "sweep.json"
    if not path.exists():
        return True
    try:
        saved = json.loads(path.read_text()).get("provenance")
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: the sweeper plans it again, and runs it
    from sim.engines.provenance import code_hash

    return isinstance(saved, dict) and saved.get("code") == code_hash()


def _runs(argv: list[str]) -> str | None:
    """What a command line asks to run, and so to draw figures for at its end: ``"run"``,
    ``"sweep"`` (``-m``), or None (``--cfg``, ``--help``, another flag that only shows,
    or a line the check will refuse)."""
    from sim.hydra.refuse import INFO_FLAGS, argv_parser

    try:
        args = argv_parser().parse_args(argv)
    except Exception:  # noqa: BLE001 - refused by the check that follows
        return None
    if args.version or args.cfg or any(getattr(args, f) for f in INFO_FLAGS):
        return None
    return "sweep" if args.multirun else "run"

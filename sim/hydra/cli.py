"""The ``stalemate`` command: run a scenario over many seeds, summarise, write tables and a figure.

Usage::

    stalemate scenario=baseline_2018 seeds=200
    stalemate scenario=relief_first seeds=200 assurance=0.6 engine=mesa
    stalemate --help          # Hydra's help: config groups and overrides
    stalemate --cfg job       # print the composed config without running

A single run writes into the Hydra output directory (``results/<name>/<time>/``):

- ``runs.parquet`` — one row per run (seed, parameters, outcome, metrics);
- ``states.parquet`` and ``actions.parquet`` — round by round, when recorded
  (:func:`sim.report.io.read_trajectories` joins them into one long table);
- ``config.yaml`` and ``trajectories.png``.

Tables are streamed to disk chunk by chunk, so memory stays flat whatever
``seeds`` is; the summary is accumulated on the way (:class:`~sim.report.summary.RunningSummary`).

In a sweep (``-m``) a job runs its grid points in blocks; each finished block is
written as ``blocks/NNNN.parquet`` and recorded, with its row count and
checksum, in the job's ``blocks.json``. A re-run of the same sweep skips the
blocks whose files check out and redoes the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import sim
from sim.hydra.compose import CONFIG_MODULE
from sim.hydra.schema import GROUPS, AppConfig, apply_point, lookup, parse_point, to_app_config
from sim.model.validation import ConfigError

#: Above this many runs a single run records no trajectories unless asked (file size).
TRAJECTORY_LIMIT = 1000
#: Runs kept in memory for the single run's figure (the tables on disk hold them all).
FIGURE_RUNS = 2000
#: Runs per block of a sweep job: the unit that is written, checked and resumed.
BLOCK_RUNS = 20_000
#: The job-level record of finished blocks.
BLOCKS_FILE = "blocks.json"


def job_points(app: AppConfig) -> list[list[str]]:
    """This job's grid points (set by the stalemate sweeper), or one empty point."""
    return json.loads(app.points) if app.points else [[]]


def _fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_blocks(
    points: list[list[str]], n_seeds: int, block_runs: int = BLOCK_RUNS
) -> list[list[list[str]]]:
    """Cut a job's points into blocks of about ``block_runs`` runs (at least one point each).

    Example:
        >>> [len(b) for b in plan_blocks([[f"a={i}"] for i in range(5)], 100, block_runs=200)]
        [2, 2, 1]
    """
    per = max(1, block_runs // max(1, n_seeds))
    return [points[k : k + per] for k in range(0, len(points), per)]


def _configs_for(app: AppConfig, base_model, points: list[list[str]], seeds: list[int]):
    """Configs, seeds and swept-column values for the runs of some grid points."""
    configs, run_seeds, swept = [], [], []
    for point in points:
        point_app, model_cfg = apply_point(app, point) if point else (app, base_model)
        configs += [model_cfg] * len(seeds)
        run_seeds += seeds
        swept += [{k: lookup(point_app, k) for k, _ in parse_point(point)}] * len(seeds)
    return configs, run_seeds, swept


def _label_columns(table, app: AppConfig, choices: dict | None, swept: list[dict]):
    """Add what identifies each run to a runs table: scenario, chosen groups, swept keys, version."""
    import pyarrow as pa

    n = table.num_rows
    choices = choices or {}
    # the scenario option chosen (a config-group value, what a sweep varies) and the run's name
    cols = {
        "scenario": pa.array([str(choices.get("scenario", app.name))] * n),
        "name": pa.array([app.name] * n),
    }
    for g in GROUPS[1:]:  # which actors/policy option
        if g in choices:
            cols[g] = pa.array([str(choices[g])] * n)
    front = pa.table(cols)
    out = pa.Table.from_arrays(
        [*front.columns, *table.columns], names=[*front.column_names, *table.column_names]
    )
    for key in swept[0] if swept else {}:  # nested swept keys (actors.DPRK.trust) become columns
        values = [s[key] for s in swept]
        if key in out.column_names:
            out = out.set_column(out.column_names.index(key), key, pa.array(values))
        else:
            out = out.append_column(key, pa.array(values))
    return out.append_column("version", pa.array([sim.__version__] * n))


def run_app(
    cfg: DictConfig,
    out: Path,
    multirun: bool = False,
    choices: dict | None = None,
    overrides: list[str] | None = None,
) -> dict:
    """Run the configured scenario (or this job's grid points); write results into ``out``.

    Args:
        cfg: the composed config.
        out: the output directory.
        multirun: part of a sweep (quieter; no narrative or trajectories unless asked).
        choices: the config-group options chosen (``scenario``, ``actors``, ``policy``),
            recorded as columns.
        overrides: the job's command-line overrides, recorded in the metadata.
    """
    app, base_model = to_app_config(cfg)
    points = job_points(app)
    seeds = list(range(app.seed, app.seed + app.seeds))
    meta = {
        "config": json.loads(json.dumps(asdict(app), default=str)),
        "points": points,
        "seeds": [seeds[0], seeds[-1]],
        "version": sim.__version__,
        "overrides": list(overrides or []),
    }
    if multirun:
        return run_sweep_job(app, base_model, points, seeds, out, choices, meta)
    return run_single(app, base_model, seeds, out, choices, meta)


def run_single(
    app: AppConfig, base_model, seeds: list[int], out: Path, choices, meta: dict
) -> dict:
    """One configuration over many seeds: stream the tables, print the summary, tell one run."""
    from sim.engines.batch import run_batch
    from sim.report.io import ParquetStream, save_figure, write_text
    from sim.report.summary import RunningSummary

    t_job = time.perf_counter()
    narrate = app.narrate if app.narrate is not None else True
    record = app.trajectories
    if record is None:
        record = app.seeds <= TRAJECTORY_LIMIT
        if not record:
            print(
                f"({app.seeds:,} runs: round-by-round tables not recorded; add trajectories=true to record them)"
            )
    engine = app.engine if app.engine != "auto" else ("batch" if app.seeds > 1 else "mesa")
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
        f"{app.seeds:,} seeds of {app.rounds} rounds (seeds {seeds[0]}–{seeds[-1]}), {engine} engine{threads}"
    )

    actors = [n for n, a in base_model.actors.items() if a.enabled]
    summary = RunningSummary(actors)
    keep: dict[str, list] = {"states": [], "actions": []}
    written = {
        "config": write_text(
            OmegaConf.to_yaml(OmegaConf.create(meta["config"])), out / "config.yaml"
        )
    }
    with (
        ExitStack() as stack
    ):  # closed in reverse: runs.parquet last, its presence means "finished"
        streams = {"runs": stack.enter_context(ParquetStream(out / "runs.parquet", meta))}
        if record:
            for kind in ("states", "actions"):
                streams[kind] = stack.enter_context(ParquetStream(out / f"{kind}.parquet", meta))

        def sink(kind, table):
            if kind == "runs":
                table = _label_columns(table, app, choices, [])
                summary.add(table)
            streams[kind].write(table)
            if kind in keep:  # the first runs, for the figure
                mask = table.column("run_id").to_numpy() < FIGURE_RUNS
                if mask.any():
                    keep[kind].append(table.filter(mask))

        t0 = time.perf_counter()
        configs = [base_model] * len(seeds)
        if engine == "batch":
            run_batch(
                configs,
                seeds,
                record=record,
                processes=app.processes,
                progress=app.progress,
                sink=sink,
            )
        else:
            from sim.engines.mesa_model import run_mesa  # Mesa is imported only when it runs

            _feed(run_mesa(configs, seeds, record=record, progress=app.progress), sink)
        elapsed = time.perf_counter() - t0
        meta["timing"] = {"simulate_s": elapsed}
        for kind, stream in streams.items():
            stream.metadata = meta
            written[kind] = stream.path
    if record:
        import pyarrow as pa

        from sim.engines.tables import to_pandas
        from sim.report.plots import plot_trajectories

        shown = min(app.seeds, FIGURE_RUNS)
        states = to_pandas(pa.concat_tables(keep["states"]))
        actions_ = to_pandas(pa.concat_tables(keep["actions"]))
        n_note = f"{shown:,} of {app.seeds:,}" if shown < app.seeds else shown
        fig = plot_trajectories(states, actions_, app.description or app.name, n_note)
        written["figure"] = save_figure(fig, out / "trajectories.png", dpi=110)
    print()
    print(summary.format())
    if narrate:  # told from the batch engine's own record of the run: no Mesa needed
        from sim.engines.batch import run_one
        from sim.report.narrate import narrate as tell

        print(f"\nThe run with seed {seeds[0]}, round by round:")
        print(tell(run_one(base_model, seeds[0]), color=sys.stdout.isatty()))
    say(
        f"\n{len(seeds):,} runs simulated in {elapsed:.2f} s ({time.perf_counter() - t_job:.1f} s in all). Results in {out}/:"
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


def verified_blocks(out: Path, plan: str) -> dict[str, dict]:
    """The finished blocks recorded in ``out/blocks.json`` for this plan whose files still
    check out (present, same row count, same checksum); the rest are to be redone."""
    from sim.report.io import file_digest

    path = out / BLOCKS_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if record.get("plan") != plan:
        return {}
    good = {}
    for key, entry in record.get("blocks", {}).items():
        try:
            digest = file_digest(out / entry["file"])
        except Exception:  # noqa: BLE001 - missing, truncated or not Parquet: redo the block
            continue
        if digest.get("rows") == entry.get("rows") and digest["sha256"] == entry.get("sha256"):
            good[key] = entry
    return good


def run_sweep_job(
    app: AppConfig, base_model, points, seeds, out: Path, choices, meta: dict
) -> dict:
    """A sweep job: its grid points in blocks, each written and recorded as it finishes."""
    from sim.engines.batch import run_batch
    from sim.report.io import file_digest, remove_leftovers, write_json, write_parquet

    engine = app.engine if app.engine != "auto" else "batch"
    meta["engine"] = engine
    blocks = plan_blocks(points, len(seeds))
    plan = _fingerprint({k: meta[k] for k in ("config", "points", "seeds", "version", "engine")})
    remove_leftovers(out)
    done = verified_blocks(out, plan)
    record = {"plan": plan, "points": points, "blocks": dict(done)}
    record_flag = bool(app.trajectories)
    from tqdm.auto import tqdm

    todo = [b for b in range(len(blocks)) if f"{b:04d}" not in done]
    total = sum(len(blocks[b]) for b in todo) * len(seeds)
    bar = tqdm(
        total=total, unit="run", desc=f"job {out.name}", file=sys.stderr, disable=not app.progress
    )
    if done:
        print(
            f"job {out.name}: {len(done)} of {len(blocks)} blocks already complete, kept",
            file=sys.stderr,
        )
    for b in todo:
        key, block = f"{b:04d}", blocks[b]
        configs, run_seeds, swept = _configs_for(app, base_model, block, seeds)
        t0 = time.perf_counter()
        if engine == "batch":
            res = run_batch(
                configs, run_seeds, record=record_flag, processes=app.processes, progress=False
            )
        else:
            from sim.engines.mesa_model import run_mesa

            res = run_mesa(configs, run_seeds, record=record_flag, progress=False)
        import pyarrow as pa

        runs = _label_columns(
            pa.Table.from_pandas(res.runs, preserve_index=False), app, choices, swept
        )
        block_meta = {
            **meta,
            "block": b,
            "block_points": block,
            "timing": {"simulate_s": time.perf_counter() - t0},
        }
        files = {"file": f"blocks/{key}.parquet"}
        if record_flag:
            files["states"] = str(
                write_parquet(res.states, out / f"blocks/{key}.states.parquet", block_meta).name
            )
            files["actions"] = str(
                write_parquet(res.actions, out / f"blocks/{key}.actions.parquet", block_meta).name
            )
        path = write_parquet(runs, out / files["file"], block_meta)
        record["blocks"][key] = {**files, "points": block, **file_digest(path)}
        write_json(record, out / BLOCKS_FILE)  # after the block's file: a listed block is complete
        bar.update(len(block) * len(seeds))
    bar.close()
    write_json(record, out / BLOCKS_FILE)
    return record


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Entry point of the ``stalemate`` console script (also ``python -m sim``)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        hc = HydraConfig.get()
        run_app(
            cfg,
            Path(hc.runtime.output_dir),
            multirun=hc.mode == RunMode.MULTIRUN,
            choices=dict(hc.runtime.choices),
            overrides=list(hc.overrides.task),
        )
    except ConfigError as err:  # normally caught earlier by the ValidateConfig callback
        print(f"stalemate: config error: {err}", file=sys.stderr)
        raise SystemExit(2) from None

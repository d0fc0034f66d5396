"""The ``stalemate`` sweeper: Hydra's sweep syntax, grid points run in batches.

It reads sweeps exactly as Hydra's basic sweeper does (``key=a,b,c``,
``key='range(0,1.01,0.05)'``, presets in ``hydra.sweeper.params``) and forms
their cartesian product, but hands each job *many* grid points that the app runs
through the batch engine on every core:

- on this machine (the basic, joblib or submitit-local launcher) all the points
  of a config-group combination go to one job, which runs them in blocks on
  every core — one process, no per-job start-up;
- with a launcher for other machines (SLURM) the points are cut into jobs of
  ``hydra.sweeper.points_per_job`` points each.

In order, before any job starts:

1. the sweep is counted (without listing it) and refused above
   ``hydra.sweeper.max_points``; its size is printed at once;
2. every grid point is composed and validated — a bad key, an empty range or an
   out-of-range value stops the sweep with one line and exit code 2;
3. the sweep directory is made absolute (jobs on other machines write there),
   and locked (:mod:`sim.hydra.lock`): a second sweep into a busy directory is
   refused, and so is a *different* sweep into a directory holding one;
4. the plan is written to ``sweep.json`` (jobs read their points from it).

Then the jobs run; a failed job does not stop the others. At the end the sweeper
merges the jobs (:func:`sim.hydra.sweep.collect`), draws the figures, and exits
1 — naming what is missing or failed and the command that completes it — unless
every point is there. A re-run of the same command redoes only what is missing.
"""

import itertools
import json
import math
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf, open_dict

#: The largest sweep run without asking (``hydra.sweeper.max_points`` changes it).
MAX_POINTS = 100_000
#: Above this many configs to check, the sweep's size is printed before checking them.
SAY_FIRST = 2_000


@dataclass
class StalemateSweeperConf:
    _target_: str = "hydra_plugins.stalemate_sweeper.sweeper.StalemateSweeper"
    params: dict[str, str] | None = None
    points_per_job: int | None = None  # points per job (None: all on this machine, 25 elsewhere)
    max_batch_size: int | None = None  # jobs handed to the launcher at once (None: all)
    max_points: int = MAX_POINTS  # refuse a sweep of more parameter points than this


ConfigStore.instance().store(
    group="hydra/sweeper", name="stalemate", node=StalemateSweeperConf, provider="stalemate"
)


class SweepError(ValueError):
    """A malformed sweep, found before any job starts."""


def sweep_length(o) -> int:
    """The number of values of a sweep override, counted without listing a range."""
    from hydra.core.override_parser.types import RangeSweep

    value = o.value()
    if isinstance(value, RangeSweep):
        start, stop, step = float(value.start), float(value.stop), float(value.step)
        if step == 0:
            raise SweepError(f"{o.get_key_element()}: range() with step 0 never ends")
        return max(0, math.ceil((stop - start) / step))
    return len(list(o.sweep_string_iterator()))


def plan_sweep(overrides, is_group, max_points: int = MAX_POINTS):
    """Split parsed overrides into the fixed part, group sweeps and value sweeps.

    Returns:
        (value keys, group keys, job-level override lists, the value sweeps' lists)

    Raises:
        SweepError: a setting swept, an empty or endless sweep, or more points than
            ``max_points`` (counted before anything is listed).
    """
    from sim.hydra.schema import APP_ONLY

    fixed: list[str] = []
    group_lists: list[list[str]] = []
    value_lists: list[list[str]] = []
    value_keys: list[str] = []
    group_keys: list[str] = []
    last = {o.get_key_element(): o for o in overrides}  # as in Hydra: the last value of a key wins
    sweeps = [o for o in last.values() if o.is_sweep_override()]
    for o in sweeps:
        key = o.get_key_element()
        if key.lstrip("+~") in APP_ONLY:
            raise SweepError(
                f"{key}: only model parameters and config groups can be swept; "
                f"{key} is a setting of the run (give one value, e.g. {key}=…)"
            )
        if not o.is_discrete_sweep():
            raise SweepError(
                f"{key}: only lists and range() sweeps are supported, got {o.input_line}"
            )
    sizes = {o.get_key_element(): sweep_length(o) for o in sweeps}
    for key, n in sizes.items():
        if n == 0:
            raise SweepError(
                f"{key}: the sweep {last[key].input_line!r} is empty; give at least one value"
            )
    total = math.prod(sizes.values())
    if total > max_points:
        raise SweepError(
            f"the sweep has {total:,} parameter points ({' x '.join(f'{k} {n:,}' for k, n in sizes.items())}), "
            f"more than hydra.sweeper.max_points = {max_points:,}; narrow it, or allow it "
            f"with hydra.sweeper.max_points={total}"
        )
    for o in last.values():
        key = o.get_key_element()
        if o.is_sweep_override():
            values = [f"{key}={v}" for v in o.sweep_string_iterator()]
            if is_group(o.key_or_group):
                group_lists.append(values)
                group_keys.append(key)
            else:
                value_lists.append(values)
                value_keys.append(key)
        else:
            fixed.append(f"{key}={o.get_value_element_as_str()}")
    combos = [fixed + list(c) for c in itertools.product(*group_lists)] or [fixed]
    return value_keys, group_keys, combos, value_lists


def identity(combos, value_lists) -> list[str]:
    """What a sweep is, independent of job layout and override order: its points, each
    as sorted overrides, sorted — without settings that do not change results."""
    from sim.hydra.cli import NOT_RESULTS

    def keep(o: str) -> bool:
        return o.split("=", 1)[0].lstrip("+~") not in NOT_RESULTS

    points = [sorted(filter(keep, c)) for c in combos]
    return sorted(
        json.dumps(sorted(c + list(v)))
        for c in points
        for v in (itertools.product(*value_lists) if value_lists else [()])
    )


class StalemateSweeper(Sweeper):
    #: Launchers that run jobs on this machine: there, one job per group combination.
    LOCAL = ("BasicLauncher", "JoblibLauncher", "LocalLauncher")

    def __init__(
        self,
        params=None,
        points_per_job: int | None = None,
        max_batch_size=None,
        max_points: int = MAX_POINTS,
    ) -> None:
        self.params = params or {}
        self.points_per_job = points_per_job
        self.max_batch_size = max_batch_size
        self.max_points = max_points

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.sweep_dir = make_absolute(config)  # before the launcher reads it
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _is_group(self, key: str) -> bool:
        """True for a config group (``scenario``, ``hydra/launcher``), through the public loader API."""
        parent, _, name = key.lstrip("+~").replace(".", "/").rpartition("/")
        return name in self.hydra_context.config_loader.list_groups(parent)

    @staticmethod
    def _split(value_keys) -> tuple[list[int], list[int]]:
        """Indices of the swept keys checked alone and of those checked together."""
        from sim.hydra.schema import INDEPENDENT

        alone = [i for i, k in enumerate(value_keys) if k.lstrip("+") in INDEPENDENT]
        return alone, [i for i in range(len(value_keys)) if i not in alone]

    def _checks(self, combos, value_keys, value_lists) -> int:
        """How many configs :meth:`_validate` will check."""
        alone, joint = self._split(value_keys)
        n = sum(len(value_lists[i]) for i in alone) + math.prod(len(value_lists[i]) for i in joint)
        return len(combos) * n

    def _validate(self, combos, value_keys, value_lists) -> None:
        """Compose each group combination once, then check the points' values.

        A value of a plain number (assurance, detect_prob, …) is checked on its own,
        once: its validity does not depend on the other keys. The other keys (rounds,
        events, actors, …) are checked together, over their own product.
        """
        from sim.hydra.schema import GROUPS, check_name, to_app_config, validate_point

        loader = self.hydra_context.config_loader
        alone, joint = self._split(value_keys)
        checks = [[v] for i in alone for v in value_lists[i]]
        checks += [list(p) for p in itertools.product(*(value_lists[i] for i in joint))]
        for combo in combos:
            # composed with its jobs' overrides (_job_overrides): a job launched in this
            # process is handed this composition's copy instead of composing it again
            # (sim.hydra.compose.compose_once); ``points`` changes nothing checked here
            base = loader.load_sweep_config(self.config, _job_overrides(combo, value_keys))
            for group in GROUPS:
                choice = base.hydra.runtime.choices.get(group)
                if choice is not None:
                    check_name(group, str(choice))
            app_cfg = to_app_config(base)[0]
            validate_point(app_cfg, checks)

    def sweep(self, arguments: list[str]) -> Any:
        from sim.hydra.refuse import explain
        from sim.hydra.sweep import finish
        from sim.report.phases import mark

        mark("hydra")

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        args = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        target = str(self.config.hydra.launcher.get("_target_", ""))
        local = any(name in target for name in self.LOCAL)
        seeds = int(self.config.get("seeds", 1))
        try:
            for key in ("points_per_job", "max_points"):
                value = getattr(self, key)
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise SweepError(f"hydra.sweeper.{key} = {value!r} must be 1 or more")
            overrides = parser.parse_overrides(args)
            value_keys, group_keys, combos, value_lists = plan_sweep(
                overrides, self._is_group, self.max_points
            )
            n_points = len(combos) * math.prod(len(v) for v in value_lists)
            size = (
                f"Sweep: {n_points:,} parameter points x {seeds:,} seeds = "
                f"{n_points * seeds:,} runs -> {self.sweep_dir}"
            )
            slow = self._checks(combos, value_keys, value_lists) > SAY_FIRST
            if slow:  # checking takes a while: say what is coming first
                print(f"{size} (checking every point…)", file=sys.stderr, flush=True)
            self._validate(combos, value_keys, value_lists)
            mark("compose and check points")
        except Exception as err:  # noqa: BLE001 - one clear line for any malformed sweep
            refuse(f"sweep error: {explain(err)}")

        from sim.engines.provenance import provenance
        from sim.hydra.lock import DirLock, LockBusy
        from sim.report.io import failpoint, remove_leftovers, write_text

        this = identity(combos, value_lists)
        lock = DirLock(self.sweep_dir, "sweep")
        try:
            lock.check()  # a running sweep first, then another sweep's plan: refused untouched
            self._existing_jobs(this)
            lock.acquire()
        except LockBusy as err:
            refuse(f"{err}; wait for it to end, or choose another hydra.sweep.dir")
        except OSError as err:
            refuse(f"hydra.sweep.dir = {self.sweep_dir} cannot be used: {err.strerror or err}")
        if lock.stale_note():
            print(f"stalemate: {lock.stale_note()}", file=sys.stderr)
        try:
            failpoint("sweep.locked")
            jobs = self._existing_jobs(this)  # again, now that no other sweep can change it
            if not slow:  # printed once nothing can refuse the sweep: a refusal stays one line
                print(size, file=sys.stderr)
            if jobs is None:
                jobs = self._plan_jobs(combos, value_keys, value_lists, local)
            remove_leftovers(self.sweep_dir, recursive=False)
            command = resume_command(self.sweep_dir)
            manifest = {
                "provenance": provenance(),  # the code that plans it is the code that runs it
                "value_keys": value_keys,
                "group_keys": group_keys,
                "jobs": [{"num": i, "overrides": j, "points": p} for i, (j, p) in enumerate(jobs)],
                "n_points": sum(max(1, len(p)) for _, p in jobs),
                "identity": this,
                "command": command,
            }
            write_text(json.dumps(manifest, indent=1), self.sweep_dir / "sweep.json")
            # after the plan: a multirun.yaml without a sweep.json is a basic sweeper's
            write_text(OmegaConf.to_yaml(self.config), self.sweep_dir / "multirun.yaml")
            failpoint("sweep.planned")
            mark("plan")
            print(f"  in {len(jobs)} job{'s' * (len(jobs) != 1)}", file=sys.stderr)
            from sim.hydra.cli import SWEEP_PID_ENV

            os.environ[SWEEP_PID_ENV] = str(os.getpid())  # local workers: die with this process
            failed = self._launch(jobs, target, seeds)
            finish(self.sweep_dir, failed, command)
        finally:
            lock.release()
        return []

    def _existing_jobs(self, this: list[str]):
        """The jobs of the sweep already planned in this directory, if it is this sweep;
        None if there is none; a refusal if it holds a different sweep."""
        path = self.sweep_dir / "sweep.json"
        if not path.exists():
            saved = self.sweep_dir / "multirun.yaml"
            if saved.exists() and "StalemateSweeper" not in saved.read_text():
                refuse(
                    f"hydra.sweep.dir = {self.sweep_dir} holds a sweep made by another sweeper "
                    "(hydra/sweeper=basic?); complete it with that command, or choose another directory"
                )
            return None
        try:
            old = json.loads(path.read_text())
            old_jobs = [(j["overrides"], j["points"]) for j in old["jobs"]]
            old_identity = old["identity"]
        except (OSError, ValueError, KeyError, TypeError):
            print(f"stalemate: {path} is unreadable; planning the sweep again", file=sys.stderr)
            return None
        if old_identity != this:
            extra = sorted(set(this) - set(old_identity))
            example = " ".join(json.loads(extra[0])) if extra else ""
            refuse(
                f"hydra.sweep.dir = {self.sweep_dir} holds a different sweep "
                f"({len(old_identity):,} points{'; e.g. it lacks ' + example if example else ''}): "
                "one sweep per directory — choose another hydra.sweep.dir, or re-run that "
                f"sweep's own command ({old.get('command', 'see its sweep.json')})"
            )
        from sim.engines.provenance import check_same_code
        from sim.model.validation import ConfigError

        try:  # the same sweep, planned by other code: its blocks hold another model
            check_same_code(old.get("provenance"), f"hydra.sweep.dir = {self.sweep_dir}")
        except ConfigError as err:
            refuse(str(err))
        return old_jobs

    def _plan_jobs(self, combos, value_keys, value_lists, local: bool):
        points = [list(p) for p in itertools.product(*value_lists)] if value_lists else [[]]
        per_job = self.points_per_job or (len(points) if local else 25)
        jobs = []
        for combo in combos:
            n_blocks = max(1, math.ceil(len(points) / per_job))
            size = math.ceil(len(points) / n_blocks)
            for b in range(n_blocks):
                block = points[b * size : (b + 1) * size]
                jobs.append((_job_overrides(combo, value_keys), block))
        return jobs

    def _pending(self, jobs) -> list[int]:
        """The jobs that still have points to run (a finished job is not sent again:
        on a cluster, no queueing for nothing)."""
        from sim.engines.provenance import code_hash
        from sim.hydra.blocks import check_job, covered_points

        todo = []
        for num, (_, points) in enumerate(jobs):
            done = covered_points(check_job(self.sweep_dir / str(num), points, code=code_hash()))
            if any(json.dumps(p) not in done for p in points):
                todo.append(num)
        if len(todo) < len(jobs):
            print(
                f"  {len(jobs) - len(todo)} of {len(jobs)} jobs already complete", file=sys.stderr
            )
        return todo

    def _launch(self, jobs, target: str, seeds: int) -> list[str]:
        """Run the unfinished jobs in batches (each keeps its number, and so its directory);
        return one line per job (or batch) that failed."""
        from sim.engines import progress_bar
        from sim.hydra.sweep import one_line

        todo = self._pending(jobs)
        batch = self.max_batch_size
        if batch is None:  # a sequential launcher runs jobs one by one: report each
            batch = 1 if "BasicLauncher" in target else max(1, len(todo))
        runs = [grp for grp in _runs_of(todo)]  # contiguous job numbers
        batches = [r[k : k + batch] for r in runs for k in range(0, len(r), batch)]
        failed: list[str] = []
        size = {num: max(1, len(jobs[num][1])) * seeds for num in todo}
        # one bar over the sweep's runs; a single local job shows its own bar over blocks
        with progress_bar(
            total=sum(size.values()),
            unit="run",
            desc="sweep",
            file=sys.stderr,
            disable=len(todo) <= 1 or not self.config.get("progress", True),
        ) as bar:
            finished = 0
            bar.set_postfix_str(f"0/{len(todo)} jobs")
            for nums in batches:
                chunk = [jobs[num][0] for num in nums]
                try:
                    results = self.launcher.launch(chunk, initial_job_idx=nums[0])
                except Exception as err:  # noqa: BLE001 - e.g. a cluster job that failed
                    failed.append(f"jobs {nums[0]}–{nums[-1]}: {one_line(err)}")
                    results = []
                for num, r in zip(nums, results):
                    try:
                        _ = r.return_value  # re-raises a failed job's exception
                    except Exception as err:  # noqa: BLE001
                        failed.append(f"job {num}: {one_line(err)}")
                finished += len(nums)
                bar.update(sum(size[num] for num in nums))
                bar.set_postfix_str(f"{finished}/{len(todo)} jobs")
        return failed


def _job_overrides(combo: list[str], value_keys: list[str]) -> list[str]:
    """The overrides of a job of the group combination ``combo``: its points are read from
    the plan (``points=sweep.json``: short command lines) when values are swept."""
    return [*combo, "++points=sweep.json"] if value_keys else list(combo)


def _runs_of(nums: list[int]) -> list[list[int]]:
    """Contiguous runs of sorted numbers: [0, 1, 3] -> [[0, 1], [3]]."""
    out: list[list[int]] = []
    for n in nums:
        if out and out[-1][-1] == n - 1:
            out[-1].append(n)
        else:
            out.append([n])
    return out


def refuse(message: str):
    """Stop before any job: one line on stderr, exit code 2."""
    print(f"stalemate: {message}", file=sys.stderr)
    raise SystemExit(2)


def _quote_override(value: str) -> str:
    """A value as Hydra's override grammar reads it back unchanged."""
    if all(c.isalnum() or c in "/._-:" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def make_absolute(config: DictConfig) -> Path:
    """Resolve ``hydra.sweep.dir`` once (its ``${now:…}`` included) to an absolute path and
    pin it for every job: jobs on other machines, with other working directories, then
    write into the same directory. Returns it."""
    sweep_dir = Path(os.path.abspath(Path(str(config.hydra.sweep.dir)).expanduser()))
    with open_dict(config.hydra):
        config.hydra.sweep.dir = str(sweep_dir)
        config.hydra.overrides.hydra.append(f"hydra.sweep.dir={_quote_override(str(sweep_dir))}")
    return sweep_dir


def resume_command(sweep_dir: Path) -> str:
    """The command that completes this sweep: this one, pinned to its directory."""
    args = [a for a in sys.argv[1:] if not a.startswith("hydra.sweep.dir=")]
    if "-m" not in args and "--multirun" not in args:
        args.insert(0, "-m")
    return shlex.join(["stalemate", *args, f"hydra.sweep.dir={sweep_dir}"])

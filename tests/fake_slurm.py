"""A fake SLURM for one machine: ``sbatch``, ``srun``, ``sacct``, ``scancel`` and ``scontrol``
stand-ins that record what was submitted and run array tasks locally.

It is just enough SLURM for submitit (and so Hydra's SLURM launcher) to work
unchanged: ``sbatch FILE`` answers "Submitted batch job N", keeps a copy of the
batch script and starts a runner in the background that plays the array's tasks
side by side, at most the array's ``%N`` at once, as nodes would — each one
``bash FILE`` with the ``SLURM_*`` variables a node would set, from a working
directory that is *not* the submitter's (as on a real node, so relative paths
break as they would there); ``srun`` runs its command with the
``--output``/``--error`` patterns filled in; ``sacct`` reports each task's state.

State lives in ``$FAKE_SLURM_STATE``:

- ``next_id`` — the next job id;
- ``jobs/<id>/script.sh`` and ``jobs/<id>/sbatch.json`` — what was submitted;
- ``jobs/<id>/<task>.state`` — PENDING, RUNNING, COMPLETED, FAILED or NODE_FAIL
  (task ``-`` for a job submitted without ``--array``);
- ``jobs/<id>/<task>.cwd`` — where the task ran;
- ``calls.log`` — every command called, one JSON list per line.

``FAKE_SLURM_NODE_FAIL=1,3`` makes those array tasks end in NODE_FAIL without
running (a node lost, a pre-empted task): what a resubmission must complete. They
are reported once the other tasks have ended, so the sweep that sees the loss has
every other task finished whatever the machine's speed.

``root/site`` holds a ``sitecustomize.py`` for ``PYTHONPATH``: it shortens
submitit's wait for a finished task's result file (15 s, for slow network file
systems; ``Job._results_timeout_s``, which submitit's own tests set to 0) to
:data:`RESULTS_TIMEOUT_S`. On one machine's disk the file is there at once or
never: only a lost task waits.

Example:
    >>> import tempfile
    >>> bin_dir = install(Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in bin_dir.iterdir())
    ['sacct', 'sbatch', 'scancel', 'scontrol', 'srun']
    >>> (bin_dir.parent / "site" / "sitecustomize.py").is_file()
    True
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = ("sbatch", "srun", "sacct", "scancel", "scontrol")


#: How long submitit waits for the result file of a task that ended (its default: 15 s).
RESULTS_TIMEOUT_S = 1
#: ``root/site/sitecustomize.py``: sets ``submitit.core.core.Job._results_timeout_s`` when
#: (and only if) a process imports submitit; other processes do not import it for this.
SITECUSTOMIZE = f"""\
# Written by {Path(__file__).name}: submitit waits {RESULTS_TIMEOUT_S} s, not 15 s, for a lost task's result file.
import importlib.abc
import importlib.machinery
import sys


class _ShortResultsTimeout(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "submitit.core.core":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            module.Job._results_timeout_s = {RESULTS_TIMEOUT_S}

        spec.loader.exec_module = exec_and_patch
        return spec


sys.meta_path.insert(0, _ShortResultsTimeout())
"""


def install(root: Path) -> Path:
    """Write the fake commands into ``root/bin`` (state in ``root/state``); return the bin dir.

    Put the bin dir first on ``PATH``, set ``FAKE_SLURM_STATE`` to ``root/state``, and
    put ``root/site`` first on ``PYTHONPATH`` (see :data:`SITECUSTOMIZE`).
    """
    bin_dir, state = root / "bin", root / "state"
    (root / "site").mkdir(parents=True, exist_ok=True)
    (root / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    bin_dir.mkdir(parents=True, exist_ok=True)
    (state / "jobs").mkdir(parents=True, exist_ok=True)
    (state / "node").mkdir(exist_ok=True)  # the tasks' working directory
    here = Path(__file__).resolve().parent
    for cmd in COMMANDS:
        path = bin_dir / cmd
        path.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(here)!r})\n"
            f"import fake_slurm\nsys.exit(fake_slurm.main({cmd!r}, sys.argv[1:]))\n"
        )
        path.chmod(0o755)
    return bin_dir


def _state() -> Path:
    return Path(os.environ["FAKE_SLURM_STATE"])


def main(cmd: str, args: list[str]) -> int:
    with open(_state() / "calls.log", "a") as f:
        f.write(json.dumps([cmd, *args]) + "\n")
    return {"sbatch": sbatch, "srun": srun, "sacct": sacct}.get(cmd, lambda a: 0)(args)


def sbatch(args: list[str]) -> int:
    script = Path(args[-1])
    text = script.read_text()
    flags = dict(re.findall(r"^#SBATCH --([\w-]+)=?(.*)$", text, flags=re.M))
    state = _state()
    id_file = state / "next_id"
    job_id = int(id_file.read_text()) if id_file.exists() else 1000
    id_file.write_text(str(job_id + 1))
    job = state / "jobs" / str(job_id)
    job.mkdir(parents=True)
    (job / "script.sh").write_text(text)
    (job / "sbatch.json").write_text(json.dumps({"args": args, "flags": flags}))
    parallel = 1
    if "array" in flags:
        m = re.match(r"(\d+)-(\d+)(?:%(\d+))?", flags["array"])
        tasks = [str(t) for t in range(int(m.group(1)), int(m.group(2)) + 1)]
        parallel = int(m.group(3) or len(tasks))
    else:  # a single job (submitit submits one job without --array)
        tasks = ["-"]
    for t in tasks:
        (job / f"{t}.state").write_text("PENDING")
    subprocess.Popen(  # the "cluster": plays the tasks after sbatch has answered
        [sys.executable, __file__, "run", str(job_id), str(script), str(parallel), *tasks],
        cwd=state / "node",
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"Submitted batch job {job_id}")
    return 0


def run_tasks(job_id: str, script: str, parallel: int, tasks: list[str]) -> None:
    """Play the tasks, at most ``parallel`` at once; then report the lost ones."""
    job = _state() / "jobs" / job_id
    node_fail = {t for t in os.environ.get("FAKE_SLURM_NODE_FAIL", "").split(",") if t}
    queue = [t for t in tasks if t not in node_fail]
    running: dict[str, subprocess.Popen] = {}
    while queue or running:
        while queue and len(running) < parallel:
            t = queue.pop(0)
            (job / f"{t}.state").write_text("RUNNING")
            (job / f"{t}.cwd").write_text(os.getcwd())
            running[t] = subprocess.Popen(["bash", script], env=_task_env(job_id, t))
        time.sleep(0.05)
        for t, proc in list(running.items()):
            if proc.poll() is not None:
                (job / f"{t}.state").write_text("COMPLETED" if proc.returncode == 0 else "FAILED")
                del running[t]
    for t in tasks:
        if t in node_fail:
            (job / f"{t}.state").write_text("NODE_FAIL")


def _task_env(job_id: str, t: str) -> dict[str, str]:
    """The environment of task ``t`` (``-``: a job without --array) on a node."""
    env = {
        **os.environ,
        "SLURM_JOB_ID": job_id,
        "SLURM_NTASKS": "1",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
        "SLURM_JOB_NUM_NODES": "1",
        "SLURM_JOB_NODELIST": "fakenode1",
    }
    if t != "-":  # an array task
        env.update(
            SLURM_JOB_ID=str(int(job_id) * 1000 + int(t)),
            SLURM_ARRAY_JOB_ID=job_id,
            SLURM_ARRAY_TASK_ID=t,
        )
    return env


def _fill(pattern: str) -> str:
    env = os.environ
    return (
        pattern.replace("%A", env.get("SLURM_ARRAY_JOB_ID", ""))
        .replace("%a", env.get("SLURM_ARRAY_TASK_ID", ""))
        .replace("%j", env.get("SLURM_JOB_ID", ""))
        .replace("%t", env.get("SLURM_PROCID", "0"))
    )


def srun(args: list[str]) -> int:
    out = err = None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("--output", "--error"):
            path = Path(_fill(args[i + 1]))
            path.parent.mkdir(parents=True, exist_ok=True)
            if args[i] == "--output":
                out = path
            else:
                err = path
            i += 2
        else:
            i += 1
    with open(out or os.devnull, "a") as o, open(err or out or os.devnull, "a") as e:
        return subprocess.call(args[i:], stdout=o, stderr=e)


def sacct(args: list[str]) -> int:
    ids = [args[i + 1] for i, a in enumerate(args) if a == "-j"]
    print("JobID|State|NodeList")
    for job_id in ids:
        job = _state() / "jobs" / job_id
        for state in sorted(job.glob("*.state")):
            name = job_id if state.stem == "-" else f"{job_id}_{state.stem}"
            print(f"{name}|{state.read_text()}|fakenode1")
    return 0


def submissions(state: Path) -> list[dict]:
    """What ``sbatch`` was given, in order: the flags, the script, where tasks ran."""
    out = []
    for job in sorted((state / "jobs").iterdir(), key=lambda p: int(p.name)):
        info = json.loads((job / "sbatch.json").read_text())
        info["script"] = (job / "script.sh").read_text()
        info["cwd"] = sorted({p.read_text() for p in job.glob("*.cwd")})
        info["states"] = {p.stem: p.read_text() for p in job.glob("*.state")}
        out.append(info)
    return out


def settled(state: Path, timeout: float = 60.0) -> list[dict]:
    """:func:`submissions` once no task is PENDING or RUNNING any more.

    submitit counts a task as done when its result file is written, so a sweep can
    finish while a task's process is still exiting and the cluster has not yet
    recorded it COMPLETED (real SLURM accounting lags the same way). Waits at most
    ``timeout`` seconds, then returns what it sees.
    """
    deadline = time.monotonic() + timeout
    while True:
        subs = submissions(state)
        busy = {"PENDING", "RUNNING"} & {v for sub in subs for v in sub["states"].values()}
        if not busy or time.monotonic() > deadline:
            return subs
        time.sleep(0.1)


if __name__ == "__main__" and sys.argv[1] == "run":
    run_tasks(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])

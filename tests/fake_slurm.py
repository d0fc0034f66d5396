"""A fake SLURM for one machine: ``sbatch``, ``srun``, ``sacct``, ``scancel`` and ``scontrol``
stand-ins that record what was submitted and run array tasks locally.

It is just enough SLURM for submitit (and so Hydra's SLURM launcher) to work
unchanged: ``sbatch FILE`` answers "Submitted batch job N", keeps a copy of the
batch script and starts a runner in the background that plays the array's tasks
one by one — ``bash FILE`` with the ``SLURM_*`` variables a node would set, from a
working directory that is *not* the submitter's (as on a real node, so relative
paths break as they would there); ``srun`` runs its command with the
``--output``/``--error`` patterns filled in; ``sacct`` reports each task's state.

State lives in ``$FAKE_SLURM_STATE``:

- ``next_id`` — the next job id;
- ``jobs/<id>/script.sh`` and ``jobs/<id>/sbatch.json`` — what was submitted;
- ``jobs/<id>/<task>.state`` — PENDING, RUNNING, COMPLETED, FAILED or NODE_FAIL
  (task ``-`` for a job submitted without ``--array``);
- ``jobs/<id>/<task>.cwd`` — where the task ran;
- ``calls.log`` — every command called, one JSON list per line.

``FAKE_SLURM_NODE_FAIL=1,3`` makes those array tasks end in NODE_FAIL without
running (a node lost, a pre-empted task): what a resubmission must complete.

Example:
    >>> import tempfile
    >>> bin_dir = install(Path(tempfile.mkdtemp()))
    >>> sorted(p.name for p in bin_dir.iterdir())
    ['sacct', 'sbatch', 'scancel', 'scontrol', 'srun']
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

COMMANDS = ("sbatch", "srun", "sacct", "scancel", "scontrol")


def install(root: Path) -> Path:
    """Write the fake commands into ``root/bin`` (state in ``root/state``); return the bin dir.

    Put the bin dir first on ``PATH`` and set ``FAKE_SLURM_STATE`` to ``root/state``.
    """
    bin_dir, state = root / "bin", root / "state"
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
    if "array" in flags:
        m = re.match(r"(\d+)-(\d+)", flags["array"])
        tasks = [str(t) for t in range(int(m.group(1)), int(m.group(2)) + 1)]
    else:  # a single job (submitit submits one job without --array)
        tasks = ["-"]
    for t in tasks:
        (job / f"{t}.state").write_text("PENDING")
    subprocess.Popen(  # the "cluster": plays the tasks after sbatch has answered
        [sys.executable, __file__, "run", str(job_id), str(script), *tasks],
        cwd=state / "node",
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"Submitted batch job {job_id}")
    return 0


def run_tasks(job_id: str, script: str, tasks: list[str]) -> None:
    job = _state() / "jobs" / job_id
    node_fail = {t for t in os.environ.get("FAKE_SLURM_NODE_FAIL", "").split(",") if t}
    for t in tasks:
        if t in node_fail:
            (job / f"{t}.state").write_text("NODE_FAIL")
            continue
        (job / f"{t}.state").write_text("RUNNING")
        (job / f"{t}.cwd").write_text(os.getcwd())
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
        rc = subprocess.call(["bash", script], env=env)
        (job / f"{t}.state").write_text("COMPLETED" if rc == 0 else "FAILED")


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


if __name__ == "__main__" and sys.argv[1] == "run":
    run_tasks(sys.argv[2], sys.argv[3], sys.argv[4:])

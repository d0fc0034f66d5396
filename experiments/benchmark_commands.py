"""Benchmark: what a user waits for — every console command, end to end, with its phases.

Prints, each line with the 1-minute load average at the time it was measured
(these are shared 2-core machines: a figure under load is not a figure at rest,
and CPU seconds are the steadier measure):

1. start-up of every console command (``stalemate --cfg job``, ``stalemate seeds=1``
   with its figures, ``stalemate-fit --help``, ``stalemate-collect``, ``stalemate-plot``,
   ``stalemate-search --help``, ``stalemate-play --help``, ``stalemate-app --help``,
   ``stalemate-room --help``): median wall and CPU seconds over ``--repeats`` runs,
   and the goal of issue 23 where there is one, met or missed;
2. where their imports go (``python -X importtime``): the packages with the most
   import time, for the commands with goals;
3. the phase timers (:mod:`sim.report.phases`) of ``stalemate --cfg job``,
   ``stalemate seeds=1`` and the 21 x 21 map;
4. the map end to end (``stalemate -m +sweep=stalemate_map``) and the sweeper's
   fixed cost per job, one line each: launch, compose, write, collect, plot;
5. each sweep preset's fixed cost: its wall time less the time its jobs simulated;
6. ``make demo`` (the 2018 baseline over 200 seeds, then the demo map), and with
   ``--fresh`` the same on a new machine: the install step's compilation into an
   empty cache, then the demo.

``--against REF`` runs every command of sections 1, 3-6 also from the sources of a
git revision (exported with ``git archive`` into a temporary folder and put first
on ``PYTHONPATH``; the compiled kernels' cache is shared when the model's sources
are the same), interleaved with this checkout's runs (REF, HEAD, REF, HEAD, …) so
that a busy moment hits both, and prints the two side by side with their ratio.

HEAD's commands load a composition (and a validation) kept on disk by an earlier run of
the same command line (:mod:`sim.hydra.compose_cache`; the output directory and the
working directory do not matter); ``--cold`` turns that off for HEAD, to measure a
command line's first run.

Usage::

    python experiments/benchmark_commands.py                      # about 2 minutes
    python experiments/benchmark_commands.py --quick --against a60f9f7 --cold
    python experiments/benchmark_commands.py --against main --fresh
    python experiments/benchmark_commands.py --quick              # one repeat, no presets
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Console scripts: name -> module:function (pyproject.toml's [project.scripts]).
SCRIPTS = {
    "stalemate": "sim.hydra.cli:main",
    "stalemate-collect": "sim.hydra.sweep:collect_main",
    "stalemate-plot": "sim.hydra.sweep:plot_main",
    "stalemate-fit": "sim.analysis.fit:main",
    "stalemate-search": "sim.search.cli:main",
    "stalemate-app": "sim.classroom.page_cli:main",
    "stalemate-room": "sim.classroom.room_app:main",
    "stalemate-play": "sim.classroom.terminal:main",
}
#: Issue 23's goals (seconds, wall, on a quiet machine).
GOALS = {"stalemate --cfg job": 0.6, "stalemate seeds=1": 1.5, "stalemate-fit --help": 0.6}
GOAL_MAP, GOAL_DEMO_FRESH = 4.0, 20.0
PRESETS = sorted(p.stem for p in (ROOT / "sim" / "configs" / "sweep").glob("*.yaml"))


def scripts(root: Path) -> dict[str, str]:
    """The console scripts of the sources in ``root`` (their own pyproject.toml: an entry
    point may move between revisions, as ``stalemate-app`` did), else :data:`SCRIPTS`."""
    import tomllib

    try:
        table = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return dict(SCRIPTS)
    return {**SCRIPTS, **{k: v for k, v in table.items() if k in SCRIPTS}}


def load() -> float:
    return os.getloadavg()[0]


class Source:
    """Where commands come from: this checkout, or a revision exported to a folder."""

    def __init__(self, name: str, path: Path | None = None, own: dict | None = None):
        self.name, self.path, self.own = name, path, dict(own or {})
        self.scripts = scripts(path or ROOT)

    def env(self, extra: dict | None = None) -> dict:
        env = {**os.environ, **self.own, **(extra or {})}
        env.pop("STALEMATE_PHASES", None)
        if self.path is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(self.path), env.get("PYTHONPATH")])
            )
        return env

    def argv(self, script: str, args: list[str], importtime: bool = False) -> list[str]:
        module, func = self.scripts[script].split(":")
        code = (
            f"import sys; sys.argv[0] = {script!r}; from {module} import {func}; sys.exit({func}())"
        )
        return [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code, *args]


def export(ref: str) -> Path:
    """The sources of ``ref`` in a temporary folder (nothing is checked out here)."""
    dest = Path(tempfile.mkdtemp(prefix=f"stalemate-{re.sub(r'[^A-Za-z0-9]', '_', ref)}-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def run(src: Source, script: str, args: list[str], cwd: Path, env: dict | None = None):
    """Run one command; return (wall s, CPU s of it and its children, phases, load, ok)."""
    phases = cwd / f".phases-{time.monotonic_ns()}.jsonl"
    extra = {"STALEMATE_PHASES": str(phases), "STALEMATE_PHASES_T0": repr(time.time())}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    la = load()
    t0 = time.perf_counter()
    done = subprocess.run(
        src.argv(script, args),
        cwd=cwd,
        env={**src.env(env), **extra},
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows = [json.loads(line) for line in phases.read_text().splitlines()] if phases.exists() else []
    phases.unlink(missing_ok=True)
    if done.returncode != 0:
        print(f"    ({src.name}: {script} {' '.join(args)} exited {done.returncode}: "
              f"{done.stderr.decode(errors='replace').strip().splitlines()[-1:]})")  # fmt: skip
    return {"wall": wall, "cpu": cpu, "phases": rows, "load": la, "ok": done.returncode == 0}


def med(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def measure(sources, script, args, cwd, repeats, fresh_dir=None, env=None):
    """Interleaved runs of one command from every source; returns {source: [results]}."""
    out = defaultdict(list)
    for k in range(repeats):
        for src in sources:
            if fresh_dir is not None:  # a clean output folder each time
                target = cwd / f"{fresh_dir}-{src.name}-{k}"
                shutil.rmtree(target, ignore_errors=True)
            out[src.name].append(
                run(src, script, [a.format(k=k, src=src.name) for a in args], cwd, env)
            )
    return out


def line(label: str, results: dict, sources, goal: float | None = None) -> None:
    cells = []
    for src in sources:
        rs = results[src.name]
        cells.append(
            f"{med([r['wall'] for r in rs]):6.2f} s wall {med([r['cpu'] for r in rs]):6.2f} s CPU"
        )
    ratio = ""
    if len(sources) == 2:
        a, b = (med([r["wall"] for r in results[s.name]]) for s in sources)
        ratio = f"  {a / b:5.1f}x"
    verdict = ""
    if goal is not None:
        now = med([r["wall"] for r in results[sources[-1].name]])
        verdict = f"  goal <= {goal:g} s: {'met' if now <= goal else 'MISSED'}"
    la = med([r["load"] for rs in results.values() for r in rs])
    print(f"  {label:<34} " + "   |   ".join(cells) + ratio + verdict + f"   (load {la:.2f})")


def phase_table(label: str, results: dict, sources) -> None:
    """The phases of the last run of each source, side by side (wall, CPU)."""
    print(f"  {label}")
    tables = {}
    for src in sources:
        last = results[src.name][-1]
        per = defaultdict(lambda: [0.0, 0.0])
        main_pid = min((r["pid"] for r in last["phases"] if r["phase"] == "start"), default=None)
        for r in last["phases"]:
            name = r["phase"] if r["pid"] == main_pid else f"(helper) {r['phase']}"
            per[name][0] += r["wall"]
            per[name][1] += r.get("cpu") or 0.0
        if main_pid is not None:
            marked = sum(v[0] for k, v in per.items() if not k.startswith("(helper)"))
            per["exit and the rest"][0] += last["wall"] - marked
        tables[src.name] = per
    names = list(dict.fromkeys(n for t in tables.values() for n in t))
    if not any(tables.values()):
        print("    (no phase timer in these sources)")
        return
    for n in names:
        cells = []
        for src in sources:
            v = tables[src.name].get(n)
            cells.append(f"{v[0]:6.2f} s wall {v[1]:5.2f} s CPU" if v else " " * 27)
        print(f"    {n:<40} " + "   |   ".join(cells))


def top_imports(src: Source, script: str, args: list[str], cwd: Path, n: int = 6) -> str:
    """The top-level packages with the most import time over the whole command."""
    done = subprocess.run(
        src.argv(script, args, importtime=True), cwd=cwd, env=src.env(), capture_output=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    per: dict[str, int] = defaultdict(int)
    for ln in done.stderr.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", ln)
        if m:
            per[m[3].split(".")[0]] += int(m[1])
    total = sum(per.values()) / 1e6
    top = sorted(per.items(), key=lambda kv: -kv[1])[:n]
    return f"{total:.2f} s: " + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in top)


def section_commands(sources, work: Path, repeats: int) -> dict:
    print(f"\n1. Console commands, end to end (median of {repeats}; wall and CPU incl. helpers)")
    print("   " + " | ".join(s.name for s in sources))
    sweep = work / "demo-sweep"  # a small finished sweep for collect and plot
    subprocess.run(
        sources[-1].argv("stalemate", ["-m", "+sweep=demo_map", "seeds=5", f"hydra.sweep.dir={sweep}", "progress=false"]),
        cwd=work, env=sources[-1].env(), capture_output=True, check=True,
    )  # fmt: skip
    commands = {
        "stalemate --cfg job": ("stalemate", ["--cfg", "job"]),
        "stalemate --help": ("stalemate", ["--help"]),
        "stalemate seeds=1": ("stalemate", ["seeds=1", "hydra.run.dir=runs/{src}-{k}"]),
        "stalemate-fit --help": ("stalemate-fit", ["--help"]),
        "stalemate-collect DIR": ("stalemate-collect", [str(sweep)]),
        "stalemate-plot DIR": ("stalemate-plot", [str(sweep)]),
        "stalemate-search --help": ("stalemate-search", ["--help"]),
        "stalemate-play --help": ("stalemate-play", ["--help"]),
        "stalemate-app --help": ("stalemate-app", ["--help"]),
        "stalemate-room --help": ("stalemate-room", ["--help"]),
    }
    kept = {}
    for label, (script, args) in commands.items():
        res = measure(sources, script, args, work, repeats)
        line(label, res, sources, GOALS.get(label))
        kept[label] = res
    print(
        "\n2. Where the imports go (python -X importtime, whole command; seconds by top-level package)"
    )
    for label in GOALS:
        script, args = commands[label]
        args = [a.format(k="imports", src=s.name) for a in args for s in sources[-1:]]
        for src in sources:
            print(f"  {label:<24} {src.name:>5}: {top_imports(src, script, args, work)}")
    print("\n3. Phase timers (last run; wall, CPU; helper = the figure process)")
    for label in ("stalemate --cfg job", "stalemate seeds=1"):
        phase_table(label, kept[label], sources)
    return kept


def section_map(sources, work: Path, repeats: int) -> None:
    print(
        "\n4. The 21 x 21 map, end to end: stalemate -m +sweep=stalemate_map (44,100 runs x 200 rounds)"
    )
    res = measure(sources, "stalemate", ["-m", "+sweep=stalemate_map", "hydra.sweep.dir=map-{src}-{k}",
                                          "progress=false"], work, repeats, fresh_dir="map")  # fmt: skip
    line("map, end to end", res, sources, GOAL_MAP)
    groups = {
        "start, Hydra, preflight": ("start", "imports", "preflight", "hydra"),
        "compose and check the points": ("compose and check points", "plan"),
        "launch (per job)": ("launch",),
        "compose the job's points": ("compose points",),
        "simulate (incl. loading kernels)": ("simulate",),
        "write blocks": ("write", "job"),
        "collect": ("jobs", "collect"),
        "plot": ("plot",),
    }
    for label, names in groups.items():
        cells = []
        for src in sources:
            rs = [sum(r["wall"] for r in x["phases"] if r["phase"] in names and r["pid"] == _main_pid(x))
                  for x in res[src.name]]  # fmt: skip
            cpu = [sum(r.get("cpu", 0) for r in x["phases"] if r["phase"] in names and r["pid"] == _main_pid(x))
                   for x in res[src.name]]  # fmt: skip
            has = any(x["phases"] for x in res[src.name])
            cells.append(
                f"{med(rs):6.2f} s wall {med(cpu):5.2f} s CPU"
                if has
                else "(no phase timer)".ljust(27)
            )
        print(f"    {label:<38} " + "   |   ".join(cells))
    phase_table("every phase of the last run", res, sources)


def _main_pid(result: dict):
    return min((r["pid"] for r in result["phases"] if r["phase"] == "start"), default=None)


def section_presets(sources, work: Path) -> None:
    print("\n5. Sweep presets: wall, simulation inside the jobs, and the fixed cost (the rest)")
    for preset in PRESETS:
        res = measure(sources, "stalemate", ["-m", f"+sweep={preset}", f"hydra.sweep.dir=preset-{preset}-{{src}}-{{k}}",
                                              "progress=false"], work, 1, fresh_dir=f"preset-{preset}")  # fmt: skip
        cells = []
        for src in sources:
            r = res[src.name][0]
            sim_s = _simulated(work, preset, src.name)
            fixed = f"fixed {r['wall'] - sim_s:5.2f} s" if sim_s else "fixed    ?   "
            cells.append(f"{r['wall']:6.2f} s wall, simulating {sim_s:5.2f} s, {fixed}")
        print(
            f"  {preset:<14} "
            + "   |   ".join(cells)
            + f"   (load {res[sources[-1].name][0]['load']:.2f})"
        )


def _simulated(work: Path, preset: str, src: str) -> float:
    """Seconds the jobs of a finished preset sweep simulated (each block's metadata)."""
    from sim.report.io import read_metadata

    blocks = (work / f"preset-{preset}-{src}-0").glob("*/blocks/*.parquet")
    return sum(
        read_metadata(p).get("timing", {}).get("simulate_s", 0.0)
        for p in blocks
        if p.name.count(".") == 1  # NNNN.parquet, not NNNN.states.parquet
    )


def section_demo(sources, work: Path, fresh: bool) -> None:
    print("\n6. make demo: the 2018 baseline over 200 seeds, then the demo map (11 x 11 x 50)")
    cases = [("kernels cached", None)]
    if fresh:
        cases.append(("a new machine (empty cache)", "fresh"))
    for label, kind in cases:
        cells, las = [], []
        for src in sources:
            env, compile_s = None, 0.0
            if kind == "fresh":
                cache = Path(tempfile.mkdtemp(prefix="stalemate-cache-"))
                env = {"STALEMATE_CACHE_DIR": str(cache)}
                script = (src.path or ROOT) / "scripts" / "compile-kernels.py"
                if script.exists():  # the install step of that revision, if it has one
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, str(script)], cwd=work, env=src.env(env),
                                   capture_output=True, check=False)  # fmt: skip
                    compile_s = time.perf_counter() - t0
            las.append(load())
            t0 = time.perf_counter()
            a = run(
                src,
                "stalemate",
                ["scenario=baseline_2018", "seeds=200", f"hydra.run.dir=demo-{src.name}-{kind}"],
                work,
                env,
            )
            shutil.rmtree(work / f"demo-map-{src.name}-{kind}", ignore_errors=True)
            b = run(src, "stalemate", ["-m", "+sweep=demo_map", f"hydra.sweep.dir=demo-map-{src.name}-{kind}",
                                       "progress=false"], work, env)  # fmt: skip
            total = time.perf_counter() - t0
            if kind == "fresh":
                shutil.rmtree(cache, ignore_errors=True)
            pre = f"install-step compile {compile_s:5.1f} s, then " if kind == "fresh" else ""
            cells.append(
                f"{pre}baseline {a['wall']:5.2f} s + map {b['wall']:5.2f} s = {total:5.2f} s"
            )
        goal = ""
        if kind == "fresh":
            goal = f"  goal <= {GOAL_DEMO_FRESH:g} s after install: {'met' if total <= GOAL_DEMO_FRESH else 'MISSED'}"
        print(f"  {label:<28} " + "   |   ".join(cells) + goal + f"   (load {med(las):.2f})")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--against", help="a git revision to compare with, side by side")
    ap.add_argument("--fresh", action="store_true", help="also make demo on an empty kernel cache")
    ap.add_argument("--quick", action="store_true", help="one repeat, no presets")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="HEAD keeps no composition on disk (STALEMATE_COMPOSE_CACHE=0): every command "
        "composes, as the first run of a command line does",
    )
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    sources = [Source("HEAD", own={"STALEMATE_COMPOSE_CACHE": "0"} if args.cold else None)]
    if args.against:
        sources.insert(0, Source(args.against[:12], export(args.against)))
    print(f"Console commands of {ROOT} on {os.cpu_count()} cores, load {load():.2f} at the start")
    if args.against:
        print(
            f"  side by side: {sources[0].name} (exported to {sources[0].path}) | HEAD, and their ratio"
        )
    with tempfile.TemporaryDirectory(prefix="stalemate-bench-") as tmp:
        work = Path(tmp)
        subprocess.run(
            sources[-1].argv("stalemate", ["seeds=2", "hydra.run.dir=warm"]),
            cwd=work,
            env=sources[-1].env(),
            capture_output=True,
        )  # fmt: skip  (kernels loaded once)
        section_commands(sources, work, repeats)
        section_map(sources, work, repeats)
        if not args.quick:
            section_presets(sources, work)
        section_demo(sources, work, args.fresh)
    for src in sources:
        if src.path is not None:
            shutil.rmtree(src.path, ignore_errors=True)
    print(f"\nload {load():.2f} at the end")


if __name__ == "__main__":
    main()

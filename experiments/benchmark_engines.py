"""Benchmark: every engine on the same runs, side by side in one process, with ratios.

Rows (medians of ``--repeats``, measured interleaved so a busy moment hits all alike):

1. per-run cost on one core, 4,096 runs of the 2018 baseline (200 rounds, 4 actors,
   summary only): the compiled batch engine, the reference numpy kernel
   (``experiments/reference_numpy.py``: the fast way to write the model in numpy,
   the yardstick of the "8x" goal) and the test suite's numpy oracle of the same
   arithmetic (``tests/oracle.py``: the clear way), both vectorized over runs, and
   the ratios; then the compiled engine on every core;
2. the Mesa engine (one model at a time, as ``mesa.batch_run`` users and the
   classroom page meet it) — a round in one compiled call when no agent is driven
   from Python, and agent by agent when every agent has a chooser — next to a plain
   Mesa 3.5 model of the same size (4 agents, 200 steps of
   ``agents.do("decide").do("advance")``), without and with a Mesa DataCollector of
   the same reporters;
3. the 44,100-run sweep shape (21 x 21 points x 100 seeds x 200 rounds), summary only,
   simulation time on every core;
4. the ``stalemate`` command for 44,100 runs, without and with trajectories
   (``trajectories=true``): wall time and peak memory (child process);
5. scaling of the compiled engine: runs 1k -> 100k, actors 4 -> 32, rounds 50 -> 1000.

Usage::

    python experiments/benchmark_engines.py            # about 3 minutes
    python experiments/benchmark_engines.py --quick    # smaller, for a smoke test
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import oracle  # noqa: E402
import reference_numpy  # noqa: E402

from sim import make_config  # noqa: E402
from sim.engines.batch import cores, run_batch, simulate  # noqa: E402
from sim.model.compile import compile_configs  # noqa: E402
from sim.model.params import NO_TYPES  # noqa: E402
from sim.model.policies import POLICIES  # noqa: E402

#: The arithmetic the reference numpy kernel covers: the trust rule without private types.
PLAIN = {"model": "trust_rule", "actors": NO_TYPES}


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each function, run in turns (A, B, A, B, …)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def row(name: str, seconds: float, runs: int, extra: str = "") -> None:
    print(
        f"  {name:<44} {seconds / runs * 1e6:10.1f} µs/run {runs / seconds:12,.0f} runs/s  {extra}"
        f"  (load {os.getloadavg()[0]:.2f})"
    )


def section_one_core(repeats: int, n: int) -> None:
    print(
        f"1. Per-run cost, {n:,} runs of the 2018 baseline (200 rounds, 4 actors), summary only "
        "(the trust rule without types: the arithmetic the numpy kernel covers)"
    )
    c = compile_configs([make_config(**PLAIN)] * n)
    beliefs = compile_configs([make_config()] * n)
    seeds = np.arange(n)
    small = compile_configs([make_config(**PLAIN)] * 8)
    simulate(small, np.arange(8), record=False, threads=1)  # loads the compiled code
    oracle.simulate(small, np.arange(8), POLICIES)
    reference_numpy.simulate(small, np.arange(8))
    t = interleaved(
        {
            "compiled": lambda: simulate(c, seeds, record=False, threads=1),
            "reference": lambda: reference_numpy.simulate(c, seeds),
            "numpy": lambda: oracle.simulate(c, seeds, POLICIES),
            "beliefs": lambda: simulate(beliefs, seeds, record=False, threads=1),
        },
        repeats,
    )
    row("compiled engine, 1 core", t["compiled"], n)
    row("reference numpy kernel, 1 core", t["reference"], n)
    row("numpy oracle (tests/oracle.py), 1 core", t["numpy"], n)
    print(
        f"  ratio reference numpy / compiled, same core: {t['reference'] / t['compiled']:.1f}x "
        "(goal: 8x); "
        f"oracle / compiled: {t['numpy'] / t['compiled']:.1f}x"
    )
    row(
        "compiled, default belief model (types), 1 core",
        t["beliefs"],
        n,
        f"({t['beliefs'] / t['compiled']:.2f}x the trust rule: Bayes' rule over types each round)",
    )
    t_all = median_time(lambda: simulate(c, seeds, record=False, threads="auto"), repeats)
    row(
        f"compiled engine, every core ({cores()})",
        t_all,
        n,
        f"({t['compiled'] / t_all:.2f}x one core)",
    )
    st, _ = simulate(c, seeds, record=False)
    ref = oracle.simulate(c, seeds, POLICIES)
    same = float((ref.outcome == st.tally[:, 1]).mean())
    kern = reference_numpy.simulate(c, seeds)
    print(
        f"  same outcome in compiled and reference kernels: "
        f"{float((kern['outcome'] == st.tally[:, 1]).mean()):.1%} of runs; "
        f"largest state difference {np.abs(kern['x'] - st.x).max():.1e}"
    )
    print(
        f"  same outcome in compiled and numpy kernels: {same:.1%} of runs; "
        f"largest state difference {np.abs(ref.x - st.x).max():.1e}"
    )


def plain_mesa(collector: bool):
    import mesa

    class Agent(mesa.Agent):
        def __init__(self, model):
            super().__init__(model)
            self.action = self.next_action = 1

        def decide(self):
            self.next_action = 0 if self.model.random.random() < 0.5 else 1

        def advance(self):
            self.action = self.next_action

    class Plain(mesa.Model):
        def __init__(self, rng=None):
            super().__init__(rng=rng)
            for _ in range(4):
                Agent(self)
            self.level = 0.5
            self.datacollector = None
            if collector:  # the same reporters as NegotiationModel's (9 model, 3 agent)
                reporters = {f"v{k}": (lambda m: m.level) for k in range(9)}
                self.datacollector = mesa.DataCollector(
                    model_reporters=reporters,
                    agent_reporters={"a": "action", "b": "next_action", "c": "action"},
                )
                self.datacollector.collect(self)

        def step(self):
            self.agents.do("decide").do("advance")
            if self.datacollector is not None:
                self.datacollector.collect(self)

    def run(seed):
        m = Plain(rng=seed)
        for _ in range(200):
            m.step()

    return run


def section_mesa(repeats: int, n: int) -> None:
    import logging

    from sim import NegotiationModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    print(
        f"\n2. The Mesa engine vs a plain Mesa 3.5 model of the same size ({n} runs of 200 rounds, 4 agents)"
    )
    kw = {"agreement_threshold": 1.0, "breakdown_threshold": 1.0}  # every run plays 200 rounds

    def ours():
        for s in range(n):
            NegotiationModel(rng=s, **kw).run()

    def agent_by_agent():  # a chooser that lets the policy play keeps step() on that path
        for s in range(n):
            m = NegotiationModel(rng=s, **kw)
            for a in m.actor_list:
                a.chooser = lambda agent, decision: None
            m.run()

    plain, plain_dc = plain_mesa(False), plain_mesa(True)
    fns = {
        "NegotiationModel": ours,
        "agent_by_agent": agent_by_agent,
        "plain": lambda: [plain(s) for s in range(n)],
        "plain+dc": lambda: [plain_dc(s) for s in range(n)],
    }
    ours()
    agent_by_agent()
    t = interleaved(fns, repeats)
    per = {k: v / n * 1e3 for k, v in t.items()}
    print(
        f"  {'NegotiationModel (one compiled call a round)':<44} {per['NegotiationModel']:8.2f} ms/run"
    )
    print(
        f"  {'NegotiationModel, agent by agent (choosers)':<44} {per['agent_by_agent']:8.2f} ms/run"
    )
    print(f"  {'plain Mesa model, no DataCollector':<44} {per['plain']:8.2f} ms/run")
    print(f"  {'plain Mesa model, same DataCollector':<44} {per['plain+dc']:8.2f} ms/run")
    print(
        f"  ratio NegotiationModel / plain: {per['NegotiationModel'] / per['plain']:.2f}x; "
        f"/ plain with DataCollector: {per['NegotiationModel'] / per['plain+dc']:.2f}x"
    )


def section_sweep_shape(repeats: int, points: int, seeds: int) -> None:
    levels = np.linspace(0, 1, points)
    configs = []
    for a in levels:
        for r in levels:
            configs += [make_config(assurance=float(a), relief=float(r), **PLAIN)] * seeds
    seed_list = list(range(seeds)) * (points * points)
    n = len(configs)
    print(
        f"\n3. The sweep shape: {points} x {points} points x {seeds} seeds = {n:,} runs x 200 rounds, summary only"
    )
    run_batch(configs[:8], seed_list[:8], record=False, progress=False)
    t = median_time(lambda: run_batch(configs, seed_list, record=False, progress=False), repeats)
    c = compile_configs(configs)
    t_sim = median_time(lambda: simulate(c, np.array(seed_list), record=False), repeats)
    print(
        f"  simulation only (compiled, every core):     {t_sim:6.2f} s   ({n / t_sim:,.0f} runs/s)"
    )
    print(f"  run_batch with its tables (every core):     {t:6.2f} s")


def section_cli(seeds: int) -> None:
    exe = str(Path(sys.executable).with_name("stalemate"))
    print(
        f"\n4. The stalemate command, {seeds:,} runs of 200 rounds (wall time, peak memory of the command)"
    )
    for label, extra in (("summary only", []), ("with trajectories", ["trajectories=true"])):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                "/usr/bin/time",
                "-f",
                "%M",
                exe,
                f"seeds={seeds}",
                "narrate=false",
                "progress=false",
                f"hydra.run.dir={tmp}/run",
                *extra,
            ]
            t0 = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            peak_mib = int(res.stderr.strip().splitlines()[-1]) / 1024
            size = sum(p.stat().st_size for p in Path(tmp, "run").glob("*.parquet")) / 2**20
        print(
            f"  {label:<20} {wall:6.1f} s wall   peak {peak_mib:7,.0f} MiB   Parquet {size:7,.1f} MiB"
        )


def section_scaling(n_base: int) -> None:
    print("\n5. Scaling of the compiled engine (every core, summary only; µs per run)")
    base = {
        "agreement_threshold": 1.0,
        "breakdown_threshold": 1.0,
    }  # every run plays its whole horizon

    def per_run(cfg, n):
        c = compile_configs([cfg] * n)
        simulate(compile_configs([cfg] * 4), np.arange(4), record=False)
        t = median_time(lambda: simulate(c, np.arange(n), record=False), 3)
        return t / n * 1e6

    cfg = make_config(**base)
    print(
        "  runs:   "
        + "   ".join(f"{n:>7,}: {per_run(cfg, n):6.1f}" for n in (1_000, 10_000, 100_000))
    )
    line = []
    for a in (4, 8, 16, 32):
        extra = {
            f"A{k}": {"role": "ally", "trust": 0.5, "concede": {"bias": -0.3, "reciprocity": 1.0}}
            for k in range(a - 4)
        }
        line.append(f"{a:>2}: {per_run(make_config(actors=extra, **base), n_base):6.1f}")
    print("  actors: " + "   ".join(line))
    print(
        "  rounds: "
        + "   ".join(
            f"{r:>4}: {per_run(make_config(rounds=r, **base), n_base):7.1f}"
            for r in (50, 200, 1000)
        )
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    q = args.quick
    reps = 2 if q else args.repeats
    print(
        f"Stalemate engine benchmark — {cores()} cores, Python {sys.version.split()[0]}, pid {os.getpid()}\n"
    )
    section_one_core(reps, 1024 if q else 4096)
    section_mesa(reps, 5 if q else 40)
    section_sweep_shape(reps, 5 if q else 21, 20 if q else 100)
    section_cli(2000 if q else 44_100)
    section_scaling(1000 if q else 4096)
    print(
        f"\n(this process: peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()

"""Bad inputs on every surface the README shows, and the valid inputs next to them.

Runs each case and sorts its result into one of three bins:

- **refused** — a command exits 2 with exactly one line on stderr, no traceback, and
  leaves no file behind (neither in its working directory nor in a directory it
  names); a Python call raises ``sim.ConfigError`` with a one-line message;
- **accepted** — a valid input: the command exits 0, the call returns;
- **anything else** — which should be zero: a traceback, exit code 1 for a bad
  input, a file left behind, a multi-line refusal, a valid input refused.

Surfaces (:data:`SURFACES`): ``stalemate`` (a single run), ``stalemate -m`` (a sweep),
``stalemate-collect``, ``stalemate-plot``, ``stalemate-search``, ``stalemate-play``,
``sim.run_batch`` and ``sim.NegotiationModel``. A new command joins the survey as one
more :class:`Surface` (its cases and how to build its command line), e.g.
``stalemate-fit``, ``stalemate-record``, ``stalemate-app`` and ``stalemate-room``:
see :func:`more_surfaces`. Fixtures a case names in braces (``{sweep}``, ``{afile}``
…) are made once by :func:`_fixtures`.

    python experiments/bad_inputs.py            # every case (~15 min on 2 busy cores)
    python experiments/bad_inputs.py --show     # and each case's outcome
    python experiments/bad_inputs.py --only stalemate-search stalemate-play
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent
CMD = {
    "stalemate": str(BIN / "stalemate"),
    "collect": str(BIN / "stalemate-collect"),
    "plot": str(BIN / "stalemate-plot"),
    "search": str(BIN / "stalemate-search"),
    "play": str(BIN / "stalemate-play"),
}
#: Put before a single run's own arguments (the case's value of a key wins: last one).
RUN_DEFAULTS = ["seeds=2", "rounds=5", "narrate=false", "progress=false"]
SWEEP_DEFAULTS = ["-m", "seeds=2", "rounds=5", "progress=false"]

# ---------------------------------------------------------------- the cases

# stalemate (one run): (arguments, expected) — "refuse" or "accept"
SINGLE_BAD = [
    # unknown keys, with and without "+"
    "colour=red",
    "scenaro=grit",
    "assurnace=0.5",
    "seed_count=3",
    "+foo=1",
    "++foo=1",
    "foo.bar=1",
    "actors.XYZ.trust=0.5",
    "actors.DPRK.polcy=grit",
    "actors.DPRK.concede.packge=1",
    "+actors.DPRK.concede.packge=1",
    "hydra.sweeper.foo=1",
    "+seeds=3",
    # types
    "seeds=abc",
    "seeds=1.5",
    "seeds=[1]",
    "seed=1.5",
    "seed=abc",
    "rounds=abc",
    "rounds=2.5",
    "assurance=abc",
    "assurance=[1,2]",
    "assurance={a: 1}",
    "assurance=",
    "relief=null",
    "narrate=maybe",
    "trajectories=maybe",
    "progress=maybe",
    "engine=3",
    # ranges and choices
    "seeds=0",
    "seeds=-1",
    "seeds=10000001",
    "seed=-1",
    "rounds=0",
    "rounds=100001",
    "detect_prob=1.5",
    "detect_prob=-0.1",
    "detect_prob=nan",
    "detect_prob=inf",
    "false_alarm_prob=2",
    "detection_response=11",
    "snapback=-1",
    "stalemate_cost=6",
    "rationality=101",
    "step_size=2",
    "enforcement=1.01",
    "tension=-0.01",
    "agreement_threshold=nan",
    "regime=peace_first",
    "regime=relief_frist",
    "engine=gpu",
    "processes=0",
    "processes=x",
    "processes=-2",
    "processes=5000",
    # config groups
    "scenario=nowhere",
    "scenario=../config",
    "scenario=../sweep/demo_map",
    "actors=nobody",
    "policy=nice",
    "+sweep=nope",
    "hydra/launcher=nope",
    "hydra/sweeper=nope",
    # interpolations
    "assurance=${oc.env:HOME}",
    "assurance=${oc.env:STALEMATE_UNSET}",
    "assurance=${nope}",
    "assurance=${oc.decode:'x'}",
    "name=${oc.env:HOME}",
    "hydra.run.dir=${oc.env:STALEMATE_UNSET}",
    # the override grammar
    "assurance=0.5)",
    "assurance=[1,",
    "=5",
    "a b=1",
    "assurance=0,1",
    # names that reach a path
    "name=../../../../outside",
    "name=a/b",
    "name=.hidden",
    "name=a\nb",
    "name='a\nb'",
    "name=''",
    "name=" + "x" * 101,
    "name=..",
    "name=a..b",
    # seeds past 2**63 - 1
    ("seed=9223372036854775807", "seeds=2"),
    "seed=9223372036854775808",
    ("seed=9223372036854775000", "seeds=1000"),
    # actors and events
    "actors.DPRK.role=king",
    "actors.USA.policy=tft",
    "actors.USA.trust=2",
    "+actors.JPN={role: mediator}",
    "+actors.JPN={role: target}",
    "actors.USA.enabled=false",
    "actors.DPRK.concede.package=1000",
    "actors.USA.grit_period=0",
    "actors.USA.script=[bluff]",
    "actors.USA.policy=scripted",
    "events=[{round: 999, kind: summit}]",
    "events=[{round: 1, kind: parade}]",
    "events=[{round: 0}]",
    "events=[{round: 2, kind: custom, shift: {morale: 1}}]",
    "events=[{round: 2, kind: custom, force: {JPN: escalate}}]",
    "events=7",
    "events=[{}]",
    "events=[{round: 2}]",
    "events=[{kind: test}]",
    "+actors.J-P={role: ally}",
    "+actors.1X={role: ally}",
    # output directories
    "hydra.run.dir={afile}",
    "hydra.run.dir={afile}/sub",
    "hydra.run.dir=/proc/stalemate",
    "hydra.run.dir={sweep_other}",
    "hydra.run.dir={notsweep}",
    "hydra.run.dir=",
    "hydra.output_subdir=../../..",
    "hydra.output_subdir=/tmp/stalemate-escaped",
    "hydra.output_subdir=a/../../b",
    # command-line flags
    ("--cfg", "nope"),
    "--bogus",
    "--resolve",
    "-c",
    ("--info", "nope"),
    ("--cfg", "job", "-m"),
    ("--cfg", "hydra", "hydra/launcher=slurm"),  # Hydra's parser too: overrides go first
    # deleting keys
    "~seeds",
    "~assurance",
    "~actors.ROK",
]
SINGLE_GOOD = [
    "",
    "scenario=relief_first",
    "actors=six_party",
    "policy=usa_grit",
    "+actors.JPN={role: ally, trust: 0.3}",
    "assurance=${oc.decode:'0.5'}",
    ("--cfg", "job"),
    "--help",
    "name=study",
    ("seed=9223372036854775806", "seeds=2"),
    "engine=mesa",
    "processes=1",
    "trajectories=true",
    "hydra.run.dir={fresh}/a/b/c",
    "actors.ROK.enabled=false",
    ("seeds=2", "assurance=1"),
    "events=[{round: 2, kind: summit}]",
    ("hydra/launcher=slurm", "--cfg", "hydra"),
    "hydra.output_subdir=null",
    "hydra.output_subdir=meta",
    "+actors.JPN_2={role: ally}",
    "hydra.run.dir={run_again}",  # a previous run: replaced whole
]
SWEEP_BAD = [
    "colour=red,blue",
    ("colour=red", "assurance=0,1"),
    "assurance=0,1.5",
    "relief=range(1,0,0.1)",
    "assurance=range(0,1,0)",
    "seed=0,100",
    "seeds=1,2",
    "engine=batch,mesa",
    "actors.DPRK.concede.packge=1,2",
    "scenario=grit,nowhere",
    "scenario=grit,../config",
    "assurance=interval(0,1)",
    ("assurance=0,1", "hydra.sweeper.points_per_job=0"),
    ("assurance=0,1", "hydra.sweeper.max_points=0"),
    ("assurance=range(0,1,1e-7)", "relief=0,1"),
    ("assurance=0,1", "name=../x"),
    ("assurance=0,1", "+foo=1"),
    "rounds=0,10",
    ("rounds=5,10", "events=[{round:8,kind:summit}]"),
    "actors.USA.enabled=true,false",
    ("assurance=0,1", "hydra.sweep.dir={afile}"),
    ("assurance=0,1", "hydra.sweep.dir={notsweep}"),
    ("assurance=0,1", "hydra.sweep.dir={run}"),
    ("assurance=0,0.3", "hydra.sweep.dir={sweep_other}"),
    ("assurance=0,1", "hydra/launcher=nope"),
    "assurance=0,1)",
    "assurance=0,nan",
    "detect_prob=0.5,2",
    "regime=relief_first,peace_first",
    ("assurance=0,1", "seeds=abc"),
    "assurance=${oc.env:HOME},1",
    "policy=logit,nice",
    "events=[{}],[]",
    ("assurance=0,1", "hydra.sweep.subdir=../x"),
    ("assurance=0,1", "hydra.sweep.subdir=shared"),
    ("assurance=0,1", "hydra.sweep.dir="),
    ("assurance=0,1", "hydra.output_subdir=../../.."),
    ("assurance=0,1", "hydra.sweep.dir={sweep_busy}"),
]
SWEEP_GOOD = [
    "assurance=0,1",
    "scenario=grit,relief_first",
    ("assurance=range(0,1,0.5)", "relief=0.5"),
    ("+sweep=demo_map", "seeds=1", "rounds=3"),
    ("assurance=0,1", "hydra/sweeper=basic"),
    ("policy=logit,usa_grit", "name=study"),
]
# stalemate-collect / stalemate-plot: the argument lists
DIR_BAD = [
    "",
    ".",
    "/nonexistent",
    "{afile}",
    "{run}",
    "{empty}",
    "{notsweep}",
    "{badjson}",
    "{badyaml}",
    "{sweep_busy}",
    "{search}",
    ("{sweep}", "extra"),
    "--bogus",
]
DIR_GOOD = ["{sweep}", "--help"]

# stalemate-search: the preset is part of each case (some cases are about the preset)
S = "+policy_search=smoke"
SEARCH_BAD = [
    "",  # no preset
    "+policy_search=nope",
    "+policy_search=../search",
    (S, "-m"),
    (S, "--bogus"),
    (S, "--config-dir", "/tmp"),
    # unknown keys, with and without "+"
    (S, "+policy_search.colour=red"),
    (S, "+colour=red"),
    (S, "+policy_search.levers.0.colour=red"),
    (S, "policy_search.colour=red"),
    (S, "policy_search.populaton=8"),
    # names that reach a path
    (S, "policy_search.name=../../../x"),
    (S, "policy_search.name=a/b"),
    (S, "policy_search.name=''"),
    # stated limits, counted before any work
    (S, "policy_search.population=10000000"),
    (S, "policy_search.population=2"),
    (S, "policy_search.scenarios=100000000"),
    (S, "policy_search.scenarios=1"),
    (S, "policy_search.generations=0"),
    (S, "policy_search.generations=100000"),
    (S, "policy_search.generations=10000", "policy_search.scenarios=10000"),
    (S, "policy_search.reevaluate=1"),
    (S, "policy_search.discover=-1"),
    (S, "policy_search.discover=100"),
    (S, "policy_search.seed=-1"),
    (S, "max_runs=100"),
    # types
    (S, "policy_search.population=abc"),
    (S, "policy_search.generations=1.5"),
    (S, "progress=maybe"),
    (S, "processes=0"),
    # the question itself
    (S, "policy_search.levers=[]"),
    (S, "policy_search.levers=[{key: relif, lo: 0, hi: 1}]"),
    (S, "policy_search.levers=[{key: relief, lo: 0, hi: 2}]"),
    (S, "policy_search.levers=[{key: regime, choices: [relief_first, later]}]"),
    (S, "policy_search.uncertainties=[{key: detect_prob, lo: 0, hi: 2}]"),
    (S, "policy_search.uncertainties=[{key: relief, lo: 0, hi: 1}]"),
    (S, "policy_search.objectives=[{metric: p_agreement}]"),
    (
        S,
        "policy_search.objectives=[{metric: p_agreement, robustness: p90}, {metric: relief_given}]",
    ),
    (S, "policy_search.objectives=[{metric: p_agreement}, {metric: releif_given}]"),
    (S, "policy_search.posterior=nope"),
    (S, "policy_search.base=[scenario=nope]"),
    (S, "policy_search.base=[detect_prob=2]"),
    # directories and Hydra's paths
    (S, "hydra.run.dir="),
    (S, "hydra.run.dir={afile}"),
    (S, "hydra.run.dir={notsweep}"),
    (S, "hydra.run.dir={sweep}"),
    (S, "hydra.run.dir={search_busy}"),
    (S, "policy_search.seed=1", "hydra.run.dir={search}"),
    (S, "hydra.output_subdir=../../.."),
    (S, "hydra.run.dir=/proc/stalemate-search"),
]
SEARCH_GOOD = [
    S,
    "policy_search=smoke",  # the group without "+" works too
    (S, "policy_search.seed=1", "policy_search.generations=2"),
    (S, "hydra.run.dir={search}"),  # already complete: nothing to do, exit 0
    (S, "hydra.run.dir={fresh}/s/a/b"),
    "--help",
]
# stalemate-play: its flags (standard input is empty: no moves, the model plays)
PLAY_BAD = [
    ("--actor", "FRA"),
    ("--actor", "ROK", "--scenario", "nope"),
    ("--scenario", "../config"),
    ("--rounds", "0"),
    ("--rounds", "100001"),
    ("--rounds", "abc"),
    ("--rounds", "1.5"),
    ("--seed", "-1"),
    ("--seed", "1.5"),
    ("--seed", "9223372036854775808"),
    ("--moves", "xyz"),
    ("--moves", "h-c"),
    ("--color", "maybe"),
    "--bogus",
    "--actor",
    ("--rounds",),
]
PLAY_GOOD = [
    ("--rounds", "3", "--moves", "hhc"),
    ("--actor", "USA", "--rounds", "2", "--moves", "C E"),
    ("--scenario", "grit", "--rounds", "2", "--hints"),
    "--help",
]


# ---------------------------------------------------------------- the classroom's servers
# (issue 25, item 6) bad arguments only: a valid command line starts a server and runs
# until stopped. "{busy}" is a port another program holds while the survey runs.
CMD.update(room=str(BIN / "stalemate-room"), app=str(BIN / "stalemate-app"))
APP_BAD = {
    "stalemate-room": [
        ("--rounds", "0"),
        ("--rounds", "-3"),
        ("--rounds", "2.5"),
        ("--max-team", "-1"),
        ("--max-team", "0"),
        ("--port", "99999"),
        ("--port", "-1"),
        ("--port", "http"),
        ("--port", "{busy}"),
        ("--host", "no-such-host.invalid"),
        ("--host", "192.0.2.1"),
        ("--host", ""),
        ("--timer", "-5"),
        ("--timer", "99999"),
        ("--seed", "-1"),
        ("--seed", "①"),
        ("--code", "ab"),
        ("--code", "①②③④"),
        ("--scenario", "nowhere"),
        ("--scenario", "replay_2018", "--rounds", "3"),
        "--bogus",
        "extra",
    ],
    "stalemate-app": [
        ("--port", "99999"),
        ("--port", "{busy}"),
        ("--host", "192.0.2.1"),
        ("--host", "no-such-host.invalid"),
        "--bogus",
    ],
}
_BUSY = None


def _busy_port() -> str:
    """A port held open for the whole survey (``{busy}``)."""
    import socket

    global _BUSY
    if _BUSY is None:
        _BUSY = socket.socket()
        _BUSY.bind(("127.0.0.1", 0))
        _BUSY.listen(1)
    return str(_BUSY.getsockname()[1])


def _api_cases():
    from sim import NegotiationModel, make_config, run_batch
    from sim.model.params import ModelConfig

    rb = run_batch
    cfg = make_config(rounds=5)

    def batch(**kw):
        return lambda: rb([{"rounds": 5, **kw}], [0], progress=False)

    bad = {
        "run_batch assurance=nan": batch(assurance=float("nan")),
        "run_batch assurance=inf": batch(assurance=math.inf),
        "run_batch assurance=-1": batch(assurance=-1),
        "run_batch assurance='high'": batch(assurance="high"),
        "run_batch assurance=None": batch(assurance=None),
        "run_batch rounds=0": lambda: rb([{"rounds": 0}], [0], progress=False),
        "run_batch rounds=1.5": batch(rounds=1.5),
        "run_batch rounds='10'": batch(rounds="10"),
        "run_batch rounds=True": batch(rounds=True),
        "run_batch detect_prob=2": batch(detect_prob=2),
        "run_batch regime='x'": batch(regime="x"),
        "run_batch actors={'USA': 'grit'}": batch(actors={"USA": "grit"}),
        "run_batch events=[{round: 99}]": batch(events=[{"round": 99}]),
        "run_batch assurnace=0.5": batch(assurnace=0.5),
        "run_batch ModelConfig(rounds=0)": lambda: rb([ModelConfig(rounds=0)], [0]),
        "run_batch ModelConfig(relief=nan)": lambda: rb([ModelConfig(relief=math.nan)], [0]),
        "run_batch configs=[3]": lambda: rb([3], [0]),
        "run_batch 1 config 2 seeds": lambda: rb([cfg], [0, 1]),
        "run_batch seed=-1": lambda: rb([cfg], [-1]),
        "run_batch seed=1.0": lambda: rb([cfg], [1.0]),
        "run_batch seed=True": lambda: rb([cfg], [True]),
        "run_batch seed='3'": lambda: rb([cfg], ["3"]),
        "run_batch seed=2**63": lambda: rb([cfg], [2**63]),
        "run_batch seed=np.uint64(2**63)": lambda: rb([cfg], np.array([2**63], np.uint64)),
        "run_batch seeds=range past 2**63": lambda: rb([cfg] * 2, range(2**63 - 1, 2**63 + 1)),
        "run_batch processes=0": lambda: rb([cfg], [0], processes=0),
        "run_batch processes='x'": lambda: rb([cfg], [0], processes="x"),
        "run_batch processes=-1": lambda: rb([cfg], [0], processes=-1),
        "run_batch processes=True": lambda: rb([cfg], [0], processes=True),
        "run_batch chunk_size=0": lambda: rb([cfg], [0], chunk_size=0),
        "run_batch chunk_size=-1": lambda: rb([cfg], [0], chunk_size=-1),
        "run_batch chunk_size=1.5": lambda: rb([cfg], [0], chunk_size=1.5),
        "run_batch empty": lambda: rb([], []),
        "run_batch seeds=5": lambda: rb([cfg], 5),
        "run_batch configs=None": lambda: rb(None, [0]),
        "run_batch configs=cfg (not a list)": lambda: rb(cfg, [0]),
        "run_batch configs={...} (not a list)": lambda: rb({"rounds": 5}, [0]),
        "run_batch seeds='0'": lambda: rb([cfg], "0"),
        "run_batch events=[{}]": batch(events=[{}]),
        "run_batch events=[{round: 2}]": batch(events=[{"round": 2}]),
        "run_batch actor 'J\\nP'": batch(actors={"J\nP": {"role": "ally"}}),
        "run_batch actor 'J-P'": batch(actors={"J-P": {"role": "ally"}}),
        "NegotiationModel assurance=nan": lambda: NegotiationModel(assurance=math.nan, rng=0),
        "NegotiationModel rounds=0": lambda: NegotiationModel(rounds=0, rng=0),
        "NegotiationModel rounds=2.5": lambda: NegotiationModel(rounds=2.5, rng=0),
        "NegotiationModel detect_prob=-1": lambda: NegotiationModel(detect_prob=-1, rng=0),
        "NegotiationModel regime='x'": lambda: NegotiationModel(regime="x", rng=0),
        "NegotiationModel colour='red'": lambda: NegotiationModel(colour="red", rng=0),
        "NegotiationModel rng=-1": lambda: NegotiationModel(rng=-1),
        "NegotiationModel rng=2**64": lambda: NegotiationModel(rng=2**64),
        "NegotiationModel rng=1.5": lambda: NegotiationModel(rng=1.5),
        "NegotiationModel rng='abc'": lambda: NegotiationModel(rng="abc"),
        "NegotiationModel actors={'DPRK': {'role': 'king'}}": lambda: NegotiationModel(
            actors={"DPRK": {"role": "king"}}, rng=0
        ),
        "NegotiationModel events=[{}]": lambda: NegotiationModel(events=[{}], rng=0),
        "NegotiationModel actor '1X'": lambda: NegotiationModel(
            actors={"1X": {"role": "ally"}}, rng=0
        ),
    }
    good = {
        "run_batch rounds=np.int64(10)": batch(rounds=np.int64(10)),
        "run_batch assurance=np.float32(0.5)": batch(assurance=np.float32(0.5)),
        "run_batch relief=np.float64(0.2)": batch(relief=np.float64(0.2)),
        "run_batch seeds=np.int32 array": lambda: rb([cfg] * 2, np.array([0, 1], np.int32)),
        "run_batch seeds=range": lambda: rb([cfg] * 3, range(3)),
        "run_batch seed=np.int64(2**63-1)": lambda: rb([cfg], [np.int64(2**63 - 1)]),
        "run_batch ModelConfig()": lambda: rb([ModelConfig(rounds=5)], [0]),
        "run_batch actors override": batch(actors={"DPRK": {"concede": {"package": 5}}}),
        "run_batch processes='1'": lambda: rb([cfg], [0], processes="1"),
        "NegotiationModel rounds=np.int64(5)": lambda: NegotiationModel(rounds=np.int64(5), rng=0),
        "NegotiationModel rng=np.int64(3)": lambda: NegotiationModel(rng=np.int64(3)),
        "NegotiationModel rng='42'": lambda: NegotiationModel(rng="42"),
        "NegotiationModel rng=None": lambda: NegotiationModel(rng=None),
        "NegotiationModel assurance=np.float32(0.5)": lambda: NegotiationModel(
            assurance=np.float32(0.5), rng=0
        ),
        "run_batch events=[{round: 2, kind: summit}]": batch(
            events=[{"round": 2, "kind": "summit"}]
        ),
        "run_batch actor JPN_2": batch(actors={"JPN_2": {"role": "ally"}}),
    }
    return bad, good


# ---------------------------------------------------------------- running them


@dataclass
class Result:
    surface: str
    case: str
    expected: str  # "refuse" | "accept"
    got: str  # "refused" | "accepted" | what else happened


def _tree(paths: list[Path]) -> set:
    out = set()
    for root in paths:
        if root.is_dir():
            for p in root.rglob("*"):
                st = p.lstat()
                out.add((str(p), st.st_size, st.st_mtime_ns))
        elif root.exists():
            st = root.lstat()
            out.add((str(root), st.st_size, st.st_mtime_ns))
    return out


@dataclass
class Surface:
    """A command the survey runs: its cases and how a case becomes a command line.

    Attributes:
        name: as printed (``stalemate-search``).
        bad, good: the cases: a string is one argument, a tuple several; ``{name}``
            is replaced by the fixture of that name (:func:`_fixtures`).
        argv: the command line of a case's arguments, run in the case's own empty
            directory ``cwd`` (where nothing may be left by a refusal).
    """

    name: str
    bad: list
    good: list
    argv: Callable[[list[str], Path], list[str]]


def _sets(args: list[str], key: str) -> bool:
    return any(a.lstrip("+").startswith(f"{key}=") for a in args)


def surfaces() -> list[Surface]:
    """Every command surface of the survey (the Python API is surveyed by :func:`_api_cases`)."""
    out = [
        Surface(
            "stalemate",
            SINGLE_BAD,
            SINGLE_GOOD,
            lambda a, cwd: [CMD["stalemate"], *RUN_DEFAULTS, f"hydra.run.dir={cwd}/out", *a],
        ),
        Surface(
            "stalemate -m",
            SWEEP_BAD,
            SWEEP_GOOD,
            lambda a, cwd: [CMD["stalemate"], *SWEEP_DEFAULTS, f"hydra.sweep.dir={cwd}/sweep", *a],
        ),
        Surface("stalemate-collect", DIR_BAD, DIR_GOOD, lambda a, cwd: [CMD["collect"], *a]),
        Surface("stalemate-plot", DIR_BAD, DIR_GOOD, lambda a, cwd: [CMD["plot"], *a]),
        Surface(
            "stalemate-search",
            SEARCH_BAD,
            SEARCH_GOOD,
            lambda a, cwd: [
                CMD["search"],
                "progress=false",
                *([] if _sets(a, "hydra.run.dir") else [f"hydra.run.dir={cwd}/out"]),
                *a,
            ],
        ),
        Surface("stalemate-play", PLAY_BAD, PLAY_GOOD, lambda a, cwd: [CMD["play"], *a]),
    ]
    return out + more_surfaces()


# ---------------------------------------------------------------- stalemate-fit, -record
CMD.update(fit=str(BIN / "stalemate-fit"), record=str(BIN / "stalemate-record"))
FIT_BAD = [
    "+colour=red", "colour=red", "fit.mcmc.steps=-5", "fit.mcmc.steps=0", "fit.mcmc.walkers=-1",
    "fit.draws=0", "fit.seed=-1", "fit.restarts=0", "fit.params=[]x", "fit.params=[bogus.key]",
    "fit.params=[actors.Narnia.concede.bias]", ("fit.mcmc.steps=100", "fit.mcmc.burn=200"),
    "fit.posterior=nuts", "fit.tau=0", "evaluate=guess", "evaluate=loco", "k=-1", "horizons=[0]",
    "horizons=[]", ("evaluate=rolling", "origins=2018-01:2018-02"), ("evaluate=rolling", "origins=nonsense"),
    "record=no_such_record", "record=../../x", "record={afile}", "record={dircsv}", "record={latin1}",
    "record={badyaml}/x.csv", "record={listyaml}", "record={nostart}", "record={stringactor}",
    "record={tensionhigh}", "record={bigfield}", "record={unknownactor}", "record={badaction}",
    ("train=2019-01:2019-12", "test=2018-01:2018-12"), ("train=2018-01:2019-06", "test=2019-03:2019-12"),
    "train=2030-01:2030-02", "train=nonsense", "record=us_dprk_2018_2019,us_dprk_2018_2019",
    "-m", "--bogus", "hydra.run.dir={run}",
]  # fmt: skip
FIT_GOOD = [
    ("fit.params=[rationality,target.concede.bias]", "fit.draws=100", "fit.restarts=1"),
    ("record={bom}", "train=2020-01:2020-12", "test=", "fit.params=[rationality]", "fit.restarts=1"),
    "--help",
    ("--cfg", "job"),
]  # fmt: skip
RECORD_BAD = [
    ("check", "{latin1}"), ("check", "{nostart}"), ("check", "{dircsv}"), ("check", "no_such"),
    ("check", "../../x"), ("kappa", "{bom}"), ("show", "us_dprk_2018_2019", "-o", "x.gif"),
    ("new", "x", "--actors", "A=boss", "--from", "2020-01", "--months", "5"),
    ("new", "x", "--actors", "A=principal", "--from", "2020-01", "--months", "5"),
    ("new", "x", "--actors", "A=principal", "B=target", "--from", "2020-13", "--months", "5"),
    ("new", "x", "--actors", "A=principal", "B=target", "--from", "2020-01", "--months", "0"),
    ("new", "../x", "--actors", "A=principal", "B=target", "--from", "2020-01", "--months", "5"),
    ("build", "{latin1}"), "frob", "",
]  # fmt: skip
RECORD_GOOD = [
    ("check", "us_dprk_2018_2019"), ("check", "{bom}"), ("kappa", "libya_2002_2004"),
    ("show", "us_dprk_1993_1995", "-o", "t.png"),
]  # fmt: skip


def _record_fixtures(fx: Path) -> dict:
    """Bad and good record files for the fit and the record tools."""
    start = "start: {assurance: 0.1, relief: 0, enforcement: 0.9, denuclearization: 0, undeclared: 0.3, tension: 0.5}\n"
    roles = "name: case\nactors:\n  A: {role: principal}\n  B: {role: target}\n"
    rows = "".join(f"2020-{m:02d},A,hedge,{m % 2}\n2020-{m:02d},B,{'concede' if m % 3 else 'escalate'},{m % 2}\n"
                   for m in range(1, 13))  # fmt: skip
    head = "period,actor,action,flagged\n"
    out = {}

    def case(name, csv_text, yaml_text, raw=None):
        d = fx / name
        d.mkdir()
        path = d / "case.csv"
        path.write_bytes(raw if raw is not None else csv_text.encode("utf-8"))
        (d / "case.yaml").write_text(yaml_text)
        out[name] = str(path)

    case("bom", "", roles + start, raw=b"\xef\xbb\xbf" + (head + rows).encode())
    case(
        "latin1",
        "",
        roles + start,
        raw=(head + rows).replace("hedge,0\n", "hedge,0,caf\xe9\n", 1).encode("latin-1"),
    )
    case("listyaml", head + rows, "- a\n- b\n")
    case("nostart", head + rows, roles)
    case("stringactor", head + rows, "actors:\n  A: principal\n  B: {role: target}\n" + start)
    case("tensionhigh", head + rows, roles + start.replace("tension: 0.5", "tension: high"))
    case(
        "bigfield",
        "period,actor,action,flagged,events\n"
        + rows.replace(",0\n", ",0," + "x" * 2**21 + "\n", 1),
        roles + start,
    )
    case("unknownactor", head + rows.replace(",A,", ",Z,", 1), roles + start)
    case("badaction", head + rows.replace("hedge", "talk", 1), roles + start)
    (fx / "dir.csv").mkdir()
    out["dircsv"] = str(fx / "dir.csv")
    return out


def more_surfaces() -> list[Surface]:
    """The extension point: the commands whose surveys their owners add here, each as a
    :class:`Surface` with its bad and good cases —

    - ``stalemate-fit``: bad records (encodings, a byte-order mark, malformed YAML, a
      missing ``start:``, paths outside the records folder, windows in the wrong order)
      and bad flags (``fit.mcmc.steps=-5``, ``burn > steps`` …);
    - ``stalemate-record``;
    - ``stalemate-app`` and ``stalemate-room``: ports, hosts, rounds and team sizes
      (a server that starts must be stopped by the runner: give it a ``--check`` or a
      timeout that counts as accepted).

    Fixtures they need go into :func:`_fixtures`.
    """
    return [
        Surface("stalemate-fit", FIT_BAD, FIT_GOOD, lambda a, cwd: [
            CMD["fit"], "progress=false", *([] if _sets(a, "hydra.run.dir") else [f"hydra.run.dir={cwd}/out"]), *a]),
        Surface("stalemate-record", RECORD_BAD, RECORD_GOOD, lambda a, cwd: [CMD["record"], *a]),
        *[Surface(name, cases, [], lambda a, cwd, name=name: [CMD[name.split("-")[1]], *a])
          for name, cases in APP_BAD.items()],
    ]  # fmt: skip


def _cli(surface: Surface, args: list[str], expected: str, fx: dict, root: Path, i: int) -> Result:
    cwd = root / f"case{i:03d}"
    cwd.mkdir()
    text = " ".join(args)
    named = [Path(v) for k, v in fx.items() if "{" + k + "}" in text and k != "fresh"]
    named += [p.parent / f".{p.name}.partial" for p in named]  # a search's partial directory
    for k, v in fx.items():  # {afile}, {sweep}, … (other braces are YAML)
        args = [a.replace("{" + k + "}", v) for a in args]
    argv = surface.argv(args, cwd)
    before = _tree(named)
    env = {k: v for k, v in os.environ.items() if k != "STALEMATE_FAILPOINTS"}
    res = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    lines = res.stderr.strip().splitlines()
    left = sorted(p.name for p in cwd.iterdir())
    if res.returncode == 2:
        if "Traceback" in res.stderr:
            got = "rc 2 with a traceback"
        elif len(lines) != 1:
            got = f"rc 2 with {len(lines)} lines: {res.stderr.strip()[:200]!r}"
        elif left or _tree(named) != before:
            got = f"rc 2 but files written: {left or named}"
        else:
            got = "refused"
    elif res.returncode == 0:
        got = "accepted"
    else:
        got = f"rc {res.returncode}: {(lines or [''])[-1][:200]}"
    if expected == "accept" and got == "refused":
        got = f"refused a valid input: {res.stderr.strip()}"
    return Result(surface.name, text, expected, got)


def _api(name: str, call, expected: str) -> Result:
    from sim import ConfigError

    try:
        call()
        got = "accepted"
    except ConfigError as err:
        got = "refused" if "\n" not in str(err) else f"multi-line ConfigError: {err}"
    except Exception as err:  # noqa: BLE001 - that is the point: report it
        got = f"{type(err).__name__}: {str(err).splitlines()[0][:150] if str(err) else ''}"
    surface = name.split()[0]
    return Result(surface, name.split(" ", 1)[1], expected, got)


def _fixtures(root: Path) -> dict:
    fx = root / "fixtures"
    fx.mkdir()
    (fx / "afile").write_text("a file where a directory should be")
    subprocess.run(
        [CMD["stalemate"], *SWEEP_DEFAULTS, "assurance=0,1", f"hydra.sweep.dir={fx / 'sweep'}"],
        check=True,
        capture_output=True,
    )
    shutil.copytree(fx / "sweep", fx / "sweep_other")
    (fx / "sweep_other" / ".stalemate.lock").write_text("")
    subprocess.run(
        [CMD["stalemate"], *RUN_DEFAULTS, f"hydra.run.dir={fx / 'run'}"],
        check=True,
        capture_output=True,
    )
    shutil.copytree(fx / "sweep", fx / "sweep_busy")
    shutil.copytree(fx / "run", fx / "run_again")
    subprocess.run(
        [CMD["search"], "+policy_search=smoke", "progress=false", f"hydra.run.dir={fx / 'search'}"],
        check=True,
        capture_output=True,
    )
    for d in ("empty", "notsweep", "badjson", "badyaml"):
        (fx / d).mkdir()
    (fx / "notsweep" / "notes.txt").write_text("mine")
    (fx / "badjson" / "sweep.json").write_text('{"jobs": [')
    (fx / "badyaml" / "multirun.yaml").write_text("hydra: [unclosed")
    return {
        "afile": str(fx / "afile"),
        "sweep": str(fx / "sweep"),
        "sweep_other": str(fx / "sweep_other"),
        "run": str(fx / "run"),
        "empty": str(fx / "empty"),
        "notsweep": str(fx / "notsweep"),
        "badjson": str(fx / "badjson"),
        "badyaml": str(fx / "badyaml"),
        "run_again": str(fx / "run_again"),
        "sweep_busy": str(fx / "sweep_busy"),  # locked by _hold() while the survey runs
        "search": str(fx / "search"),  # a finished smoke search
        "search_busy": str(fx / "search_busy"),  # a search running there (its lock held)
        "fresh": str(root / "fresh"),
        "busy": _busy_port(),
        **_record_fixtures(fx),
    }


def _hold(fx: dict) -> subprocess.Popen:
    """A process holding the locks of ``{sweep_busy}`` and of ``{search_busy}``'s partial
    directory, as a running sweep and search would; returns once they are held."""
    from sim.report.staging import partial_dir

    code = (
        "import sys, time; from sim.hydra.lock import DirLock; "
        "locks = [DirLock(sys.argv[1], 'sweep').acquire(), DirLock(sys.argv[2], 'search').acquire()]; "
        "print('held', flush=True); time.sleep(3600)"
    )
    busy = str(partial_dir(fx["search_busy"]))
    holder = subprocess.Popen(
        [sys.executable, "-c", code, fx["sweep_busy"], busy], stdout=subprocess.PIPE, text=True
    )
    if holder.stdout.readline().strip() != "held":
        holder.kill()
        raise RuntimeError("the lock holder did not start")
    return holder


def _split(case) -> list[str]:
    """A case's arguments: a tuple is several, a string one (none if empty)."""
    return list(case) if isinstance(case, tuple) else ([case] if case else [])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every case's outcome")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    ap.add_argument("--only", nargs="+", metavar="SURFACE", help="survey only these surfaces")
    args = ap.parse_args(argv)
    chosen = [s for s in surfaces() if not args.only or s.name in args.only]
    api = not args.only or {"run_batch", "NegotiationModel"} & set(args.only)
    root = Path(tempfile.mkdtemp(prefix="stalemate-bad-inputs-"))
    holder = None
    try:
        fx = _fixtures(root)
        holder = _hold(fx)
        cli = []
        for surface in chosen:
            cli += [(surface, _split(c), "refuse") for c in surface.bad]
            cli += [(surface, _split(c), "accept") for c in surface.good]
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda ic: _cli(*ic[1], fx, root, ic[0]), enumerate(cli)))
        if api:
            bad, good = _api_cases()
            results += [_api(n, c, "refuse") for n, c in bad.items()]
            results += [_api(n, c, "accept") for n, c in good.items()]
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        shutil.rmtree(root, ignore_errors=True)
    refused = [r for r in results if r.expected == "refuse" and r.got == "refused"]
    accepted = [r for r in results if r.expected == "accept" and r.got == "accepted"]
    other = [r for r in results if r not in refused and r not in accepted]
    if args.show:
        for r in results:
            print(f"{r.surface:18} {r.got:10.10} {r.case!r}")
    names = [s.name for s in chosen] + (["run_batch", "NegotiationModel"] if api else [])
    print(f"{len(results)} cases over {len(names)} surfaces:")
    for surface in names:
        n = [r for r in results if r.surface == surface]
        print(
            f"  {surface:18} {len(n):4} cases: {sum(r in refused for r in n):3} refused in one line (rc 2), "
            f"{sum(r in accepted for r in n):3} valid accepted, {sum(r in other for r in n)} else"
        )
    print(f"one-line rc-2 refusals: {len(refused)}")
    print(f"accepted valid inputs:  {len(accepted)}")
    print(f"anything else:          {len(other)}")
    for r in other:
        print(f"  ! {r.surface} {r.case!r} (expected: {r.expected}): {r.got}")
    return 1 if other else 0


if __name__ == "__main__":
    sys.exit(main())

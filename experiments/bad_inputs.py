"""Bad inputs on every surface the README shows, and the valid inputs next to them.

Runs each case and sorts its result into one of three bins:

- **refused** — a command exits 2 with exactly one line on stderr, no traceback, and
  leaves no file behind (neither in its working directory nor in a directory it
  names); a Python call raises ``sim.ConfigError`` with a one-line message;
- **accepted** — a valid input: the command exits 0, the call returns;
- **anything else** — which should be zero: a traceback, exit code 1 for a bad
  input, a file left behind, a multi-line refusal, a valid input refused.

Surfaces: ``stalemate`` (a single run), ``stalemate -m`` (a sweep),
``stalemate-collect``, ``stalemate-plot``, ``sim.run_batch`` and
``sim.NegotiationModel``; the classroom's servers ``stalemate-room`` and
``stalemate-app`` (bad arguments only: a valid one starts a server).

    python experiments/bad_inputs.py            # every case (~3 min on 2 cores)
    python experiments/bad_inputs.py --show     # and each case's outcome
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent
CMD = {
    "stalemate": str(BIN / "stalemate"),
    "collect": str(BIN / "stalemate-collect"),
    "plot": str(BIN / "stalemate-plot"),
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
    # output directories
    "hydra.run.dir={afile}",
    "hydra.run.dir={afile}/sub",
    "hydra.run.dir=/proc/stalemate",
    "hydra.run.dir={sweep_other}",
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
    ("{sweep}", "extra"),
    "--bogus",
]
DIR_GOOD = ["{sweep}", "--help"]


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


def _app_cases() -> list[tuple[str, list[str], str]]:
    """The servers' bad cases, with ``{busy}`` a port held open for the whole survey."""
    import socket

    global _BUSY
    if _BUSY is None:
        _BUSY = socket.socket()
        _BUSY.bind(("127.0.0.1", 0))
        _BUSY.listen(1)
    busy = str(_BUSY.getsockname()[1])
    return [
        (surface, [a.replace("{busy}", busy) for a in _split(case)], "refuse")
        for surface, cases in APP_BAD.items()
        for case in cases
    ]


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


def _cli(surface: str, args: list[str], expected: str, fx: dict, root: Path, i: int) -> Result:
    cwd = root / f"case{i:03d}"
    cwd.mkdir()
    text = " ".join(args)
    named = [Path(v) for k, v in fx.items() if "{" + k + "}" in text and k != "fresh"]
    for k, v in fx.items():  # {afile}, {sweep}, … (other braces are YAML)
        args = [a.replace("{" + k + "}", v) for a in args]
    if surface == "stalemate":
        argv = [CMD["stalemate"], *RUN_DEFAULTS, f"hydra.run.dir={cwd}/out", *args]
    elif surface == "stalemate -m":
        argv = [CMD["stalemate"], *SWEEP_DEFAULTS, f"hydra.sweep.dir={cwd}/sweep", *args]
    else:
        argv = [CMD[surface.removeprefix("stalemate-")], *args]
    before = _tree(named)
    env = {k: v for k, v in os.environ.items() if k != "STALEMATE_FAILPOINTS"}
    res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
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
    return Result(surface, text, expected, got)


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
        "fresh": str(root / "fresh"),
    }


def _split(case) -> list[str]:
    """A case's arguments: a tuple is several, a string one (none if empty)."""
    return list(case) if isinstance(case, tuple) else ([case] if case else [])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every case's outcome")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="stalemate-bad-inputs-"))
    try:
        fx = _fixtures(root)
        cli = [("stalemate", _split(c), "refuse") for c in SINGLE_BAD]
        cli += [("stalemate", _split(c), "accept") for c in SINGLE_GOOD]
        cli += [("stalemate -m", _split(c), "refuse") for c in SWEEP_BAD]
        cli += [("stalemate -m", _split(c), "accept") for c in SWEEP_GOOD]
        for surface in ("stalemate-collect", "stalemate-plot"):
            cli += [(surface, _split(c), "refuse") for c in DIR_BAD]
            cli += [(surface, _split(c), "accept") for c in DIR_GOOD]
        cli += _app_cases()  # the classroom's servers
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda ic: _cli(*ic[1], fx, root, ic[0]), enumerate(cli)))
        bad, good = _api_cases()
        results += [_api(n, c, "refuse") for n, c in bad.items()]
        results += [_api(n, c, "accept") for n, c in good.items()]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    refused = [r for r in results if r.expected == "refuse" and r.got == "refused"]
    accepted = [r for r in results if r.expected == "accept" and r.got == "accepted"]
    other = [r for r in results if r not in refused and r not in accepted]
    if args.show:
        for r in results:
            print(f"{r.surface:18} {r.got:10.10} {r.case!r}")
    print(f"{len(results)} cases over 8 surfaces:")
    for surface in (
        "stalemate",
        "stalemate -m",
        "stalemate-collect",
        "stalemate-plot",
        "run_batch",
        "NegotiationModel",
        *APP_BAD,
    ):
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

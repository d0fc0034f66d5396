"""What a command loads and does before it answers: counts and contents, never wall-clock time.

Start-up speed is measured by ``experiments/benchmark_commands.py`` (``make bench``);
these tests pin what makes it fast, as facts that hold on any machine: which
packages a command imports, how often Hydra composes, that a figure drawn by the
helper process is never lost, that tables built without pandas are pyarrow's own.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers import COUNTED_RUN

from sim.engines.arrow import array, strings, table, to_numpy

ROOT = Path(__file__).resolve().parent.parent


def loaded_after(code: str, *modules: str, cwd=None) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of ``modules`` it imported."""
    probe = f"{code}\nimport json, sys\nprint('LOADED', json.dumps({{m: m in sys.modules for m in {list(modules)!r}}}))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("LOADED ")][-1]
    return json.loads(line.removeprefix("LOADED "))


# -------------------------------------------------------------- tables without pandas


@pytest.mark.parametrize(
    "values",
    [
        np.arange(5, dtype=np.int64),
        np.arange(5, dtype=np.int32),
        np.array([0.5, np.nan, -1.0]),
        np.array([True, False, True, True, False, False, True, False, True]),
        np.array(["relief_first", "", "baseline_2018", "é"]),
        np.array([], dtype=np.float64),
        np.arange(12, dtype=np.float64).reshape(3, 4)[:, 1],  # not contiguous
    ],
)
def test_arrays_built_from_buffers_are_pyarrows_own(values):
    built = array(values)
    assert built.type == pa.array(values).type
    assert built.equals(pa.array(values)) or np.isnan(values).any()
    assert built.to_pylist() == pa.array(values).to_pylist() or np.isnan(values).any()
    back = to_numpy(pa.chunked_array([built]))
    if values.dtype.kind == "U":  # plain strings come back as pyarrow gives them (objects)
        assert back.tolist() == values.tolist()
    else:
        assert back.dtype == values.dtype and np.array_equal(back, values, equal_nan=True)


def test_masks_repeated_strings_and_tables():
    codes = np.array([2, -1, 0], dtype=np.int32)
    assert array(codes, mask=codes < 0).equals(pa.array(codes, mask=codes < 0))
    repeated = strings(["a", "bc"], np.array([1, 0, 1, 1]))
    assert repeated.equals(pa.array(["bc", "a", "bc", "bc"]))
    t = table({"x": np.arange(3), "s": strings(["q"], np.zeros(3))})
    assert t.equals(pa.table({"x": np.arange(3), "s": ["q"] * 3}))
    sliced = pa.chunked_array([array(np.arange(10.0)).slice(3, 4), array(np.arange(2.0))])
    assert to_numpy(sliced).tolist() == [3.0, 4.0, 5.0, 6.0, 0.0, 1.0]


def test_a_streamed_batch_imports_no_pandas_and_gives_run_batchs_tables():
    code = """
from sim.engines.batch import stream_batch
from sim.model.params import make_config
got = {}
stream_batch([make_config(rounds=20)] * 3, [0, 1, 2], sink=lambda k, t: got.setdefault(k, t), progress=False)
assert set(got) == {"runs", "states", "actions"}, got
"""
    assert loaded_after(code, "pandas") == {"pandas": False}
    from sim.engines.batch import run_batch, stream_batch
    from sim.engines.tables import to_pandas
    from sim.model.params import make_config

    cfgs = [make_config(rounds=20, regime="relief_first")] * 3
    got: dict[str, list] = {}
    stream_batch(cfgs, [0, 1, 2], sink=lambda k, t: got.setdefault(k, []).append(t), progress=False)
    res = run_batch(cfgs, [0, 1, 2], progress=False)
    for kind, df in (("runs", res.runs), ("states", res.states), ("actions", res.actions)):
        streamed = to_pandas(pa.concat_tables(got[kind]))
        assert streamed.equals(df), kind


# -------------------------------------------------------------- what commands import


def test_stalemate_single_run_imports_neither_pandas_nor_matplotlib(tmp_path):
    code = f"""
import sys
sys.argv = ["stalemate", "seeds=2", "rounds=15", "hydra.run.dir={tmp_path / "run"}"]
from sim.hydra.cli import main
main()
"""
    loaded = loaded_after(code, "pandas", "matplotlib", "mesa", cwd=tmp_path)
    assert loaded == {"pandas": False, "matplotlib": False, "mesa": False}
    for name in ("trajectories.png", "survival.png", "runs.parquet"):  # drawn by the helper
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_cfg_and_fit_help_load_no_engine_and_no_estimation(tmp_path):
    heavy = ("numba", "pandas", "matplotlib", "scipy", "sim.analysis.estimate", "mesa")
    for argv, module in (
        (["stalemate", "--cfg", "job"], "sim.hydra.cli"),
        (["stalemate-fit", "--help"], "sim.analysis.fit"),
    ):
        code = f"""
import sys
sys.argv = {argv!r}
from {module} import main
try:
    main()
except SystemExit:
    pass
"""
        loaded = loaded_after(code, *heavy, cwd=tmp_path)
        assert not any(loaded.values()), (argv, loaded)


@pytest.mark.parametrize(
    "module, argv, heavy",
    [
        (
            "sim.analysis.fit",
            ["record=no_such_record"],
            ("numba", "scipy", "sim.analysis.estimate"),
        ),
        (
            "sim.analysis.fit",
            ["fit.params=[actors.DPRK.concede.nonsense]"],
            ("scipy.optimize", "sim.engines.kernels", "sklearn", "matplotlib"),
        ),
        ("sim.classroom.page_cli", ["--bogus"], ("solara", "mesa", "numba", "sim.classroom.page")),
        ("sim.classroom.page_cli", ["--host", "192.0.2.1"], ("solara", "mesa", "numba")),
        ("sim.classroom.room_app", ["--host", "192.0.2.1"], ("solara", "mesa", "numba")),
        ("sim.classroom.terminal", ["--rounds", "0"], ("mesa", "numba")),
        ("sim.classroom.terminal", ["--actor", "Narnia"], ("mesa", "numba")),
    ],
)
def test_a_refused_command_line_loads_nothing_it_does_not_need(tmp_path, module, argv, heavy):
    """Issue 23: a refusal answers at once. The fit checks its values, records and windows
    before it imports the estimation, and a parameter it does not know before the kernels;
    the page, the room and the terminal game check their flags (and the page and the room
    open their port) before importing Solara or the model."""
    code = f"""
import sys
sys.argv = ["prog", *{argv!r}]
from {module} import main
try:
    code = main()
except SystemExit as exit:
    code = exit.code
assert code == 2, code
"""
    loaded = loaded_after(code, *heavy, cwd=tmp_path)
    assert not any(loaded.values()), (module, argv, loaded)


# -------------------------------------------------------------- composing once


def test_the_config_store_is_shared_not_copied():
    from hydra.core.config_store import ConfigStore

    import sim.hydra.compose  # noqa: F401 - shares it

    store = ConfigStore.instance()
    assert copy.deepcopy(store) is store
    assert copy.deepcopy({"s": store})["s"] is store


def test_a_command_line_is_composed_twice_not_four_times(tmp_path):
    """stalemate seeds=1: the preflight check composes (the run mode, then the run) and
    Hydra's own two compositions of the same command line are handed copies of those;
    what Hydra records is what it would have composed (job name, run mode)."""
    cold = {**os.environ, "STALEMATE_COMPOSE_CACHE": str(tmp_path / "compose")}  # none kept yet
    done = subprocess.run(
        [sys.executable, "-c", COUNTED_RUN, f"hydra.run.dir={tmp_path / 'a'}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cold,
    )
    assert done.returncode == 0, done.stderr
    assert "COMPOSED 2" in done.stdout, done.stdout[-300:]
    saved = (tmp_path / "a" / ".hydra" / "hydra.yaml").read_text()
    assert "name: cli" in saved and "- hydra.mode=RUN" in saved and "mode: RUN" in saved


def test_compositions_are_reused_once_and_only_for_the_same_inputs():
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    import sim.hydra.schema  # noqa: F401 - registers the schema config.yaml builds on
    from sim.hydra.compose import CONFIG_MODULE, JOB_NAME, compose_once, hydra_lock

    compose_once()
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        first = loader.load_configuration("config", ["seeds=3"], run_mode=RunMode.RUN)
        again = loader.load_configuration("config", ["seeds=3"], run_mode=RunMode.RUN)
        third = loader.load_configuration("config", ["seeds=3"], run_mode=RunMode.RUN)
        other = loader.load_configuration("config", ["seeds=4"], run_mode=RunMode.RUN)
    assert again is not first and third is not again
    for cfg in (again, third):
        assert OmegaConf.to_yaml(cfg) == OmegaConf.to_yaml(first)
    assert other.seeds == 4


# -------------------------------------------------------------- figures never lost


def _survival_figure(path: Path):
    from sim.report.drawing import Figure

    curves = {"a": {"round": [0, 1, 2], "talking": [1, 0.5, 0.2], "agreement": [0, 0.5, 0.6],
                    "breakdown": [0, 0, 0.2]}}  # fmt: skip
    return Figure("plot_survival", path, (curves, "t", 3))


def test_the_helper_draws_several_figures(tmp_path):
    from sim.report.drawing import FigureWorker

    w = FigureWorker()
    figs = [_survival_figure(tmp_path / f"s{k}.png") for k in range(3)]
    w.draw(figs)
    paths = w.finish()
    assert paths == [f.path for f in figs]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert set(w.seconds) == {str(p) for p in paths}


def test_a_figure_the_helper_did_not_draw_is_drawn_here(tmp_path):
    from sim.report.drawing import FigureWorker

    w = FigureWorker()
    w.proc.kill()  # the helper dies before it is handed anything
    w.proc.wait()
    w.draw([_survival_figure(tmp_path / "s.png")])
    assert w.finish() == [tmp_path / "s.png"] and (tmp_path / "s.png").stat().st_size > 1000
    off = FigureWorker(start=False)  # no helper at all
    off.draw([_survival_figure(tmp_path / "t.png")])
    assert off.finish() == [tmp_path / "t.png"] and (tmp_path / "t.png").exists()


def test_a_helper_given_nothing_ends_when_the_command_does():
    from sim.report.drawing import FigureWorker

    w = FigureWorker()
    assert w.finish() == []
    assert w.proc.returncode == 0


# -------------------------------------------------------------- the phase timer


def test_phases_are_written_only_when_asked(tmp_path):
    out = tmp_path / "phases.jsonl"
    code = "from sim.report.phases import mark\nmark('one')\nmark('two')\n"
    env = {**os.environ, "STALEMATE_PHASES": str(out), "STALEMATE_PHASES_T0": "0"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["phase"] for r in rows] == ["start", "one", "two"]
    assert all(r["wall"] >= 0 and r["cpu"] >= 0 for r in rows[1:])
    env.pop("STALEMATE_PHASES")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tmp_path)
    assert len(out.read_text().splitlines()) == 3 and list(tmp_path.iterdir()) == [out]

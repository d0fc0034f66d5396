"""The fan chart's numbers with numpy alone are the pandas versions' numbers, to the bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.model.names import ACTION_NAMES
from sim.report import fans, plots


def _actions(rng, n):
    actors = ["USA", "DPRK", "ROK", "PRC"]
    return pd.DataFrame(
        {
            "run_id": rng.integers(0, 5, n),
            "round": rng.integers(1, 9, n).astype(np.int32),
            # PRC never plays; some actions are missing
            "actor": pd.Categorical(rng.choice(actors[:3], n), categories=actors),
            "action": pd.Categorical(
                rng.choice([*ACTION_NAMES, None], n), categories=list(ACTION_NAMES)[::-1]
            ),
        }
    )


@pytest.mark.parametrize("seed", range(20))
def test_action_shares_are_pandas_shares(seed):
    rng = np.random.default_rng(seed)
    df = _actions(rng, int(rng.integers(1, 300)))
    want = plots.action_shares(df)
    rounds, got = fans.action_shares(fans.columns(df), list(ACTION_NAMES))
    for k, actor in enumerate(df["actor"].cat.categories):
        s = want.loc[actor].reindex(columns=list(ACTION_NAMES))
        assert np.array_equal(np.asarray(s.index), rounds)
        assert s.to_numpy().tobytes() == np.ascontiguousarray(got[k]).tobytes()


@pytest.mark.parametrize("seed", range(20))
def test_state_matrices_and_quantiles_are_pandas_and_nanpercentiles(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 200))
    states = pd.DataFrame(
        {
            "run_id": rng.integers(0, 20, m),
            "round": rng.integers(0, 12, m).astype(np.int32),
            "tension": np.where(rng.random(m) < 0.1, np.nan, rng.random(m)),
        }
    ).drop_duplicates(["run_id", "round"])
    states = states.sample(frac=1, random_state=seed)  # rows in any order
    want = plots.state_matrix(states, "tension")
    got = fans.state_matrix(fans.columns(states), "tension")
    assert want.tobytes() == got.tobytes()
    full = rng.random((int(rng.integers(1, 3000)), int(rng.integers(1, 250))))
    for x in (full, np.round(full, 2), want[:, ~np.isnan(want).all(axis=0)]):
        if x.size:
            assert (
                np.nanpercentile(x, [10, 50, 90], axis=0).tobytes() == fans.quantiles(x).tobytes()
            )
    long = pd.concat(  # the joined long table: the first actor's rows
        [
            states.assign(actor=pd.Categorical(["A"] * len(states), categories=["A", "B"])),
            states.assign(
                actor=pd.Categorical(["B"] * len(states), categories=["A", "B"]), tension=0.5
            ),
        ]
    )
    assert (
        plots.state_matrix(long, "tension").tobytes()
        == fans.state_matrix(fans.columns(long), "tension").tobytes()
    )


def test_columns_of_arrow_pieces_and_their_concatenation_agree_with_pandas():
    from sim.engines.tables import to_pandas

    rng = np.random.default_rng(3)
    df = _actions(rng, 50)
    pieces = [pa.Table.from_pandas(df[:20]), pa.Table.from_pandas(df[20:])]
    want = fans.columns(to_pandas(pa.concat_tables(pieces)), fans.ACTION_COLUMNS)
    for got in (
        fans.columns(pieces, fans.ACTION_COLUMNS),
        fans.Columns.concat([fans.columns(p, fans.ACTION_COLUMNS) for p in pieces]),
    ):
        for name in fans.ACTION_COLUMNS:
            decoded = [
                (got.categories[name][c] if c >= 0 else None) if name in got.categories else c
                for c in got[name]
            ]
            expect = [
                (want.categories[name][c] if c >= 0 else None) if name in want.categories else c
                for c in want[name]
            ]
            assert decoded == expect, name


@pytest.mark.parametrize(
    ("rounds", "seeds", "foreseen"),
    [
        (30, 3, 30),  # every run reaches the horizon: the rounds' axes come from the frame
        (120, 1, 120),  # the run ends before the horizon: they are drawn after the data
        (60, 40, None),  # no horizon given
        (60, 40, 59),  # a wrong one
    ],
)
def test_a_trajectories_figure_rendered_before_its_data_is_the_same_png(
    tmp_path, monkeypatch, rounds, seeds, foreseen
):
    import io

    from sim.engines.batch import run_batch
    from sim.model.params import make_config
    from sim.report import io as report_io

    res = run_batch([make_config(rounds=rounds)] * seeds, list(range(seeds)), progress=False)

    def png(fig):
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=110)
        plots.close(fig)
        return out.getvalue()

    fresh = png(plots.plot_trajectories(res.states, res.actions, "t", seeds))
    actors = list(res.actions["actor"].cat.categories)
    plots.prepare_trajectories(actors, "t", seeds, dpi=110, rounds=foreseen)
    fig = plots.plot_trajectories(res.states, res.actions, "t", seeds)
    whole = report_io.save_figure
    monkeypatch.setattr(report_io, "save_figure", None)  # save() must paint onto the frame
    plots.save(fig, tmp_path / "f.png", dpi=110)
    assert (tmp_path / "f.png").read_bytes() == fresh
    assert png(fig) == fresh  # the figure itself is whole: savefig draws it the same
    monkeypatch.setattr(report_io, "save_figure", whole)
    plots.prepare_trajectories(actors, "t", seeds, dpi=100, rounds=foreseen)
    fig = plots.plot_trajectories(res.states, res.actions, "t", seeds)
    plots.save(fig, tmp_path / "g.png", dpi=110)  # rendered at another dpi: drawn whole
    assert (tmp_path / "g.png").read_bytes() == fresh
    plots.prepare_trajectories(actors, "another title", seeds, dpi=110)  # not for these data
    assert png(plots.plot_trajectories(res.states, res.actions, "t", seeds)) == fresh


def test_the_helper_given_a_head_start_draws_the_figure_it_was_prepared_for(tmp_path):
    from sim.engines.batch import run_batch
    from sim.model.params import make_config
    from sim.report.drawing import Figure, FigureWorker, Prepare

    res = run_batch([make_config(rounds=20)] * 2, [0, 1], progress=False)
    actors = list(res.actions["actor"].cat.categories)
    w = FigureWorker()
    w.prepare(Prepare("prepare_trajectories", (actors, "t", 2, 110, 20)))
    w.prepare(Prepare("no_such_plot", ()))  # a failed head start is only no head start
    states = fans.columns(res.states, fans.STATE_COLUMNS)
    actions = fans.columns(res.actions, fans.ACTION_COLUMNS)
    fig = Figure("plot_trajectories", tmp_path / "t.png", (states, actions, "t", 2))
    w.draw([fig])
    assert w.finish() == [tmp_path / "t.png"]
    assert w.proc.returncode == 0  # the helper read the head starts and drew it
    here = FigureWorker(start=False)
    here.draw([Figure("plot_trajectories", tmp_path / "u.png", fig.args)])
    here.finish()
    assert (tmp_path / "t.png").read_bytes() == (tmp_path / "u.png").read_bytes()


@pytest.mark.parametrize(
    ("runnable", "cores", "idle"), [(1, 2, True), (2, 2, False), (3, 4, True), (4, 4, False)]
)
def test_a_core_is_idle_when_fewer_threads_are_runnable_than_cores(
    tmp_path, monkeypatch, runnable, cores, idle
):
    from sim.report import drawing

    path = tmp_path / "loadavg"
    path.write_text(f"5.00 4.00 3.00 {runnable}/321 4567\n")  # a busy minute, an idle moment
    monkeypatch.setattr(drawing.os, "cpu_count", lambda: cores)
    assert drawing.idle_core(str(path)) is idle  # this thread is one of the runnable
    monkeypatch.setattr(drawing.os, "getloadavg", lambda: (0.5, 0.0, 0.0))
    assert drawing.idle_core(str(tmp_path / "none")) is (0.5 < cores - 1)  # no such file

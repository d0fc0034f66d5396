"""Reports: the closed-form Wilson interval, streamed summaries and atomic, verifiable files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from sim import make_config, run_batch
from sim.report.io import ParquetStream, file_digest, read_metadata, remove_leftovers
from sim.report.summary import RunningSummary, format_summary, outcome_shares, wilson


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 5000), frac=st.floats(0, 1), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_equals_scipy(n, frac, level):
    """The closed form gives scipy's Wilson interval to 1e-12 for any k, n and level."""
    k = int(round(frac * n))
    lo, hi = wilson(k, n, level)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    assert abs(float(lo) - ci.low) < 1e-12 and abs(float(hi) - ci.high) < 1e-12
    assert lo <= k / n <= hi


def test_outcome_shares_per_group_equal_the_single_group_numbers():
    """Shares by group are the same numbers as each group summarised alone."""
    runs = pd.DataFrame(
        {
            "g": ["a"] * 30 + ["b"] * 20,
            "outcome": ["agreement"] * 10 + ["stalemate"] * 25 + ["breakdown"] * 15,
        }
    )
    by = outcome_shares(runs, ["g"]).set_index("g")
    for g in ("a", "b"):
        alone = outcome_shares(runs[runs["g"] == g]).iloc[0]
        for col in ("n", "agreement", "agreement_lo", "breakdown_hi", "stalemate"):
            assert by.loc[g, col] == pytest.approx(alone[col], abs=1e-15)


def test_running_summary_over_chunks_equals_the_whole():
    """A summary accumulated over chunks prints exactly what the whole table prints."""
    runs = run_batch([make_config(rounds=40)] * 60, range(60), record=False, progress=False).runs
    s = RunningSummary(["USA", "DPRK", "ROK", "PRC"])
    for k in range(0, 60, 7):
        s.add(runs.iloc[k : k + 7])
    assert s.format() == format_summary(runs, ["USA", "DPRK", "ROK", "PRC"])


@pytest.mark.parametrize("background", [False, True])
def test_parquet_stream_is_invisible_until_complete(tmp_path, background):
    """A stream that fails leaves neither the file nor a temporary; one that finishes has
    every chunk in order, its metadata, and a digest with its row count (written in the
    caller's thread or in the background)."""
    path = tmp_path / "t.parquet"
    with pytest.raises(RuntimeError), ParquetStream(path, {"a": 1}, background) as s:
        s.write(pa.table({"x": [1, 2]}))
        raise RuntimeError("killed")
    assert not path.exists() and not list(tmp_path.iterdir())
    with ParquetStream(path, {"a": 1}, background) as s:
        for k in range(0, 50, 3):
            s.write(pa.table({"x": list(range(k, min(k + 3, 50)))}))
    assert pd.read_parquet(path)["x"].tolist() == list(range(50))
    assert read_metadata(path) == {"a": 1}
    assert file_digest(path)["rows"] == 50


@pytest.mark.parametrize("fails_at", [1, 3])
def test_a_background_write_that_fails_fails_the_stream(tmp_path, fails_at, monkeypatch):
    """An error in the background writer (here: the disk fills up at the n-th chunk) is
    raised to the caller, by a later write or on leaving the block, and no file appears."""
    monkeypatch.setenv("STALEMATE_FAILPOINTS", f"stream:t.parquet@{fails_at}=enospc")
    monkeypatch.setattr("sim.report.io._hits", {})  # count this test's chunks only
    path = tmp_path / "t.parquet"
    with pytest.raises(OSError, match="No space left"), ParquetStream(path, {}, True) as s:
        for k in range(3):
            s.write(pa.table({"x": [k]}))
    assert not list(tmp_path.iterdir())


def test_leftover_temporaries_are_removed(tmp_path):
    """What a killed writer leaves (``.name.*.tmp``) is found and removed; results stay."""
    (tmp_path / "sub").mkdir()
    junk = [tmp_path / ".runs.parquet.abc.tmp", tmp_path / "sub" / ".blocks.json.x.tmp"]
    for p in junk:
        p.write_text("half")
    keep = tmp_path / "runs.parquet"
    keep.write_text("whole")
    assert sorted(remove_leftovers(tmp_path)) == sorted(junk)
    assert keep.exists() and not any(p.exists() for p in junk)


def test_wilson_handles_vectors_and_extremes():
    lo, hi = wilson(np.array([0, 5, 10]), 10)
    assert lo[0] == 0.0 and hi[2] == 1.0 and (lo <= np.array([0, 0.5, 1.0])).all()

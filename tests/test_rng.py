"""The seed -> random-number mapping: SplitMix64 streams, checked against published values.

``u(seed, stream, t)`` is the t-th output of SplitMix64 started at
``mix(mix(seed) XOR stream)``, as a double from its 53 high bits
(:mod:`sim.model.rng`). The published test values are those of Rosetta Code's
"Pseudo-random numbers/Splitmix64" task.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import NegotiationModel, make_config, run_batch
from sim.model.rng import GAMMA, mix, splitmix64_reference, stream_id, stream_start, uniform

MASK = 2**64 - 1


def test_splitmix64_matches_the_published_sequence():
    """Seeded with 1234567, the first five outputs are the published ones; our compiled
    ``mix`` of ``state + t * GAMMA`` gives the same numbers."""
    published = [
        0x599ED017FB08FC85,
        0x2C73F08458540FA5,
        0x883EBCE5A3F27C77,
        0x3FBEF740E9177B3F,
        0xE3B8346708CB5ECD,
    ]
    assert splitmix64_reference(1234567, 5) == published
    ours = [int(mix(np.uint64((1234567 + t * int(GAMMA)) & MASK))) for t in range(1, 6)]
    assert ours == published


def test_uniform_numbers_match_the_published_bucket_counts():
    """100,000 uniforms from state 987654321, counted in five equal buckets, give the
    published counts 20027, 19892, 20073, 19978, 20030."""
    u = np.array([uniform(np.uint64(987654321), t) for t in range(1, 100_001)])
    counts = np.bincount((u * 5).astype(int), minlength=5)
    assert counts.tolist() == [20027, 19892, 20073, 19978, 20030]


def reference_u(seed: int, stream: int, t: int) -> float:
    """The documented mapping in plain Python integers."""

    def m(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    start = m(m(seed) ^ stream)
    return (m((start + t * 0x9E3779B97F4A7C15) & MASK) >> 11) * 2.0**-53


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    name=st.text(min_size=1, max_size=8),
    t=st.integers(1, 100_000),
)
def test_compiled_stream_equals_the_documented_mapping(seed, name, t):
    """For any seed, stream name and round, the compiled number is the documented one."""
    sid = stream_id(name)
    assert uniform(np.uint64(stream_start(seed, np.uint64(sid))), t) == reference_u(seed, sid, t)


def test_uniforms_are_uniform_and_streams_uncorrelated():
    """Over 200,000 draws (2,000 seeds x 100 rounds) of two streams: mean within
    0.5 +- 0.003, variance within 1/12 +- 0.002, correlation between the streams
    and between neighbouring seeds below 0.01 in absolute value (about 4.5
    standard errors)."""
    seeds, rounds = np.arange(2000), np.arange(1, 101)
    a = np.array(
        [
            [uniform(np.uint64(stream_start(s, np.uint64(stream_id("USA")))), t) for t in rounds]
            for s in seeds
        ]
    )
    b = np.array(
        [
            [uniform(np.uint64(stream_start(s, np.uint64(stream_id("DPRK")))), t) for t in rounds]
            for s in seeds
        ]
    )
    assert abs(a.mean() - 0.5) < 0.003 and abs(a.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < 0.01


def test_an_actors_numbers_do_not_depend_on_who_else_sits_at_the_table():
    """Streams are named: adding Japan and Russia leaves the DPRK's and the USA's
    draws unchanged, so a scripted-everyone run with a logit DPRK plays the DPRK the
    same way whether or not the others are there (rationality 0: pure chance)."""
    script = {"policy": "scripted", "script": ["hedge"]}
    base = {"USA": script, "ROK": script, "PRC": script}
    more = {**base, "JPN": {"role": "ally", **script}, "RUS": {"role": "enforcer", **script}}
    kw = {"rounds": 40, "rationality": 0.0, "agreement_threshold": 1.0, "breakdown_threshold": 1.0}
    four = run_batch([make_config(actors=base, **kw)] * 5, range(5), progress=False).actions
    six = run_batch([make_config(actors=more, **kw)] * 5, range(5), progress=False).actions
    dprk4 = four[four["actor"] == "DPRK"]["action"].astype(str).to_numpy()
    dprk6 = six[six["actor"] == "DPRK"]["action"].astype(str).to_numpy()
    assert np.array_equal(dprk4, dprk6)


def test_the_seed_alone_decides_a_run():
    """The same seed gives the same run in a fresh model; the next seed does not."""
    a, b, c = (NegotiationModel(rng=s, rounds=60) for s in (11, 11, 12))
    for m in (a, b, c):
        m.run()
    assert np.array_equal(a.history.actions, b.history.actions)
    assert not np.array_equal(a.history.actions, c.history.actions)

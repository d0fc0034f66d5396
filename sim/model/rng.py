"""Random numbers from a run's seed alone: counter-based SplitMix64 streams.

Every uniform number of a run is a pure function of (seed, stream, round):

    start(seed, stream) = mix(mix(seed) XOR stream)
    u(seed, stream, t)  = (mix(start + t * GAMMA) >> 11) * 2**-53        t = 1, 2, …

``mix`` is the SplitMix64 output function and ``GAMMA`` its golden-ratio
increment (Steele, Lea & Flood 2014, the generator behind Java's
``SplittableRandom``), so for one (seed, stream) the numbers over rounds are
exactly the SplitMix64 sequence started at ``start``; the 53 high bits make a
double in [0, 1). There is no generator object: any engine can compute any
round's number directly, in any order, on any thread.

Streams are named, not numbered: each actor draws from the stream of its own
name (:func:`stream_id`, a 64-bit FNV-1a hash of the name) and the imagery from
the stream ``"imagery"``. So adding Japan to the table, reordering actors or
changing one actor's policy leaves every other actor's numbers untouched —
common random numbers for counterfactuals by construction.

Example:
    >>> s = np.uint64(stream_start(42, np.uint64(stream_id("DPRK"))))  # from Python: keep it unsigned
    >>> u = uniform(s, 1)
    >>> 0.0 <= u < 1.0, u == uniform(s, 1), u != uniform(s, 2)
    (True, True, True)
"""

from __future__ import annotations

import numpy as np

from sim.model.jit import kernel

#: SplitMix64's increment, the odd integer closest to 2**64 / golden ratio.
GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53

#: The stream the imagery (verification) draws from.
IMAGERY = "imagery"


@kernel(inline="always")
def mix(z):
    """SplitMix64's output function: a bijective 64-bit mixer."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel(inline="always")
def stream_start(seed, stream):
    """The SplitMix64 state a (seed, stream) pair starts from."""
    return mix(mix(np.uint64(seed)) ^ np.uint64(stream))


@kernel(inline="always")
def uniform(start, t):
    """The uniform number of round ``t`` (1-based) in the stream starting at ``start``."""
    z = mix(start + np.uint64(t) * GAMMA)
    return np.float64(z >> _S11) * _TO_UNIT


def stream_id(name: str) -> int:
    """The 64-bit FNV-1a hash of a stream's name (an actor key, or ``"imagery"``).

    Example:
        >>> hex(stream_id("a"))
        '0xaf63dc4c8601ec8c'
    """
    h = 0xCBF29CE484222325
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def splitmix64_reference(state: int, n: int) -> list[int]:
    """The first ``n`` outputs of SplitMix64 from ``state``, in plain Python integers.

    An independent re-statement of the published algorithm, for tests.

    Example:
        >>> hex(splitmix64_reference(1234567, 1)[0])  # Rosetta Code's first test value
        '0x599ed017fb08fc85'
    """
    mask = 0xFFFFFFFFFFFFFFFF
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out

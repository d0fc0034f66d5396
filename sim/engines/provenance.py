"""Which code made a result: the package version and a hash of the compiled model sources.

The package version alone cannot tell two models apart (it stayed ``0.1.0`` for
94 commits, six of them edits to the dynamics). Every result therefore records
its **provenance**:

- ``code`` — a hash of the sources whose machine code :mod:`sim.model.jit`
  compiles and caches together (:data:`sim.model.jit.SOURCES`: ``sim/model/**``
  and ``sim/engines/kernels.py``). Any edit to an equation, a policy or a kernel
  changes it; nothing else does. (The compile cache's folder name mixes in the
  numba and Python versions as well; a resume does not need to: the arithmetic
  is the sources'.)
- ``version`` — the package version, for people.

Where it is kept: in every table's Parquet metadata and as a ``code`` column next
to ``version`` in runs tables; in a sweep's ``sweep.json`` and each job's
``blocks.json``; in a search's checkpoint and ``summary.json``.

A **resume across different code is refused** (:func:`check_same_code`): a sweep
or a search resumed after an upgrade would otherwise mix two models in one
table. The refusal is one line naming both hashes; finish the work with the code
that started it, or start again in a new directory.

Example:
    >>> p = provenance()
    >>> sorted(p), len(p["code"])
    (['code', 'version'], 16)
    >>> check_same_code({"version": "0.1.0", "code": "0" * 16}, "hydra.sweep.dir = /x")
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: hydra.sweep.dir = /x was made by code 0000000000000000 (stalemate 0.1.0); this is code ... (stalemate ...): a resume across different code would mix two versions of the model in one table; finish it with the code that started it, or choose another directory
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from sim.model.validation import ConfigError

#: The package's folder (``sim/``): sources are hashed with their paths inside it, so
#: every copy of the same sources has the same hash.
PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_hash() -> str:
    """16 hex digits of SHA-256 over the compiled sources, each with its path in the package,
    and what the compiled code reads from outside them (:func:`sim.model.jit.outside_sources`)."""
    from sim.model.jit import SOURCES, outside_sources

    h = hashlib.sha256()
    for path in SOURCES:
        if path.exists():
            h.update(str(path.relative_to(PACKAGE)).encode())
            h.update(path.read_bytes())
    h.update(outside_sources())
    return h.hexdigest()[:16]


def provenance() -> dict[str, str]:
    """``{"version": …, "code": …}`` of the code running now."""
    import sim

    return {"version": sim.__version__, "code": code_hash()}


def describe(p: dict | None) -> str:
    """``code 1a2b… (stalemate 0.1.0)``, or what is known of a record without a hash."""
    if not isinstance(p, dict) or not p.get("code"):
        version = f"stalemate {p['version']}, " if isinstance(p, dict) and p.get("version") else ""
        return f"unknown code ({version}made before results recorded the code's hash)"
    return f"code {p['code']} (stalemate {p.get('version', '?')})"


def check_same_code(saved: dict | None, where: str) -> None:
    """Refuse to resume work that other code started.

    Args:
        saved: the provenance the work recorded (None if it recorded none).
        where: what holds it, e.g. ``hydra.sweep.dir = results/sweeps/x``.

    Raises:
        ConfigError: one line naming both hashes and what to do.
    """
    now = provenance()
    if isinstance(saved, dict) and saved.get("code") == now["code"]:
        return
    raise ConfigError(
        f"{where} was made by {describe(saved)}; this is {describe(now)}: a resume across "
        "different code would mix two versions of the model in one table; finish it with the "
        "code that started it, or choose another directory"
    )

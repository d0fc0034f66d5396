"""Compiling the mathematics once: ``@kernel`` is numba's ``njit`` with a cache that cannot go stale.

Every equation of the model is a plain Python function of one run (scalars and
small per-actor arrays) decorated with :func:`kernel`. numba compiles it to
machine code on first use and caches the result on disk, so the cost is paid
once per machine, not on every command.

numba's own cache checks only the source file of each function, not the files
of the functions it calls (numba issue #6845): after an edit to
``decisions.py``, a cached kernel in ``dynamics.py`` would keep the old
equation. Here the cache directory is keyed by a hash of *every* source file of
the compiled layers (``sim/model/**`` and ``sim/engines/kernels.py``) and of the
numba and Python versions, so any edit anywhere recompiles everything, once.

The directory is ``$STALEMATE_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/stalemate/numba/<hash>`` (``~/.cache/...``), falling back to
the system's temporary directory when that is not writable.

Inside it, files are laid out by their path *within the package*
(:class:`PackageCacheLocator`), not by where the package sits on disk as
numba's locators do: a second checkout, a fresh clone or an installed wheel
with the same sources finds the kernels already compiled instead of spending
about half a minute compiling them again. Folders of other sources that no
process has used for 30 days are removed (:func:`prune`).

Example:
    >>> from sim.model.jit import kernel
    >>> @kernel
    ... def twice(x):
    ...     return 2.0 * x
    >>> twice(1.5)
    3.0
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numba
from numba.core.caching import CacheImpl, _CacheLocator, _SourceFileBackedLocatorMixin
from numba.core.errors import NumbaExperimentalFeatureWarning

_HERE = Path(__file__).resolve().parent
#: The source files whose machine code is cached together.
SOURCES = sorted([*_HERE.rglob("*.py"), _HERE.parent / "engines" / "kernels.py"])


def outside_sources() -> bytes:
    """What the compiled code depends on besides the package's sources: any rows appended
    to the action table (``$STALEMATE_EXTRA_ACTIONS``) and the plug-in rules
    (:func:`sim.model.policies.plugin_sources`). The kernels size their arrays by
    what they are given, but what is read from outside the sources must not share their
    machine code, nor their ``code`` hash (:func:`sim.engines.provenance.code_hash`)."""
    from sim.model.names import ACTION_TABLE, CORE_ACTIONS
    from sim.model.policies import plugin_sources

    extra = ACTION_TABLE[len(CORE_ACTIONS) :]
    return (repr(extra).encode() if extra else b"") + plugin_sources()


def source_hash() -> str:
    """A hash of the compiled layers' sources (and :func:`outside_sources`) and of the
    numba and Python versions."""
    h = hashlib.sha256()
    h.update(f"numba {numba.__version__} python {sys.version}".encode())
    for path in SOURCES:
        if path.exists():
            h.update(str(path.relative_to(_HERE.parent)).encode())
            h.update(path.read_bytes())
    h.update(outside_sources())
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_dir() -> Path:
    """Where compiled kernels are cached (created if needed)."""
    env = os.environ.get("STALEMATE_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(xdg) / "stalemate" / "numba"
    path = base / source_hash()
    if not _writable(path):
        path = Path(tempfile.gettempdir()) / f"stalemate-numba-{os.getuid()}" / source_hash()
        path.mkdir(parents=True, exist_ok=True)
    prune(path)
    return path


#: A cache folder of other sources that no process has used for this long is removed.
STALE_DAYS = 30


def prune(current: Path, days: float = STALE_DAYS) -> list[Path]:
    """Mark ``current`` as used now and remove its siblings (the caches of other
    versions of the sources, named by their hash) unused for ``days``; return them.

    Every edit of a compiled source starts a new folder of about 2 MB; without this
    they pile up. Only folders named like a source hash are touched.
    """
    removed = []
    try:
        os.utime(current)
        cutoff = time.time() - days * 86400
        for old in current.parent.iterdir():
            name = old.name
            if old == current or len(name) != 16 or not all(c in _HEX for c in name):
                continue
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old)
    except OSError:
        pass  # a cache we cannot tidy still works
    return removed


_HEX = frozenset("0123456789abcdef")


CACHE_DIR = str(cache_dir())


class PackageCacheLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """numba's cache locator for this package's source files: the cache path is
    :data:`CACHE_DIR` plus the file's folder *inside the package* (``model``,
    ``model/policies``, ``engines``), so it is the same for every copy of the same
    sources. numba's own locators add a hash of the absolute folder, so every new
    checkout recompiled. The source stamp is numba's (a hash of the file's content),
    and :data:`CACHE_DIR` is keyed by every compiled source, so nothing goes stale.
    Files outside the package (a user's own policy) keep numba's locators.
    """

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        inside = Path(py_file).resolve().parent.relative_to(_HERE.parent)
        self._cache_path = os.path.join(CACHE_DIR, "_".join(inside.parts) or "sim")

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            Path(py_file).resolve().relative_to(_HERE.parent)
        except ValueError:
            return None  # not one of ours
        return super().from_function(py_func, py_file)


# numba asks each locator class in turn (numba.core.caching.CacheImpl); ours goes first.
if PackageCacheLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, PackageCacheLocator)


def _blas_found_without_importing_it() -> None:
    """Let numba's first kernel load tell whether BLAS is there without importing SciPy's
    linear algebra (about 0.3 s of a command's start, for kernels that use none of it).

    Loading the first kernel (from the cache, or compiling it) imports
    ``numba.np.arraymath``, which asks ``numba.np.linalg.ensure_blas()`` once whether
    ``np.dot`` may call BLAS: that imports ``scipy.linalg.cython_blas``, and with it the
    whole of ``scipy.linalg`` (and, through SciPy's array-API layer, ``numpy.f2py`` and
    ``numpy.testing``). For that one question the extension module's file being there is
    the same answer. Only that first call is answered so; it puts numba's own function
    back, so compiling code that does use BLAS checks it, and imports it, as before.
    Nothing compiled changes (the answer is the same). Left alone if ``arraymath`` is
    already imported or numba's names are not the ones expected (another numba).
    """
    import importlib.util
    from importlib.machinery import EXTENSION_SUFFIXES

    if "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg
    except ImportError:  # pragma: no cover - another numba
        return
    original = getattr(linalg, "ensure_blas", None)
    if original is None or getattr(original, "_stalemate", False):
        return

    def ensure_blas():
        linalg.ensure_blas = original  # from now on numba's own
        if "scipy.linalg.cython_blas" not in sys.modules:
            spec = importlib.util.find_spec("scipy")  # imported by numba already
            for folder in (spec.submodule_search_locations or []) if spec else []:
                linalg_dir = Path(folder) / "linalg"
                if any((linalg_dir / f"cython_blas{s}").is_file() for s in EXTENSION_SUFFIXES):
                    return
        return original()

    ensure_blas._stalemate = True  # type: ignore[attr-defined]
    linalg.ensure_blas = ensure_blas


_blas_found_without_importing_it()

# literal_unroll over the tuple of registered policies is numba's "first-class
# function" feature; it has worked since numba 0.49 and is what the registry needs.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)


def kernel(fn=None, *, nrt: bool = False, **options):
    """``numba.njit(cache=True)`` with this package's cache directory.

    Use bare (``@kernel``) or with numba options (``@kernel(inline="always")``).
    Floating-point semantics are numba's defaults (no fastmath), so results do
    not depend on the number of threads or on the engine.

    Kernels are compiled **without numba's reference counting** (``nrt=False``):
    the model's functions only read and write arrays they are handed and never
    allocate, and numba cannot remove the atomic reference-count updates it
    otherwise places around array arguments in branching code (numba issues
    #2345 and #2350). Those updates cost more than the arithmetic and contend
    between threads on shared parameter arrays. A kernel that allocates (the
    batch loop) asks for ``nrt=True``.
    """
    if not nrt:
        options["_nrt"] = False

    def wrap(f):
        if not Path(f.__code__.co_filename).is_file():  # typed at a prompt or in a doctest
            return numba.njit(**options)(f)
        previous = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = CACHE_DIR  # read when the dispatcher is created
        try:
            return numba.njit(cache=True, **options)(f)
        finally:
            numba.config.CACHE_DIR = previous

    return wrap(fn) if fn is not None else wrap

"""A command's output directory, built under its lock and published complete.

:func:`staged` joins the partial directory of :mod:`sim.report.staging` (where the
files are built, beside the target) and the lock of :mod:`sim.hydra.lock` (one
process per directory): it takes the lock on the partial directory, yields it, and
on success renames it to the target and drops the lock file, so the published
directory holds only results. ``stalemate`` (a single run) and ``stalemate-search``
write through it.

Example:
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "run"
    >>> with staged(target, "run") as work:
    ...     _ = (work / "a.csv").write_text("1")
    ...     target.exists()
    False
    >>> sorted(p.name for p in target.iterdir())
    ['a.csv']
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

from sim.hydra.lock import LOCK_FILE, DirLock
from sim.report.io import failpoint, remove_leftovers
from sim.report.staging import partial_dir, publish

#: What a fresh start keeps in a partial directory: Hydra's record of this very command
#: (written before the app runs), its open job log, and the lock.
KEEP = (".hydra", "*.log", LOCK_FILE)


@contextmanager
def staged(
    target: str | os.PathLike,
    what: str,
    command: str | None = None,
    fresh: bool = True,
    replace: bool = False,
    notes=None,
) -> Iterator[Path]:
    """Build ``target`` in its partial directory under a lock; publish it on success.

    Args:
        target: the directory the results go to (absent or empty; with ``replace``, a
            previous result is replaced whole).
        what: what runs there, for the lock's messages (``run``, ``search``).
        command: the command line recorded in the lock (default: this process's).
        fresh: clear what a killed predecessor left in the partial directory (but
            :data:`KEEP`); a resumable command (a search) passes False and keeps it.
        replace: a non-empty ``target`` is replaced (renamed away, then removed) rather
            than refused.
        notes: where to say that a killed predecessor's lock was found (a callable).

    Raises:
        sim.hydra.lock.LockBusy: another process holds the directory.
        sim.report.staging.NotEmpty: ``target`` gained files meanwhile (no ``replace``).
    """
    target = Path(os.path.abspath(target))
    work = partial_dir(target)
    lock = DirLock(work, what, command)
    lock.acquire()
    try:
        if lock.stale_note() and notes is not None:
            notes(lock.stale_note())
        shutil.rmtree(replaced_dir(target), ignore_errors=True)  # a swap killed half-way
        if fresh:
            for p in work.iterdir():
                if not any(fnmatch(p.name, k) for k in KEEP):
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        else:
            remove_leftovers(work)
        failpoint(f"{what}.locked")
        yield work
        failpoint("publish")  # everything written, nothing visible yet
        if replace and target.is_dir() and any(target.iterdir()):
            old = replaced_dir(target)
            os.rename(target, old)  # the previous result leaves whole ...
            failpoint("publish.swap")
            publish(work, target)  # ... and the new one arrives whole
            shutil.rmtree(old, ignore_errors=True)
        else:
            publish(work, target)
        (target / LOCK_FILE).unlink(missing_ok=True)  # the published directory holds results
    finally:
        lock.release()


def replaced_dir(target: Path) -> Path:
    """Where a previous result waits while a new one takes its place."""
    return target.parent / f".{target.name}.replaced"

"""One sweep per directory at a time: an advisory lock that dies with its holder.

A sweep holds ``DIR/.stalemate.lock`` for as long as it runs, and each job holds
the lock of its own job directory. The lock is ``fcntl.flock`` on that file:

- the kernel releases it when the holder exits, however it exits (a crash, a
  ``kill -9``, an out-of-memory kill), so a lock can never outlive its sweep —
  the "stale lock after a crash" case is recognised, reported, and the re-run
  proceeds;
- the file records who holds it (host, process id, start time, command), so a
  second sweep into a busy directory is refused with a message naming the first;
- on Linux, ``flock`` also works across the machines of an NFS mount (since
  kernel 2.6.12 it is carried as a POSIX lock), which is how a SLURM cluster's
  shared filesystem usually comes.

Why not the ``filelock`` package: on POSIX it is the same ``flock`` call, but it
truncates the lock file on every attempt, so the record of the holder would need a
second file and a second race; the standard library is enough here.

Example:
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with DirLock(d, "sweep") as lock:
    ...     DirLock(d, "sweep").acquire()
    Traceback (most recent call last):
    ...
    sim.hydra.lock.LockBusy: ... is busy: a sweep is running there (pid ...
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from pathlib import Path

try:  # POSIX (Linux, macOS): every platform the sweeps and clusters run on
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # the module or None, checked where used

#: The lock file's name inside the locked directory.
LOCK_FILE = ".stalemate.lock"


class LockBusy(RuntimeError):
    """The directory is locked by a live process (named in the message)."""


def _describe(owner: dict) -> str:
    if not owner:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.get("started", 0)))
    return (
        f"pid {owner.get('pid')} on {owner.get('host')} since {since}: {owner.get('command', '')}"
    )


class DirLock:
    """An advisory, non-blocking lock on a directory (created if missing).

    Attributes:
        stale: the record a previous holder left when it died without releasing
            the lock (killed), or None; set by :meth:`acquire`.
    """

    def __init__(
        self, directory: str | os.PathLike, what: str = "sweep", command: str | None = None
    ):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self.what = what
        self.command = command  # recorded for others to see (default: this process's argv)
        self.stale: dict | None = None
        self._fd: int | None = None

    def acquire(self) -> DirLock:
        """Take the lock or raise :class:`LockBusy`.

        Raises:
            LockBusy: another live process holds it.
            OSError: the directory cannot be created or the file opened.
        """
        if fcntl is None:  # pragma: no cover - no advisory locks on this platform
            print(
                f"stalemate: warning: no file locks on this platform; make sure nothing else "
                f"writes into {self.directory}",
                file=sys.stderr,
            )
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = self._busy(fd)
            os.close(fd)
            raise busy from None
        except OSError as err:  # e.g. a filesystem without locks (ENOLCK, EOPNOTSUPP)
            os.close(fd)
            print(
                f"stalemate: warning: cannot lock {self.directory} ({err.strerror}); make sure "
                f"no other {self.what} writes there",
                file=sys.stderr,
            )
            return self
        previous = _read(fd)
        self.stale = previous or None  # a clean release empties the file
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "command": self.command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return self

    def _busy(self, fd: int) -> LockBusy:
        """The error for a lock held by another process (named from its record in ``fd``)."""
        owner = _describe(_read(fd))
        return LockBusy(f"{self.directory} is busy: a {self.what} is running there ({owner})")

    def check(self) -> None:
        """Raise :class:`LockBusy` if a live process holds the lock, touching nothing:
        the lock file is only opened for reading (if it is there) and never written, so a
        command can refuse for other reasons first and leave the directory as it was.

        Raises:
            LockBusy: another live process holds it.
        """
        if fcntl is None or not self.path.exists():
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return  # acquire() will say what is wrong
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._busy(fd) from None
        except OSError:
            return
        finally:
            os.close(fd)  # closing drops the probe's own lock, if it got one

    def release(self) -> None:
        """Release the lock and empty the record (a clean end)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:  # pragma: no cover - e.g. a full or vanished filesystem
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def stale_note(self) -> str | None:
        """One line about a lock a killed holder left behind, or None."""
        if not self.stale:
            return None
        return (
            f"the previous {self.what} in {self.directory} ({_describe(self.stale)}) ended "
            "without releasing its lock (it was killed or crashed); it is not running: resuming"
        )

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read(fd: int) -> dict:
    try:
        data = os.pread(fd, 65536, 0)
        return json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {}

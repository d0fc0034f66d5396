"""Results that are complete or absent: a command that writes several files builds them in
a hidden partial directory beside the target and renames it into place once everything
is written.

One file at a time is already safe (:func:`sim.report.io.atomic_path`), but a set of
files is not: a kill between two of them leaves a complete-looking ``summary.json``
without the table it summarises. So the set is built in ``.<name>.partial`` next to
the target directory (the same filesystem, so the final rename is atomic), which
also holds the work's lock and, for a resumable command, its checkpoint; then
:func:`publish` renames it to the target. Readers see the target absent (or empty)
until it is complete.

A killed command leaves its partial directory; running the same command with the
same target resumes there (the partial directory is found by the target's name).

Example:
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "run"
    >>> part = partial_dir(target)
    >>> part.name, status(target)
    ('.run.partial', 'absent')
    >>> part.mkdir(); _ = (part / "a.csv").write_text("1"); _ = (part / "b.csv").write_text("2")
    >>> _ = publish(part, target); sorted(p.name for p in target.iterdir()), part.exists()
    (['a.csv', 'b.csv'], False)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

#: What a partial directory's name adds to its target's.
SUFFIX = ".partial"


def partial_dir(target: str | os.PathLike) -> Path:
    """Where the files for ``target`` are built: ``<parent>/.<name>.partial``."""
    target = Path(os.path.abspath(target))
    return target.parent / f".{target.name}{SUFFIX}"


def status(target: str | os.PathLike, marker: str | None = None) -> str:
    """``absent``, ``empty``, ``file`` (not a directory), ``complete`` (holds ``marker``)
    or ``other`` (a directory holding something else)."""
    target = Path(target)
    if not target.exists():
        return "absent"
    if not target.is_dir():
        return "file"
    if marker is not None and (target / marker).exists():
        return "complete"
    return "other" if any(target.iterdir()) else "empty"


class NotEmpty(OSError):
    """The target directory gained files while the partial one was being built."""


def publish(partial: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Rename the finished ``partial`` directory to ``target`` (absent or empty): one atomic
    step, so readers see all of it or none of it.

    Raises:
        NotEmpty: ``target`` holds files (nothing is moved; the partial directory is kept).
    """
    partial, target = Path(partial), Path(target)
    try:
        os.rename(partial, target)  # replaces an empty directory; refuses a non-empty one
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise NotEmpty(
                errno.ENOTEMPTY,
                f"{target} holds files that were not there when the work started; the "
                f"results are complete in {partial}",
                str(target),
            ) from None
        raise
    return target

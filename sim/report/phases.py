"""A phase timer for the console commands: where a command's seconds go.

Off unless ``STALEMATE_PHASES`` names a file; then every :func:`mark` appends one
JSON line to it at exit — the phase's name, its wall and CPU seconds since the
previous mark, and the process id (a sweep's workers append their own lines)::

    STALEMATE_PHASES=/tmp/phases.jsonl stalemate seeds=1
    python experiments/benchmark_commands.py     # sets it and prints the table

With ``STALEMATE_PHASES_T0`` (a ``time.time()`` taken just before the command was
started), the first phase ``start`` covers the interpreter's start and every
import before the first mark. Off, a mark costs one dictionary lookup: this module
imports nothing beyond the standard library, so every command can use it.

Example:
    >>> mark("imports")  # off: nothing recorded
    >>> enabled()
    False
"""

from __future__ import annotations

import json
import os
import time

_PATH = os.environ.get("STALEMATE_PHASES")
_rows: list[dict] = []
_last = [time.perf_counter(), time.process_time()]
_started: list[bool] = []


def enabled() -> bool:
    """True when phases are recorded (``STALEMATE_PHASES`` is set)."""
    return bool(_PATH)


def mark(name: str, **extra) -> None:
    """End the phase ``name`` now: record the wall and CPU seconds since the last mark."""
    if not _PATH:
        return
    now, cpu = time.perf_counter(), time.process_time()
    if not _started:
        _start()
    _rows.append(
        {"phase": name, "wall": now - _last[0], "cpu": cpu - _last[1], "pid": os.getpid(), **extra}
    )
    _last[0], _last[1] = now, cpu


def record(name: str, wall: float, **extra) -> None:
    """Record a phase measured elsewhere (a worker's figure, a background write)."""
    if _PATH:
        if not _started:
            _start()
        _rows.append({"phase": name, "wall": wall, "pid": os.getpid(), **extra})


def _start() -> None:
    """The phase before the first mark: interpreter start-up and the first imports."""
    import atexit

    _started.append(True)
    t0 = os.environ.get("STALEMATE_PHASES_T0")
    if t0:
        since = time.time() - float(t0) - (time.perf_counter() - _last[0])
        _rows.append({"phase": "start", "wall": since, "cpu": _last[1], "pid": os.getpid()})
    atexit.register(_write)


def forked() -> None:
    """In a child just forked: forget the parent's phases, time from now."""
    _rows.clear()
    _last[0], _last[1] = time.perf_counter(), time.process_time()


def flush() -> None:
    """Write the phases recorded so far now (a process about to leave by ``os._exit``)."""
    if _PATH:
        _write()
        _rows.clear()


def _write() -> None:
    if not _rows or _PATH is None:
        return
    try:
        with open(_PATH, "a") as f:
            f.writelines(json.dumps(r) + "\n" for r in _rows)
    except OSError:
        pass  # a timer never fails a command

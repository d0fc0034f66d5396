"""Figures drawn by a helper process while the command goes on, none of them lost.

Importing matplotlib and drawing a figure take longer than simulating a few hundred
runs. A :class:`FigureWorker` starts a second Python process at once
(``python -m sim.report.drawing``) that imports it while this one composes and
simulates; when the data are ready, :meth:`FigureWorker.draw` hands it each
figure to draw — a plotting function of :mod:`sim.report.plots` by name, its
arguments (numpy arrays, :class:`sim.report.fans.Columns`, DataFrames; Arrow tables
become DataFrames there) and the file to write — and the worker draws them, each in
a process of its own when the machine has the cores.
:meth:`FigureWorker.finish` waits for it and draws *here* every figure the worker
did not report as written (it failed, was killed, could not start): a figure can
be late, never lost. Files are written atomically (:func:`sim.report.io.save_figure`).

The helper costs the CPU of its own start (Python, numpy, matplotlib: about 0.6 s) and
pays on a second core: a single run always uses it (neither process then imports
pandas, nor its own matplotlib); a sweep, which needs pandas for its summary anyway,
uses it only when a core is idle (:func:`idle_core`) and otherwise draws in its own
process, one figure after the other. The figures are the same either way.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> w = FigureWorker()
    >>> w.draw([Figure("plot_survival", d / "s.png",
    ...     ({"a": {"round": [0, 1], "talking": [1, 0.5], "agreement": [0, 0.5], "breakdown": [0, 0]}},))])
    >>> [p.name for p in w.finish()]
    ['s.png']
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Set in the worker's environment: a worker never starts a worker of its own.
_IN_WORKER = "STALEMATE_FIGURE_WORKER"


@dataclass
class Figure:
    """One figure to draw: ``getattr(sim.report.plots, plot)(*args, **kwargs)`` saved to
    ``path``. Arrow tables among the arguments are turned into DataFrames with the
    result tables' categories (:func:`sim.engines.tables.to_pandas`) before the call."""

    plot: str
    path: Path
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    dpi: int = 110


@dataclass
class Prepare:
    """Work a worker may do before a figure's data come: ``getattr(sim.report.plots,
    plot)(*args)`` (e.g. :func:`sim.report.plots.prepare_trajectories`), while it waits."""

    plot: str
    args: tuple = ()


def render(fig: Figure) -> Path:
    """Draw and save one figure in this process; return its path."""
    from sim.report import plots

    args = [_frame(a) for a in fig.args]
    kwargs = {k: _frame(v) for k, v in fig.kwargs.items()}
    drawn = getattr(plots, fig.plot)(*args, **kwargs)
    try:  # onto the frame rendered before the data, where there is one (plots.save)
        return plots.save(drawn, fig.path, dpi=fig.dpi)
    finally:
        plots.close(drawn)


def _frame(value):
    """An Arrow table as the DataFrame the plotting functions take; anything else as is."""
    if type(value).__module__.startswith("pyarrow") and hasattr(value, "to_pandas"):
        from sim.engines.tables import to_pandas

        return to_pandas(value)
    return value


class FigureWorker:
    """A helper process that draws figures (see the module's description).

    Args:
        start: start the process now (False: every figure is drawn in :meth:`finish`).
    """

    def __init__(self, start: bool = True) -> None:
        self.figures: list[Figure] = []
        self.proc: subprocess.Popen | None = None
        self.seconds: dict[str, float] = {}
        self._sending: threading.Thread | None = None
        if start and not os.environ.get(_IN_WORKER):
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "sim.report.drawing"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=_worker_env(),
                )
            except OSError:
                self.proc = None  # drawn here in finish()

    @classmethod
    def prestart(cls) -> None:
        """Start a worker now, for the next :meth:`take` in this process (a command that
        knows early it will draw: its imports overlap more of the command's work)."""
        global _prestarted
        if _prestarted is None:
            _prestarted = cls()

    @classmethod
    def take(cls, start: bool = True) -> FigureWorker:
        """The worker :meth:`prestart` started, or a new one (started if ``start``)."""
        global _prestarted
        worker, _prestarted = _prestarted, None
        return worker or cls(start=start)

    def prepare(self, work: Prepare) -> None:
        """Hand the worker work to do while it waits for the figures' data (call before
        :meth:`draw`). Only a head start: the figures are the same without it."""
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL))
            self.proc.stdin.flush()
        except (OSError, ValueError, pickle.PicklingError, TypeError, AttributeError):
            pass  # the worker is gone or the work cannot travel: finish() still draws

    def draw(self, figures: list[Figure]) -> None:
        """Hand the worker these figures (call once, as soon as their data are ready).

        Returns at once: the data are written by a thread, as the worker reads them
        (it may still be importing), while this process goes on.
        """
        self.figures += figures
        if self.proc is None:
            return
        try:
            data = pickle.dumps(figures, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            self._stop()  # drawn here in finish()
            return
        stdin = self.proc.stdin
        self.proc.stdin = None

        def send():
            try:
                stdin.write(data)
                stdin.close()
            except (OSError, ValueError):
                pass  # the worker is gone: finish() draws here what it did not report

        self._sending = threading.Thread(target=send, name="figure-data", daemon=True)
        self._sending.start()

    def finish(self) -> list[Path]:
        """Wait for the worker; draw here every figure it did not report written (a
        figure is reported once its file is in place). Returns the figures' paths."""
        done: set[str] = set()
        if self.proc is not None:
            try:
                self._close_stdin()  # a worker given nothing ends when its input does
                out, _ = self.proc.communicate()
                if self._sending is not None:
                    self._sending.join()
                for line in out.decode(errors="replace").splitlines():
                    kind, _, rest = line.partition(" ")
                    if kind == "ok":
                        seconds, _, path = rest.partition(" ")
                        done.add(path)
                        self.seconds[path] = float(seconds)
            except OSError:
                done.clear()
        paths = []
        for fig in self.figures:
            path = str(fig.path)
            if path not in done or not Path(path).exists():
                t0 = time.perf_counter()
                render(fig)
                self.seconds[path] = time.perf_counter() - t0
            paths.append(Path(path))
        return paths

    def _close_stdin(self) -> None:
        assert self.proc is not None
        stdin, self.proc.stdin = self.proc.stdin, None
        if stdin is not None:
            stdin.close()

    def _stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:  # the command failed: no figures to wait for
            self._stop()


def idle_core(loadavg: str = "/proc/loadavg", looks: int = 3) -> bool:
    """Whether this machine has a core to spare now: besides this thread, fewer threads are
    runnable than the cores less one — the fewest of ``looks`` readings 5 ms apart of
    ``/proc/loadavg``'s fourth field (one reading may catch a kernel thread's moment).
    Elsewhere, the 1-minute load average is below the cores less one (this process).
    A helper drawing on a busy machine only adds the CPU of its own imports.

    Not the load average where the instant count is known: it trails by minutes, so a
    command run just after another (a benchmark, a user iterating) read a busy machine
    from the one before it, and drew the map's figures one after the other in its own
    process (1.2 s instead of 0.6 s beside it)."""
    cores = os.cpu_count() or 1
    try:
        runnable = []
        for k in range(looks):
            if k:
                time.sleep(0.005)
            with open(loadavg) as f:
                runnable.append(int(f.read().split()[3].partition("/")[0]))
        return min(runnable) - 1 < cores - 1
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0] < cores - 1
    except OSError:  # pragma: no cover - no load average here
        return True


_prestarted: FigureWorker | None = None
_reading = False  # the worker has begun to read its input


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "STALEMATE_PHASES_T0"}
    return {**env, _IN_WORKER: "1"}


def _serve() -> int:
    """The worker: import what drawing needs, read the figures, draw each (in parallel
    where there are cores), print ``ok SECONDS PATH`` for each one written."""
    from sim.report import phases

    phases.mark("figure worker: start")
    _leave_on_eof()  # the command may end (a refusal) before it has anything to draw
    import matplotlib

    matplotlib.use("Agg")
    import sim.report.plots  # noqa: F401 - matplotlib, imported while we wait (not pandas:
    # a figure's data arrive as numpy arrays, or as DataFrames that import it when unpickled)

    phases.mark("figure worker: imports")
    global _reading
    _reading = True  # from here on the input is ours to read (and may be read to its end)
    while True:
        try:
            message = pickle.load(sys.stdin.buffer)
        except EOFError:
            return 0  # nothing to draw (the command ended first)
        if not isinstance(message, Prepare):
            figures = message
            break
        phases.mark("figure worker: wait for data")
        try:  # a head start only: a figure is drawn the same without it
            from sim.report import plots

            getattr(plots, message.plot)(*message.args)
        except Exception:  # noqa: BLE001 - the figure is drawn from scratch then
            pass
        phases.mark(f"figure worker: {message.plot}")
    phases.mark("figure worker: wait for data")
    children = {}
    parallel = len(figures) > 1 and hasattr(os, "fork") and (os.cpu_count() or 1) > 1
    if parallel:  # a child's garbage collections would copy every page it shares with us
        import gc

        gc.freeze()
    for fig in figures:
        if parallel and fig is not figures[-1]:
            pid = os.fork()
            if pid == 0:  # the child draws one figure and leaves at once
                phases.forked()
                code = _draw_one(fig)
                sys.stdout.flush()
                phases.flush()
                os._exit(code)
            children[pid] = fig
        else:
            if _draw_one(fig):
                return 1
    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        failed |= status != 0
    return 1 if failed else 0


def _leave_on_eof() -> None:
    """Watch standard input while the imports run: if it ends with nothing written (the
    command ended first, e.g. refused), leave at once instead of finishing the imports."""
    import select

    fd = sys.stdin.fileno()

    def watch():
        try:
            select.select([fd], [], [])
            import fcntl
            import struct
            import termios

            waiting = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (OSError, ValueError, ImportError):
            return  # cannot tell: read it as usual
        if waiting == 0 and not _reading:  # end of input, nothing in it, nobody reading
            os._exit(0)

    threading.Thread(target=watch, name="stdin-eof", daemon=True).start()


def _draw_one(fig: Figure) -> int:
    from sim.report import phases

    t0 = time.perf_counter()
    try:
        render(fig)
    except Exception as err:  # noqa: BLE001 - reported; the command draws it again
        print(f"error {fig.path}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    phases.mark(f"figure worker: {Path(fig.path).name}")
    print(f"ok {time.perf_counter() - t0:.3f} {fig.path}", flush=True)
    return 0


if __name__ == "__main__":  # run as the module itself, whose classes the figures pickle
    from sim.report import drawing

    sys.exit(drawing._serve())

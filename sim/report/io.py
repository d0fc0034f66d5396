"""Writing results: every file is written to a temporary name, then renamed.

A crash or kill never leaves a half-written result file: readers see either the
previous file or the complete new one. Temporaries are named ``.<name>.*.tmp``
beside their target; :func:`remove_leftovers` clears those a killed process left.
Every table carries its run's metadata (config, seeds, package version) in the
Parquet file's key-value metadata (:func:`read_metadata`).

:func:`failpoint` marks the moments a crash would hurt most (between a file's
last byte and its rename, between two blocks, during a merge); the robustness
tests (``tests/test_faults.py``) kill the process or fail a write there, by name,
through the ``STALEMATE_FAILPOINTS`` environment variable. Unset, it costs one
dictionary lookup.

Example:
    >>> import tempfile, pandas as pd
    >>> d = Path(tempfile.mkdtemp())
    >>> p = write_parquet(pd.DataFrame({"a": [1, 2]}), d / "t.parquet", {"seed": 0})
    >>> read_metadata(p), file_digest(p)["rows"]
    ({'seed': 0}, 2)
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import json
import os
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

_META_KEY = b"stalemate"
#: The environment variable naming the failpoints to trigger (see :func:`failpoint`).
FAILPOINTS_ENV = "STALEMATE_FAILPOINTS"
_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Crash here if the test harness asked for it (a no-op otherwise).

    ``STALEMATE_FAILPOINTS`` holds comma-separated ``pattern[@n][=action]`` items:
    at the ``n``-th time (default 1) a failpoint whose name matches ``pattern``
    (shell-style) is reached in this process, ``action`` happens — ``kill``
    (SIGKILL, the default: nothing is cleaned up, as after a power cut or an OOM
    kill), ``enospc`` (an ``OSError`` "No space left on device"), ``error``
    (a ``RuntimeError``) or ``sleep`` (ten minutes: a job that is still running).

    Example:
        >>> os.environ[FAILPOINTS_ENV] = "demo.*@2=error"
        >>> failpoint("demo.step")
        >>> failpoint("demo.step")
        Traceback (most recent call last):
        ...
        RuntimeError: failpoint demo.step
        >>> del os.environ[FAILPOINTS_ENV]
    """
    spec = os.environ.get(FAILPOINTS_ENV)
    if not spec:
        return
    for item in spec.split(","):
        pattern, _, action = item.strip().partition("=")
        pattern, _, nth = pattern.partition("@")
        if not pattern or not fnmatch.fnmatchcase(name, pattern):
            continue
        key = f"{pattern}@{nth}"
        _hits[key] = _hits.get(key, 0) + 1
        if _hits[key] != int(nth or 1):
            continue
        action = action or "kill"
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "sleep":
            time.sleep(600)
            return
        if action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
        raise RuntimeError(f"failpoint {name}")


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are for colleagues too
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:  # on disk before the rename makes it visible
            os.fsync(f.fileno())
        failpoint(f"write:{path.name}")  # the file is complete but not yet visible
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_leftovers(directory: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Delete the ``.<name>.*.tmp`` files a killed writer left in ``directory`` (and
    below, if ``recursive``); return them. Call it only while no other process can be
    writing there (a sweep holds the directory's lock, a job its own)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = sorted((directory.rglob if recursive else directory.glob)(".*.tmp"))
    for p in found:
        if p.is_file():
            p.unlink(missing_ok=True)
    return found


def _encode(metadata: dict) -> bytes:
    return json.dumps(metadata, default=str).encode()


def dictionary_columns(schema) -> list[str]:
    """The columns worth Parquet's dictionary encoding: labels (Arrow dictionaries and
    strings). Numbers are written plainly and compressed: dictionary-encoding them
    (pyarrow's default for every column) took half the time of writing trajectories
    and gained under a tenth of the file size.

    Example:
        >>> import pyarrow as pa
        >>> t = pa.table({"run_id": [0], "actor": pa.array(["USA"]).dictionary_encode(),
        ...               "outcome": ["agreement"], "tension": [0.5]})
        >>> dictionary_columns(t.schema)
        ['actor', 'outcome']
    """
    import pyarrow as pa

    def label(t) -> bool:
        return pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)

    return [f.name for f in schema if label(f.type)]


def write_parquet(df, path, metadata: dict | None = None) -> Path:
    """Write a DataFrame or Arrow table to Parquet atomically; ``metadata`` goes into the
    file's key-value metadata (read it back with :func:`read_metadata`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = _encode(metadata)
        table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, use_dictionary=dictionary_columns(table.schema))
    return Path(path)


class ParquetStream:
    """A Parquet file written chunk by chunk, visible under its name only when complete.

    With ``background=True`` each chunk is written by a thread of the stream's own
    while the caller goes on (pyarrow releases the GIL as it encodes): the next
    chunk is simulated while this one is written. Chunks are written in order, at
    most one waits while another is written (memory stays bounded), and an error
    in the writer is raised by the next :meth:`write` or on leaving the block, so
    nothing is renamed into place unless every chunk was written.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> d = Path(tempfile.mkdtemp())
        >>> with ParquetStream(d / "s.parquet") as s:
        ...     s.write(pa.table({"a": [1]})); s.write(pa.table({"a": [2]}))
        ...     s.metadata = {"rows": 2}
        >>> import pandas as pd
        >>> pd.read_parquet(d / "s.parquet")["a"].tolist(), read_metadata(d / "s.parquet")
        ([1, 2], {'rows': 2})
    """

    def __init__(self, path, metadata: dict | None = None, background: bool = False):
        self.path = Path(path)
        self.metadata = dict(metadata or {})
        self.rows = 0
        self._writer = None
        self._ctx = atomic_path(self.path)
        self._tmp = None
        self._pool = None
        self._pending = None  # the chunk being written in the background (a Future)
        if background:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"write-{self.path.name}")

    def __enter__(self) -> ParquetStream:
        self._tmp = self._ctx.__enter__()
        return self

    def write(self, table) -> None:
        """Append a chunk (an Arrow table; every chunk has the same columns)."""
        self.rows += table.num_rows
        if self._pool is None:
            self._write(table)
            return
        self._wait()  # the previous chunk is on disk (or its error is raised here)
        self._pending = self._pool.submit(self._write, table)

    def _write(self, table) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._tmp, table.schema, use_dictionary=dictionary_columns(table.schema)
            )
        elif table.schema != self._writer.schema:
            table = table.cast(self._writer.schema)
        self._writer.write_table(table)
        failpoint(f"stream:{self.path.name}")  # part of the file written, not yet visible

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, exc_type, exc, tb):
        failure = None
        try:
            self._wait()
        except BaseException as err:  # the background writer failed
            failure = err
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        if exc_type is None and failure is not None:
            exc_type, exc, tb = type(failure), failure, failure.__traceback__
        if exc_type is None:
            try:
                if self._writer is None:
                    raise ValueError(f"{self.path.name}: nothing was written")
                self._writer.add_key_value_metadata({_META_KEY: _encode(self.metadata)})
                self._writer.close()
            except BaseException as err:
                self._ctx.__exit__(type(err), err, err.__traceback__)  # removes the temporary
                raise
            return self._ctx.__exit__(None, None, None)
        if self._writer is not None:
            self._writer.close()
        self._ctx.__exit__(exc_type, exc, tb)  # removes the temporary
        if exc is failure:
            raise failure  # the writer's error, raised as the block's
        return False


def skip_final_collection() -> None:
    """Let the interpreter exit without a last cyclic garbage collection (:func:`gc.freeze`
    at exit). For console commands.

    A command that imported numba, pandas, pyarrow, matplotlib and Hydra holds
    hundreds of thousands of objects; collecting them while the interpreter shuts
    down took 0.8 s of every command on the test machines, after the work was done.
    Every result file is written, synced and renamed before then, and exit handlers
    (logging's flush, ``weakref.finalize``) still run, so skipping it loses nothing.
    Only the exit is affected: called from a notebook it changes nothing until then.
    """
    import atexit
    import gc

    atexit.register(gc.freeze)


def read_metadata(path) -> dict:
    """The ``stalemate`` metadata (config, seeds, version) stored in a Parquet file."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if _META_KEY not in meta:  # a streamed file records it in the file's footer instead
        meta = pq.ParquetFile(path).metadata.metadata or {}
    return json.loads(meta.get(_META_KEY, b"{}"))


def file_digest(path) -> dict:
    """The SHA-256 of a file and, for Parquet, its row count: what a manifest records.

    Raises:
        OSError or pyarrow.ArrowInvalid: for a missing or unreadable file.
    """
    import pyarrow.parquet as pq

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    out = {"sha256": h.hexdigest(), "bytes": Path(path).stat().st_size}
    if str(path).endswith(".parquet"):
        out["rows"] = pq.ParquetFile(path).metadata.num_rows
    return out


def write_text(text: str, path) -> Path:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(obj, path) -> Path:
    """Write a JSON file atomically (indented, UTF-8)."""
    return write_text(json.dumps(obj, indent=1, default=str) + "\n", path)


def save_figure(fig, path, **kw) -> Path:
    """Save a matplotlib figure atomically (format from the suffix)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), **kw)
    return path


__all__ = [
    "ParquetStream",
    "skip_final_collection",
    "atomic_path",
    "failpoint",
    "file_digest",
    "read_metadata",
    "read_posterior",
    "read_trajectories",
    "remove_leftovers",
    "save_figure",
    "write_json",
    "write_parquet",
    "write_text",
]


def read_trajectories(directory):
    """The round-by-round tables of a run directory, joined into one long table.

    A run stores the shared state once per run and round (``states.parquet``) and the
    actions once per run, round and actor (``actions.parquet``); this joins them into
    one row per run x round x actor with that round's state on every row — the
    layout of ``sim.Results.trajectories``.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from sim import make_config, run_batch
        >>> res = run_batch([make_config(rounds=4)] * 2, [0, 1], progress=False)
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = write_parquet(res.states, d / "states.parquet"); _ = write_parquet(res.actions, d / "actions.parquet")
        >>> read_trajectories(d).equals(res.trajectories)
        True
    """
    import pyarrow.parquet as pq

    from sim.engines.tables import long_table, to_pandas

    directory = Path(directory)
    states = to_pandas(pq.read_table(directory / "states.parquet"))
    actions = to_pandas(pq.read_table(directory / "actions.parquet"))
    return long_table(states, actions)


#: Where packaged posteriors live (written by ``experiments/calibrate.py``).
POSTERIOR_DIR = Path(__file__).resolve().parent.parent / "data" / "posteriors"


def read_posterior(name_or_path):
    """Posterior draws as an :class:`~sim.model.uncertainty.Uncertainty` (``uncertainty=posterior``):
    a packaged posterior by record name, or a ``posterior.parquet`` written by ``stalemate-fit``.

    Example:
        >>> u = read_posterior("us_dprk_2018_2019")
        >>> "rationality" in u.keys and len(u.draws) > 1000
        True

    Raises:
        ConfigError: naming what was given and what is available.
    """
    import pyarrow.parquet as pq

    from sim.model.uncertainty import Uncertainty
    from sim.model.validation import ConfigError

    path = Path(str(name_or_path))
    if not (path.suffix == ".parquet" and path.exists()):
        packaged = POSTERIOR_DIR / f"{name_or_path}.parquet"
        if not packaged.exists():
            names = sorted(p.stem for p in POSTERIOR_DIR.glob("*.parquet"))
            raise ConfigError(
                f"posterior = {str(name_or_path)!r} is neither a packaged posterior ({', '.join(names) or 'none'}) "
                "nor an existing posterior.parquet from stalemate-fit"
            )
        path = packaged
    table = pq.read_table(path)
    keys = table.column_names
    import numpy as np

    draws = np.column_stack([table.column(k).to_numpy() for k in keys])
    return Uncertainty.from_draws(
        keys, draws, source=f"posterior:{path.stem if path.parent == POSTERIOR_DIR else path}"
    )

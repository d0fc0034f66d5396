"""numpy to Arrow and back without importing pandas.

pyarrow imports pandas, when it is installed, the first time it converts anything
from or to Python or numpy (``pa.array``, ``pa.table`` of arrays, ``to_numpy``,
``pa.scalar``): it checks whether the object is a pandas one. That costs a
command about 0.4 s, more than a small simulation. The result tables hold plain
numbers, booleans and a few strings, so they are built here from their buffers
(:func:`array`, :func:`table`) and read back the same way (:func:`to_numpy`);
anything else goes through pyarrow's own conversion. The arrays are the ones
``pa.array`` makes: the same types, values and nulls.

Example:
    >>> import numpy as np
    >>> a = array(np.array([1.5, 2.0]), mask=np.array([False, True]))
    >>> a.type, a.to_pylist()
    (DataType(double), [1.5, None])
    >>> to_numpy(table({"x": np.arange(3), "s": np.array(["a", "bc", "a"])}).column("s")).tolist()
    ['a', 'bc', 'a']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def _bits(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def array(values, mask: np.ndarray | None = None) -> pa.Array:
    """An Arrow array of a numpy array of numbers, booleans or strings (or a list of
    strings); ``mask`` marks nulls, as in ``pa.array``. Anything else: ``pa.array``."""
    if isinstance(values, pa.Array):
        return values
    a = np.asarray(values)
    if a.ndim != 1 or a.dtype.kind not in "iufbU" or a.dtype.byteorder == ">":
        return pa.array(values, mask=mask)
    n = len(a)
    validity, nulls = None, 0
    if mask is not None:
        mask = np.asarray(mask, dtype=np.bool_)
        nulls = int(mask.sum())
        validity = _bits(~mask) if nulls else None
    if a.dtype.kind == "b":
        return pa.Array.from_buffers(pa.bool_(), n, [validity, _bits(a)], nulls)
    if a.dtype.kind == "U":
        encoded = [s.encode() for s in a.tolist()]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum([len(s) for s in encoded], out=offsets[1:])
        data = pa.py_buffer(b"".join(encoded))
        return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets), data], nulls)
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(a.dtype), n, [validity, pa.py_buffer(a)], nulls
    )


def strings(values, index: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array of a list of strings, or of ``values[index]`` for an
    integer array ``index``: a few distinct strings over many rows, built from their
    bytes (faster than converting every row)."""
    distinct = np.array(list(values), dtype=str)
    if index is None:
        return array(distinct)
    # decoded here, not by pyarrow's dictionary_decode: that imports pyarrow.compute
    # (0.05 s of a command's start). Row r's bytes are those of string codes[r], taken
    # from the distinct strings' bytes laid end to end.
    distinct, where = np.unique(distinct, return_inverse=True)  # each string once
    codes = where[np.asarray(index, dtype=np.int64)]
    encoded = [np.frombuffer(s.encode(), dtype=np.uint8) for s in distinct.tolist()]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    n = len(codes)
    row_lengths = lengths[codes]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_lengths, out=offsets[1:])
    if len(encoded) == 1:  # one string on every row (a label column)
        data = np.tile(encoded[0], n)
    else:
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        shift = np.repeat(starts[codes] - offsets[:-1], row_lengths)
        data = np.concatenate(encoded)[shift + np.arange(offsets[-1])]
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)], 0
    )


def table(columns: dict) -> pa.Table:
    """An Arrow table of named columns (numpy arrays or Arrow arrays), as ``pa.table``."""
    return pa.Table.from_arrays([array(v) for v in columns.values()], names=list(columns))


def dictionary_codes(column: pa.DictionaryArray) -> tuple[np.ndarray, list[str]]:
    """A dictionary-encoded string array as its codes (int32, -1 where null) and its
    dictionary, read from the buffers.

    Example:
        >>> codes, names = dictionary_codes(pa.DictionaryArray.from_arrays(
        ...     array(np.array([1, 0, 1], dtype=np.int32), mask=np.array([False, True, False])),
        ...     array(np.array(["a", "b"]))))
        >>> codes.tolist(), names
        ([1, -1, 1], ['a', 'b'])
    """
    indices = column.indices
    n, start = len(indices), indices.offset
    codes = np.frombuffer(indices.buffers()[1], dtype=indices.type.to_pandas_dtype())
    codes = codes[start : start + n].astype(np.int32)
    if indices.null_count:
        valid = np.unpackbits(
            np.frombuffer(indices.buffers()[0], dtype=np.uint8), bitorder="little", count=start + n
        )[start:]
        codes[valid == 0] = -1
    return codes, [str(s) for s in column.dictionary.to_pylist()]


def to_numpy(column) -> np.ndarray:
    """A column of numbers, booleans or dictionary-encoded strings as a numpy array
    (strings as ``str``; nulls of floats as NaN). Anything else: pyarrow's ``to_numpy``."""
    if isinstance(column, pa.ChunkedArray):
        parts = [to_numpy(c) for c in column.chunks]
        if len(parts) == 1:
            return parts[0]
        if parts:
            return np.concatenate(parts)
        return column.to_numpy()
    t = column.type
    if pa.types.is_dictionary(t) and pa.types.is_string(t.value_type) and not column.null_count:
        return np.array(column.dictionary.to_pylist(), dtype=str)[to_numpy(column.indices)]
    n, start = len(column), column.offset
    if n == 0:
        return column.to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(t) and not column.null_count:
        bits = np.frombuffer(column.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little", count=start + n)[start:].astype(np.bool_)
    if (pa.types.is_integer(t) and not column.null_count) or pa.types.is_floating(t):
        values = np.frombuffer(column.buffers()[1], dtype=t.to_pandas_dtype())[start : start + n]
        if column.null_count:  # floats: nulls as NaN
            valid = np.unpackbits(
                np.frombuffer(column.buffers()[0], dtype=np.uint8),
                bitorder="little",
                count=start + n,
            )[start:]
            values = np.where(valid.astype(np.bool_), values, np.nan)
        return values
    return column.to_numpy(zero_copy_only=False)

"""Arrays kept in files, read a piece at a time, so that no process holds them whole.

At a million documents the reuse fingerprints (about 2 GB) and the
passages' MinHash values (about 2 GB) are the largest things a run makes,
and every stage reads them in order or a few rows at a time. So the driver
appends each batch's rows to a raw file as the batch arrives (``Appender``)
and never joins them into one array in memory; the stages then read the file
through a read-only memory map (``Appender.open``).

A memory map is no saving on its own: every page a process touches stays in
its resident set until the map goes, and a band of a row-major signature
matrix touches every page. So the readers here drop what they touched
(``drop``: ``madvise(MADV_DONTNEED)``, after which the page is read back from
the page cache on demand) and read long runs of rows with ``pread`` into a
buffer of their own (``rows``), never through the map.

The files live in a folder the run owns (``spill.SpillDir``): removed with
it, and by the next run if this one is killed. Raw little-endian values only
(``numpy.memmap``), never a pickle.
"""

from __future__ import annotations

import mmap
import os
import shutil
from collections.abc import Iterator
from typing import Any

import numpy as np

from .spill import SpillDir

#: Rows read at a time by the chunked readers (bounded by bytes, see ``_step``).
CHUNK_BYTES = 32 << 20


def is_mapped(array: np.ndarray) -> bool:
    """``array`` is a whole file mapped by ``open_array`` (not a view of one)."""
    return isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap)


def drop(*arrays: np.ndarray) -> None:
    """Let go of the pages of these mapped arrays from the resident set (the file keeps them).

    Arrays that are not whole mapped files are passed over.
    """
    for array in arrays:
        if is_mapped(array):
            base = array.base
            assert isinstance(base, mmap.mmap)
            if len(base):
                base.madvise(mmap.MADV_DONTNEED)


def open_array(path: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The raw file ``path`` as a read-only array of ``shape`` (an empty one when there are no rows)."""
    if 0 in shape:
        return np.empty(shape, dtype=dtype)
    mapped: np.ndarray = np.memmap(path, dtype=dtype, mode="r", shape=shape)
    return mapped


def _step(array: np.ndarray) -> int:
    row = max(1, array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64)))
    return max(1, CHUNK_BYTES // row)


def chunks(array: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` row ranges covering ``array`` in pieces of about ``CHUNK_BYTES``."""
    step = _step(array)
    for lo in range(0, len(array), step):
        yield lo, min(lo + step, len(array))


def rows(array: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``array[lo:hi]`` as an array of its own: read from the file when ``array`` is mapped
    (``pread``: the map's pages are never touched), else a view."""
    if not is_mapped(array):
        return array[lo:hi]
    assert isinstance(array, np.memmap)
    row = array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64))
    out = np.empty((hi - lo, *array.shape[1:]), dtype=array.dtype)
    if hi <= lo:
        return out
    view = memoryview(out.reshape(-1).view(np.uint8).data)
    fd = os.open(str(array.filename), os.O_RDONLY | os.O_CLOEXEC)
    try:
        at, end = int(array.offset) + lo * row, int(array.offset) + hi * row
        done = 0
        while at + done < end:
            got = os.preadv(fd, [view[done:]], at + done)
            if got <= 0:
                raise OSError(f"{array.filename}: cut short")
            done += got
    finally:
        os.close(fd)
    return out


def columns(array: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Columns ``lo:hi`` of every row of a 2-d array, C-contiguous, read a chunk of rows at a time
    (from its band-major copy when it has one: ``save``)."""
    if not is_mapped(array):
        return np.ascontiguousarray(array[:, lo:hi])
    grouped = getattr(array, GROUPED, None)
    if grouped is not None:
        return _grouped_columns(grouped, len(array), lo, hi)
    out = np.empty((len(array), hi - lo), dtype=array.dtype)
    for a, b in chunks(array):
        out[a:b] = rows(array, a, b)[:, lo:hi]
    return out


#: Columns stored together in a band-major copy: a band (3 or 5 columns) reads one or two groups.
GROUP = 4
#: The attribute of a mapped array that holds its band-major copy (``load``).
GROUPED = "band_major"


def band_major(array: np.ndarray) -> bool:
    """``array`` is a mapped file with a band-major copy (``load``)."""
    return is_mapped(array) and getattr(array, GROUPED, None) is not None


def _pwrite_all(fd: int, data: memoryview, at: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], at + done)


def write_grouped(path: str, array: np.ndarray) -> None:
    """Write the 2-d ``array`` band-major: its columns in groups of ``GROUP``, each group's values
    for every row together (group ``g`` is rows ``g * m`` to ``(g + 1) * m`` of an
    ``(groups * m, GROUP)`` array), read from ``array`` a chunk of rows at a time. A band's
    columns are then read without the rest of each row (``columns``)."""
    m, k = array.shape
    groups = -(-k // GROUP)
    size = array.dtype.itemsize
    with open(path, "wb") as out:
        out.truncate(groups * m * GROUP * size)
        for lo, hi in chunks(array):
            block = rows(array, lo, hi)
            for g in range(groups):
                part = np.zeros((hi - lo, GROUP), dtype=array.dtype)
                part[:, :min(GROUP, k - g * GROUP)] = block[:, g * GROUP:(g + 1) * GROUP]
                data = memoryview(part.reshape(-1).view(np.uint8).data)
                _pwrite_all(out.fileno(), data, (g * m + lo) * GROUP * size)


def _grouped_columns(grouped: np.ndarray, m: int, lo: int, hi: int) -> np.ndarray:
    out = np.empty((m, hi - lo), dtype=grouped.dtype)
    step = _step(grouped)
    for g in range(lo // GROUP, (hi - 1) // GROUP + 1):
        a, b = max(lo, g * GROUP), min(hi, (g + 1) * GROUP)
        for r0 in range(0, m, step):
            r1 = min(m, r0 + step)
            out[r0:r1, a - lo:b - lo] = rows(grouped, g * m + r0, g * m + r1)[:, a - g * GROUP:b - g * GROUP]
    return out


#: Rows gathered through the map before its pages are dropped (``take``).
TAKE_ROWS = 1 << 14


def take(array: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``array[at]`` (rows, any order); through a mapped file, its pages dropped as it goes."""
    if not is_mapped(array):
        return np.asarray(array[at])
    out = np.empty((len(at), *array.shape[1:]), dtype=array.dtype)
    for lo in range(0, len(at), TAKE_ROWS):
        out[lo:lo + TAKE_ROWS] = array[at[lo:lo + TAKE_ROWS]]
        drop(array)
    return out


class Appender:
    """Rows appended to a raw file as they come; ``open`` maps what was written.

    ``shape`` is the shape of one row (``()`` for a column of scalars).
    """

    def __init__(self, path: str, dtype: Any, shape: tuple[int, ...] = ()) -> None:
        self.path, self.dtype, self.shape = path, np.dtype(dtype), shape
        self.count = 0
        self._out: Any = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 (closed by ``open``)

    def add(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        assert values.shape[1:] == self.shape, (values.shape, self.shape)
        self._out.write(values.reshape(-1).view(np.uint8).data)
        self.count += len(values)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def open(self) -> np.ndarray:
        """Everything appended, as a read-only mapped array (closes the file for writing)."""
        self.close()
        return open_array(self.path, self.dtype, (self.count, *self.shape))


#: Rows written at a time by ``gather``.
GATHER_ROWS = 1 << 16


def gather(path: str, array: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``array[at]`` written to a new file at ``path`` a piece at a time and mapped read-only:
    a subset of rows too large to hold twice in memory (banding's survivors, a batch's kept rows)."""
    out = Appender(path, array.dtype, array.shape[1:])
    for lo in range(0, len(at), GATHER_ROWS):
        out.add(take(array, at[lo:lo + GATHER_ROWS]))
    return out.open()

class Buckets:
    """Values routed into ``count`` buckets, each read back whole, one after another.

    For grouping more values than memory should hold at once: everything that
    must meet lands in one bucket. With one bucket the values stay in memory;
    with more, each bucket is a file in a folder of its own (``spill.SpillDir``:
    removed when this is closed, or by the next run if this one is killed).
    """

    def __init__(self, count: int, dtype: Any = np.int64) -> None:
        self.count, self.dtype = count, np.dtype(dtype)
        self.total = 0
        self._memory: list[list[np.ndarray]] = [[] for _ in range(count)] if count == 1 else []
        self._files: list[Appender] = []
        self._folder: Any = None
        if count > 1:
            self._folder = SpillDir()
            self._files = [Appender(os.path.join(self._folder.path, f"bucket-{k}"), self.dtype)
                           for k in range(count)]

    def __enter__(self) -> Buckets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, values: np.ndarray, bucket: np.ndarray | None = None) -> None:
        """Put ``values[i]`` in bucket ``bucket[i]`` (None: all in bucket 0)."""
        self.total += len(values)
        if bucket is None or self.count == 1:
            if self._memory:
                self._memory[0].append(values)
            elif len(values):
                self._files[0].add(values)
            return
        small = np.uint8 if self.count <= 1 << 8 else np.uint16 if self.count <= 1 << 16 else np.int64
        bucket = bucket.astype(small)  # numpy sorts 8- and 16-bit integers by radix: linear
        order = np.argsort(bucket, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=self.count))])
        values = values[order]
        for k in np.flatnonzero(np.diff(bounds)).tolist():
            self._files[k].add(values[bounds[k]:bounds[k + 1]])

    def take(self, k: int) -> np.ndarray:
        """Everything in bucket ``k``, in memory (the bucket is emptied)."""
        if self._memory:
            parts, self._memory[k] = self._memory[k], []
            return np.concatenate(parts) if parts else np.empty(0, dtype=self.dtype)
        appender = self._files[k]
        appender.close()
        out = np.fromfile(appender.path, dtype=self.dtype) if appender.count else np.empty(0, self.dtype)
        os.unlink(appender.path)
        appender.count = 0
        return out

    def close(self) -> None:
        """Remove the files (idempotent)."""
        for appender in self._files:
            appender.close()
        self._files = []
        self._memory = []
        if self._folder is not None:
            self._folder.close()
            self._folder = None


def take_columns(array: np.ndarray, at: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``array[at, lo:hi]``, C-contiguous; through a mapped file, its pages dropped as it goes
    (or from its band-major copy, when it has one)."""
    if not is_mapped(array):
        return np.ascontiguousarray(array[at, lo:hi])
    if getattr(array, GROUPED, None) is not None:
        return np.asarray(columns(array, lo, hi)[at])
    out = np.empty((len(at), hi - lo), dtype=array.dtype)
    for k in range(0, len(at), TAKE_ROWS):
        out[k:k + TAKE_ROWS] = array[at[k:k + TAKE_ROWS], lo:hi]
        drop(array)
    return out


def save(folder: str, name: str, array: np.ndarray, band_major: bool = False) -> None:
    """Put ``array`` in ``folder`` for another process to ``load``: an array in memory as ``name.npy``;
    a mapped file (``open_array``) linked as ``name.bin`` (copied where it cannot be), never
    read through this process's map, with its shape and dtype beside it. With ``band_major``
    (a 2-d array), also a band-major copy (``write_grouped``), which ``load`` attaches."""
    if band_major and array.ndim == 2 and len(array):
        write_grouped(os.path.join(folder, f"{name}.bands.bin"), array)
    if not is_mapped(array):
        np.save(os.path.join(folder, f"{name}.npy"), array)
        return
    assert isinstance(array, np.memmap)
    target = os.path.join(folder, f"{name}.bin")
    try:
        os.link(str(array.filename), target)
    except OSError:  # another file system, or no hard links there
        shutil.copyfile(str(array.filename), target)
    np.save(os.path.join(folder, f"{name}.shape.npy"), np.asarray(array.shape, dtype=np.int64))
    np.save(os.path.join(folder, f"{name}.dtype.npy"), np.zeros(0, dtype=array.dtype))


def load(folder: str, name: str) -> np.ndarray:
    """What ``save`` put in ``folder``, mapped read-only."""
    raw = os.path.join(folder, f"{name}.bin")
    loaded: np.ndarray
    if os.path.exists(raw):
        shape = tuple(np.load(os.path.join(folder, f"{name}.shape.npy")).tolist())
        dtype = np.load(os.path.join(folder, f"{name}.dtype.npy")).dtype
        loaded = open_array(raw, dtype, shape)
    else:
        loaded = np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r")
    bands = os.path.join(folder, f"{name}.bands.bin")
    if os.path.exists(bands) and is_mapped(loaded):
        m, k = loaded.shape
        setattr(loaded, GROUPED, open_array(bands, loaded.dtype, (-(-k // GROUP) * m, GROUP)))
    return loaded

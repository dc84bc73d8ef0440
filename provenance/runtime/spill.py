"""Texts kept on disk, not in memory, once a document is cleaned and signed.

A crawl's texts are larger than everything the pipeline keeps about them
(signatures, spans, metadata), and only a few stages need a text again:
verification reads the candidates', the template stage the pages it
changes, a report the documents it shows. So each worker writes the raw and
the cleaned text of every document it has finished to a file of its own in
a temporary folder, and sends back a ``SpillRef`` (file, offset, length)
instead of the text. ``Document.text`` and ``CleanDoc.text`` read it back on
demand (``TextField``), so no caller has to know; memory then grows with the
number of documents and passages, not with their size.

The folder belongs to the process that made it (``SpillDir()``) and is
removed when the last reference to it goes (or at exit). Worker processes
that receive it by pickle only append to it.

A run killed before it could clean up leaves its folder behind, and the next
run removes it. Whether the owner is gone is never judged by its process id:
ids mean nothing across PID namespaces (containers sharing one ``/tmp``) and
are reused. The owner holds an exclusive ``flock`` on ``.owner.lock`` inside
its folder for as long as it lives (the kernel drops it when the process dies,
however it dies); a cleaner removes a folder only once it can take that lock
itself. A folder is made under a name cleaners pass over and renamed into
place with the lock already held, so no cleaner ever sees it unlocked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, overload

from ..errors import OutputError
from .owner_lock import hold, ownerless, unchanged_for

#: Texts read back and kept decoded, most recent first: verification reads
#: the same document several times in a row.
CACHE_TEXTS = 64

#: Folder names: this prefix, then the owner's process id (for people: cleaners never read it).
PREFIX = "provenance-spill-"
#: A folder's name while it is being made, before its lock is held.
STAGING = "provenance-spill.new-"
#: The file inside a folder whose lock the owner holds for its whole life.
LOCK_NAME = ".owner.lock"

def _open_append(path: str) -> Any:
    return open(path, "ab", buffering=1 << 20)  # closed with the folder


_registry: weakref.WeakValueDictionary[str, SpillDir] = weakref.WeakValueDictionary()
_lock = threading.RLock()  # _attach holds it while _open registers


class SpillDir:
    """A temporary folder of append-only text files, one per writing process."""

    def __init__(self, parent: str | None = None) -> None:
        parent = parent or tempfile.gettempdir()
        _remove_orphans(parent)
        lock = -1
        try:
            staging = tempfile.mkdtemp(prefix=STAGING, dir=parent)
            lock = hold(os.path.join(staging, LOCK_NAME))
            unique = os.path.basename(staging)[len(STAGING):]  # mkdtemp's: no other folder has it
            self.path = os.path.join(parent, f"{PREFIX}{os.getpid()}-{unique}")
            os.rename(staging, self.path)
        except OSError as exc:
            if lock >= 0:
                os.close(lock)
            raise OutputError(f"{parent}: cannot make a folder for the texts kept on disk during "
                              f"the run ({exc.strerror or exc}); set TMPDIR to a writable folder") from exc
        self._lock_fd = lock
        self._open(owner=True)

    @classmethod
    def _attach(cls, path: str) -> SpillDir:
        """The folder as a worker (or the owner itself) unpickles it: never removed by a worker."""
        with _lock:
            found = _registry.get(path)
            if found is not None:
                return found
            self = cls.__new__(cls)
            self.path = path
            self._open(owner=False)
            return self

    def _open(self, owner: bool) -> None:
        """Per-process state; only the owner's finalizer removes the folder."""
        self._fds: dict[str, int] = {}
        self._out: Any = None
        self._out_pid = 0
        self._out_name = ""
        self._cache: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._finalizer: Any = (weakref.finalize(self, _remove, self.path, self._fds, self._lock_fd)
                                if owner else weakref.finalize(self, _close, self._fds))
        with _lock:
            _registry[self.path] = self

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (SpillDir._attach, (self.path,))

    def close(self) -> None:
        """Remove the folder now (the owner's; a worker's copy only closes its files). Idempotent."""
        self._finalizer()

    def write(self, text: str) -> SpillRef:
        """Append ``text`` to this process's file; where to read it back."""
        try:
            if self._out is None or self._out_pid != os.getpid():
                self._out_pid = os.getpid()
                name = f"{self._out_pid}.txt"
                self._out = _open_append(os.path.join(self.path, name))
                self._out_name = name
            data = text.encode("utf-8", "surrogatepass")
            offset = self._out.tell()
            self._out.write(data)
        except OSError as exc:
            raise self._failed(exc) from exc
        return SpillRef(self, self._out_name, offset, len(data), len(text))

    def flush(self) -> None:
        """Make what this process wrote readable by others (a worker, before it answers)."""
        if self._out is not None:
            try:
                self._out.flush()
            except OSError as exc:
                raise self._failed(exc) from exc

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(f"{self.path}: cannot write the texts kept on disk during the run "
                           f"({exc.strerror or exc}); set TMPDIR to a folder with room for about "
                           "twice the corpus's text")

    def read(self, ref: SpillRef) -> str:
        """The text ``ref`` points to."""
        key = (ref.name, ref.offset, ref.nbytes)
        text = self._cache.get(key)
        if text is not None:
            self._cache.move_to_end(key)
            return text
        if self._out is not None and ref.name == self._out_name:
            self._out.flush()
        fd = self._fds.get(ref.name)
        if fd is None:
            fd = self._fds[ref.name] = os.open(os.path.join(self.path, ref.name), os.O_RDONLY)
        data = os.pread(fd, ref.nbytes, ref.offset)
        if len(data) != ref.nbytes:
            raise OutputError(f"{self.path}/{ref.name}: a text kept on disk was cut short "
                              "(was the temporary folder cleaned during the run?)")
        text = data.decode("utf-8", "surrogatepass")
        self._cache[key] = text
        if len(self._cache) > CACHE_TEXTS:
            self._cache.popitem(last=False)
        return text


def _remove_orphans(parent: str) -> None:
    """Remove the folders whose owners are gone (killed before they could clean up).

    Gone means: its lock can be taken. A live owner holds it, in any PID
    namespace, in any container sharing the folder; the kernel releases it
    when the owner dies. Another user's folder cannot be opened: it is kept.
    """
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        folder = os.path.join(parent, name)
        if name.startswith(STAGING):
            # judged by age only: its owner makes the lock file before it takes the lock
            if unchanged_for(folder):
                shutil.rmtree(folder, ignore_errors=True)
        elif name.startswith(PREFIX):
            _remove_if_ownerless(folder)


def _remove_if_ownerless(folder: str) -> None:
    try:
        with ownerless(os.path.join(folder, LOCK_NAME)) as gone:
            if gone:
                shutil.rmtree(folder, ignore_errors=True)
    except FileNotFoundError:  # no lock: an older provenance's folder, or a killed one's
        if unchanged_for(folder):
            shutil.rmtree(folder, ignore_errors=True)


def _close(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


def _remove(path: str, fds: dict[str, int], lock: int) -> None:
    _close(fds)
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(lock)  # last: the lock is what keeps other runs' cleaners away


class SpillRef:
    """Where one spilled text is: its folder, file, byte offset and length, and its length in characters."""

    __slots__ = ("chars", "dir", "name", "nbytes", "offset")

    def __init__(self, spill: SpillDir, name: str, offset: int, nbytes: int, chars: int) -> None:
        self.dir, self.name, self.offset, self.nbytes, self.chars = spill, name, offset, nbytes, chars

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (SpillRef, (self.dir, self.name, self.offset, self.nbytes, self.chars))

    def read(self) -> str:
        return self.dir.read(self)


class TextField:
    """A dataclass field holding a ``str`` or a ``SpillRef``; reading it always gives the ``str``.

    Assigning a ``str`` keeps it in memory (a stage that rewrites a text);
    ``spill`` swaps it for a reference. The value is kept in the class's slot
    of that name (``install``), whose descriptor this one wraps.
    """

    def __init__(self, name: str, slot: Any) -> None:
        self.name, self.slot = name, slot

    @classmethod
    def install(cls, owner: type, name: str) -> None:
        """Put a ``TextField`` in front of ``owner``'s slot ``name``."""
        setattr(owner, name, cls(name, owner.__dict__[name]))

    def __get__(self, obj: object, owner: type | None = None) -> str:
        if obj is None:
            raise AttributeError(self.name)
        value = self.slot.__get__(obj, owner)
        return value if isinstance(value, str) else value.read()

    def __set__(self, obj: object, value: str | SpillRef) -> None:
        self.slot.__set__(obj, value)

    def raw(self, obj: object) -> str | SpillRef:
        """The ``str`` or the ``SpillRef``, as kept."""
        return self.slot.__get__(obj, type(obj))  # type: ignore[no-any-return]


def _class_attr(cls: type, name: str) -> Any:
    """``name`` as ``cls`` holds it (a descriptor, not what it gives)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)


_FIELDS: dict[tuple[type, str], TextField] = {}


def _field(obj: object, name: str) -> TextField:
    """The ``TextField`` ``name`` of ``obj``'s class (found once a class: every text's length
    is asked for, by the report and the stages, tens of thousands of times a run)."""
    key = (type(obj), name)
    found = _FIELDS.get(key)
    if found is None:
        found = _class_attr(type(obj), name)
        assert isinstance(found, TextField), name
        _FIELDS[key] = found
    return found


_SLOTS: dict[type, tuple[Any, ...]] = {}


def _slot_descriptors(cls: type) -> tuple[Any, ...]:
    """The slot descriptors of ``cls``'s fields, in ``__slots__`` order; a ``TextField``'s own
    slot under it (what is kept: the ``str`` or the ``SpillRef``). Found once a class."""
    known = _SLOTS.get(cls)
    if known is None:
        found = [_class_attr(cls, name) for name in cls.__slots__]  # type: ignore[attr-defined]
        known = _SLOTS[cls] = tuple(d.slot if isinstance(d, TextField) else d for d in found)
    return known


def slot_state(obj: object) -> tuple[object, ...]:
    """A slotted record's fields for pickle, a spilled text as its reference (never read back).

    A tuple in ``__slots__`` order, read through the slots' own descriptors (looked up once a
    class): a worker sends back thousands of records a batch, and a dict of names each, found
    anew a record, cost twice as much to make and to read."""
    return tuple([slot.__get__(obj) for slot in _slot_descriptors(type(obj))])


def set_slot_state(obj: object, state: tuple[object, ...]) -> None:
    """What ``slot_state`` gave, back into a new record."""
    for slot, value in zip(_slot_descriptors(type(obj)), state, strict=True):
        slot.__set__(obj, value)


def raw_text(obj: object, name: str = "text") -> str | SpillRef:
    """``obj.text`` as kept: the ``str``, or the ``SpillRef`` of a spilled text."""
    return _field(obj, name).raw(obj)


def text_length(obj: object, name: str = "text") -> int:
    """``len(obj.text)`` without reading a spilled text back."""
    value = _field(obj, name).raw(obj)
    return len(value) if isinstance(value, str) else value.chars


def spill(obj: object, spill_dir: SpillDir, name: str = "text") -> None:
    """Write ``obj.text`` to ``spill_dir`` and keep only the reference."""
    field = _field(obj, name)
    value = field.raw(obj)
    if isinstance(value, str):
        field.__set__(obj, spill_dir.write(value))


def spill_both(clean: Any, spill_dir: SpillDir) -> None:
    """``spill`` a cleaned document's text and its document's; once when they are the same text
    (cleaning cut nothing), the two sharing one reference."""
    raw, cleaned = _field(clean.doc, "text"), _field(clean, "text")
    text, clean_text = raw.raw(clean.doc), cleaned.raw(clean)
    if isinstance(text, str) and isinstance(clean_text, str) and (text is clean_text or text == clean_text):
        ref = spill_dir.write(text)
        raw.__set__(clean.doc, ref)
        cleaned.__set__(clean, ref)
        return
    spill(clean.doc, spill_dir)
    spill(clean, spill_dir)


class Texts(Sequence[str]):
    """``[c.text for c in items]`` read on demand, so that no stage holds every text at once."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [c.text for c in self.items[i]]
        return str(self.items[i].text)

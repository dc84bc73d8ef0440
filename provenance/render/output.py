"""Writing results safely: atomic files and folders, and ids that cannot escape.

A crash while writing leaves the old file or folder, or the new one, never
half of either: files are written to a temporary sibling and renamed into
place; a folder of outputs is built beside its destination and swapped in.
Document ids come from scraped data (JSONL ``id`` fields, paths inside
archives), so they are reduced to safe relative paths before they name a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import OutputError

#: The file that marks a folder as written by ``provenance clean``...
MANIFEST = "manifest.json"
#: ...when it holds this key and value (a web app's ``manifest.json`` does not).
WRITTEN_BY = ("written_by", "provenance clean")


def written_by_us(folder: Path) -> bool:
    """``folder`` holds a manifest that ``provenance clean`` wrote (marked; or, from before the
    mark, of its exact shape), so replacing the folder destroys nothing of anyone else's."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    if manifest.get(WRITTEN_BY[0]) == WRITTEN_BY[1]:
        return True
    params = manifest.get("params")
    return ({"version", "params", "documents", "dropped", "skipped"} <= manifest.keys()
            and isinstance(params, dict) and {"clean", "sign"} <= params.keys())

_UNSAFE = re.compile(r"[^\w.#~+=@,-]+", re.UNICODE)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_to(handle: Any, text: str | Iterable[bytes]) -> None:
    """``text``, or its UTF-8 pieces, to a binary file."""
    if isinstance(text, str):
        handle.write(text.encode("utf-8"))
    else:
        for piece in text:
            handle.write(piece)


def atomic_write_text(path: str | os.PathLike[str], text: str | Iterable[bytes]) -> None:
    """Write ``text`` to ``path`` as the shell's ``>`` would, atomically where a file is replaced.

    - ``-``: standard output.
    - A symbolic link: its target is written; the link stays.
    - Something that is not a regular file (``/dev/null``, ``/dev/stdout``, a FIFO, a
      terminal): written into, in place, never replaced by a file.
    - An existing regular file: replaced atomically (temporary sibling + ``os.replace``),
      keeping its mode.
    - A new file: created atomically, with the mode the umask gives (``0666 & ~umask``).
    """
    if os.fspath(path) == "-":
        write_stdout(text)
        return
    given = Path(path)
    target = given.resolve() if given.is_symlink() else given
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{given}: cannot write: {exc.strerror or exc}") from exc
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{given}: is a folder; name a file to write")
        try:  # a device or a FIFO: written into, as ``>`` does
            with open(target, "wb") as handle:
                _write_to(handle, text)
        except OSError as exc:
            raise OutputError(f"{given}: cannot write: {exc.strerror or exc}") from exc
        return
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{given}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_to(handle, text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{given}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_stdout(text: str | Iterable[bytes]) -> None:
    """``text``, or its UTF-8 pieces, on standard output."""
    if isinstance(text, str):
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        for piece in text:
            if buffer is not None:
                buffer.write(piece)
            else:  # a stream with no bytes underneath (a test's capture)
                sys.stdout.write(piece.decode("utf-8"))
        if buffer is not None:
            buffer.flush()
    sys.stdout.flush()


def check_not_input(output: str | os.PathLike[str] | None, inputs: list[Path]) -> None:
    """Refuse an output file that is one of the inputs or lies inside an input folder.

    Inputs are never modified; standard output (``-``), devices and FIFOs are not files of
    the inputs and pass.
    """
    if output is None or os.fspath(output) == "-":
        return
    real = Path(output).resolve()
    if real.exists() and not real.is_file():
        return
    for item in inputs:
        source = item.resolve()
        if real == source or source in real.parents:
            raise OutputError(f"{output}: the output is {'one of' if real == source else 'inside'} the"
                              f" inputs ({item}); write it elsewhere (inputs are never modified)")


#: A file or folder name's longest part, in UTF-8 bytes (file systems allow 255; the
#: suffixes ``.txt``/``.audit.json`` and a ``~N`` clash mark need the rest).
MAX_PART_BYTES = 200


def _safe_part(part: str) -> str:
    """One path part, safe characters only, at most 120 characters and ``MAX_PART_BYTES``
    bytes; a longer one is cut and ends with a short digest of the whole, so that two long
    ids that differ only at their ends stay apart."""
    part = _UNSAFE.sub("_", part).strip("._ ")[:120]
    raw = part.encode("utf-8")
    if len(raw) <= MAX_PART_BYTES:
        return part
    digest = hashlib.sha256(raw).hexdigest()[:10]
    return raw[:MAX_PART_BYTES - 11].decode("utf-8", "ignore") + "~" + digest


def safe_relpath(doc_id: str, taken: set[str], suffix: str = ".txt") -> str:
    """A relative file path for a document id that stays inside its folder.

    ``..``, absolute parts, drive letters and odd characters are removed;
    each part is shortened (``_safe_part``); clashes get ``~2``, ``~3``...
    appended. ``taken`` holds the paths given so far (lower-cased; folders
    with a final ``/``), so that a file never takes a folder's name or the
    reverse (ids ``clash`` and ``clash.txt/inner``).

    Example:
        >>> safe_relpath("../../etc/passwd#1", set())
        'etc/passwd#1.txt'
    """
    parts = [p for p in (_safe_part(x) for x in re.split(r"[\\/]+", doc_id)) if p and p not in (".", "..")]
    parts = parts[-8:] or ["document"]
    folders, name = parts[:-1], parts[-1]
    for k in range(len(folders)):
        while "/".join(folders[:k + 1]).lower() in taken:  # a file has this name already
            folders[k] += "~d"
    base = "/".join([*folders, name])
    candidate, n = base + suffix, 1
    while candidate.lower() in taken or candidate.lower() + "/" in taken:
        n += 1
        candidate = f"{base}~{n}{suffix}"
    taken.add(candidate.lower())
    taken.update("/".join(folders[:k + 1]).lower() + "/" for k in range(len(folders)))
    return candidate


def check_disjoint(out: Path, inputs: list[Path]) -> None:
    """Refuse an output folder that holds, or is inside, an input."""
    out_real = out.resolve()
    for item in inputs:
        real = item.resolve()
        if out_real == real or out_real in real.parents or real in out_real.parents:
            raise OutputError(f"{out}: the output folder overlaps the input {item};"
                              " choose a folder outside the inputs (inputs are never modified)")


class AtomicFolder:
    """Build a folder beside ``dest`` and swap it in on ``commit()``.

    An existing ``dest`` is replaced only if it is empty or was written by
    ``provenance clean`` (``written_by_us``); anything else is refused, and so
    is a symbolic link (name the folder it points to).
    """

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        if dest.is_symlink():
            raise OutputError(f"{dest}: is a symbolic link; name the folder itself"
                              f" ({dest.resolve()}) to write there")
        if dest.exists():
            if not dest.is_dir():
                raise OutputError(f"{dest}: exists and is not a folder")
            if any(dest.iterdir()) and not written_by_us(dest):
                raise OutputError(f"{dest}: folder is not empty and was not written by provenance clean"
                                  " (no manifest of its own); refusing to replace it")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
        except OSError as exc:
            raise OutputError(f"{dest}: cannot write: {exc.strerror or exc}") from exc

    def path(self, rel: str) -> Path:
        """Where ``rel`` goes inside the folder being built (checked to stay inside)."""
        target = (self.tmp / rel).resolve()
        if self.tmp.resolve() not in target.parents:
            raise OutputError(f"{rel}: would be written outside {self.dest}")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, rel: str, text: str) -> None:
        with open(self.path(rel), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)

    def commit(self) -> None:
        """Swap the new folder in; the old one (if any) is removed after."""
        old = None
        try:
            if self.dest.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.", suffix=".old",
                                            dir=self.dest.parent))
                os.rmdir(old)
                os.replace(self.dest, old)
            os.replace(self.tmp, self.dest)
        except OSError as exc:
            if old is not None and old.exists() and not self.dest.exists():
                os.replace(old, self.dest)
            raise OutputError(f"{self.dest}: cannot replace: {exc.strerror or exc}") from exc
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

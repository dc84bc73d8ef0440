"""Sources -> ``Document`` records (or ``Skipped`` ones, with the reason).

Every input is treated as hostile: only regular files are opened (a pipe or
a device would never end), reads are bounded, encodings are detected rather
than assumed, JSON nesting and WARC payloads are capped, gzip is inflated
within a bound (a compression bomb stops there), and a file that fails
yields one ``Skipped`` record while the run goes on with the rest. Standard
input (``-``) is read up to the file size limit and its format sniffed.
Inputs are opened read-only and never modified.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .config import OUTLETS_FILE, IngestConfig
from .decode import GZIP_MAGIC, Inflated, inflate_bound, read_bounded, read_stream
from .errors import ConfigError, InputError
from .jsonl import TEXTS_ID, jsonl_documents, jsonl_lines, jsonl_record, jsonl_stream_lines, read_records
from .pages import unique_id, whole_document
from .records import Document, Skipped
from .warc import read_warc, warc_records

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
#: Common Crawl's WET files are WARC files of ``conversion`` records (plain text).
WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.wet", ".warc.wet.gz")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES + WARC_SUFFIXES
#: The path that means standard input, and the id and path its documents are known by.
STDIN = "-"
STDIN_ID = "stdin"


def kind_of(path: str) -> str | None:
    """The reader a file name calls for: ``text``, ``html``, ``jsonl``, ``warc`` or None."""
    name = path.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def file_of(path: str) -> str:
    """The file of a document's path or id: a JSON Lines or WARC record's is ``FILE#RECORD``, but
    a file's own name may hold ``#`` too, so the cut is after the first part that names such a file."""
    pos = path.find("#")
    while pos != -1:
        if kind_of(path[:pos]) in ("jsonl", "warc"):
            return path[:pos]
        pos = path.find("#", pos + 1)
    return path


def check_stdin_once(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Standard input can be read once: ``-`` named twice is a usage error, not a skip."""
    if sum(1 for p in paths if os.fspath(p) == STDIN) > 1:
        raise ConfigError("standard input (-) can be named only once")


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(path: str | os.PathLike[str]) -> bool:
    """True for a Hadoop file-system URI (``scheme://...``), which the Spark engine lists and reads
    through Hadoop; anything else is a local path."""
    return isinstance(path, str) and bool(_SCHEME.match(path))


def check_local(paths: Iterable[str | os.PathLike[str]]) -> None:
    """The local engine reads local paths: a URI (which ``Path`` would fold to ``file:/x`` and
    report missing) is a usage error naming the engine that reads it."""
    for p in paths:
        if is_uri(p):
            raise ConfigError(f"{p}: a Hadoop URI, read by the Spark engine only (--engine spark)")


_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|title|meta|div|p|article|section)[\s>/]", re.I)


def sniff(data: bytes) -> str:
    """The reader unnamed data calls for, by its first bytes: ``warc``, ``jsonl``, ``html`` or ``text``.

    Standard input has no file name to go by. A UTF-8 byte-order mark and
    leading blank lines are passed over; data that starts with a tag and holds
    an HTML element near its start is HTML.
    """
    head = data[:8192].removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith((b"WARC/", b"filedesc://")):
        return "warc"
    if head.startswith(b"{"):
        return "jsonl"
    if head.startswith(b"<") and _HTML_TAG.search(head):
        return "html"
    return "text"


def read_stdin(stream: BinaryIO | None, cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    """Standard input's documents: read up to ``max_file_bytes``, gunzipped if it is gzip, sniffed.

    Its documents are known as ``stdin`` (``stdin#N`` for records, as in a file
    named ``stdin``). A stream that does not end stops at the limit.
    """
    try:
        if stream is None:
            raise InputError(STDIN_ID, "no standard input")
        data = read_stream(stream, cfg.max_file_bytes, STDIN_ID)
        if data.startswith(GZIP_MAGIC):
            bound = min(cfg.max_file_bytes, inflate_bound(len(data), cfg))
            with Inflated(io.BytesIO(data), bound, STDIN_ID) as gz:
                data = gz.read()
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    kind = sniff(data)
    if kind == "warc":
        yield from warc_records(io.BytesIO(data), STDIN_ID, STDIN_ID, cfg, seen, cfg.max_file_bytes)
    elif kind == "jsonl":
        yield from jsonl_documents(jsonl_stream_lines(io.BytesIO(data), STDIN_ID, cfg), STDIN_ID,
                                    STDIN_ID, cfg, seen)
    else:
        try:
            yield whole_document(data, kind, STDIN_ID, STDIN_ID, cfg, seen)
        except InputError as exc:
            yield Skipped(exc.path, exc.reason)


def walk(root: Path) -> Iterator[Path | Skipped]:
    """Every entry below ``root``, sorted, as a file to consider or a ``Skipped`` saying why not.

    Hidden files and folders (``.git``, ``.DS_Store``) are passed over, a link
    to a folder is not followed, and a folder that cannot be listed is
    reported: nothing below a scanned folder is passed over unsaid.
    """
    failed: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=failed.append, followlinks=False):
        yield from (_unlisted(exc) for exc in failed)
        failed.clear()
        here = Path(dirpath)
        linked = {d for d in dirnames if (here / d).is_symlink()}
        entries = sorted([(name, "file") for name in filenames]
                         + [(name, "folder") for name in dirnames if name.startswith(".") or name in linked])
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in linked)
        for name, what in entries:
            if name.startswith("."):
                yield Skipped(str(here / name), f"hidden {what}")
            elif what == "folder":
                yield Skipped(str(here / name), "symbolic link to a folder (not followed)")
            else:
                yield here / name
    yield from (_unlisted(exc) for exc in failed)


def _unlisted(exc: OSError) -> Skipped:
    return Skipped(str(exc.filename), f"unreadable folder: {exc.strerror or exc}")


def direct_id(file: Path, cfg: IngestConfig) -> str:
    """The id of a file named directly (``IngestConfig.file_ids``)."""
    if cfg.file_ids != "path":
        return file.name
    real = Path(os.path.abspath(file))
    try:
        return real.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return real.as_posix()


def input_folders(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The folders among the inputs, resolved: what a symbolic link inside them may point into."""
    return [Path(p).resolve() for p in paths if os.fspath(p) != STDIN and Path(p).is_dir()]


#: Where a followed link may never point: files there can block, be endless, or leak the machine.
_NEVER_FOLLOWED = (Path("/proc"), Path("/sys"), Path("/dev"))


def _barred(path: str) -> str | None:
    """The barred folder (``/proc``, ``/sys``, ``/dev``) that ``path`` is in, if any."""
    for folder in _NEVER_FOLLOWED:
        if path == str(folder) or path.startswith(str(folder) + os.sep):
            return str(folder)
    return None


def _through_barred(link: Path, target: Path) -> str | None:
    """The barred folder a link passes through on any hop, or ends in.

    Its final target is not enough: ``/dev/fd/7`` resolves to whatever descriptor 7
    opens, and ``/proc/self/root/etc/passwd`` to ``/etc/passwd``. The path is resolved
    here component by component, and every link met on the way is checked.
    """
    return _walk(os.path.abspath(link), [0])[1] or _barred(str(target))


def _walk(path: str, hops: list[int]) -> tuple[str, str | None]:
    """``path`` resolved one component at a time: where it leads, and the barred folder it
    passes through, if any (``hops`` counts the links followed, up to the kernel's 40)."""
    current = "/"
    for part in Path(os.path.normpath(path)).parts[1:]:
        step = os.path.normpath(os.path.join(current, part))
        if (barred := _barred(step)) is not None:
            return step, barred
        if os.path.islink(step):
            hops[0] += 1
            if hops[0] > 40:  # a loop: reading the link fails, with its own reason
                return step, None
            step, barred = _walk(os.path.join(current, os.readlink(step)), hops)
            if barred is not None:
                return step, barred
        current = step
    return current, None


def folder_files(root: Path, folders: Sequence[Path], follow_links: bool = False
                 ) -> Iterator[tuple[Path, str] | Skipped]:
    """The supported files below ``root`` with their ids (paths relative to ``root``), in order.

    Every other entry is a ``Skipped`` with its reason: files of other types,
    hidden ones (``walk``), and a symbolic link to a file outside the input
    ``folders``, which is never opened: a crawl folder may hold a link to
    ``/etc/shadow`` or ``/proc/kmsg``. ``outlets.json`` atop the folder is
    the run's outlets file (``pipeline.load_outlets``), not passed over.
    With ``follow_links`` (``--follow-links``) such a link is read, unless it points
    into ``/proc``, ``/sys`` or ``/dev``. Files named directly on the command line
    are read as given.
    """
    for file in walk(root):
        if isinstance(file, Skipped):
            yield file
            continue
        if kind_of(file.name) is None:
            if file != root / OUTLETS_FILE:
                yield Skipped(str(file), f"unsupported file type ({file.suffix or 'no extension'})")
            continue
        if file.is_symlink():
            try:
                target = file.resolve(strict=True)
            except (OSError, RuntimeError):
                yield Skipped(str(file), "broken or looping symbolic link")
                continue
            barred = _through_barred(file, target)
            if barred is not None:
                yield Skipped(str(file), f"symbolic link into {barred} (never followed)")
                continue
            if not follow_links and not any(target == f or f in target.parents for f in folders):
                yield Skipped(str(file), "symbolic link to outside the input folders (not followed;"
                                         " --follow-links reads it)")
                continue
        yield file, file.relative_to(root).as_posix()


def sources(paths: Iterable[str | os.PathLike[str]],
            cfg: IngestConfig) -> Iterator[tuple[Path, str] | Skipped | None]:
    """The inputs in reading order, walked once: each file to read with its id, a ``Skipped``
    for each entry that is not read (``folder_files``) or a path that is not there, and None
    for standard input. ``read_paths`` and ``read_clean.batches`` both read this one walk."""
    paths = list(paths)
    check_stdin_once(paths)
    folders = input_folders(paths)
    for raw in paths:
        if os.fspath(raw) == STDIN:
            yield None
            continue
        root = Path(raw)
        if not root.exists() and not root.is_symlink():
            yield Skipped(str(raw), "no such file or folder")
        elif root.is_dir():
            yield from folder_files(root, folders, cfg.follow_links)
        else:
            yield root, direct_id(root, cfg)


def read_paths(paths: Iterable[str | os.PathLike[str]],
               cfg: IngestConfig | None = None) -> Iterator[Document | Skipped]:
    """Read files and folders (recursively) into documents, in a stable order.

    In a folder, every entry that is not read (another type, a hidden file, a
    link out of the input folders) yields a ``Skipped`` record, as does a file
    named explicitly that cannot be read. ``-`` is standard input (``read_stdin``).
    A run reads its inputs in batches instead (``read_clean``), over the same walk
    (``sources``) and the same readers.

    Args:
        paths: files or folders, or ``-`` (once).
        cfg: limits; defaults apply when omitted.

    Yields:
        ``Document`` for each readable source, ``Skipped`` for each that is not.

    Raises:
        ConfigError: ``-`` named more than once.
    """
    cfg = cfg or IngestConfig()
    seen: set[str] = set()
    for found in sources(paths, cfg):
        if found is None:
            yield from read_stdin(getattr(sys.stdin, "buffer", None), cfg, seen)
        elif isinstance(found, Skipped):
            yield found
        else:
            yield from read_file(found[0], found[1], cfg, seen)


def read_file(file: Path, rel: str, cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    """One file's documents (a JSON Lines or WARC file holds many), or why each was skipped.

    Shared with ``read_clean``'s batches, which pass a ``seen`` that keeps each id as it is.
    """
    path = str(file)

    def read(kind: str) -> Iterator[Document | Skipped]:
        if kind == "jsonl":
            yield from jsonl_documents(jsonl_lines(file, cfg), rel, path, cfg, seen)
        elif kind == "warc":
            yield from read_warc(file, rel, cfg, seen)
        else:
            yield whole_document(read_bounded(file, cfg.max_file_bytes, path), kind, rel, path, cfg, seen)

    return _by_kind(file.name, path, read)


def read_bytes(data: bytes, name: str, rel: str, path: str, cfg: IngestConfig,
               seen: set[str]) -> Iterator[Document | Skipped]:
    """``read_file`` over a file's bytes, read elsewhere (a Hadoop file system, for the Spark
    engine): the same readers and limits, by the file's ``name``; ``path`` is how it is reported."""
    def read(kind: str) -> Iterator[Document | Skipped]:
        bound = inflate_bound(len(data), cfg)
        if kind == "jsonl":
            handle: Any = io.BytesIO(data)
            if name.lower().endswith(".gz"):
                handle = Inflated(handle, bound, path)
            with handle:
                yield from jsonl_documents(jsonl_stream_lines(handle, path, cfg), rel, path, cfg, seen)
        elif kind == "warc":
            yield from warc_records(io.BytesIO(data), rel, path, cfg, seen, bound)
        else:
            if len(data) > cfg.max_file_bytes:
                raise InputError(path, f"too large: over {cfg.max_file_bytes} bytes")
            yield whole_document(data, kind, rel, path, cfg, seen)

    return _by_kind(name, path, read)


def _by_kind(name: str, path: str, read: Callable[[str], Iterator[Document | Skipped]]
             ) -> Iterator[Document | Skipped]:
    """``read(kind)`` for a supported file name; an unsupported one, or any ``InputError`` the
    reading raises, is a ``Skipped`` record naming the file and the reason."""
    kind = kind_of(name)
    try:
        if kind is None:
            raise InputError(path, "unsupported file type (expected " + ", ".join(SUPPORTED) + ")")
        yield from read(kind)
    except InputError as exc:
        log.info("skipped %s", exc)
        yield Skipped(exc.path, exc.reason)


__all__ = [  # what other modules take from here; the formats' readers live in their own modules
    "STDIN",
    "STDIN_ID",
    "SUPPORTED",
    "TEXTS_ID",
    "check_local",
    "check_stdin_once",
    "direct_id",
    "file_of",
    "folder_files",
    "input_folders",
    "is_uri",
    "jsonl_lines",
    "jsonl_record",
    "kind_of",
    "read_bytes",
    "read_file",
    "read_paths",
    "read_records",
    "read_stdin",
    "sniff",
    "sources",
    "unique_id",
    "walk",
]

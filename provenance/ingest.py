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
import gzip
import io
import json
import logging
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from .config import OUTLETS_FILE, IngestConfig
from .dates import parse_date
from .errors import ConfigError, InputError
from .htmltext import parse_html
from .records import Document, Skipped

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
GZIP_MAGIC = b"\x1f\x8b"
#: Decompressed bytes allowed beyond ``max_compression_ratio`` times the compressed size,
#: so that a tiny file of repetitive text is not taken for a bomb.
INFLATE_SLACK = 1 << 20
#: Chunks in which an unwanted record block is read past, when it cannot be seeked past.
DISCARD_CHUNK = 1 << 16

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]{2,40})""", re.I)
#: Highest charset-normalizer "chaos" accepted for a detected encoding.
MAX_CHAOS = 0.1
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


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


def decode_bytes(data: bytes, where: str, declared: str | None = None) -> str:
    """Decode scraped bytes, detecting the encoding; newlines become ``\\n``.

    Raises:
        InputError: empty, binary or undecodable data.
    """
    if not data.strip():
        return _nonempty("", where)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _nonempty(data.decode(encoding), where)
            except UnicodeDecodeError as exc:
                raise InputError(where, f"undecodable: bad {encoding} after its byte-order mark") from exc
    if b"\x00" in data[:8192]:
        raise InputError(where, "binary file (NUL bytes), not text")
    text: str | None = None
    for encoding in (declared or "", "utf-8"):
        if not encoding:
            continue
        try:
            text = data.decode(encoding)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        matches = from_bytes(data[:1_000_000])
        best = matches.best()
        if best is not None:
            # Single-byte code pages often tie; windows-1252 is by far the
            # commonest on the web, so it wins a tie.
            tied = [m for m in matches if m.chaos == best.chaos and m.coherence == best.coherence]
            best = next((m for m in tied if m.encoding == "cp1252"), best)
        # chaos measures how garbled the decoded text looks (0 = clean); bytes
        # that only decode into noise are not text in any encoding.
        if best is None or best.chaos > MAX_CHAOS:
            raise InputError(where, "undecodable: not valid UTF-8 and no known encoding fits")
        try:
            text = data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(where, f"undecodable: not valid UTF-8 nor {best.encoding}") from exc
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise InputError(where, "binary file (control characters), not text")
    return _nonempty(text, where)


def _nonempty(text: str, where: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(where, "empty file")
    return text


def read_bounded(path: Path, limit: int, where: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes; refuse pipes, devices, giants."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise InputError(where, "no such file") from exc
    except PermissionError as exc:
        raise InputError(where, "unreadable: permission denied") from exc
    except OSError as exc:
        raise InputError(where, f"unreadable: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(where, "not a regular file (a pipe, device or socket is never read)")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(where, f"unreadable: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(where, f"too large: over {limit} bytes")
    return data


def inflate_bound(compressed: int, cfg: IngestConfig) -> int:
    """Decompressed bytes a gzip stream of ``compressed`` bytes may give before it counts as a bomb.

    Text gzips to a third or a tenth of its size; a bomb (zeros, or one line
    repeated) to a thousandth. The bound is the lower of ``max_compression_ratio``
    times the compressed size (plus ``INFLATE_SLACK``) and ``max_decompressed_bytes``.
    """
    return int(min(cfg.max_decompressed_bytes, cfg.max_compression_ratio * compressed + INFLATE_SLACK))


class Inflated:
    """A gzip stream that raises ``InputError`` past ``bound`` decompressed bytes.

    gzip's own reader decompresses as much as it is asked for; counting what it
    gives stops a compression bomb at the bound instead of at the disk's or the
    memory's end. A corrupt or truncated stream is an ``InputError`` too.
    """

    def __init__(self, raw: BinaryIO, bound: int, where: str) -> None:
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self.bound, self.where, self.count = bound, where, 0

    def _take(self, read: Any, size: int) -> bytes:
        size = self.bound + 1 - self.count if size < 0 else size
        try:
            data: bytes = read(size)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise InputError(self.where, f"truncated or corrupt gzip: {detail}") from exc
        self.count += len(data)
        if self.count > self.bound:
            raise InputError(self.where, f"too large: decompresses to over {self.bound} bytes"
                             " (a compression bomb?); the rest is not read")
        return data

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` decompressed bytes (all, up to the bound, when negative)."""
        return self._take(self._gz.read, size)

    def readline(self, size: int = -1) -> bytes:
        """One decompressed line, of at most ``size`` bytes."""
        return self._take(self._gz.readline, size)

    def close(self) -> None:
        """Close the gzip reader and the stream under it."""
        self._gz.close()
        self._raw.close()

    def __enter__(self) -> Inflated:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_stream(stream: BinaryIO, limit: int, where: str) -> bytes:
    """At most ``limit`` bytes of a stream that may never end (a pipe); more is an ``InputError``."""
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise InputError(where, f"unreadable: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(where, f"too large: over {limit} bytes (standard input is not read"
                         " past the limit)")
    return data


def check_stdin_once(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Standard input can be read once: ``-`` named twice is a usage error, not a skip."""
    if sum(1 for p in paths if os.fspath(p) == STDIN) > 1:
        raise ConfigError("standard input (-) can be named only once")


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
        yield from _warc_records(io.BytesIO(data), STDIN_ID, STDIN_ID, cfg, seen, cfg.max_file_bytes)
    elif kind == "jsonl":
        yield from _jsonl_documents(_jsonl_lines(io.BytesIO(data), STDIN_ID, cfg), STDIN_ID,
                                    STDIN_ID, cfg, seen)
    else:
        try:
            yield _whole_document(data, kind, STDIN_ID, STDIN_ID, cfg, seen)
        except InputError as exc:
            yield Skipped(exc.path, exc.reason)


#: The name records given in memory are known by (``texts#ID``), as a file's are by its name.
TEXTS_ID = "texts"


def read_records(records: Iterable[str | Mapping[str, object]],
                 cfg: IngestConfig | None = None) -> Iterator[Document | Skipped]:
    """Documents from records in memory: a text, or a mapping with ``text`` or ``html`` and
    optionally ``id``, ``outlet``, ``date``, ``url``, ``title``.

    Each is checked exactly as a JSON Lines line is (``jsonl_record``: the same fields,
    limits and errors), so a library caller and a file get the same documents; ids are
    ``texts#ID`` (``texts#N`` for the Nth record without one). A record that is not
    serialisable, or not a text or a mapping, is ``Skipped``.
    """
    cfg = cfg or IngestConfig()
    seen: set[str] = set()
    for n, record in enumerate(records, start=1):
        where = f"{TEXTS_ID}#{n}"
        try:
            if isinstance(record, str):
                record = {"text": record}
            if not isinstance(record, Mapping):
                raise InputError(where, f"expected a text or a mapping, got {type(record).__name__}")
            try:
                line = json.dumps(dict(record), ensure_ascii=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise InputError(where, f"not a JSON-like record: {exc}") from exc
            if len(line) > cfg.max_record_bytes:
                raise InputError(where, f"record of {len(line):,} bytes is over the limit of"
                                        f" {cfg.max_record_bytes:,}")
            yield jsonl_record(line, n, TEXTS_ID, TEXTS_ID, cfg, seen)
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


def read_paths(paths: Iterable[str | os.PathLike[str]],
               cfg: IngestConfig | None = None) -> Iterator[Document | Skipped]:
    """Read files and folders (recursively) into documents, in a stable order.

    In a folder, every entry that is not read (another type, a hidden file, a
    link out of the input folders) yields a ``Skipped`` record, as does a file
    named explicitly that cannot be read. ``-`` is standard input (``read_stdin``).

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
    paths = list(paths)
    check_stdin_once(paths)
    folders = input_folders(paths)
    for raw in paths:
        if os.fspath(raw) == STDIN:
            yield from read_stdin(getattr(sys.stdin, "buffer", None), cfg, seen)
            continue
        root = Path(raw)
        if not root.exists() and not root.is_symlink():
            yield Skipped(str(raw), "no such file or folder")
            continue
        if root.is_dir():
            for found in folder_files(root, folders, cfg.follow_links):
                if isinstance(found, Skipped):
                    yield found
                else:
                    yield from read_file(found[0], found[1], cfg, seen)
        else:
            yield from read_file(root, direct_id(root, cfg), cfg, seen)


def unique_id(doc_id: str, seen: set[str]) -> str:
    """``doc_id``, or ``doc_id~2``, ``~3``... when it is taken; the result is added to ``seen``."""
    candidate, n = doc_id, 1
    while candidate in seen:
        n += 1
        candidate = f"{doc_id}~{n}"
    seen.add(candidate)
    return candidate


def read_file(file: Path, rel: str, cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    """One file's documents (a JSON Lines or WARC file holds many), or why each was skipped.

    Shared with ``parallel``'s workers, which pass a ``seen`` that keeps each id as it is.
    """
    kind = kind_of(file.name)
    path = str(file)
    try:
        if kind is None:
            raise InputError(path, "unsupported file type (expected " + ", ".join(SUPPORTED) + ")")
        if kind == "jsonl":
            yield from _jsonl_documents(jsonl_lines(file, cfg), rel, path, cfg, seen)
        elif kind == "warc":
            yield from _read_warc(file, rel, cfg, seen)
        else:
            yield _whole_document(read_bounded(file, cfg.max_file_bytes, path), kind, rel, path, cfg, seen)
    except InputError as exc:
        log.info("skipped %s", exc)
        yield Skipped(exc.path, exc.reason)


def _whole_document(data: bytes, kind: str, rel: str, path: str, cfg: IngestConfig,
                    seen: set[str]) -> Document:
    """A text or HTML file's one document."""
    declared = _sniff_charset(data) if kind == "html" else None
    text = decode_bytes(data, path, declared)
    if kind == "html":
        return _html_document(unique_id(rel, seen), path, text, cfg)
    return Document(id=unique_id(rel, seen), path=path, text=text, kind="text")


def _sniff_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _html_document(doc_id: str, path: str, html: str, cfg: IngestConfig) -> Document:
    try:
        page = parse_html(html, cfg.max_html_depth)
    except (RecursionError, ValueError, AssertionError) as exc:
        raise InputError(path, f"malformed HTML: {type(exc).__name__}") from exc
    if not re.search(r"\w", page.text):
        raise InputError(path, "malformed or empty HTML: no visible text")
    meta = page.meta
    if "date" not in meta:
        found = _htmldate(html, meta.get("url"))
        if found:
            meta["date"], meta["date_source"] = found, "htmldate"
    return Document(id=doc_id, path=path, text=page.text, kind="html", blocks=page.blocks,
                   title=meta.get("title"), outlet=meta.get("outlet"),
                   outlet_source=meta.get("outlet_source"), url=meta.get("url"),
                   date=meta.get("date"), date_source=meta.get("date_source"),
                   author=meta.get("author"))


def _htmldate(html: str, url: str | None) -> str | None:
    """htmldate's publication date, when the page's own metadata gave none.

    Only its quick, structural search runs (no guessing from free text), and
    only the original publication date is asked for, never an update date.
    """
    from htmldate import find_date

    try:
        found = find_date(html, url=url, original_date=True, extensive_search=False,
                          outputformat="%Y-%m-%d")
    except Exception:
        return None
    return found if isinstance(found, str) else None


def jsonl_lines(file: Path, cfg: IngestConfig) -> Iterator[tuple[int, bytes] | Skipped]:
    """A JSON Lines file's non-blank lines as ``(line number, bytes)``, bounded (``_jsonl_lines``).

    A ``.gz`` file is inflated as it is read, within ``inflate_bound`` of its
    size. The parallel reader batches the same lines, so both read a file identically.
    """
    path = str(file)
    try:
        handle = _open_regular(file, path)
        if file.name.lower().endswith(".gz"):
            handle = Inflated(handle, inflate_bound(os.fstat(handle.fileno()).st_size, cfg), path)
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    with handle:
        yield from _jsonl_lines(handle, path, cfg)


def _jsonl_lines(handle: Any, path: str, cfg: IngestConfig) -> Iterator[tuple[int, bytes] | Skipped]:
    """The non-blank lines of a JSON Lines stream as ``(line number, bytes)``, bounded.

    A line over ``max_record_bytes`` is skipped (and the rest of it read past
    without keeping it); when no line end comes within twice that, the rest of
    the file is not read (a file with no newline, or an endless one, is not
    read to its end). Reading stops after ``max_records_per_file`` lines,
    and a file with no line at all is reported empty. A stream that fails
    midway (a gzip bomb, a corrupt gzip) ends with one ``Skipped``.
    """
    read_any = False
    try:
        for lineno in range(1, cfg.max_records_per_file + 1):
            line = handle.readline(cfg.max_record_bytes + 1)
            if not line:
                break
            if len(line) > cfg.max_record_bytes and not line.endswith(b"\n"):
                read_any = True
                passed = 0  # the rest of the line is read past, up to another limit's worth
                while line and not line.endswith(b"\n") and passed <= cfg.max_record_bytes:
                    line = handle.readline(1 << 20)
                    passed += len(line)
                if line and not line.endswith(b"\n"):  # no line end in sight: not JSON Lines
                    yield Skipped(f"{path}#{lineno}", f"too large: a line over {cfg.max_record_bytes}"
                                  " bytes, with no line end within twice that; the rest of the file"
                                  " is not read")
                    break
                yield Skipped(f"{path}#{lineno}", f"too large: a line over {cfg.max_record_bytes} bytes")
                continue
            if line.strip():
                read_any = True
                yield lineno, line
        else:
            more = handle.readline(1 << 16)
            while more and not more.strip():  # blank lines after the last record are not records
                more = handle.readline(1 << 16)
            if more:
                yield Skipped(path, f"stopped after {cfg.max_records_per_file} records")
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    if not read_any:
        yield Skipped(path, "empty file")


def _jsonl_documents(lines: Iterable[tuple[int, bytes] | Skipped], rel: str, path: str,
                     cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    for item in lines:
        if isinstance(item, Skipped):
            yield item
            continue
        lineno, line = item
        try:
            yield jsonl_record(line, lineno, rel, path, cfg, seen)
        except InputError as exc:
            yield Skipped(exc.path, exc.reason)


def _open_regular(file: Path, path: str) -> Any:
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise InputError(path, "no such file") from exc
    except OSError as exc:
        raise InputError(path, f"unreadable: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(path, "not a regular file (a pipe, device or socket is never read)")
    return os.fdopen(fd, "rb")


def _field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def jsonl_record(line: bytes, lineno: int, rel: str, path: str, cfg: IngestConfig,
                 seen: set[str]) -> Document:
    where = f"{path}#{lineno}"
    try:
        text_line = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"invalid UTF-8 at byte {exc.start} (JSON Lines must be UTF-8)") from exc
    try:
        record = json.loads(text_line)
    except RecursionError as exc:
        raise InputError(where, "malformed JSON: nested too deeply") from exc
    except ValueError as exc:
        raise InputError(where, f"malformed JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise InputError(where, "malformed record: expected a JSON object")
    rec_id = _field(record, "id") or str(lineno)
    doc_id = unique_id(f"{rel}#{rec_id}", seen)
    where = f"{path}#{rec_id}"
    date_raw = _field(record, "date")
    fields: dict[str, Any] = {
        "url": _field(record, "url"), "title": _field(record, "title"),
        "outlet": _field(record, "outlet"), "outlet_source": "jsonl" if _field(record, "outlet") else None,
        "date": parse_date(date_raw) if date_raw else None,
        "date_source": "jsonl" if date_raw and parse_date(date_raw) else None,
    }
    html, text = record.get("html"), record.get("text")
    if isinstance(html, str) and html.strip():
        doc = _html_document(doc_id, where, _nonempty(html, where), cfg)
        for key, value in fields.items():
            if value is not None:  # the dump's own fields win over page metadata
                setattr(doc, key, value)
        return doc
    if isinstance(text, str) and text.strip():
        return Document(id=doc_id, path=where, text=_nonempty(text, where), kind="text", **fields)
    raise InputError(where, "record has no non-empty 'text' or 'html' string")


def _host_outlet(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


#: WARC record types that hold a document: a crawled page, or its text (Common Crawl's WET).
DOCUMENT_RECORDS = ("response", "conversion")


def _read_warc(file: Path, rel: str, cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    path = str(file)
    try:
        handle = _open_regular(file, path)
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    with handle:
        bound = inflate_bound(os.fstat(handle.fileno()).st_size, cfg)
        yield from _warc_records(handle, rel, path, cfg, seen, bound)


def _warc_records(handle: Any, rel: str, path: str, cfg: IngestConfig, seen: set[str],
                  bound: int) -> Iterator[Document | Skipped]:
    """The documents of a WARC (or WET) stream: HTML ``response`` and plain-text ``conversion`` records.

    They are numbered together from 1 (``rel#N``). A record whose block is over
    ``max_record_bytes`` is passed over unread (``_pass_over``); in a gzipped
    stream, records whose blocks add up to more than ``bound`` stop the file
    (a compression bomb).
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    if not _looks_like_warc(handle):
        yield Skipped(path, "not a WARC file (it does not start with a WARC/ or ARC header)")
        return
    gzipped = handle.read(2) == GZIP_MAGIC
    handle.seek(0)
    records = number = inflated = 0  # all records read; document records (their numbers)
    try:
        for record in ArchiveIterator(handle, arc2warc=True):
            records += 1
            if records > cfg.max_records_per_file:
                yield Skipped(path, f"stopped after {cfg.max_records_per_file} records")
                break
            inflated += record.length or 0
            if gzipped and inflated > bound:
                yield Skipped(path, f"too large: decompresses to over {bound} bytes (a compression"
                              f" bomb?); the rest is not read after record {records}")
                return
            item: Document | Skipped | None = None
            if record.rec_type in DOCUMENT_RECORDS:
                number += 1
                item = _warc_document(record, number, rel, path, cfg, seen)
            if _pass_over(record):
                what = f" ({record.rec_type} #{number})" if record.rec_type in DOCUMENT_RECORDS else ""
                yield Skipped(path, f"truncated WARC: record {records}{what} ends early")
                return
            if item is not None:
                yield item
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, Exception) as exc:
        # warcio and zlib raise a wide range of types on a truncated or
        # corrupt stream; any of them ends this file, not the run.
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        yield Skipped(path, f"truncated or malformed WARC after {records} records: {detail}")
        return
    if not records:
        yield Skipped(path, "empty or not a WARC file: no records")


def _looks_like_warc(handle: Any) -> bool:
    """True when the stream starts like a WARC or ARC file (gzipped or not); rewinds it.

    warcio also reads the old ARC format, whose header is any line with
    spaces, so a text file named .warc would otherwise yield made-up records.
    """
    head = handle.read(2)
    handle.seek(0)
    try:
        if head == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=handle) as gz:
                start = gz.read(16)
        else:
            start = handle.read(16)
    except (OSError, EOFError, zlib.error):
        start = b""
    handle.seek(0)
    return start.startswith((b"WARC/", b"filedesc://"))


def _pass_over(record: Any) -> bool:
    """Pass over what is left of a record's block, keeping none of it; True when the stream ends first.

    In an uncompressed stream the block is seeked past: what warcio has
    buffered is dropped and the file moved on, so a record of gigabytes costs
    nothing. warcio offers no skip of its own, so this relies on its reader
    layout (a ``LimitReader`` over a ``DecompressingBufferedReader`` over the
    file); anything else, and every gzipped stream, is read through in
    ``DISCARD_CHUNK`` pieces that are dropped as they come.
    """
    from warcio.bufferedreaders import DecompressingBufferedReader
    from warcio.limitreader import LimitReader

    raw = record.raw_stream
    reader: Any = getattr(raw, "stream", None)
    if (type(raw) is LimitReader and type(reader) is DecompressingBufferedReader
            and reader.decompressor is None and raw.limit > DISCARD_CHUNK):
        span = _seekable_span(reader.stream)
        if span is not None:
            here, end = span
            buffered = min(reader.rem_length(), raw.limit)
            reader.read(buffered)  # only what is buffered: nothing new is read
            raw.limit -= buffered
            jump = min(raw.limit, end - here)
            reader.stream.seek(here + jump)
            raw.limit -= jump
            return bool(raw.limit)
    while raw.read(DISCARD_CHUNK):
        pass
    return bool(getattr(raw, "limit", 0))


def _seekable_span(fh: Any) -> tuple[int, int] | None:
    """``(position, size)`` of a seekable stream, left where it was; None when it cannot seek."""
    try:
        here = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return int(here), int(end)


def _warc_document(record: Any, number: int, rel: str, path: str, cfg: IngestConfig,
                   seen: set[str]) -> Document | Skipped:
    """A ``response`` (HTML) or ``conversion`` (text) record's document, or why it is skipped.

    A block over ``max_record_bytes`` is judged by its length and never read
    here; the payload is read up to the limit (it may be larger than the block
    once HTTP's chunking or compression is undone).
    """
    where = f"{path}#{number}"
    if getattr(record.raw_stream, "limit", 0) > cfg.max_record_bytes:
        return Skipped(where, f"too large: over {cfg.max_record_bytes} bytes")
    if record.rec_type == "conversion":
        ctype = (record.rec_headers.get_header("Content-Type") or "text/plain").lower()
    elif record.http_headers is not None:
        ctype = (record.http_headers.get_header("Content-Type") or "").lower()
    else:
        ctype = ""
    mime = ctype.split(";")[0].strip()
    if record.rec_type == "conversion":
        if mime != "text/plain":
            return Skipped(where, f"not a plain-text conversion ({mime})")
    elif mime and mime not in ("text/html", "application/xhtml+xml"):
        return Skipped(where, f"not an HTML response ({mime})")
    data = record.content_stream().read(cfg.max_record_bytes + 1)
    if len(data) > cfg.max_record_bytes:
        return Skipped(where, f"too large: over {cfg.max_record_bytes} bytes")
    declared = None
    if "charset=" in ctype:
        declared = ctype.split("charset=")[1].split(";")[0].strip(" \"'")
    try:
        if record.rec_type == "conversion":  # Common Crawl writes its extracted text as UTF-8
            text = decode_bytes(data, where, declared or "utf-8")
            doc = Document(id=unique_id(f"{rel}#{number}", seen), path=where, text=text, kind="text")
        else:
            html = decode_bytes(data, where, declared or _sniff_charset(data))
            doc = _html_document(unique_id(f"{rel}#{number}", seen), where, html, cfg)
    except InputError as exc:
        return Skipped(exc.path, exc.reason)
    url = record.rec_headers.get_header("WARC-Target-URI")
    if url:
        doc.url = doc.url or url
        if doc.outlet is None and (host := _host_outlet(url)):
            doc.outlet, doc.outlet_source = host, "warc target host"
    warc_date = record.rec_headers.get_header("WARC-Date")
    if warc_date:
        doc.crawl_date = parse_date(warc_date)
    return doc

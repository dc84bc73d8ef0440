"""Bytes in, text out, within limits: bounded reads, gzip inflated under a bomb bound, and
text decoded by its byte-order mark, its declared charset or detection (``charset_normalizer``).

Only regular files are opened (a pipe or a device would never end); every failure is an
``InputError`` naming the file and the reason, which ingest turns into a ``Skipped`` record.
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import stat
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from .config import IngestConfig
from .errors import InputError

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


def decode_bytes(data: bytes, where: str, declared: str | None = None) -> str:
    """Decode scraped bytes, detecting the encoding; newlines become ``\\n``.

    Raises:
        InputError: empty, binary or undecodable data.
    """
    if not data.strip():
        return nonempty("", where)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return nonempty(data.decode(encoding), where)
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
        from charset_normalizer import from_bytes  # here: most text is UTF-8 (5 ms of a start)

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
    return nonempty(text, where)


def nonempty(text: str, where: str) -> str:
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


def sniff_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def open_regular(file: Path, path: str) -> Any:
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

"""Scraped names and text, made safe for the place they are printed.

File names and ids come from crawls: a name may hold a newline (which would start a new
``::error`` workflow command, or a forged ``skipped:`` line), control characters (which make
XML ill-formed), or a right-to-left override (which makes ``gpj.exe`` read as ``exe.jpg``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

#: The bidirectional marks, overrides, embeddings and isolates.
_BIDI_CHARS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: C0 and C1 controls, DEL, and the bidirectional characters.
_UNPRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CHARS}]")
#: What XML 1.0 cannot hold at all (tab, newline and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Bidirectional controls only: running text keeps its line breaks.
_BIDI = re.compile(f"[{_BIDI_CHARS}]")


def _escaped(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """``text`` on one line with every control and bidirectional character shown escaped
    (``\\n``, ``\\x1b``, ``\\u202e``): for stderr lines and names in reports."""
    return _UNPRINTABLE.sub(_escaped, text)


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids shown escaped (``\\x00``...)."""
    return _NOT_XML.sub(_escaped, text)


def no_bidi(text: str) -> str:
    """``text`` with bidirectional controls shown escaped, line breaks kept (HTML bodies)."""
    return _BIDI.sub(_escaped, text)


def xml_document(root: ET.Element) -> str:
    """An XML document of ``root``, every text and attribute made ``xml_safe`` first, so that a
    name with a control character never makes the file ill-formed."""
    for element in root.iter():
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
        for key, value in element.attrib.items():
            element.set(key, xml_safe(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

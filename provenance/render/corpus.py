"""The cleaned corpus as files (``provenance clean``): a folder of cleaned texts, each with its
audit beside it, and a manifest; or JSON Lines of ``{id, text, removed}``."""

from __future__ import annotations

import json
from pathlib import Path

from ..records import CleanDoc, Skipped
from ..version import __version__
from .output import MANIFEST, WRITTEN_BY, AtomicFolder, safe_relpath
from .report import canonical_json, document_dict


def jsonl_line(c: CleanDoc) -> str:
    """One cleaned document as ``clean --format jsonl`` writes it."""
    return json.dumps({"id": c.doc.id, "text": c.text, "removed": document_dict(c)["removed"]},
                      ensure_ascii=False, sort_keys=True) + "\n"


def write_corpus(out: Path, survivors: list[CleanDoc], skipped: list[Skipped],
                  dropped: dict[str, dict[str, object]], run_params: dict[str, object],
                  jsonl: bool = False) -> None:
    """The cleaned corpus as a new folder, written whole or not at all (``AtomicFolder``): each
    document's text and its audit (every removed span, its reason and text), ``cleaned.jsonl``
    with ``jsonl``, ``dedup.json`` (what ``clean --dedup`` dropped), and a manifest."""

    folder = AtomicFolder(out)
    try:
        taken: set[str] = {MANIFEST, "dedup.json", "cleaned.jsonl"}
        entries = []
        for c in survivors:
            rel = safe_relpath(c.doc.id, taken)
            # beside the text, unless an earlier id made a folder of that name ("x.audit.json/y")
            audit_rel = safe_relpath(rel[: -len(".txt")], taken, ".audit.json")
            folder.write(rel, c.text)
            audit = document_dict(c)
            audit["removed_text"] = [c.doc.text[r.start:r.end] for r in c.removed]
            folder.write(audit_rel, canonical_json(audit))
            entries.append({"id": c.doc.id, "text": rel, "audit": audit_rel})
        if jsonl:
            folder.write("cleaned.jsonl", "".join(jsonl_line(c) for c in survivors))
        if dropped:
            folder.write("dedup.json", canonical_json(dropped))
        manifest = {WRITTEN_BY[0]: WRITTEN_BY[1], "version": __version__, "params": run_params,
                    "documents": entries,
                    "dropped": sorted(dropped),
                    "skipped": [{"path": s.path, "reason": s.reason} for s in skipped]}
        folder.write(MANIFEST, canonical_json(manifest))
        folder.commit()
    except BaseException:
        folder.abort()
        raise

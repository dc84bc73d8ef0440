"""``clean --out``'s folder (``render.corpus.write_corpus``): every document's text and audit
get a file of their own, whatever the ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.records import CleanDoc, Document
from provenance.render.corpus import write_corpus


def _doc(doc_id: str, text: str) -> CleanDoc:
    return CleanDoc(Document(doc_id, doc_id, text, "text"), [(0, len(text))], [], text)


@pytest.mark.parametrize("ids", [["d.jsonl#y.audit.json/inner", "d.jsonl#y"],
                                 ["d.jsonl#y", "d.jsonl#y.audit.json/inner"],
                                 ["Y.AUDIT.JSON/inner", "y"],
                                 ["y.audit.json~2/x", "y.audit.json/x", "y"]])
def test_an_id_naming_a_folder_like_another_documents_audit(tmp_path: Path, ids: list[str]) -> None:
    # The folder of "y.audit.json/inner" and the audit of "y" had one name: IsADirectoryError.
    docs = [_doc(i, f"text number {k}") for k, i in enumerate(ids)]
    out = tmp_path / "out"
    write_corpus(out, docs, [], {}, {})
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["documents"]
    assert [e["id"] for e in entries] == ids
    names = [e[k] for e in entries for k in ("text", "audit")]
    assert len({n.lower() for n in names}) == len(names)
    for k, e in enumerate(entries):
        assert (out / e["text"]).read_text(encoding="utf-8") == f"text number {k}"
        assert json.loads((out / e["audit"]).read_text(encoding="utf-8"))["id"] == ids[k]

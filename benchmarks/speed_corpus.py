"""Build (once) and cache the speed benchmark's corpus: N documents as JSON Lines plus the planted copies.

``python benchmarks/speed_corpus.py 100000 --work /tmp/provenance-bench`` writes
``cN/corpus.jsonl`` and ``cN/planted.json``; ``speed.py`` calls ``ensure_corpus``.
The documents come from ``corpus.build_corpus`` (real BBC News sentences,
10 % planted copies of five kinds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import build_corpus, planted, write_jsonl

DUP_RATE = 0.1
SEED = 1


def ensure_corpus(n: int, work: Path) -> tuple[Path, Path]:
    """The corpus and planted-copies files for ``n`` documents, built if missing."""
    folder = work / f"c{n}"
    corpus, plants = folder / "corpus.jsonl", folder / "planted.json"
    if not (corpus.exists() and plants.exists()):
        docs = build_corpus(n, seed=SEED, dup_rate=DUP_RATE)
        write_jsonl(docs, corpus.with_suffix(".tmp"))
        corpus.with_suffix(".tmp").rename(corpus)
        plants.write_text(json.dumps(planted(docs)), encoding="utf-8")
    return corpus, plants


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("docs", type=int, nargs="+")
    parser.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    args = parser.parse_args()
    for n in args.docs:
        sys.stdout.write(" ".join(map(str, ensure_corpus(n, args.work))) + "\n")

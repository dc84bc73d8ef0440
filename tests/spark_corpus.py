"""A generated corpus for comparing the Spark engine with the local one (``test_spark``), and
what the Spark tests share: their skip mark and their Spark context.

Seeded, so the same ``n`` always gives the same files. Real sentences (the seed texts of
``samples/``) mixed with made-up words, across a dozen outlets, each with its own footer line
(a template the template stage must learn per outlet), quotations (some left unclosed, which
once made a text's fingerprints depend on the texts signed beside it), and planted copies:
exact, lightly edited, and passages lifted into other documents. Written as several kinds
of input, with repeated ids and bad inputs among them:

* ``a/corpus.jsonl``: most documents; ``a/more.jsonl.gz``: some, gzipped;
* ``b/NNN.txt`` and ``b/NNN.html``: a few dozen as files;
* ``bad.jsonl`` (a malformed line, a record without text), ``broken.jsonl.gz`` (truncated
  gzip), ``image.png`` (an unsupported type).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import SEEDS

OUTLETS = [f"{a} {b}" for a in ("Northgate", "Westfield", "Crown", "Beacon") for b in ("Post", "Courier", "Herald")]


def _words(rng: random.Random) -> list[str]:
    seed_words = re.findall(r"[A-Za-z']+", " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))))
    made = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(1, 3)))
            for _ in range(4000)]
    return seed_words + made


def _sentence(rng: random.Random, words: list[str]) -> str:
    s = " ".join(rng.choice(words) for _ in range(rng.randint(8, 20)))
    s = s[0].upper() + s[1:] + "."
    roll = rng.random()
    if roll < 0.1:
        return f'"{s}" said {rng.choice(words).title()}.'
    if roll < 0.13:
        return f'"{s}'  # a quotation left open
    return s


def _text(rng: random.Random, words: list[str]) -> str:
    return "\n\n".join(" ".join(_sentence(rng, words) for _ in range(rng.randint(2, 5)))
                       for _ in range(rng.randint(2, 7)))


def _edit(rng: random.Random, text: str, words: list[str]) -> str:
    tokens = text.split(" ")
    for _ in range(max(1, len(tokens) // 40)):
        tokens[rng.randrange(len(tokens))] = rng.choice(words)
    return " ".join(tokens)


def build(n: int, seed: int = 15) -> list[dict[str, str]]:
    """``n`` documents (``id``, ``text``, ``title``, ``outlet``, ``date``, ``url``)."""
    rng = random.Random(seed)
    words = _words(rng)
    docs: list[dict[str, str]] = []
    for k in range(n):
        outlet = rng.choice(OUTLETS)
        date = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        roll = rng.random()
        if docs and roll < 0.06:
            text = rng.choice(docs)["text"].split("\n\nWeekend edition")[0]
        elif docs and roll < 0.12:
            text = _edit(rng, rng.choice(docs)["text"].split("\n\nWeekend edition")[0], words)
        elif docs and roll < 0.18:
            source = rng.choice(docs)["text"].split("\n\n")
            own = _text(rng, words).split("\n\n")
            own.insert(rng.randrange(len(own) + 1), rng.choice(source))
            text = "\n\n".join(own)
        else:
            text = _text(rng, words)
        if rng.random() < 0.8:
            text += f"\n\nWeekend edition of the {outlet}."
        doc_id = f"doc{k:05d}" if rng.random() > 0.01 else "doc00000"  # a few repeated ids
        docs.append({"id": doc_id, "text": text, "title": f"Story {k}", "outlet": outlet, "date": date,
                     "url": f"https://{outlet.lower().replace(' ', '')}.example/{k}"})
    return docs


def write(folder: Path, n: int, seed: int = 15) -> Path:
    """The corpus of ``n`` documents as files under ``folder`` (see the module's docstring)."""
    docs = build(n, seed)
    files = max(1, min(40, n // 20))
    as_files, gzipped, rest = docs[:files], docs[files:files + n // 5], docs[files + n // 5:]
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    with (folder / "a" / "corpus.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(d) + "\n" for d in rest)
    with gzip.open(folder / "a" / "more.jsonl.gz", "wt", encoding="utf-8") as zipped:
        zipped.writelines(json.dumps(d) + "\n" for d in gzipped)
    for k, d in enumerate(as_files):
        if k % 2:
            paragraphs = "".join(f"<p>{p}</p>" for p in d["text"].split("\n\n"))
            (folder / "b" / f"{k:03d}.html").write_text(
                f"<html><head><title>{d['title']}</title></head><body><nav>Home | News | Sport</nav>"
                f"<article><h1>{d['title']}</h1>{paragraphs}</article></body></html>", encoding="utf-8")
        else:
            (folder / "b" / f"{k:03d}.txt").write_text(d["text"], encoding="utf-8")
    (folder / "bad.jsonl").write_text('{"id": "x", "text": "fine enough words here"}\n{not json\n{"id": "y"}\n',
                                      encoding="utf-8")
    whole = gzip.compress(b"".join(json.dumps(d).encode() + b"\n" for d in docs[:5]))
    (folder / "broken.jsonl.gz").write_bytes(whole[:len(whole) // 2])
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


try:
    import pyspark  # noqa: F401

    HAVE_PYSPARK = True
except ImportError:
    HAVE_PYSPARK = False
HAVE_JAVA = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))

#: The Spark tests' mark: they run where pyspark and Java are, and say why they skip elsewhere.
NEEDS_SPARK = pytest.mark.skipif(not (HAVE_PYSPARK and HAVE_JAVA),
                                 reason="the Spark engine needs pyspark and Java 17 ('provenance[spark]';"
                                        " .ci/run installs both)")


def spark_tests_context() -> Iterator[Any]:
    """A local[2] Spark context for one test module, stopped after it."""
    from provenance.spark_engine import spark_context

    context = spark_context("local[2]", "provenance tests")
    yield context
    context.stop()

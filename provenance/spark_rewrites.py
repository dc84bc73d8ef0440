"""The rewrite stage (``derive``) as Spark stages: the ``pipeline.Backend`` steps
``reuse_candidates`` and ``rewrites``, calling ``derive``'s and ``lineage``'s own functions on the
executors, so the derivations are the local engine's whatever the partitioning.

* **Reuse candidates** (``derive.reuse_candidates``). The reuse fingerprints, as keys
  ``fingerprint << 32 | owner``, are shuffled by fingerprint (as ``derive._shared_counts`` splits
  them into parts on one machine): a part holds every owner of its fingerprints, made distinct,
  counts each owner's fingerprints and makes the pairs they share (``derive.pair_codes``). The
  pairs are shuffled by their first owner and counted there, and kept where
  ``derive.enough_shared`` holds (the owners' fingerprint counts summed over the parts and
  broadcast). Each owner keeps the pairs it shares most with, on each side apart
  (``derive.top_of``): the first side is ranked where the counting left the pairs, the second
  after a shuffle by the second owner. The driver turns the kept owner pairs into document
  pairs (``derive.speakers_pairs``: a lookup and a sort of the candidates).
* **Rewrites** (``pipeline.find_rewrites``). The driver indexes the fingerprints signing gave it
  by document (``fingerprints.Fingerprints.of``) and sends shares of the candidate pairs, each
  with the fingerprints and the documents it names (``Fingerprints.share``): a share is measured
  (``derive.measure_share``) and attributed (``lineage.attribute_derivation``) on an
  executor. Wire siblings: each derivation and group says which documents were written from
  which agency copies (``lineage.wire_sources``); that is shuffled by document, joined with the
  derivations naming the document, and each derivation is unhooked where it stands
  (``lineage.unhook_wire_sibling``) and given its verdict (``derive.decide_verdict``). Then
  ``derive.keep_best``, a global ranking: what a copy keeps depends on the derivations of that copy
  kept before, and a derivation with no origin has two copies, tying their counts together. So
  the copies tied that way are joined into components (``spark_lsh.component_labels``) and the
  derivations shuffled by their copies' component; ``keep_best`` per component keeps what it
  keeps over all of them, since no decision looks beyond its component. Last, shares of the kept
  derivations, each with its documents' fingerprints, are aligned (``derive.align``).

What stays on the driver: building ``Fingerprints`` from the arrays it holds (an index over
them by document) and the shares cut from it, the document pairs of the kept owner pairs, and
putting results back in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .arrays import run_starts, sorted_unique
from .config import Config, MatchConfig, VerifyConfig
from .derive import (
    align,
    copies,
    decide_verdict,
    enough_shared,
    keep_best,
    measure_share,
    pair_codes,
    share_of,
    speakers_pairs,
    top_of,
)
from .evidence import AuthorHomes
from .fingerprints import Fingerprints
from .lineage import attribute_derivation, unhook_wire_sibling, wire_sources
from .records import CleanDoc, Derivation, Group
from .runtime.diskarray import rows
from .signatures import SignedBatch
from .spark_families import Docs, corpus, plain_homes
from .spark_lsh import PAIRS_PER_SHARE, _width, component_labels

if TYPE_CHECKING:
    from pyspark import SparkContext

#: Fingerprint keys per slice sent to the executors.
KEYS_PER_SLICE = 1 << 20
#: Low 32 bits: an owner, in a key or a pair code.
LOW = 0xFFFFFFFF


def _split(values: np.ndarray, part: np.ndarray, parts: int) -> list[tuple[int, np.ndarray]]:
    """The rows of ``values`` by part number, each non-empty piece keyed by its part."""
    order = np.argsort(part, kind="stable")
    cuts = np.searchsorted(part[order], np.arange(parts + 1))
    return [(p, values[order[cuts[p]:cuts[p + 1]]]) for p in range(parts) if cuts[p + 1] > cuts[p]]


def _joined(items: Iterable[tuple[int, np.ndarray]]) -> np.ndarray | None:
    pieces = [v for _, v in items]
    return np.concatenate(pieces) if pieces else None


def _fingerprint_part(hub: Any, max_df: int, owners: int
                      ) -> Callable[..., Iterator[tuple[np.ndarray, list[np.ndarray]]]]:
    """Executor: one part's keys made distinct, each owner's fingerprints counted, their pairs made."""
    def run(items: Iterable[tuple[int, np.ndarray]]) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
        key = _joined(items)
        if key is None:
            return
        key.sort()
        key = key[run_starts(key)]
        yield np.bincount(key & LOW, minlength=owners), pair_codes(key, hub.value, max_df)
    return run


def _count_part(held: Any, match: MatchConfig, min_share: float, k: int) -> Any:
    """Executor: one part's pair codes (all of their first owners') counted and filtered; and
    the pairs its first owners rank among their ``k`` best."""
    def run(items: Iterable[tuple[int, np.ndarray]]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        codes = _joined(items)
        if codes is None:
            return
        codes, shared = sorted_unique(codes)
        keep = enough_shared(codes, shared, held.value, match, min_share)
        codes, shared = codes[keep], shared[keep]
        yield codes, shared, codes[top_of(codes >> 32, codes & LOW, shared, k)]
    return run


def _second_side(k: int) -> Callable[[Iterable[tuple[int, np.ndarray]]], Iterator[np.ndarray]]:
    def run(items: Iterable[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
        got = _joined(items)
        if got is not None:
            codes, shared = got[:, 0], got[:, 1]
            yield codes[top_of(codes & LOW, codes >> 32, shared, k)]
    return run


def reuse_candidates(sc: SparkContext, partitions: int, signed: SignedBatch, owner: np.ndarray,
                     match: MatchConfig, speaker: np.ndarray | None = None, min_share: float = 0.0,
                     hub: np.ndarray | None = None) -> np.ndarray:
    """``derive.reuse_candidates`` as Spark stages (see the module's docstring)."""
    n = len(signed.doc_values)
    if n < 2 or not len(signed.f_hash):
        return np.empty((0, 2), dtype=np.int64)
    slices = []
    for lo in range(0, len(signed.f_hash), KEYS_PER_SLICE):
        hi = min(lo + KEYS_PER_SLICE, len(signed.f_hash))
        key = rows(signed.f_hash, lo, hi).astype(np.int64) << 32
        slices.append(key | owner[rows(signed.f_doc, lo, hi)])
    parts = _width(len(signed.f_hash), partitions)
    k = match.reuse_max_candidates
    shipped = sc.broadcast(hub)
    found = (sc.parallelize(slices, len(slices))
             .flatMap(lambda key: _split(key, (key >> 32) % parts, parts))
             .partitionBy(parts, lambda p: p)
             .mapPartitions(_fingerprint_part(shipped, match.reuse_max_df, int(owner.max()) + 1))
             .persist())
    held = None
    try:
        held_by = found.map(lambda f: f[0]).reduce(np.add)
        held = sc.broadcast(held_by)

        def by_first(f: tuple[np.ndarray, list[np.ndarray]]) -> list[tuple[int, np.ndarray]]:
            codes = np.concatenate([np.empty(0, dtype=np.int64), *f[1]])  # a part may make no pair
            return _split(codes, (codes >> 32) % parts, parts)

        counted = (found.flatMap(by_first).partitionBy(parts, lambda p: p)
                   .mapPartitions(_count_part(held, match, min_share, k)).persist())
        second = (counted.flatMap(lambda c: _split(np.stack([c[0], c[1]], axis=1), (c[0] & LOW) % parts,
                                                   parts))
                  .partitionBy(parts, lambda p: p).mapPartitions(_second_side(k)))
        kept = counted.map(lambda c: c[2]).union(second).collect()
        counted.unpersist()
    finally:
        found.unpersist()
        shipped.unpersist()
        if held is not None:
            held.unpersist()
    ranked = np.unique(np.concatenate([np.empty(0, dtype=np.int64), *kept]))
    return speakers_pairs(ranked >> 32, ranked & LOW, owner, speaker, n)


# --- the rewrite stage ----------------------------------------------------------------------


Record = tuple[tuple[int, int], Derivation, Docs]  # (its place: share, number), the derivation, its documents


def _measure(config: Config, homes: Any) -> Callable[..., list[Record]]:
    """Executor: a share of candidate pairs measured and the derivations attributed."""
    def run(share: tuple[int, Fingerprints, np.ndarray, np.ndarray, Docs]) -> list[Record]:
        number, fp, pairs, docs, texts = share
        out = []
        for j, d in enumerate(measure_share(fp, docs, pairs, config)):
            d = attribute_derivation(d, corpus(texts), homes.value)
            out.append(((number, j), d, {d.a: texts[d.a], d.b: texts[d.b]}))
        return out
    return run


def _sources(item: tuple[list[Derivation], list[Group], Docs]) -> list[tuple[int, tuple[int, CleanDoc]]]:
    """Executor: ``lineage.wire_sources`` of some derivations or groups, by document, with the
    agency copies' documents."""
    ds, gs, docs = item
    return [(copy, (src, docs[src])) for copy, srcs in wire_sources(ds, gs, corpus(docs)).items()
            for src in sorted(srcs)]


def _unhook(cfg: VerifyConfig) -> Callable[..., Record]:
    """Executor: a derivation unhooked from a wire sibling (given its documents' wire sources),
    then given its verdict."""
    def run(kv: tuple[tuple[int, int], tuple[Iterable[tuple[Derivation, Docs]],
                                             Iterable[tuple[int, list[tuple[int, CleanDoc]]]]]]) -> Record:
        place, (mine, sent) = kv
        d, docs = next(iter(mine))
        wired: dict[int, set[int]] = {}
        texts = dict(docs)
        for doc, sources in sent:
            wired[doc] = {src for src, _ in sources}
            texts.update(sources)
        unhook_wire_sibling(d, wired, corpus(texts))
        return place, decide_verdict(d, cfg), docs
    return run


def _keep_best(per_copy: int) -> Callable[..., list[tuple[tuple[int, int], Derivation]]]:
    """Executor: ``derive.keep_best`` over one component's derivations, in their order."""
    def run(kv: tuple[Any, Iterable[Record]]) -> list[tuple[tuple[int, int], Derivation]]:
        mine = sorted(kv[1], key=lambda r: r[0])
        docs = {x: c for _, _, ds in mine for x, c in ds.items()}
        kept = {id(d) for d in keep_best([r[1] for r in mine], corpus(docs), per_copy)}
        return [(r[0], r[1]) for r in mine if id(r[1]) in kept]
    return run


def _align(share: tuple[Fingerprints, list[Derivation], list[CleanDoc]]) -> list[list[Any]]:
    """Executor: a share of derivations (its documents numbered as in its fingerprints) aligned."""
    fp, ds, texts = share
    align(texts, fp, ds)
    return [d.sentences for d in ds]


def _align_shares(fp: Fingerprints, derivations: Sequence[Derivation], cleaned: Sequence[CleanDoc]
                  ) -> list[tuple[Fingerprints, list[Derivation], list[CleanDoc]]]:
    shares = []
    for lo in range(0, len(derivations), PAIRS_PER_SHARE):
        mine = derivations[lo:lo + PAIRS_PER_SHARE]
        docs = np.unique([x for d in mine for x in (d.a, d.b)])
        at = {int(x): k for k, x in enumerate(docs)}
        shares.append((fp.share(docs), [replace(d, a=at[d.a], b=at[d.b], sentences=[]) for d in mine],
                       [cleaned[int(x)] for x in docs]))
    return shares


def rewrites(sc: SparkContext, partitions: int, signed: SignedBatch, reuse: np.ndarray,
             cleaned: Sequence[CleanDoc], groups: Sequence[Group], homes: AuthorHomes, config: Config,
             progress: Callable[[int], None] | None = None) -> list[Derivation]:
    """``pipeline.find_rewrites`` as Spark stages (see the module's docstring)."""
    if not len(reuse):
        return []
    fp = Fingerprints.of(signed, config.verify.derive_quote_weight, docs=np.unique(reuse))
    shares = []
    for number, lo in enumerate(range(0, len(reuse), PAIRS_PER_SHARE)):
        share, docs, pairs = share_of(fp, reuse[lo:lo + PAIRS_PER_SHARE])
        shares.append((number, share, pairs, docs, {int(x): cleaned[int(x)] for x in docs}))
    width = _width(len(reuse), partitions)
    shipped = sc.broadcast(plain_homes(homes))
    cached: list[Any] = []
    try:
        measured = sc.parallelize(shares, len(shares)).flatMap(_measure(config, shipped)).persist()
        del shares
        cached.append(measured)
        stubs: list[tuple[list[Derivation], list[Group], Docs]] = [
            ([], [Group(members=g.members, pairs=[], origin=g.origin)], {g.origin: cleaned[g.origin]})
            for g in groups if g.origin is not None]
        wired = (measured.map(lambda r: ([r[1]], [], r[2])).union(sc.parallelize(stubs, width))
                 .flatMap(_sources).groupByKey(width))
        sent = (measured.flatMap(lambda r: [(r[1].a, r[0]), (r[1].b, r[0])]).join(wired, width)
                .map(lambda kv: (kv[1][0], (kv[0], list(kv[1][1])))))
        decided = (measured.map(lambda r: (r[0], (r[1], r[2]))).cogroup(sent, width)
                   .map(_unhook(config.verify)).filter(lambda r: r[1].verdict != "none").persist())
        cached.append(decided)
        tied = decided.map(lambda r: copies(r[1])).filter(lambda c: len(c) == 2).map(lambda c: (c[0], c[1]))
        labels, more = component_labels(tied, width)
        cached += more
        found = (decided.map(lambda r: (copies(r[1])[0], r)).leftOuterJoin(labels, width)
                 .map(lambda kv: (kv[0] if kv[1][1] is None else kv[1][1], kv[1][0]))
                 .groupByKey(width).flatMap(_keep_best(config.verify.derive_max_sources)).collect())
    finally:
        shipped.unpersist()
        for rdd in cached:
            rdd.unpersist()
    derivations = [d for _, d in sorted(found, key=lambda pd: pd[0])]
    if progress is not None:
        progress(len(reuse))
    to_align = _align_shares(fp, derivations, cleaned)
    if to_align:
        aligned = sc.parallelize(to_align, len(to_align)).flatMap(_align).collect()
        for d, sentences in zip(derivations, aligned, strict=True):
            d.sentences = sentences
    return derivations

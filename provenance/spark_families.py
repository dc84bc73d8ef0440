"""Attribution and passage families as Spark stages: the ``pipeline.Backend`` steps ``groups``'
attribution, ``attribute_matches`` and ``families``, calling ``lineage``'s and ``families``' own
record functions on the executors.

Each record travels with the documents it names (``CleanDoc``s, in a dict that stands for the
corpus: these functions only index it), and the authors' outlets (``evidence.AuthorHomes``) are
broadcast, so the executors weigh the same evidence the local engine does:

* **Groups**: ``lineage.attribute_group`` mapped over the groups, in order.
* **Matches**: ``lineage.collapse_matches`` keeps one match per passage and group. It looks at a
  match only beside the matches of the same bucket (an ungrouped document and a group it shares
  passages with), so the matches are shuffled by that key and collapsed per key (with the one
  group the key names); every kept match is then attributed (``lineage.attribute_match``) there,
  and the matches come back in their order.
* **Families**: the matches' sides are shuffled by document and cut into occurrences
  (``families.doc_occurrences``); the occurrences joined by matches are the families, found by
  the iterative join of ``spark_lsh.component_labels``; each family's occurrences, matches and
  documents are gathered by a shuffle on its label, and built on the executor
  (``families.family_of``: one occurrence per document, attribution, realignment with the
  origin, spanning tree). The driver only sorts the families (``families.first_occurrence``) and
  numbers them (``families.number_families``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from .config import VerifyConfig
from .evidence import AuthorHomes
from .families import Family, doc_occurrences, family_of, first_occurrence, number_families
from .lineage import attribute_group, attribute_match, collapse_matches
from .pipeline import realigner
from .records import CleanDoc, Group, PassageMatch
from .spark_lsh import _width, component_labels

if TYPE_CHECKING:
    from pyspark import SparkContext

#: Groups, matches or families per task of a map (each is weighed, or aligned, on its own).
RECORDS_PER_TASK = 2_000

Docs = dict[int, CleanDoc]


def plain_homes(homes: AuthorHomes) -> dict[str, dict[str, set[int]]]:
    """``homes`` as plain dicts, to broadcast: an ``AuthorHomes`` builds its levels with a lambda,
    which pickle cannot send. Read the same way (``evidence.byline_evidence`` only gets from it)."""
    return {author: dict(outlets) for author, outlets in homes.items()}


def corpus(docs: Docs) -> Sequence[CleanDoc]:
    """The documents a record carries, where the record functions take the corpus (they index it
    at those documents only)."""
    return cast(Sequence[CleanDoc], docs)


def _tasks(n: int, partitions: int) -> int:
    return max(1, min(partitions, -(-n // RECORDS_PER_TASK)))


def attribute_groups(sc: SparkContext, partitions: int, groups: Sequence[Group],
                     cleaned: Sequence[CleanDoc], homes: AuthorHomes) -> list[Group]:
    """``lineage.attribute_group`` for each group, on the executors, in order."""
    if not groups:
        return []
    shipped = sc.broadcast(plain_homes(homes))
    records = [(g, {m: cleaned[m] for m in g.members}) for g in groups]
    try:
        return (sc.parallelize(records, _tasks(len(records), partitions))
                .map(lambda r: attribute_group(r[0], corpus(r[1]), shipped.value)).collect())
    finally:
        shipped.unpersist()


def _bucket(m: PassageMatch, group_of: dict[int, int], k: int) -> tuple[int, int]:
    """The key ``lineage.collapse_matches`` buckets a match by (an ungrouped document, the group
    of the other), or one of its own (``(-1 - k, -1)``) for a match in no bucket."""
    for me, other in ((m.a, m.b), (m.b, m.a)):
        if other in group_of and me not in group_of:
            return me, group_of[other]
    return -1 - k, -1


def attribute_matches(sc: SparkContext, partitions: int, matches: Sequence[PassageMatch],
                      groups: Sequence[Group], cleaned: Sequence[CleanDoc],
                      homes: AuthorHomes) -> list[PassageMatch]:
    """``lineage.attributed_matches``: collapsed per bucket after a shuffle on it, then attributed."""
    if not matches:
        return []
    group_of = {m: g for g, group in enumerate(groups) for m in group.members}
    shipped = sc.broadcast((plain_homes(homes), group_of,
                            [Group(members=g.members, pairs=[], origin=g.origin) for g in groups]))
    records = [(k, m, {m.a: cleaned[m.a], m.b: cleaned[m.b]}) for k, m in enumerate(matches)]

    def collapse(kv: tuple[tuple[int, int], Iterable[tuple[int, PassageMatch, Docs]]]
                 ) -> list[tuple[int, PassageMatch]]:
        (_, g), items = kv
        home, _, stubs = shipped.value
        mine = sorted(items, key=lambda r: r[0])
        docs = {d: c for _, _, ds in mine for d, c in ds.items()}
        kept = {id(m) for m in (collapse_matches([r[1] for r in mine], [stubs[g]], corpus(docs))
                                if g >= 0 else [r[1] for r in mine])}
        return [(k, attribute_match(m, corpus(docs), home)) for k, m, _ in mine if id(m) in kept]

    width = _tasks(len(records), partitions)
    try:
        found = (sc.parallelize(records, width)
                 .map(lambda r: (_bucket(r[1], shipped.value[1], r[0]), r))
                 .groupByKey(width).flatMap(collapse).collect())
    finally:
        shipped.unpersist()
    return [m for _, m in sorted(found, key=lambda km: km[0])]


Node = tuple[int, int]  # (document, its occurrence's number in that document)


def _sides(km: tuple[int, PassageMatch]) -> list[tuple[int, tuple[Any, int, int]]]:
    """Match ``k``'s two sides, keyed by document (``families.Side``)."""
    k, m = km
    return [(m.a, (m.a_span, k, 0)), (m.b, (m.b_span, k, 1))]


def _occurrences_of(kv: tuple[int, Iterable[tuple[Any, int, int]]]) -> list[tuple[Node, Any, list[Any]]]:
    """A document's occurrences (``families.doc_occurrences``), numbered in span order."""
    return [((kv[0], j), span, held) for j, (span, held) in enumerate(doc_occurrences(list(kv[1])))]


def _two_ends(ends: Iterable[tuple[int, Node]]) -> tuple[Node, Node]:
    """A match's two occurrences, its side a's first."""
    (_, a), (_, b) = sorted(ends)
    return a, b


def _family(cfg: VerifyConfig, shipped: Any) -> Any:
    """Executor: one family built from what its label gathered (``families.family_of``)."""
    def build(kv: tuple[Node, Iterable[tuple[str, Any, Any]]]) -> tuple[Any, Node, Family, list[int]]:
        label, items = kv
        got = list(items)
        nodes = [(node[0], span) for node, span in sorted((x[1], x[2]) for x in got if x[0] == "node")]
        edges = sorted(((x[1], x[2]) for x in got if x[0] == "match"), key=lambda km: km[0])
        docs: Docs = {x[1]: x[2] for x in got if x[0] == "doc"}
        family = family_of(nodes, [m for _, m in edges], corpus(docs), shipped.value,
                           realigner(corpus(docs), cfg))
        return first_occurrence(nodes, corpus(docs)), label, family, [k for k, _ in edges]
    return build


def families(sc: SparkContext, partitions: int, matches: Sequence[PassageMatch],
             cleaned: Sequence[CleanDoc], homes: AuthorHomes,
             cfg: VerifyConfig) -> tuple[list[Family], list[PassageMatch]]:
    """``pipeline.passage_families`` (``families.build_families`` with realignment) as Spark stages."""
    if not matches:
        return [], []
    width = _width(2 * len(matches), partitions)
    indexed = sc.parallelize(list(enumerate(matches)), width).persist()
    occurrences = indexed.flatMap(_sides).groupByKey(width).flatMap(_occurrences_of).persist()
    ends = (occurrences.flatMap(lambda o: [(k, (side, o[0])) for k, side in o[2]])
            .groupByKey(width).mapValues(_two_ends).persist())
    labels, cached = component_labels(ends.values(), width)
    shipped = sc.broadcast(plain_homes(homes))
    try:
        node_items = (occurrences.map(lambda o: (o[0], o[1])).join(labels, width)
                      .map(lambda kv: (kv[1][1], ("node", kv[0], kv[1][0]))))
        match_items = (ends.map(lambda kv: (kv[1][0], kv[0])).join(labels, width)  # (node, (k, label))
                       .map(lambda kv: kv[1]).join(indexed, width)  # (k, (label, match))
                       .map(lambda kv: (kv[1][0], ("match", kv[0], kv[1][1]))))
        docs = sc.parallelize([(d, cleaned[d]) for d in sorted({x for m in matches for x in (m.a, m.b)})],
                              width)
        doc_items = (labels.map(lambda kv: (kv[0][0], kv[1])).distinct(width).join(docs, width)
                     .map(lambda kv: (kv[1][0], ("doc", kv[0], kv[1][1]))))
        built = (node_items.union(match_items).union(doc_items).groupByKey(width)
                 .map(_family(cfg, shipped)).collect())
    finally:
        shipped.unpersist()
        for rdd in [indexed, occurrences, ends, *cached]:
            rdd.unpersist()
    built.sort(key=lambda b: (b[0], b[1]))
    return number_families([(family, [matches[k] for k in ks]) for _, _, family, ks in built])

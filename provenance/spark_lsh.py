"""Spark stages of banding, verification and connected components: LSH as a shuffle on band keys,
verification of candidate pairs on executors, connected components as an iterative join.

``spark_backend.SparkBackend``'s steps use them (``pipeline.Backend`` entries, each taking and
returning what the local function does); they call the local engine's own record functions
(``match.bucket_pairs``, ``match.cap_pairs``, ``match.families``, ``verify.verify_documents``,
``verify.verify_passages``), so the candidates, the verified pairs and the groups are the local
engine's, whatever the partitioning:

* **Banding.** Every row (a document's or a passage's signature) is keyed by each of its
  bands, ``(band, the band's r hash values)``, and the keys are shuffled (``groupByKey``):
  a bucket is the rows that agree on a whole band, exactly ``match.equal_rows``'s groups
  (the key is the values themselves, so no hash collision can join two buckets). Each
  bucket's members are sorted into corpus order and paired as ``match.band_range`` pairs
  them (``bucket_pairs``: each member with at most ``cap`` members before it; rows of one
  owner dropped); crowded buckets (over ``crowd`` rows) go to ``match.families``. Pairs are
  made distinct, filtered by their signatures' agreement (a join with the values), and
  each row ``i`` keeps its ``cap`` smallest ``j`` (a ``groupByKey`` on ``i``). Capping the
  union of all bands' pairs at once keeps what ``band_range``'s incremental capping keeps
  (capping is idempotent and the cap of a union of caps is the cap of the union, the fact
  ``match.band_pairs_parallel`` rests on too).
* **Verification** runs on executors over shares of the sorted candidate pairs, each share
  with the documents it names; shares come back in order (``collect`` keeps partition order).
* **Groups** are the connected components of the verified pairs, by iterative min-label
  propagation: each document starts labelled by itself; each round, every node sends its
  label to its neighbours (a join of the edges with the labels) and keeps the least it holds
  or was sent (a cogroup of the labels with what was sent), until no label changes. A
  component's label is then its smallest member, the order ``lineage.build_groups`` gives
  groups in. At most the component's diameter in rounds (a chain of copies is rare; a star,
  the usual group, takes two).
  ``component_labels`` serves passage families and ``keep_best``'s ties too.

The signatures themselves come from the driver (it holds them, and the cleaned documents, for
the report: see ``spark_engine``), cut into slices of ``ROWS_PER_SLICE`` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .match import bucket_pairs, cap_pairs, families

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

#: Signature rows per slice sent to the executors for banding.
ROWS_PER_SLICE = 20_000
#: Candidate pairs per share of verification.
PAIRS_PER_SHARE = 2_000

Row = tuple[int, int, np.ndarray]  # (row, owner, values)


def _slices(values: Any, rows: np.ndarray, owner: np.ndarray | None) -> list[list[Row]]:
    """The rows to band, with their owner (the row itself when none) and values, in slices."""
    out = []
    for lo in range(0, len(rows), ROWS_PER_SLICE):
        at = rows[lo:lo + ROWS_PER_SLICE]
        vals = np.asarray(values.take(at) if hasattr(values, "subset") else values[at])
        own = at if owner is None else owner[at]
        out.append([(int(r), int(o), vals[k]) for k, (r, o) in enumerate(zip(at, own, strict=True))])
    return out


def _band_entries(b: int, r: int) -> Callable[[Row], Iterator[tuple[tuple[int, bytes], tuple[int, int]]]]:
    def entries(row: Row) -> Iterator[tuple[tuple[int, bytes], tuple[int, int]]]:
        number, owner, values = row
        for band in range(b):
            yield (band, values[band * r:(band + 1) * r].tobytes()), (number, owner)
    return entries


def _pairs_of(cap: int, has_owner: bool) -> Callable[[list[tuple[int, int]]], np.ndarray]:
    """A bucket's pairs ``(earlier, later)``, as ``match.band_range`` makes them."""
    def pairs(members: list[tuple[int, int]]) -> np.ndarray:
        members = sorted(members)
        order = np.array([m[0] for m in members], dtype=np.int64)
        found = bucket_pairs(order, np.array([0]), np.array([len(order)]), cap)
        if has_owner and len(found):
            owners = dict(members)
            keep = np.array([owners[int(a)] != owners[int(z)] for a, z in found], dtype=bool)
            found = found[keep]
        return found
    return pairs


def spark_band_pairs(sc: SparkContext, values: Any, rows: np.ndarray, b: int, r: int, cap: int,
                     owner: np.ndarray | None, agree: int, crowd: int, n: int,
                     partitions: int) -> np.ndarray:
    """``match.band_pairs`` over ``rows`` of ``values`` (row numbers kept), as Spark stages.

    Returns the ``(j, i)`` pairs, sorted, as ``match._kept`` returns them.
    """
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    slices = _slices(values, rows, owner)
    partitions = _width(len(rows) * b, partitions)
    source = sc.parallelize(slices, max(1, len(slices))).flatMap(lambda s: s)
    buckets = (source.flatMap(_band_entries(b, r))
               .groupByKey(partitions)
               .mapValues(list)
               .filter(lambda kv: len(kv[1]) > 1))
    buckets.persist()
    try:
        crowds = np.empty((0, 2), dtype=np.int64)
        if crowd > 0:
            crowded = sorted(buckets.filter(lambda kv: len(kv[1]) > crowd)
                             .map(lambda kv: sorted(m[0] for m in kv[1])).collect())
            if crowded:  # numbered in a fixed order: only which rows share a bucket matters
                crowds = np.array([(k, row) for k, members in enumerate(crowded) for row in members],
                                  dtype=np.int64)
            buckets = buckets.filter(lambda kv: len(kv[1]) <= crowd)
        make = _pairs_of(cap, owner is not None)
        pairs = buckets.flatMap(lambda kv: [(int(a), int(z)) for a, z in make(kv[1])]).distinct(partitions)
        if agree > 0:
            vals = source.map(lambda row: (row[0], row[2]))
            pairs = (pairs.join(vals, partitions)  # (j, (i, v_j))
                     .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
                     .join(vals, partitions)  # (i, ((j, v_j), v_i))
                     .filter(lambda kv: int(np.count_nonzero(kv[1][0][1] == kv[1][1])) >= agree)
                     .map(lambda kv: (kv[1][0][0], kv[0])))
        capped = (pairs.map(lambda p: (p[1], p[0])).groupByKey(partitions)
                  .flatMap(lambda kv: [(j, kv[0]) for j in sorted(kv[1])[:cap]]))
        found = np.array(capped.collect(), dtype=np.int64).reshape(-1, 2)
    finally:
        buckets.unpersist()
    if len(crowds):
        found = np.concatenate([found, families(crowds, owner)])
    found = cap_pairs(found, n, cap)
    return found[np.lexsort((found[:, 1], found[:, 0]))]


def _verify_shares(sc: SparkContext, shares: list[tuple[Any, ...]],
                   fn: Callable[..., list[Any]]) -> list[Any]:
    """``fn(*share)`` for each share on the executors, the answers joined in share order."""
    if not shares:
        return []
    parts = sc.parallelize(shares, len(shares)).map(lambda share: fn(*share)).collect()
    return [item for part in parts for item in part]


def _relabel(kv: tuple[Any, tuple[Iterable[Any], Iterable[Any]]]) -> tuple[Any, tuple[Any, bool]]:
    """A node's new label: the least of its own and those its neighbours sent; and whether it changed."""
    node, (own, sent) = kv
    old = min(own)
    new = min(old, min(sent, default=old))
    return node, (new, new != old)


def _components(sc: SparkContext, edges: list[tuple[int, int]], partitions: int) -> dict[int, int]:
    """Each node's component, labelled by its smallest node: min-label propagation by joins
    (``component_labels``), collected."""
    if not edges:
        return {}
    width = _width(len(edges), partitions)
    labels, cached = component_labels(sc.parallelize(edges, width), width)
    out = dict(labels.collect())
    for rdd in cached:
        rdd.unpersist()
    return out


def component_labels(edges: RDD[tuple[Any, Any]], width: int) -> tuple[RDD[tuple[Any, Any]], list[Any]]:
    """Each node of ``edges`` labelled by the smallest node of its component (nodes are any
    ordered, hashable values), by min-label propagation; and the cached RDDs to unpersist once
    the labels are used.

    Each round is two shuffles (the edges joined with the labels; the labels cogrouped with
    what was sent) and one count of the labels that changed; it stops when none did.
    """
    links = edges.flatMap(lambda e: [(e[0], e[1]), (e[1], e[0])]).persist()
    labels = links.keys().distinct(width).map(lambda x: (x, x)).persist()
    cached: list[Any] = [links]
    while True:
        sent = links.join(labels, width).map(lambda kv: (kv[1][0], kv[1][1]))  # (neighbour, my label)
        step = labels.cogroup(sent, width).map(_relabel).persist()
        changed = step.filter(lambda kv: kv[1][1]).count()
        cached += [labels, step]
        labels = step.mapValues(lambda v: v[0]).persist()
        if not changed:
            break
    return labels, [*cached, labels]


#: Items (rows times bands, pairs, documents) per task of a stage, so a small input takes few tasks.
ITEMS_PER_TASK = 50_000


def _width(items: int, partitions: int) -> int:
    """Tasks for a stage over ``items``: ``partitions`` at most, one per ``ITEMS_PER_TASK``."""
    return max(1, min(partitions, -(-items // ITEMS_PER_TASK)))

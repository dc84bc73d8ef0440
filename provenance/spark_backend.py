"""``pipeline.Backend``'s steps on a Spark context: which Spark stage runs each step of ``find``.

=====================  ====================================================================
step                   Spark stages (the local function each runs on the executors)
=====================  ====================================================================
document_candidates    banding as a shuffle on band keys (``spark_lsh``; ``match``'s pairing)
verify_documents       shares of candidate pairs (``verify.verify_documents``)
groups                 components by iterative join (``spark_lsh``), then a map
                       (``lineage.attribute_group``; ``spark_families``)
reuse_candidates       a shuffle keyed by fingerprint, one keyed by pair, one by owner
                       (``derive``'s counting, filtering and ranking; ``spark_rewrites``)
rewrites               shares of pairs with their fingerprints (``derive.verify_derivations``,
                       ``lineage.attribute_derivation``); a join keyed by document
                       (``lineage.unhook_wire_sibling``); a shuffle keyed by the copies'
                       component (``derive.decide_verdict``, ``derive.keep_best``); shares of
                       the kept ones (``derive.align``) (``spark_rewrites``)
passage_candidates     banding as a shuffle on band keys (``spark_lsh``)
verify_passages        shares of pairs, a document pair's never split (``verify.verify_passages``)
attribute_matches      a shuffle keyed by ``collapse_matches``' bucket (``lineage.collapse_matches``,
                       ``lineage.attribute_match``; ``spark_families``)
families               a shuffle keyed by document (``families.doc_occurrences``), components
                       by iterative join, a shuffle keyed by family (``families.family_of``)
exact_duplicates       a shuffle keyed by the whole signature, then shares of the runs of equal
                       signatures with their texts (``pipeline.text_copies``)
=====================  ====================================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from . import spark_rewrites
from .bands import banding
from .config import Config, MatchConfig, SignConfig, VerifyConfig
from .evidence import AuthorHomes
from .families import Family
from .match import min_agree, nonempty_rows
from .passages import PassageView
from .pipeline import Backend, text_copies
from .records import CleanDoc, Derivation, DocPair, Group, PassageMatch
from .signatures import SignedBatch
from .spark_families import attribute_groups, attribute_matches, families
from .spark_lsh import PAIRS_PER_SHARE, _components, _slices, _verify_shares, _width, spark_band_pairs
from .verify import (
    by_document_pair,
    document_shares,
    passage_cuts,
    passage_shares,
    verify_documents,
    verify_passages,
)

if TYPE_CHECKING:
    from pyspark import SparkContext


class SparkBackend:
    """``pipeline.Backend``'s steps on a Spark context (``partitions``: the shuffles' width)."""

    def __init__(self, sc: SparkContext, partitions: int) -> None:
        self.sc, self.partitions = sc, partitions

    def backend(self) -> Backend:
        """The ``pipeline.Backend`` that runs ``find``'s steps here."""
        return Backend(self.document_candidates, self.verify_documents, self.groups,
                       self.passage_candidates, self.verify_passages,
                       reuse_candidates=self.reuse_candidates, rewrites=self.rewrites,
                       attribute_matches=self.attribute_matches, families=self.families,
                       exact_duplicates=self.exact_duplicates)

    def exact_duplicates(self, texts: Sequence[str], signed: SignedBatch) -> np.ndarray:
        """``pipeline.exact_duplicates``: documents of equal signatures found by a shuffle keyed
        by the whole signature (its values themselves: no collision can join two), then the texts
        of each run of two or more compared on the executors (``pipeline.text_copies``)."""
        nonempty = np.flatnonzero(signed.doc_words > 0)
        if len(nonempty) < 2:
            return np.empty((0, 2), dtype=np.int64)
        slices = _slices(signed.doc_values, nonempty, None)
        runs = sorted(self.sc.parallelize(slices, len(slices)).flatMap(lambda s: s)
                      .map(lambda row: (row[2].tobytes(), row[0]))
                      .groupByKey(_width(len(nonempty), self.partitions))
                      .map(lambda kv: sorted(kv[1])).filter(lambda rows: len(rows) > 1).collect())
        part = (np.cumsum([len(rows) for rows in runs]) // PAIRS_PER_SHARE).tolist()  # a run never split
        shares = []
        for _, group in groupby(zip(part, runs, strict=True), key=itemgetter(0)):
            share = [rows for _, rows in group]
            shares.append((share, {r: texts[r] for rows in share for r in rows}))
        pairs = _verify_shares(self.sc, shares, text_copies)
        return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)

    def document_candidates(self, sigs: SignedBatch, match: MatchConfig, sign: SignConfig,
                            progress: Any = None, jobs: int = 1,
                            leave_out: np.ndarray | None = None) -> list[tuple[int, int]]:
        """``match.document_candidates`` as a shuffle on band keys."""
        words = sigs.doc_words.copy()
        if leave_out is not None and len(leave_out):
            words[leave_out] = 0
        rows = np.flatnonzero(words > 0)
        pairs = spark_band_pairs(self.sc, sigs.doc_values, rows, *banding(match.doc_threshold, sign.num_perm),
                                 match.max_candidates_per_item, None,
                                 min_agree(match.doc_threshold, match, sign.num_perm),
                                 match.max_bucket_crowd, len(sigs.doc_values), self.partitions)
        return [(int(i), int(j)) for i, j in pairs]

    def passage_candidates(self, sigs: SignedBatch, match: MatchConfig, sign: SignConfig,
                           progress: Any = None, owner: np.ndarray | None = None,
                           jobs: int = 1) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """``match.passage_candidates`` as a shuffle on band keys."""
        values = sigs.passage_rows()
        owners = sigs.p_doc if owner is None else owner[sigs.p_doc]
        rows = np.flatnonzero(nonempty_rows(values))
        pairs = spark_band_pairs(self.sc, values, rows, *banding(match.passage_threshold, sign.num_perm),
                                 match.max_candidates_per_item, owners,
                                 min_agree(match.passage_threshold, match, sign.num_perm),
                                 match.passage_bucket_crowd, len(values), self.partitions).reshape(-1)
        doc = sigs.p_doc[pairs]
        number = pairs - sigs.passage_bounds()[doc]
        flat = list(zip(doc.tolist(), number.tolist(), strict=True))
        return list(zip(flat[0::2], flat[1::2], strict=True))

    def verify_documents(self, cleaned: Sequence[CleanDoc], pairs: Sequence[tuple[int, int]],
                         cfg: VerifyConfig, jobs: int = 1, progress: Any = None) -> list[DocPair]:
        """``verify.verify_documents`` on the executors, over shares of the pairs, in order."""
        cuts = [*range(0, len(pairs), PAIRS_PER_SHARE), len(pairs)] if pairs else []
        return _verify_shares(self.sc, list(document_shares(cleaned, pairs, cfg, cuts)), verify_documents)

    def verify_passages(self, cleaned: Sequence[CleanDoc], view: PassageView,
                        pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]], cfg: VerifyConfig,
                        group_of: dict[int, int], jobs: int = 1, progress: Any = None) -> list[PassageMatch]:
        """``verify.verify_passages`` on the executors, shared out as ``verify.verify_passages_parallel``
        shares it out: sorted by document pair, a document pair's passages never split."""
        kept = by_document_pair(pairs)
        cuts = passage_cuts(kept, range(PAIRS_PER_SHARE, len(kept), PAIRS_PER_SHARE))
        return _verify_shares(self.sc, list(passage_shares(cleaned, view, kept, cfg, group_of, cuts)),
                              verify_passages)

    def groups(self, verified: Sequence[DocPair], cleaned: Sequence[CleanDoc],
               homes: AuthorHomes) -> tuple[list[Group], dict[int, int]]:
        """``lineage.attributed_groups``, its components found by ``_components``."""
        label = _components(self.sc, sorted({(p.a, p.b) for p in verified}), self.partitions)
        members: dict[int, list[int]] = defaultdict(list)
        for node in sorted(label):
            members[label[node]].append(node)
        pairs: dict[int, list[DocPair]] = defaultdict(list)
        for p in verified:
            pairs[label[p.a]].append(p)
        found = [Group(members=m, pairs=sorted(pairs[root], key=lambda p: (p.a, p.b)))
                 for root, m in sorted(members.items(), key=lambda kv: kv[1][0])]
        groups = attribute_groups(self.sc, self.partitions, found, cleaned, homes)
        return groups, {m: g for g, group in enumerate(groups) for m in group.members}

    def reuse_candidates(self, signed: SignedBatch, owner: np.ndarray, match: MatchConfig,
                         speaker: np.ndarray | None = None, min_share: float = 0.0,
                         hub: np.ndarray | None = None) -> np.ndarray:
        """``derive.reuse_candidates`` as shuffles keyed by fingerprint, pair, owner (``spark_rewrites``)."""
        return spark_rewrites.reuse_candidates(self.sc, self.partitions, signed, owner, match, speaker,
                                               min_share, hub)

    def rewrites(self, signed: SignedBatch, reuse: np.ndarray, cleaned: Sequence[CleanDoc],
                 groups: Sequence[Group], homes: AuthorHomes, config: Config,
                 progress: Callable[[int], None] | None = None, jobs: int = 1) -> list[Derivation]:
        """``pipeline.find_rewrites`` as Spark stages (``spark_rewrites``; ``jobs`` is the local
        engine's and says nothing here)."""
        return spark_rewrites.rewrites(self.sc, self.partitions, signed, reuse, cleaned, groups, homes,
                                       config, progress)

    def attribute_matches(self, matches: Sequence[PassageMatch], groups: Sequence[Group],
                          cleaned: Sequence[CleanDoc], homes: AuthorHomes) -> list[PassageMatch]:
        """``lineage.attributed_matches`` as a shuffle keyed by bucket (``spark_families``)."""
        return attribute_matches(self.sc, self.partitions, matches, groups, cleaned, homes)

    def families(self, matches: Sequence[PassageMatch], cleaned: Sequence[CleanDoc], homes: AuthorHomes,
                 cfg: VerifyConfig) -> tuple[list[Family], list[PassageMatch]]:
        """``pipeline.passage_families`` as Spark stages (``spark_families``)."""
        return families(self.sc, self.partitions, matches, cleaned, homes, cfg)

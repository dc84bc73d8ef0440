"""Parameters of every stage, as frozen dataclasses.

One ``Config`` is passed to every stage so that signing, matching and
verification agree (as datatrove's ``MinhashConfig`` does), and
``asdict(config)`` is written into every report so a result can be
reproduced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ConfigError

#: Bumped whenever cleaning rules change what is kept, so stored results can tell.
CLEANING_VERSION = "3"


#: The outlets file read atop a scanned folder (``provenance.outlets``).
OUTLETS_FILE = "outlets.json"


@dataclass(frozen=True)
class IngestConfig:
    """Limits that keep hostile input from exhausting the machine."""

    max_file_bytes: int = 64 * 1024 * 1024
    """A .txt or .html file larger than this is skipped (JSONL and WARC files are streamed);
    standard input is read up to this much, and no further (before and after gunzipping)."""
    max_record_bytes: int = 16 * 1024 * 1024
    """A JSONL line or a WARC record's (decompressed) payload larger than this is skipped; a
    WARC record whose block is longer is passed over unread (seeked past when uncompressed)."""
    max_compression_ratio: int = 100
    """A gzipped input (.jsonl.gz, .warc.gz, standard input) stops when it decompresses to more
    than this many times its size (plus 1 MiB): text gzips 3 to 10 times, a bomb 1000 times."""
    max_decompressed_bytes: int = 64 * 1024 ** 3
    """...and, whatever its ratio, after this many decompressed bytes."""
    max_records_per_file: int = 50_000_000
    """Lines of one JSON Lines file, or records of one WARC file, read at most."""
    max_html_depth: int = 400
    """Deeper element nesting than this is flattened rather than recursed into."""
    outlets_file: str | None = None
    """An outlets file (aliases, path and URL patterns); see ``provenance.outlets``."""
    file_ids: str = "name"
    """The id of a file named directly: ``name`` (its file name, as ``scan`` reports it) or
    ``path`` (its path from the current folder, or its absolute path outside it). The index uses
    ``path``, so that ``a/x/index.txt`` and ``b/y/index.txt`` stay two documents however they
    are named on the command line."""
    follow_links: bool = False
    """Read a symbolic link in a scanned folder that points to a file outside the input folders
    (``--follow-links``); by default it is passed over. Targets in ``/proc``, ``/sys`` and
    ``/dev`` are never read, and links to folders are never followed."""


@dataclass(frozen=True)
class CleanConfig:
    """Which boilerplate rules run; see ``provenance.clean``."""

    keep: tuple[str, ...] = ()
    """Reasons whose spans are kept instead of removed (e.g. ``("comments",)``)."""
    rules_file: str | None = None
    """A JSON rules file added to the built-in language files (see ``provenance.lang``)."""
    template_min_docs: int = 3
    """A line is an outlet's template when at least this many of its pages hold it..."""
    template_min_share: float = 0.3
    """...and at least this share of them (see ``provenance.templates``)."""
    template_max_words: int = 40
    """Longer lines are never template text: an article posted twice must stay whole."""
    main_min_share: float = 0.6
    """HTML: blocks outside the main-content element are cut when it holds this share of the
    page's running text (above 1.0 turns main-content detection off)."""
    link_density: float = 0.5
    """HTML blocks whose text is more than this share of link text are dropped."""
    version: str = CLEANING_VERSION


@dataclass(frozen=True)
class SignConfig:
    """Shingling and MinHash parameters (datasketch's names)."""

    shingle_size: int = 5
    """Words per shingle (``--shingle-size``): 5 keeps common phrases from matching."""
    num_perm: int = 128
    """MinHash permutations (``--num-perm``): more estimate Jaccard closer, at their cost."""
    seed: int = 1
    """The hash seed (``--seed``): fixed, so every run and machine signs alike."""
    passage_min_words: int = 15
    """Consecutive short paragraphs are joined until a passage has this many words."""
    passage_max_words: int = 120
    """Longer paragraphs are cut into overlapping windows of this many words."""
    passage_stride: int = 60
    """Words between the starts of two windows of a long paragraph (half a window: each
    sentence lies whole in at least one window)."""
    reuse_shingle_size: int = 3
    """Words per shingle of the fingerprints that find rewritten copies (``sign.reuse_fingerprints``)."""
    reuse_sample_bits: int = 1
    """One shingle in ``2**bits`` is a fingerprint (1: every other one)."""


@dataclass(frozen=True)
class MatchConfig:
    """LSH thresholds (estimated Jaccard of shingle sets)."""

    doc_threshold: float = 0.5
    """Documents whose signatures' estimated Jaccard reaches this are candidate copies
    (``--threshold``); the banding is datasketch's for it (``bands.banding``)."""
    passage_threshold: float = 0.3
    """The same for passages: lower, since a reused paragraph is often edited a little."""
    max_candidates_per_item: int = 200
    """A passage in more buckets than this is furniture, not a copy; it is capped."""
    max_bucket_crowd: int = 200
    """A band bucket of more items than this (a passage repeated across thousands of
    documents) is crowded: its items are not paired among themselves but joined into a
    family, each paired with the family's representative only (``match.families``), so
    that a bucket of ``s`` items costs ``s`` candidates, not ``max_candidates_per_item * s``
    (0: no limit). For documents."""
    passage_bucket_crowd: int = 16
    """``max_bucket_crowd`` for passages. A paragraph that k documents share is one family
    (reported once, ``provenance.families``): past this many copies in one bucket its
    members are joined through the representative (k-1 candidates), not paired among
    themselves (k^2/2), so the candidates grow with the corpus, not with its square."""
    min_estimate_share: float = 0.5
    """A candidate is kept only when its signatures agree on at least this share of
    the threshold (estimated Jaccard 0.15 for passages at 0.3). Band collisions of
    pairs that share a sentence or two grow with the square of the corpus; this
    drops them before verification. 0 keeps every band collision."""
    reuse_max_df: int = 16
    """A reuse fingerprint held by more documents (or groups of copies) than this is a
    stock phrase ("the high court heard"), not evidence of copying: it is passed over."""
    reuse_min_shared: int = 2
    """Fingerprints two documents must share to be checked for a rewritten copy."""
    reuse_max_candidates: int = 5
    """Each document is checked against at most this many others, those it shares most with."""


@dataclass(frozen=True)
class VerifyConfig:
    """rapidfuzz cut-offs on a 0-100 scale."""

    doc_score_cutoff: float = 80.0
    """A document pair is a near-duplicate when its similarity reaches this."""
    passage_score_cutoff: float = 85.0
    """A passage pair is a copy when its aligned similarity reaches this."""
    passage_min_chars: int = 120
    """Aligned passages shorter than this are not reported."""
    derive_partially: float = 0.045
    """A document is partially derived from another when at least this share of its 3-word
    shingles (quoted speech weighed by ``derive_quote_weight``) is found in the other."""
    derive_wholly: float = 0.3
    """...and wholly derived from this share on: a sentence rewritten from another keeps about a
    third of its 3-word runs (``derive.SENTENCE_SHARE``), so a text rewritten throughout from one
    source shares about that much of it (journalists rewrite: half is a lot)."""
    derive_min_shared: int = 3
    """...and only when the two share at least this many fingerprints (about twice as many
    3-word shingles): a name ("the National Council of Resistance of Iran") is not a rewrite."""
    derive_max_sources: int = 5
    """A document is reported as the rewrite of at most this many sources: the best ones (not
    dated after it, an agency's copy first, then the higher share)."""
    derive_quote_weight: float = 0.25
    """Weight of a shingle inside quotation marks: two reporters quoting the same speaker
    share quotes without copying each other; copied narration is the stronger evidence."""


@dataclass(frozen=True)
class Config:
    """All parameters of a run."""

    ingest: IngestConfig = field(default_factory=IngestConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    sign: SignConfig = field(default_factory=SignConfig)
    match: MatchConfig = field(default_factory=MatchConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)

    def __post_init__(self) -> None:
        if self.ingest.file_ids not in ("name", "path"):
            raise ConfigError(f"file_ids is 'name' or 'path', got {self.ingest.file_ids!r}")
        s, m = self.sign, self.match
        if s.shingle_size < 1:
            raise ConfigError(f"shingle_size must be at least 1, got {s.shingle_size}")
        if s.num_perm < 16:
            raise ConfigError(f"num_perm must be at least 16, got {s.num_perm}")
        if not 0 < s.passage_stride <= s.passage_max_words:
            raise ConfigError(
                f"passage_stride must be in 1..passage_max_words ({s.passage_max_words}),"
                f" got {s.passage_stride}"
            )
        for name, value in (("doc_threshold", m.doc_threshold),
                            ("passage_threshold", m.passage_threshold)):
            if not 0.0 < value < 1.0:
                raise ConfigError(f"{name} must be between 0 and 1 (exclusive), got {value}")
        for name, value in (("doc_score_cutoff", self.verify.doc_score_cutoff),
                            ("passage_score_cutoff", self.verify.passage_score_cutoff)):
            if not 0.0 <= value <= 100.0:
                raise ConfigError(f"{name} is on rapidfuzz's 0-100 scale, got {value}")

    def as_dict(self) -> dict[str, Any]:
        """Every parameter, for the report's ``params``: JSON's types (a tuple is a list)."""
        return asdict(self, dict_factory=lambda items: {k: list(v) if isinstance(v, tuple) else v
                                                        for k, v in items})

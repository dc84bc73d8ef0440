"""The whole pipeline: paths -> ``Report``.

Each stage is a function over records (see ``records``); this module only
chains them and reports progress through an optional callback, so the
library never prints.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .config import Config, VerifyConfig
from .derive import (
    align,
    best_indices,
    decide_verdict,
    keep_best,
    measure,
    measured_here,
    reuse_candidates,
    verify_derivations,
    verify_derivations_parallel,
)
from .errors import ConfigError
from .evidence import AuthorHomes, author_homes
from .families import Family, Realign, build_families
from .fingerprints import Fingerprints
from .ingest import check_local, check_stdin_once, kind_of, read_records, sources
from .lineage import (
    attribute_derivation,
    attributed_groups,
    attributed_matches,
    wire_siblings,
)
from .match import document_candidates, equal_rows, passage_candidates
from .outlets import Outlets, find_outlets_files
from .passages import PassageView
from .read_clean import Ingested, batches, document_batches, gather
from .records import (
    CleanDoc,
    Derivation,
    DocPair,
    Group,
    PassageMatch,
    SentencePair,
    Skipped,
    Span,
    derivation_rows,
    derivations_of,
    sentence_rows,
    sentences_of,
)
from .runtime import forked
from .runtime.diskarray import Appender
from .runtime.memory import paused, release_free_memory
from .runtime.pool import call, default_jobs, ordered_map, worth_workers
from .runtime.spill import SpillDir, Texts, spill, text_length
from .sign import sign_parallel, sign_texts
from .signatures import SignedBatch, disk_name
from .templates import strip_templates
from .verify import align as align_texts
from .verify import equal_pair, verify_documents_parallel, verify_passages_parallel
from .version import __version__

#: ``progress(stage, done, total)``; ``total`` is None while unknown.
Progress = Callable[[str, int, "int | None"], None]


@dataclass
class Report:
    """Everything a run found."""

    version: str
    params: dict[str, object]
    cleaned: list[CleanDoc]
    skipped: list[Skipped] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    matches: list[PassageMatch] = field(default_factory=list)
    derivations: list[Derivation] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)


def no_progress(stage: str, done: int, total: int | None) -> None:
    """A ``Progress`` that reports nothing (the default of every stage that takes one)."""
    return None


@dataclass(frozen=True)
class Backend:
    """Where ``find``'s distributable steps run: None is this machine's (``match``, ``verify``,
    ``lineage``, ``derive``, ``families``; looked up when ``find`` runs); ``spark_engine`` passes
    Spark's, which call the same record functions on executors. Each takes and returns what the
    local function does, so the findings, and the report, are the same: ``reuse_candidates`` is
    ``derive.reuse_candidates``, ``rewrites`` is ``find_rewrites``, ``attribute_matches`` is
    ``lineage.attributed_matches``, ``families`` is ``passage_families`` and ``exact_duplicates``
    is ``exact_duplicates``."""

    document_candidates: Callable[..., list[tuple[int, int]]] | None = None
    verify_documents: Callable[..., list[DocPair]] | None = None
    groups: Callable[..., tuple[list[Group], dict[int, int]]] | None = None
    passage_candidates: Callable[..., list[tuple[tuple[int, int], tuple[int, int]]]] | None = None
    verify_passages: Callable[..., list[PassageMatch]] | None = None
    reuse_candidates: Callable[..., np.ndarray] | None = None
    rewrites: Callable[..., list[Derivation]] | None = None
    attribute_matches: Callable[..., list[PassageMatch]] | None = None
    families: Callable[..., tuple[list[Family], list[PassageMatch]]] | None = None
    exact_duplicates: Callable[..., np.ndarray] | None = None


LOCAL = Backend()


def _steps(backend: Backend) -> SimpleNamespace:
    """``backend``'s steps, this machine's where it has none (looked up now, so a test can patch them)."""
    return SimpleNamespace(
        document_candidates=backend.document_candidates or document_candidates,
        verify_documents=backend.verify_documents or verify_documents_parallel,
        groups=backend.groups or attributed_groups,
        passage_candidates=backend.passage_candidates or passage_candidates,
        verify_passages=backend.verify_passages or verify_passages_parallel,
        reuse_candidates=backend.reuse_candidates or reuse_candidates,
        rewrites=backend.rewrites or find_rewrites,
        attribute_matches=backend.attribute_matches or attributed_matches,
        families=backend.families or passage_families,
        exact_duplicates=backend.exact_duplicates or exact_duplicates)


def find_rewrites(signed: SignedBatch, reuse: np.ndarray, cleaned: Sequence[CleanDoc],
                  groups: Sequence[Group], homes: AuthorHomes, config: Config,
                  progress: Callable[[int], None] | None = None, jobs: int = 1) -> list[Derivation]:
    """The rewrite stage from its candidate pairs (``derive``): measured on their fingerprints
    (in ``jobs`` processes on large runs: ``derive.verify_derivations_parallel``), attributed,
    wire siblings unhooked, verdicts decided, each copy's best sources kept and their sentences
    aligned.

    Without an agency copy in the run no pair is a wire sibling, so a pair's verdict is final
    where it is measured: each share (this process's, a forked copy's) then carries a pair
    through to its aligned sentences on its own (``settled_rewrites``), and only the best
    sources over all shares are chosen here."""
    fingerprints = Fingerprints.of(signed, config.verify.derive_quote_weight, docs=np.unique(reuse))
    fork = forked.available(jobs, len(cleaned))
    wired = any(c.doc.agency for c in cleaned)  # else no pair is a wire sibling (``wire_siblings``)
    per_copy = config.verify.derive_max_sources
    if not wired and (fork or measured_here(jobs, len(reuse))):
        if fork:  # forked copies take shares of the pairs while this process does one
            parts = forked.fork_map(settled_rewrites,
                                    [(fingerprints, reuse[h], cleaned, homes, config)
                                     for h in forked.cuts(len(reuse), jobs)],
                                    wire=(derivation_rows, derivations_of))
        else:
            parts = [settled_rewrites(fingerprints, reuse, cleaned, homes, config, progress)]
        return keep_best([d for part in parts for d in part], cleaned, per_copy)
    if fork:
        parts = forked.fork_map(measured_and_attributed,
                                [(fingerprints, reuse[h], cleaned, homes, config)
                                 for h in forked.cuts(len(reuse), jobs)],
                                wire=(derivation_rows, derivations_of))
        derivations = [d for part in parts for d in part]
    else:
        measured = verify_derivations_parallel(fingerprints, reuse, config, jobs, progress)
        # each share attributed as the workers measure the next
        derivations = [attribute_derivation(d, cleaned, homes) for part in measured for d in part]
    if wired:
        wire_siblings(derivations, groups, cleaned)
    derivations = [decide_verdict(d, config.verify) for d in derivations]
    derivations = keep_best([d for d in derivations if d.verdict != "none"], cleaned, per_copy)
    if fork:
        aligned = forked.fork_map(aligned_sentences, [(cleaned, fingerprints, derivations[h])
                                                      for h in forked.cuts(len(derivations), jobs)],
                                  wire=(_sentence_lists, _sentence_lists_of))
        for d, sentences in zip(derivations, (s for part in aligned for s in part), strict=True):
            d.sentences = sentences
    else:
        align(cleaned, fingerprints, derivations)
    return derivations


def measured_and_attributed(fp: Fingerprints, pairs: np.ndarray, cleaned: Sequence[CleanDoc],
                            homes: AuthorHomes, config: Config) -> list[Derivation]:
    """``verify_derivations`` of ``pairs``, each one attributed: a forked share of ``find_rewrites``."""
    return [attribute_derivation(d, cleaned, homes) for d in verify_derivations(fp, pairs, config)]


def settled_rewrites(fp: Fingerprints, pairs: np.ndarray, cleaned: Sequence[CleanDoc], homes: AuthorHomes,
                     config: Config, progress: Callable[[int], None] | None = None) -> list[Derivation]:
    """A share of ``find_rewrites`` in a run with no agency copy: ``pairs`` measured, attributed,
    their verdicts decided (final: no pair can be a wire sibling), the share's own best sources
    kept (``keep_best``) and their sentences aligned, from the fingerprints measuring found
    shared (``derive.measure``).

    A source among a copy's best over the whole run is among its best in the share it is in,
    and one left out here would be left out there too (``tests/test_forked.py``), so
    ``find_rewrites`` keeps the same ones from what the shares send; each share aligns a few
    more than are finally kept, and sends them in one piece, with no second round of shares."""
    measured, shared = measure(fp, pairs, config, progress, keep_rows=True)
    decided = [decide_verdict(attribute_derivation(d, cleaned, homes), config.verify) for d in measured]
    named = [k for k, d in enumerate(decided) if d.verdict != "none"]
    best = [named[k] for k in best_indices([decided[k] for k in named], cleaned,
                                           config.verify.derive_max_sources)]
    kept = [decided[k] for k in best]
    align(cleaned, fp, kept, shared.take(best))
    return kept


def aligned_sentences(cleaned: Sequence[CleanDoc], fp: Fingerprints,
                      derivations: Sequence[Derivation]) -> list[list[SentencePair]]:
    """Each derivation's aligned sentences (``derive.align``): a forked share of ``find_rewrites``."""
    align(cleaned, fp, derivations)
    return [d.sentences for d in derivations]


def _sentence_lists(lists: list[list[SentencePair]]) -> list[list[tuple[int, int, int, int, float, bool]]]:
    return [sentence_rows(s) for s in lists]


def _sentence_lists_of(rows: list[list[tuple[int, int, int, int, float, bool]]]) -> list[list[SentencePair]]:
    return [sentences_of(r) for r in rows]


def passage_families(matches: Sequence[PassageMatch], cleaned: Sequence[CleanDoc], homes: AuthorHomes,
                     cfg: VerifyConfig) -> tuple[list[Family], list[PassageMatch]]:
    """``families.build_families``, each copy without a match with its family's origin
    realigned with it (``realigner``)."""
    return build_families(matches, cleaned, homes, realigner(cleaned, cfg))


def ingest_and_clean(paths: Iterable[str | os.PathLike[str]], config: Config,
                     progress: Progress = no_progress, jobs: int = 1) -> tuple[list[CleanDoc], list[Skipped]]:
    """Read, clean and annotate every document, then strip each outlet's templates.

    With ``jobs > 1``, reading and cleaning run in that many processes
    (``read_clean`` batches on ``runtime.pool``); the result is the same.
    """
    read = _templated(read_and_clean(paths, config, progress, jobs), config)
    return read.cleaned, read.skipped


def _templated(read: Ingested, config: Config) -> Ingested:
    """Documents read and cleaned one by one, with each outlet's templates then stripped (the
    corpus-level stage), the rewritten texts spilled again and the freed memory handed back."""
    strip_templates(read.cleaned, config.clean, read.lines)
    _respill(read)
    release_free_memory()
    return read


def _respill(read: Ingested) -> None:
    """Spill again the texts the template stage rewrote in memory."""
    if read.spill_dir is None:
        return
    for c in read.cleaned:
        spill(c, read.spill_dir)  # only what is in memory
        spill(c.doc, read.spill_dir)
    read.spill_dir.flush()


def clean_and_sign(paths: Iterable[str | os.PathLike[str]], config: Config, progress: Progress = no_progress,
                   jobs: int = 1) -> tuple[list[CleanDoc], list[Skipped], SignedBatch | None]:
    """``ingest_and_clean``, plus the documents' signatures.

    Each batch is signed as soon as it is cleaned (in the worker that cleaned
    it, with ``jobs > 1``), and only the documents that the template stage then
    changes are signed again, so ``find(..., signed=...)`` need not send every
    text to a worker a second time. The signatures are those ``find`` would make.
    """
    read = read_and_clean(paths, config, progress, jobs, sign=True)
    before = [text_length(c) for c in read.cleaned]
    strip_templates(read.cleaned, config.clean, read.lines)
    signed = read.signed
    if signed is not None:
        changed = [i for i, c in enumerate(read.cleaned) if text_length(c) != before[i]]
        if changed:
            signed = signed.replace(changed, sign_texts([read.cleaned[i].text for i in changed], config.sign))
    _respill(read)
    release_free_memory()
    return read.cleaned, read.skipped, signed


def read_and_clean(paths: Iterable[str | os.PathLike[str]], config: Config,
                   progress: Progress = no_progress, jobs: int = 1, sign: bool = False) -> Ingested:
    """Every document cleaned on its own (no templates yet), what was skipped, and each one's ``LineKeys``.

    The index (``check``) learns templates from these keys and its stored
    ones; ``ingest_and_clean`` from these alone. With ``sign``, also the
    signatures of the cleaned texts (``Ingested.signed``), made as each batch
    is cleaned, so that the texts never travel to a worker a second time.

    One path for any number of jobs (``read_clean``): the same batches run in
    this process, or in ``jobs`` processes (this one and ``jobs - 1`` workers; 0: every core) when the
    input is large enough for them to pay off (``pool.worth_workers``).
    The texts, raw and cleaned, of a large input are spilled to a temporary
    folder as each document is done (``spill``): they are read back on demand,
    and the folder goes when the last document that points into it does. A small
    one keeps them in memory (``spills``).
    """
    given = list(paths)
    check_local(given)  # before any file is read: usage errors
    files = [Path(p) for p in given]
    check_stdin_once(files)
    outlets = load_outlets(files, config)
    spill_dir = SpillDir() if spills(files, config) else None
    jobs, work = worth_workers(batches(files, config, outlets, sign, spill_dir), jobs)
    return gather(ordered_map(call, work, jobs), config, outlets, progress, sign, spill_dir)


#: Inputs of fewer bytes than this keep their texts in memory rather than spilling them
#: (``read_and_clean``): held as text, raw and cleaned, they take at most a few times their
#: size, and a 10,000-document scan (22 MB) is 0.1 s quicker for not writing its texts out
#: and reading them back (benchmarks/README.md, issue 17).
SPILL_MIN_BYTES = 32 << 20

#: Inputs whose size on disk says nothing of their texts' (they inflate).
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst")


def spills(files: Sequence[Path], config: Config) -> bool:
    """Whether a run over ``files`` spills its texts: when they hold ``SPILL_MIN_BYTES`` or more,
    or might (standard input, a FIFO or a device, a compressed file, a WARC), found by a walk that
    stops as soon as that is known."""
    total = 0
    for found in sources(files, config.ingest):
        if found is None:
            return True  # standard input: no size to go by
        if isinstance(found, Skipped):
            continue
        path = found[0]
        try:
            info = path.stat()
        except OSError:  # reading it will say why
            continue
        if not stat.S_ISREG(info.st_mode) or path.name.lower().endswith(_COMPRESSED) \
                or kind_of(path.name) == "warc":  # a WARC is inflated by its magic, whatever its name
            return True
        total += info.st_size
        if total >= SPILL_MIN_BYTES:
            return True
    return False


def outlets_files(paths: Iterable[str | os.PathLike[str]], config: Config) -> list[str]:
    """The outlets files a run uses: ``outlets.json`` atop each folder, then the named one."""
    found = [str(p) for p in find_outlets_files([Path(p) for p in paths])]
    if config.ingest.outlets_file:
        found.append(config.ingest.outlets_file)
    return found


def load_outlets(paths: Iterable[str | os.PathLike[str]], config: Config) -> Outlets:
    """Merge every outlets file of the run (a malformed one is a ``ConfigError``)."""
    outlets = Outlets()
    for file in outlets_files(paths, config):
        if not Path(file).is_file():
            raise ConfigError(f"{file}: no such outlets file")
        outlets = outlets.merge(Outlets.load(file))
    return outlets


@paused()  # no reference cycles are made: see ``memory``
def find(cleaned: list[CleanDoc], config: Config, progress: Progress = no_progress,
         jobs: int = 1, signed: SignedBatch | None = None, backend: Backend = LOCAL
         ) -> tuple[list[Group], list[PassageMatch], list[Derivation], list[Family]]:
    """Sign, match, verify and attribute over cleaned documents: groups of copies,
    shared passages (the pairs worth listing, and their ``families``), and rewritten
    copies (``derive``).

    Signing runs in ``jobs`` processes (``sign.sign_parallel``), unless ``signed`` holds
    the documents' signatures already (``clean_and_sign``; ``find`` empties its
    passage signatures once the candidates are found, to free the memory, except on a run
    whose stages it shares with forked copies of this process, ``runtime.forked``: a run
    small enough for that, which leaves ``signed`` whole); the findings are the same for
    any ``jobs``. ``backend``: where banding, verification, grouping,
    the rewrite stage, attribution and families run (``Backend``); the findings are the same.
    """
    jobs = jobs or default_jobs()
    backend_steps = _steps(backend)
    texts = Texts(cleaned)
    if signed is None:
        signed = sign_parallel(texts, config.sign, jobs, progress)
    # exact copies are grouped by hash first: only one of each (its first) is banded and verified
    repeats = backend_steps.exact_duplicates(texts, signed)
    doc_pairs = backend_steps.document_candidates(signed, config.match, config.sign,
                                    lambda done, total: progress("match documents", done, total), jobs,
                                    leave_out=repeats[:, 1])
    progress("verify documents", 0, len(doc_pairs))
    fork = backend is LOCAL and forked.available(jobs, len(cleaned))
    if fork:  # shares of the pairs in forked copies of this process (no document is sent anywhere)
        verified = [p for part in forked.fork_map(backend_steps.verify_documents,
                                                  [(cleaned, doc_pairs[h], config.verify, 1)
                                                   for h in forked.cuts(len(doc_pairs), jobs)])
                    for p in part]
    else:
        verified = backend_steps.verify_documents(cleaned, doc_pairs, config.verify, jobs,
                                                  lambda n: progress("verify documents", n, len(doc_pairs)))
    verified += [equal_pair(cleaned, int(i), int(j)) for i, j in repeats]
    progress("verify documents", len(doc_pairs), len(doc_pairs))
    homes = author_homes(cleaned)
    groups, group_of = backend_steps.groups(verified, cleaned, homes)
    # Passages of two copies in one group are never paired: the group already reports
    # them, and a large group would otherwise fill the candidates (and each passage's
    # cap) with pairs of its own members, a number that grows with the group's square.
    owner = np.arange(len(cleaned), dtype=np.int64)
    for member, g in group_of.items():
        owner[member] = len(cleaned) + g
    speaker = np.arange(len(cleaned) + len(groups), dtype=np.int64)  # who stands for a group: its origin
    for g, group in enumerate(groups):
        speaker[len(cleaned) + g] = group.origin if group.origin is not None else group.members[0]
    # a pair is measured only if its shared fingerprints could reach the verdict's threshold
    hub = np.array([cleaned[int(d)].doc.agency is not None for d in speaker], dtype=bool)
    # the passage stage, in a forked copy of this process meanwhile, on a run it fits
    passages = forked.start(recorded_passage_stage, backend_steps, cleaned, signed, texts, config, owner,
                            group_of, groups, homes) if fork else None
    try:
        reuse = backend_steps.reuse_candidates(signed, owner, config.match, speaker,
                                               0.8 * config.verify.derive_partially, hub)
        progress("verify rewrites", 0, len(reuse))
        derivations = backend_steps.rewrites(signed, reuse, cleaned, groups, homes, config,
                                             lambda n: progress("verify rewrites", n, len(reuse)), jobs)
        progress("verify rewrites", len(reuse), len(reuse))
    except BaseException:  # the run ends here: the passage stage's child with it
        if passages is not None:
            passages.cancel()
        raise
    if passages is not None:
        progress("match passages", 0, None)
        matches, families, reported = passages.result()
        for stage, done, total in reported:
            progress(stage, done, total)
    else:
        for name in ("f_doc", "f_hash", "f_start", "f_quoted"):  # the findings hold what is needed
            setattr(signed, name, np.empty(0, dtype=getattr(signed, name).dtype))
        if signed.folder is not None:  # from here on the documents' values are read in bands: from a file
            values = Appender(disk_name(signed.folder, "doc_values"), signed.doc_values.dtype,
                              signed.doc_values.shape[1:])
            values.add(signed.doc_values)
            signed.doc_values = values.open()
            del values
        matches, families = passage_stage(backend_steps, cleaned, signed, texts, config, owner, group_of,
                                          groups, homes, progress, jobs, True)
    release_free_memory()  # what banding and verification freed, before the report is built
    return groups, matches, derivations, families


def passage_stage(steps: SimpleNamespace, cleaned: list[CleanDoc], signed: SignedBatch, texts: Texts,
                  config: Config, owner: np.ndarray, group_of: dict[int, int], groups: Sequence[Group],
                  homes: AuthorHomes, progress: Progress = no_progress, jobs: int = 1, free: bool = False
                  ) -> tuple[list[PassageMatch], list[Family]]:
    """``find``'s passage stage: candidates, verification, attribution and families. Returns
    ``(matches, families)``. ``free``: the passage signatures are emptied once the candidates are
    found (the largest array; a forked copy's are its own, and left whole)."""
    pairs = steps.passage_candidates(signed, config.match, config.sign,
                                     lambda done, total: progress("match passages", done, total),
                                     owner=owner, jobs=jobs)
    if free:
        signed.drop_passage_values()
    view = PassageView.of_batch(signed, texts)
    progress("verify passages", 0, len(pairs))
    matches = steps.verify_passages(cleaned, view, pairs, config.verify, group_of, jobs,
                                    lambda n: progress("verify passages", n, len(pairs)))
    progress("verify passages", len(pairs), len(pairs))
    matches = steps.attribute_matches(matches, groups, cleaned, homes)
    families, matches = steps.families(matches, cleaned, homes, config.verify)
    return matches, families


#: Each stage's last progress report, in order: ``(stage, done, total)``.
Reported = list[tuple[str, int, "int | None"]]


def recorded_passage_stage(steps: SimpleNamespace, cleaned: list[CleanDoc], signed: SignedBatch, texts: Texts,
                           config: Config, owner: np.ndarray, group_of: dict[int, int],
                           groups: Sequence[Group], homes: AuthorHomes
                           ) -> tuple[list[PassageMatch], list[Family], Reported]:
    """``passage_stage`` as a forked copy runs it beside the rewrite stage (``forked.start``), in
    one process: its progress is recorded (each stage's last report, in order) for ``find`` to
    report once it has the answer."""
    last: dict[str, tuple[int, int | None]] = {}

    def record(stage: str, done: int, total: int | None) -> None:
        last[stage] = (done, total)

    matches, families = passage_stage(steps, cleaned, signed, texts, config, owner, group_of, groups, homes,
                                      record)
    return matches, families, [(stage, *at) for stage, at in last.items()]


def realigner(cleaned: Sequence[CleanDoc], cfg: VerifyConfig) -> Realign:
    """``families.Realign`` over these documents: two occurrences aligned (``verify.align``) and
    kept at the passage cut-offs, spans in each document's text."""
    def realign(a: int, a_span: Span, b: int, b_span: Span) -> PassageMatch | None:
        ta = cleaned[a].doc.text[a_span[0]:a_span[1]]
        tb = cleaned[b].doc.text[b_span[0]:b_span[1]]
        found = align_texts(ta, tb)
        if found is None or found.score < cfg.passage_score_cutoff \
                or min(found.a[1] - found.a[0], found.b[1] - found.b[0]) < cfg.passage_min_chars:
            return None
        return PassageMatch(a, b, (a_span[0] + found.a[0], a_span[0] + found.a[1]),
                            (b_span[0] + found.b[0], b_span[0] + found.b[1]), found.score)
    return realign


def exact_duplicates(texts: Texts, signed: SignedBatch) -> np.ndarray:
    """Documents whose cleaned text is that of an earlier one, with it.

    Returns an ``(m, 2)`` array of ``(first, copy)``: each copy with the first
    document of its text, in corpus order. Documents with equal signatures
    (``match.equal_rows``) have their texts compared, so only equal texts are
    paired. A text held by 120,000 documents gives 119,999 pairs,
    never the 7 billion of every pair among them.
    """
    nonempty = np.flatnonzero(signed.doc_words > 0)
    if len(nonempty) < 2:
        return np.empty((0, 2), dtype=np.int64)
    values = signed.doc_values if len(nonempty) == len(signed.doc_values) else signed.doc_values[nonempty]
    order, starts, ends = equal_rows(values)  # equal signatures, corpus order
    del values
    runs = (nonempty[order[lo:hi]].tolist() for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True))
    return np.array(sorted(text_copies(runs, texts)), dtype=np.int64).reshape(-1, 2)


def text_copies(runs: Iterable[list[int]], texts: Mapping[int, str] | Sequence[str]) -> list[tuple[int, int]]:
    """``(first, copy)`` for each document of a run (documents with equal signatures, in corpus
    order) whose text is that of an earlier one of the run: what ``exact_duplicates`` pairs,
    here and on Spark's executors."""
    pairs: list[tuple[int, int]] = []
    for rows in runs:
        firsts: dict[str, int] = {}  # each distinct text of the run (a key collision, or equal shingles)
        for row in rows:
            first = firsts.setdefault(texts[row], row)
            if first != row:
                pairs.append((first, row))
    return pairs


def run(paths: Iterable[str | os.PathLike[str]], config: Config | None = None,
        progress: Progress = no_progress, jobs: int = 1) -> Report:
    """Run the whole pipeline over files and folders.

    Args:
        paths: files or folders of .txt, .html, .jsonl and .warc(.gz).
        config: parameters; defaults when omitted.
        progress: called as stages advance (for a progress bar).
        jobs: processes for reading, cleaning and signing, this one included (0: all
            cores); the report is the same for any number.

    Returns:
        A ``Report``; render it with ``provenance.render.report``.
    """
    config = config or Config()
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)  # one path, not its letters
    jobs = jobs or default_jobs()
    cleaned, skipped, signed = clean_and_sign(paths, config, progress, jobs)
    groups, matches, derivations, families = find(cleaned, config, progress, jobs, signed)
    return Report(__version__, params(paths, config), cleaned, skipped, groups, matches, derivations,
                  families)


def run_records(records: Iterable[str | Mapping[str, object]], config: Config | None = None,
                progress: Progress = no_progress, jobs: int = 1) -> Report:
    """Run the whole pipeline over texts in memory (``ingest.read_records``: a text, or a
    record with ``text`` or ``html`` and optionally ``id``, ``outlet``, ``date``, ``url``,
    ``title``, checked as a JSON Lines line is). ``jobs`` is for signing and matching."""
    config = config or Config()
    jobs = jobs or default_jobs()
    outlets, spill_dir = load_outlets([], config), SpillDir()
    _, work = worth_workers(document_batches(read_records(records, config.ingest), config, outlets,
                                             spill_dir=spill_dir), 1)  # records in memory: read here
    read = _templated(gather(ordered_map(call, work, 1), config, outlets, progress, spill_dir=spill_dir),
                      config)
    groups, matches, derivations, families = find(read.cleaned, config, progress, jobs)
    return Report(__version__, params([], config), read.cleaned, read.skipped, groups, matches,
                  derivations, families)


def params(paths: Iterable[str | os.PathLike[str]], config: Config) -> dict[str, object]:
    """Every parameter that shaped a run: the config plus the outlets files it read."""
    out = config.as_dict()
    out["ingest"]["outlets_files"] = outlets_files(paths, config)
    return out

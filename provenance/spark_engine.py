"""``provenance scan --engine spark``: the scan as Spark stages, giving the local engine's report.

The stages are the local engine's own functions; Spark only decides where they run:

1. **Read and clean** (executors). The driver walks the inputs in the local engine's sorted
   order and cuts them into the batches its worker pool takes (``read_clean.batches``:
   runs of files; a JSON Lines file as runs of raw lines); each batch is read, cleaned,
   annotated and resolved on an executor by ``runtime.pool.call``, as locally. Bad inputs are
   ``Skipped`` records, in reading order, as locally.
2. **Ids** (driver, ids only). Document ids must be unique across the run, in reading order
   (``pages.unique_id``): the driver collects the ids alone, renames repeats, and the
   executors apply the renames (resolving a renamed document's outlet again, as
   ``read_clean.gather`` does).
3. **Templates** (a Spark aggregation). Per scope (outlet, else folder), the distinct pages,
   and per (scope, line key) the distinct pages that hold the line, are counted with
   ``distinct`` and ``reduceByKey``; a line is template text where ``templates.learn_from``'s
   rule holds. Only the template keys (a few per outlet) reach the driver, which broadcasts them.
4. **Strip templates and sign** (executors): ``templates.apply_templates``, then
   ``sign.sign_texts`` over each partition's texts.
5. **Find** (``pipeline.find`` with ``spark_backend.SparkBackend``, whose table names the stages of
   each step). Every step of ``find`` runs as Spark stages over the local engine's own record
   functions: LSH banding of documents and of passages (shuffles on band keys), verification
   (shares of pairs), groups (components by an iterative join, then attribution per group), the
   rewrite stage (``spark_rewrites``: reuse candidates by shuffles keyed by fingerprint, pair and
   owner; measuring and attribution over shares of pairs; wire siblings by a join keyed by
   document; verdicts and ``keep_best`` per component of tied copies; alignment over shares),
   attribution of passage matches (per ``collapse_matches`` bucket) and passage families
   (``spark_families``: occurrences per document, components, each family on an executor), and
   exact copies (a shuffle keyed by the whole signature, then each run's texts compared on an
   executor: ``pipeline.text_copies``). What stays on the driver, precisely: the owner and
   speaker arrays ``find`` derives from the groups; ``evidence.author_homes`` (one pass over the
   metadata, then broadcast); cutting what the driver holds into what each task needs (signature slices,
   fingerprints by document with ``Fingerprints.of`` and ``Fingerprints.share``, the documents a
   share names); and glue over results: putting them back in order, crowded LSH buckets
   (``match.families``) and the last cap of candidates, the document pairs of the kept reuse
   pairs (``derive.speakers_pairs``), sorting and numbering the families, and the report.

So the driver holds every cleaned document and the signatures (what the report lists), as the
local engine does: a cluster spreads the work of every stage, not the report's memory. The
report is byte for byte the local engine's, whatever the number of partitions or executors
(``tests/test_spark.py``; each step against its local function: ``tests/test_spark_steps.py``).

Inputs are local paths (which this machine and each executor can open as files: local or a
shared mount) or Hadoop file-system URIs (``hdfs://``, ``s3a://``, ``file:///``: listed on the
driver and read on the executors, ``spark_input``). pyspark is an optional dependency
(``pip install 'provenance[spark]'``, Java 17).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from operator import add
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import CleanConfig, Config
from .errors import ConfigError
from .ingest import check_stdin_once, is_uri, unique_id
from .outlets import Outlets
from .pipeline import Progress, Report, find, no_progress, params
from .read_clean import Cleaned, batches, clean_bytes, rename
from .records import CleanDoc, Skipped
from .runtime.pool import call
from .sign import sign_texts
from .signatures import BatchJoiner, SignedBatch
from .spark_backend import SparkBackend
from .spark_input import hadoop_sources, spark_outlets, too_large
from .spark_lsh import _width
from .templates import apply_templates, pages_needed, scope_of
from .version import __version__

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

#: Batches of ``read_clean.batches`` (up to 500 records or 64 files each) per reading task, at most.
UNITS_PER_TASK = 8

#: The master when none is given and no ``spark-submit`` set one.
DEFAULT_MASTER = "local[2]"

Item = Cleaned | Skipped


def spark_context(master: str | None = None, app: str = "provenance") -> SparkContext:
    """The running Spark context, or a new one (``master``: else ``spark-submit``'s, else ``local[2]``).

    Raises ``ConfigError`` with one line when pyspark is not installed.
    """
    try:
        from pyspark import SparkConf, SparkContext
    except ImportError as exc:
        raise ConfigError("the spark engine needs pyspark and Java 17:"
                          " pip install 'provenance[spark]'") from exc
    conf = SparkConf().setAppName(app)
    if master:
        conf.setMaster(master)
    elif not conf.contains("spark.master"):
        conf.setMaster(DEFAULT_MASTER)
    conf.setIfMissing("spark.ui.showConsoleProgress", "false")
    conf.setIfMissing("spark.driver.memory", "4g")  # in local mode, the executors' memory too
    try:
        sc = SparkContext.getOrCreate(conf)
    except Exception as exc:  # pyspark without a Java it can start: its gateway error is many lines
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"could not start Spark (it needs Java 17; set JAVA_HOME): {first}") from exc
    sc.setLogLevel("ERROR")
    return sc


def _spill_level() -> Any:
    """Cached partitions that do not fit in memory go to disk (pyspark's default drops and recomputes)."""
    from pyspark import StorageLevel

    return StorageLevel.MEMORY_AND_DISK


def default_partitions(sc: SparkContext) -> int:
    """Twice the default parallelism: enough tasks to keep every core busy."""
    return max(2, 2 * int(sc.defaultParallelism))


# --- 1 and 2: read and clean, ids ----------------------------------------------------------


def _read_batch(unit: Any) -> list[Item]:
    """Executor: one batch of ``read_clean.batches`` read and cleaned as the local engine does it."""
    if isinstance(unit, Skipped):
        return [unit]
    return list(call(*unit).items)


def _rename(renames: dict[tuple[int, int], str], outlets: Outlets) -> Any:
    def fix(kv: tuple[int, list[Item]]) -> tuple[int, list[Item]]:
        batch, items = kv
        for at, item in enumerate(items):
            new = renames.get((batch, at))
            if new is not None and isinstance(item, Cleaned):
                rename(item, new, outlets)
        return kv
    return fix


def _renames(ids: Iterable[tuple[int, list[str | None]]]) -> dict[tuple[int, int], str]:
    """Each repeated id, by (batch, place), renamed in reading order (``pages.unique_id``)."""
    seen: set[str] = set()
    out = {}
    for batch, batch_ids in ids:
        for at, doc_id in enumerate(batch_ids):
            if doc_id is not None:
                new = unique_id(doc_id, seen)
                if new != doc_id:
                    out[(batch, at)] = new
    return out


# --- 3: templates ---------------------------------------------------------------------------


def _lines_of(kv: tuple[int, list[Item]]) -> Iterator[tuple[str, int, list[int]]]:
    for item in kv[1]:
        if isinstance(item, Cleaned):
            yield scope_of(item.clean), int(item.lines.page), item.lines.keys.tolist()


def spark_templates(docs: RDD[tuple[int, list[Item]]], cfg: CleanConfig,
                    partitions: int) -> dict[str, set[int]]:
    """``templates.learn_from`` as a Spark aggregation: counts per scope and per line, never
    the documents' lines, on the driver; only the template keys come back."""
    lines = docs.flatMap(_lines_of)
    pages_in = (lines.map(lambda x: (x[0], x[1])).distinct(partitions)
                .map(lambda sp: (sp[0], 1)).reduceByKey(add, partitions))
    holders = (lines.flatMap(lambda x: [((x[0], key), x[1]) for key in x[2]]).distinct(partitions)
               .map(lambda skp: (skp[0], 1)).reduceByKey(add, partitions))
    hits = (holders.map(lambda kc: (kc[0][0], (kc[0][1], kc[1]))).join(pages_in, partitions)
            .filter(lambda s: s[1][0][1] >= pages_needed(s[1][1], cfg))  # learn_from's rule
            .map(lambda s: (s[0], s[1][0][0])))
    out: dict[str, set[int]] = {}
    for scope, key in hits.collect():
        out.setdefault(scope, set()).add(int(key))
    return out


# --- 4: strip and sign ----------------------------------------------------------------------


Signed = tuple[list[CleanDoc | Skipped], SignedBatch]


def _strip_and_sign(templates: dict[str, set[int]], config: Config) -> Any:
    """Executor: a batch's documents stripped of their scope's templates, then signed (a text's
    signatures do not depend on the texts signed beside it, so the batch is any batch)."""
    def work(kv: tuple[int, list[Item]]) -> Signed:
        items: list[CleanDoc | Skipped] = []
        for item in kv[1]:
            if isinstance(item, Skipped):
                items.append(item)
            else:
                items.append(apply_templates(item.clean, templates, config.clean, item.lines))
        return items, sign_texts([c.text for c in items if isinstance(c, CleanDoc)], config.sign)
    return work


# --- the run --------------------------------------------------------------------------------


def _plan(sc: SparkContext, paths: list[str | Path], config: Config, outlets: Outlets
          ) -> tuple[list[Any], dict[str, list[tuple[int, str, str]]]]:
    """The reading units in reading order: local paths as ``read_clean.batches`` cuts them,
    files below a Hadoop URI one by one (``spark_input``). A file read through ``binaryFiles``
    leaves None in its place, and its key maps to its (place, path, id)s: a file under two of
    the URIs given (the same one twice, or a folder and one inside it) is read once and stands
    in each place, as a local path given twice does."""
    units: list[Any] = []
    remote: dict[str, list[tuple[int, str, str]]] = {}
    run: list[Path] = []

    def flush() -> None:
        # the walk's file sizes (ints between the batches) only tell the local pool whether to start
        units.extend(unit for unit in batches(run, config, outlets) if not isinstance(unit, int))
        run.clear()

    for raw in paths:
        if not (isinstance(raw, str) and is_uri(raw)):
            run.append(Path(raw))
            continue
        flush()
        for item in hadoop_sources(sc, raw, config):
            if isinstance(item, Skipped):
                units.append(item)
            elif (big := too_large(item, config)) is not None:
                units.append(big)
            elif item.size == 0:  # nothing to read: the local reasons (empty file) come from b""
                units.append((clean_bytes, b"", item.path, item.rel, item.path, config, outlets))
            else:
                remote.setdefault(item.key, []).append((len(units), item.path, item.rel))
                units.append(None)
    flush()
    return units, remote


def _read_remote(table: dict[str, list[tuple[int, str, str]]], config: Config, outlets: Outlets) -> Any:
    def read(kv: tuple[str, bytes]) -> list[tuple[int, list[Item]]]:
        return [(at, list(clean_bytes(kv[1], path, rel, path, config, outlets).items))
                for at, path, rel in table[kv[0]]]
    return read


def _read_rdd(sc: SparkContext, paths: list[str | Path], config: Config, outlets: Outlets,
              partitions: int) -> tuple[RDD[tuple[int, list[Item]]], int]:
    """Stage 1: each unit read and cleaned, keyed by its place in reading order, in that order;
    and the number of units."""
    units, remote = _plan(sc, paths, config, outlets)
    tasks = max(1, min(len(units), max(partitions, -(-len(units) // UNITS_PER_TASK))))
    local = [(at, unit) for at, unit in enumerate(units) if unit is not None]
    read = sc.parallelize(local, tasks).map(lambda kv: (kv[0], _read_batch(kv[1])))
    if remote:
        files = sc.binaryFiles(",".join(remote), min(len(remote), partitions))
        # back in reading order: the places are 0..n-1, so each goes to its range's partition
        # (``sortByKey`` would first sample the keys, reading every input twice more to do so)
        n = len(units)
        read = (read.union(files.flatMap(_read_remote(remote, config, outlets)))
                .partitionBy(tasks, lambda at: at * tasks // n)
                .mapPartitions(lambda part: sorted(part, key=lambda kv: kv[0]), True))
    return read, len(units)


def read_clean_sign(sc: SparkContext, paths: list[str | Path], config: Config, partitions: int,
                    outlets: Outlets, progress: Progress = no_progress
                    ) -> tuple[list[CleanDoc], list[Skipped], SignedBatch]:
    """Stages 1 to 4: every document read, cleaned, stripped of templates and signed, in order."""
    check_stdin_once(paths)
    progress("read and clean", 0, None)
    read = _read_rdd(sc, paths, config, outlets, partitions)[0].persist(_spill_level())
    cleaned: list[CleanDoc] = []
    skipped: list[Skipped] = []
    joined = BatchJoiner(config.sign.num_perm)
    try:
        ids = read.map(lambda kv: (kv[0], [i.clean.doc.id if isinstance(i, Cleaned) else None
                                           for i in kv[1]])).collect()
        docs = read.map(_rename(_renames(ids), outlets)).persist(_spill_level())
        templates = spark_templates(docs, config.clean, _width(sum(len(b) for _, b in ids), partitions))
        read.unpersist()
        signed_docs = docs.map(_strip_and_sign(templates, config)).persist(_spill_level())
        signed_docs.count()  # on every core; then taken a partition at a time, so the driver's
        # JVM never holds the whole corpus at once
        for items, signed in signed_docs.toLocalIterator():
            signed.shift(len(cleaned))
            joined.add(signed, shifted=True)
            for item in items:
                if isinstance(item, CleanDoc):
                    cleaned.append(item)
                else:
                    skipped.append(item)
            progress("read and clean", len(cleaned) + len(skipped), None)
        signed_docs.unpersist()
        docs.unpersist()
    finally:
        read.unpersist()
    return cleaned, skipped, joined.result()


def run_spark(paths: Iterable[str | os.PathLike[str]], config: Config | None = None,
              progress: Progress = no_progress, sc: SparkContext | None = None,
              partitions: int = 0) -> Report:
    """``pipeline.run`` on Spark: the same ``Report`` (and so the same JSON, byte for byte).

    Args:
        paths: files or folders, as for ``pipeline.run``.
        config: parameters; defaults when omitted.
        progress: called as stages advance.
        sc: the Spark context (``spark_context()`` when omitted).
        partitions: tasks per stage (0: twice the default parallelism).
    """
    config = config or Config()
    files: list[str | Path] = [p if isinstance(p, str) and is_uri(p) else Path(p)
                               for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    sc = sc or spark_context()
    partitions = partitions or default_partitions(sc)
    names, outlets = spark_outlets(sc, files, config)  # below a URI, read through Hadoop
    cleaned, skipped, signed = read_clean_sign(sc, files, config, partitions, outlets, progress)
    shaped = params(files, config)
    if any(isinstance(p, str) for p in files):  # the names of outlets files read through Hadoop
        shaped["ingest"]["outlets_files"] = names  # type: ignore[index]
    if not cleaned:
        return Report(__version__, shaped, cleaned, skipped)
    backend = SparkBackend(sc, partitions).backend()
    groups, matches, derivations, families = find(cleaned, config, progress, 1, signed, backend)
    return Report(__version__, shaped, cleaned, skipped, groups, matches, derivations, families)

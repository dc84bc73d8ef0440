"""The command line: a thin typer layer over the library.

Parses options, calls ``provenance.*``, renders, and maps outcomes to exit
codes: 0 success, 1 duplicates found (``check``, later), 2 usage error or
nothing readable. Everything it writes is written atomically.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..clean import check_keep
from ..config import CleanConfig, Config, MatchConfig, SignConfig
from ..errors import ProvenanceError
from ..records import CleanDoc, Skipped
from ..render.output import (
    atomic_write_text,
    check_disjoint,
    check_not_input,
)
from ..render.safe_text import one_line
from ..version import __version__
from .common import (
    _Bar,
    _fail,
    hold_until_exit,
    ingest_config,
    parse_formats,
    stderr_is_terminal,
    stdout_console,
    write_formats,
)
from .options import (
    FollowOpt,
    JobsOpt,
    KeepOpt,
    OutletsOpt,
    Paths,
    PermOpt,
    QuietOpt,
    RulesOpt,
    ScanPaths,
    SeedOpt,
    ShingleOpt,
    ThresholdOpt,
)

if TYPE_CHECKING:  # the stages and renderers are imported by the commands that run them, so
    # that ``--version``, ``--help`` and a usage error start in a fraction of a second
    from rich.console import Console

    from ..pipeline import Report
    from ..signatures import SignedBatch


class Stopped(BaseException):
    """SIGTERM or Ctrl-C, raised in the main thread so the run unwinds as it does on an error.

    Worker processes are stopped (``pool.ordered_map``), the texts kept on
    disk removed and no output half-written, which the default actions (dying
    at once; click's "Aborted!" for Ctrl-C) would not all do. Not an
    ``Exception``, so that no ``except Exception`` takes it for a failure to report.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signals that stop a run cleanly.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stop(signum: int, frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:  # a second signal, while unwinding, acts as it normally does
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    raise Stopped(signum)


class _App(typer.Typer):
    """The command: SIGTERM and Ctrl-C stop it with ``error: stopped by SIG...`` and exit 128+N."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return super().__call__(*args, **kwargs)  # signal handlers belong to the main thread
        previous = {sig: signal.signal(sig, _stop) for sig in STOP_SIGNALS}
        try:
            return super().__call__(*args, **kwargs)
        except Stopped as exc:
            sys.stderr.write(f"error: stopped by {signal.Signals(exc.signum).name}\n")
            sys.exit(128 + exc.signum)
        finally:
            for sig, handler in previous.items():
                if handler is not None:  # None: a handler not set from Python, which cannot be put back
                    signal.signal(sig, handler)


app = _App(add_completion=False, no_args_is_help=True,
           help="Strip page furniture from scraped text, find copies, and say who published first.")


#: ``scan``'s formats.
SCAN_FORMATS = ("table", "json", "csv")


class Engine(str, Enum):
    local = "local"
    spark = "spark"


class CleanFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


def _config(shingle_size: int, num_perm: int, seed: int, threshold: float,
            keep: list[str] | None, rules: Path | None, outlets: Path | None = None,
            follow_links: bool = False) -> Config:
    config = Config(
        ingest=ingest_config(outlets, follow_links),
        clean=CleanConfig(keep=tuple(sorted(set(keep or ()))), rules_file=str(rules) if rules else None),
        sign=SignConfig(shingle_size=shingle_size, num_perm=num_perm, seed=seed),
        match=MatchConfig(doc_threshold=threshold),
    )
    check_keep(config.clean)
    return config


def _read(paths: list[Path], config: Config, quiet: bool, jobs: int = 1, sign: bool = True
          ) -> tuple[list[CleanDoc], list[Skipped], SignedBatch | None]:
    """Read and clean, with progress; with ``sign``, the workers sign what they clean too."""
    from ..pipeline import clean_and_sign, ingest_and_clean
    from ..runtime.pool import default_jobs

    with _Bar(not quiet and stderr_is_terminal(), log=not quiet) as bar:
        if sign:
            cleaned, skipped, signed = clean_and_sign(paths, config, bar, jobs or default_jobs())
        else:
            (cleaned, skipped), signed = ingest_and_clean(paths, config, bar, jobs or default_jobs()), None
    _skips(paths, cleaned, skipped)
    return cleaned, skipped, signed


def _skips(paths: Sequence[str | Path], cleaned: list[CleanDoc], skipped: list[Skipped]) -> None:
    """A line on stderr for each input skipped; a usage error when nothing was readable."""
    for s in skipped:  # one plain line each, never wrapped, for logs and grep
        sys.stderr.write(f"skipped: {one_line(s.path)}: {one_line(s.reason)}\n")
    if not cleaned:
        raise _fail("nothing readable in " + ", ".join(str(p) for p in paths)
                    + (f" ({len(skipped)} skipped)" if skipped else ""))


def _scan(names: Sequence[str | Path], config: Config, quiet: bool, jobs: int = 1,
          engine: Engine | None = None) -> Report:
    """The whole pipeline with progress on stderr (on Spark: ``spark_engine``, the same report;
    it reads Hadoop URIs too, so the paths are passed on as given)."""
    from ..pipeline import Report, find, params
    from ..runtime.pool import default_jobs

    if engine is Engine.spark:
        from ..spark_engine import run_spark, spark_context

        sc = spark_context(f"local[{jobs}]" if jobs else None)  # 0: spark-submit's master, else local[2]
        with _Bar(not quiet and stderr_is_terminal(), log=not quiet) as bar:
            report = run_spark(names, config, bar, sc=sc)
        _skips(names, report.cleaned, report.skipped)
        return report
    from ..ingest import check_local

    check_local(names)  # before ``Path`` folds a URI's ``//``
    paths = [Path(p) for p in names]
    cleaned, skipped, signed = _read(paths, config, quiet, jobs)
    with _Bar(not quiet and stderr_is_terminal(), log=not quiet) as bar:
        groups, matches, derivations, families = find(cleaned, config, bar, jobs or default_jobs(), signed)
    return Report(__version__, params(paths, config), cleaned, skipped, groups, matches, derivations,
                  families)


@app.command()
def scan(
    paths: ScanPaths,
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", "-f", show_default=False,
        help="Output format: table (default), json or csv. Several at once: a comma-separated list"
             " (or the option repeated), each FORMAT:PATH to its own file, e.g. -f table,json:report.json"
    )] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of standard "
                                                   "output (a file is replaced atomically; a device or "
                                                   "FIFO is written into; a link is followed to its "
                                                   "target; - is standard output).")] = None,
    shingle_size: ShingleOpt = 5, num_perm: PermOpt = 128, seed: SeedOpt = 1,
    threshold: ThresholdOpt = 0.5, keep: KeepOpt = None, rules: RulesOpt = None,
    outlets: OutletsOpt = None, follow_links: FollowOpt = False, quiet: QuietOpt = False,
    jobs: JobsOpt = 0,
    engine: Annotated[Engine, typer.Option(
        "--engine", help="local (this machine's processes) or spark (Spark stages: needs"
                         " 'provenance[spark]' and Java 17; the master is local[N] with --jobs N, else"
                         " spark-submit's, else local[2]); the report is the same")] = Engine.local,
) -> None:
    """Find boilerplate, near-duplicate groups, republished passages and their origins."""
    try:
        outs = parse_formats(fmt or ["table"], SCAN_FORMATS, output, [Path(p) for p in paths])
        config = _config(shingle_size, num_perm, seed, threshold, keep, rules, outlets, follow_links)
        report = _scan(paths, config, quiet, jobs, engine)
        from ..render.report import to_csv, to_json_chunks

        def table(console: Console) -> None:
            from ..render.terminal import render_table  # rich: only for a table

            render_table(report, console)

        write_formats(outs, lambda f: to_json_chunks(report) if f == "json" else to_csv(report), table)
        hold_until_exit(report)
    except ProvenanceError as exc:
        raise _fail(str(exc)) from exc


@app.command("clean")
def clean_cmd(
    paths: Paths,
    out: Annotated[Path | None, typer.Option("--out", help="Write the cleaned corpus to this new "
                                                "folder, with each document's audit beside it.")] = None,
    fmt: Annotated[CleanFormat, typer.Option("--format", "-f", help="jsonl: one {id, text, removed} "
                                             "a line on standard output (or --output).")] = CleanFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="With --format jsonl: write "
                                                   "here instead of standard output.")] = None,
    dedup: Annotated[bool, typer.Option("--dedup", help="Keep one copy of each near-duplicate group"
                                        " (origin, else earliest, else longest) and map what was"
                                        " dropped.")] = False,
    show: Annotated[bool, typer.Option("--show", help="Print each document with the removed parts "
                                       "marked [-reason: ...-], and write nothing.")] = False,
    shingle_size: ShingleOpt = 5, num_perm: PermOpt = 128, seed: SeedOpt = 1,
    threshold: ThresholdOpt = 0.5, keep: KeepOpt = None, rules: RulesOpt = None,
    outlets: OutletsOpt = None, follow_links: FollowOpt = False, quiet: QuietOpt = False,
    jobs: JobsOpt = 0,
) -> None:
    """Strip boilerplate; write the cleaned corpus and an audit of every cut."""
    if show:
        try:
            config = _config(shingle_size, num_perm, seed, threshold, keep, rules, outlets, follow_links)
            cleaned, _, _ = _read(paths, config, quiet=True, sign=False)
        except ProvenanceError as exc:
            raise _fail(str(exc)) from exc
        from ..render.terminal import render_audit

        console = stdout_console()
        for clean in cleaned:
            console.print(render_audit(clean))
        return
    if out is None and fmt is CleanFormat.text:
        raise _fail("say where the cleaned corpus goes: --out DIR, or --format jsonl")
    if out is not None and output is not None:
        raise _fail("use --out DIR or --output FILE, not both (with --out, --format jsonl"
                    " also writes DIR/cleaned.jsonl)")
    try:
        config = _config(shingle_size, num_perm, seed, threshold, keep, rules, outlets, follow_links)
        if out is not None:
            check_disjoint(out, paths)
        check_not_input(output, paths)
        cleaned, skipped, signed = _read(paths, config, quiet, jobs, sign=dedup)
        from ..lineage import dropped_copies
        from ..pipeline import find, params
        from ..render.corpus import jsonl_line, write_corpus
        from ..runtime.pool import default_jobs

        dropped: dict[str, dict[str, object]] = {}
        if dedup:
            with _Bar(not quiet and stderr_is_terminal()) as bar:
                groups, _, _, _ = find(cleaned, config, bar, jobs or default_jobs(), signed)
            dropped = dropped_copies(groups, cleaned)
        survivors = [c for c in cleaned if c.doc.id not in dropped]
        if out is None:
            lines = "".join(jsonl_line(c) for c in survivors)
            if output is None:
                sys.stdout.write(lines)
            else:
                atomic_write_text(output, lines)
        else:
            write_corpus(out, survivors, skipped, dropped, params(paths, config),
                         jsonl=fmt is CleanFormat.jsonl)
            sys.stderr.write(f"wrote {len(survivors)} cleaned documents to {out}"
                             + (f" ({len(dropped)} duplicates dropped, see {out / 'dedup.json'})"
                                if dropped else " (no duplicates dropped)" if dedup else "") + "\n")
    except ProvenanceError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def report(
    paths: Paths,
    html: Annotated[Path, typer.Option("--html", help="Write a self-contained HTML report here.")],
    shingle_size: ShingleOpt = 5, num_perm: PermOpt = 128, seed: SeedOpt = 1,
    threshold: ThresholdOpt = 0.5, keep: KeepOpt = None, rules: RulesOpt = None,
    outlets: OutletsOpt = None, follow_links: FollowOpt = False, quiet: QuietOpt = False,
    jobs: JobsOpt = 0,
) -> None:
    """Scan, then write one HTML page: syndication, the outlet network, passages side by side."""
    try:
        check_not_input(html, paths)
        config = _config(shingle_size, num_perm, seed, threshold, keep, rules, outlets, follow_links)
        from ..render.html_report import to_html

        atomic_write_text(html, to_html(_scan(paths, config, quiet, jobs)))
        sys.stderr.write(f"wrote {html}\n")
    except ProvenanceError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def graph(
    paths: Paths,
    graphml: Annotated[Path | None, typer.Option("--graphml", help="Write GraphML here.")] = None,
    dot: Annotated[Path | None, typer.Option("--dot", help="Write Graphviz DOT here.")] = None,
    shingle_size: ShingleOpt = 5, num_perm: PermOpt = 128, seed: SeedOpt = 1,
    threshold: ThresholdOpt = 0.5, keep: KeepOpt = None, rules: RulesOpt = None,
    outlets: OutletsOpt = None, follow_links: FollowOpt = False, quiet: QuietOpt = False,
    jobs: JobsOpt = 0,
) -> None:
    """Scan, then export the outlet network (source -> republisher, weighted) as GraphML and/or DOT."""
    if graphml is None and dot is None:
        raise _fail("say where the graph goes: --graphml FILE and/or --dot FILE")
    try:
        check_not_input(graphml, paths)
        check_not_input(dot, paths)
        config = _config(shingle_size, num_perm, seed, threshold, keep, rules, outlets, follow_links)
        from ..render.graph import nodes_of, to_dot, to_graphml
        from ..render.report import syndication

        edges = syndication(_scan(paths, config, quiet, jobs))  # the report's own rows
        if graphml is not None:
            atomic_write_text(graphml, to_graphml(edges))
        if dot is not None:
            atomic_write_text(dot, to_dot(edges))
        sys.stderr.write(f"{len(edges)} edges between {len(nodes_of(edges))} outlets\n")
    except ProvenanceError as exc:
        raise _fail(str(exc)) from exc


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    """provenance: deduplication and provenance for scraped text."""
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


# The index and check commands live in their own module (which imports the shared pieces from
# ``common``, never this one).
from .index import register  # noqa: E402

register(app)

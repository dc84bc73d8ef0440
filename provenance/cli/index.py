"""``provenance index build|add|stats`` and ``provenance check``: a thin typer layer over ``check``.

Exit codes: 0 success (for ``check``: the new files pass), 1 ``check`` found
duplicates that ``--fail-on`` counts, 2 usage error, a missing or invalid
index, mismatched parameters, an unreachable Redis, or nothing readable.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..clean import check_keep
from ..config import CleanConfig, Config, MatchConfig, SignConfig
from ..errors import ProvenanceError
from ..records import Skipped
from ..render.safe_text import one_line
from .common import (
    _Bar,
    _fail,
    ingest_config,
    parse_formats,
    stderr_is_terminal,
    stdout_console,
    write_formats,
)
from .options import FollowOpt, KeepOpt, OutletsOpt, Paths, QuietOpt, RulesOpt

if TYPE_CHECKING:  # the index and its renderers load when a command runs (a fast --help)
    from ..index.check import CheckReport
    from ..index.store import IndexStore

index_app = typer.Typer(no_args_is_help=True, help="Build, extend and inspect a stored index of a corpus.")


#: ``check``'s formats.
CHECK_FORMATS = ("table", "json", "github", "junit", "markdown", "sarif")


class FailOn(str, Enum):
    documents = "documents"
    passages = "passages"
    none = "none"


class StatsFormat(str, Enum):
    table = "table"
    json = "json"


IndexOpt = Annotated[str, typer.Option("--index", "-i", help="The index: a file (SQLite) or a redis:// URL.",
                                       show_default=False)]
WorkersOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, max=64,
                                         help="Processes that clean and sign documents.")]
# For add and check, None means "the index's own value"; a different value is refused.
ShingleOpt = Annotated[int | None, typer.Option("--shingle-size", min=1, max=32, show_default=False,
                                                help="Words per shingle (default: the index's).")]
PermOpt = Annotated[int | None, typer.Option("--num-perm", min=16, max=1024, show_default=False,
                                             help="MinHash permutations (default: the index's).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", show_default=False,
                                             help="Hash seed (default: the index's).")]
LshOpt = Annotated[float | None, typer.Option("--threshold", min=0.01, max=0.99, show_default=False,
                                              help="LSH threshold for near-duplicate documents"
                                                   " (default: the index's).")]


def _stderr_skipped(skipped: list[Skipped]) -> None:
    for s in skipped:
        sys.stderr.write(f"skipped: {one_line(s.path)}: {one_line(s.reason)}\n")


def _store_failure(exc: BaseException) -> bool:
    """A damaged SQLite file or a failing Redis server, met while the index is read: one clear
    error and exit 2, never a traceback and never exit 1 (which means "duplicates found")."""
    return isinstance(exc, sqlite3.DatabaseError) or type(exc).__module__.split(".")[0] == "redis"


def _open(spec: str, create: bool = False) -> IndexStore:
    from ..index.backends import open_store

    return open_store(spec, create=create)


@contextlib.contextmanager
def _index_errors(index: str) -> Iterator[None]:
    """Every command's errors as one line and exit 2: a ``ProvenanceError`` as it says, and a
    damaged SQLite file or a failing Redis server as an index that cannot be read."""
    try:
        yield
    except ProvenanceError as exc:
        raise _fail(str(exc)) from exc
    except Exception as exc:
        if not _store_failure(exc):
            raise
        raise _fail(f"{index}: the index cannot be read: {exc}; rebuild it with"
                    " provenance index build PATH... --index INDEX --force") from exc


def _config_for(store: IndexStore, shingle_size: int | None, num_perm: int | None, seed: int | None,
                threshold: float | None, keep: list[str] | None, rules: Path | None,
                outlets: Path | None, follow_links: bool) -> Config:
    from ..index.check import config_from_params

    config = config_from_params(store.params(), shingle_size=shingle_size, num_perm=num_perm,
                                seed=seed, threshold=threshold, keep=keep,
                                rules_file=str(rules) if rules else None)
    check_keep(config.clean)
    return Config(ingest=ingest_config(outlets, follow_links), clean=config.clean,
                  sign=config.sign, match=config.match, verify=config.verify)


@index_app.command("build")
def build_cmd(
    paths: Paths, index: IndexOpt,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing index.")] = False,
    workers: WorkersOpt = 1,
    shingle_size: Annotated[int, typer.Option("--shingle-size", min=1, max=32,
                                              help="Words per shingle.")] = 5,
    num_perm: Annotated[int, typer.Option("--num-perm", min=16, max=1024,
                                          help="MinHash permutations.")] = 128,
    seed: Annotated[int, typer.Option("--seed", help="Hash seed.")] = 1,
    threshold: Annotated[float, typer.Option("--threshold", min=0.01, max=0.99,
                                             help="LSH threshold for near-duplicate documents.")] = 0.5,
    keep: KeepOpt = None, rules: RulesOpt = None, outlets: OutletsOpt = None,
    follow_links: FollowOpt = False, quiet: QuietOpt = False,
) -> None:
    """Create an index of PATHS (files or folders), cleaned and signed as scan does them."""
    from ..index.check import build

    with _index_errors(index):
        config = Config(ingest=ingest_config(outlets, follow_links),
                        clean=CleanConfig(keep=tuple(sorted(set(keep or ()))),
                                          rules_file=str(rules) if rules else None),
                        sign=SignConfig(shingle_size=shingle_size, num_perm=num_perm, seed=seed),
                        match=MatchConfig(doc_threshold=threshold))
        check_keep(config.clean)
        with contextlib.closing(_open(index, create=True)) as store, \
                _Bar(not quiet and stderr_is_terminal()) as bar:
            result, skipped = build(paths, store, config, force=force, workers=workers, progress=bar)
        _stderr_skipped(skipped)
        sys.stdout.write(f"built {index}: {result.added} documents indexed\n")


@index_app.command("add")
def add_cmd(
    paths: Paths, index: IndexOpt, workers: WorkersOpt = 1,
    shingle_size: ShingleOpt = None, num_perm: PermOpt = None, seed: SeedOpt = None,
    threshold: LshOpt = None, keep: KeepOpt = None, rules: RulesOpt = None, outlets: OutletsOpt = None,
    follow_links: FollowOpt = False, quiet: QuietOpt = False,
) -> None:
    """Add PATHS to an index in one transaction; a document with an indexed id replaces it."""
    from ..index.check import add

    with _index_errors(index), contextlib.closing(_open(index)) as store:
        config = _config_for(store, shingle_size, num_perm, seed, threshold, keep, rules, outlets,
                             follow_links)
        with _Bar(not quiet and stderr_is_terminal()) as bar:
            result, skipped = add(paths, store, config, workers=workers, progress=bar)
        _stderr_skipped(skipped)
        sys.stdout.write(f"added to {index}: {result.added} new, {result.replaced} replaced,"
                         f" {result.unchanged} unchanged; {result.total} documents in the index\n")


@index_app.command("stats")
def stats_cmd(
    index: IndexOpt,
    fmt: Annotated[StatsFormat, typer.Option("--format", "-f", help="Output format.")] = StatsFormat.table,
) -> None:
    """What an index holds: documents, passages, size, and the parameters it was built with."""
    from ..index.params import flat_params

    with _index_errors(index), contextlib.closing(_open(index)) as store:
        stats = store.stats()
    if fmt is StatsFormat.json:
        from ..render.report import canonical_json

        sys.stdout.write(canonical_json(stats))
        return
    from rich.table import Table

    table = Table(title=f"provenance index {index}", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for key in ("backend", "documents", "passages", "bytes", "schema", "created_with"):
        value = stats.get(key)
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    for key, value in sorted(flat_params(stats["params"]).items()):
        table.add_row(key, json.dumps(value))
    stdout_console().print(table)


def check_cmd(
    paths: Paths, index: IndexOpt,
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", "-f", show_default=False,
        help="Output format: table (default), json, github, junit, markdown or sarif. Several at once:"
             " a comma-separated list (or the option repeated), each FORMAT:PATH to its own file,"
             " e.g. -f github,junit:check.xml,sarif:check.sarif")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (atomically) instead"
                                                " of standard output (one format).")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="What fails the check (exit 1): documents"
                                            " (near-duplicates and exact copies), passages (those and"
                                            " republished passages) or none.")] = FailOn.documents,
    min_similarity: Annotated[float | None, typer.Option(
        "--min-similarity", min=1.0, max=100.0, show_default=False,
        help="Similarity (rapidfuzz, 0-100) a finding needs to fail the check; below it a finding is"
             " reported only. Default: every reported finding counts.")] = None,
    update: Annotated[bool, typer.Option("--update", help="When the check passes, add the new files to"
                                         " the index (one transaction).")] = False,
    shingle_size: ShingleOpt = None, num_perm: PermOpt = None, seed: SeedOpt = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", show_default=False,
        help="LSH threshold for near-duplicate documents, as on every command (default: the"
             " index's; another is refused). The similarity that fails the check is"
             " --min-similarity.")] = None,
    keep: KeepOpt = None, rules: RulesOpt = None, outlets: OutletsOpt = None,
    follow_links: FollowOpt = False, quiet: QuietOpt = False,
) -> None:
    """Check new files against an index and among themselves (exit 0 clean, 1 duplicates, 2 error)."""
    from ..index.check import check
    from ..index.check import update as add_checked
    from ..render.check_format import render_table

    if threshold is not None and not 0.01 <= threshold <= 0.99:
        raise _fail(f"--threshold {threshold:g}: the LSH threshold (estimated Jaccard) is between"
                    " 0.01 and 0.99 on every command; the similarity (0-100) a finding needs to fail"
                    " the check is --min-similarity")
    with _index_errors(index):
        outs = parse_formats(fmt or ["table"], CHECK_FORMATS, output, paths)
        with contextlib.closing(_open(index)) as store:
            config = _config_for(store, shingle_size, num_perm, seed, threshold, keep, rules, outlets,
                                 follow_links)
            with _Bar(not quiet and stderr_is_terminal()) as bar:
                result = check(paths, store, config, fail_on=fail_on.value, threshold=min_similarity,
                               progress=bar)
            _stderr_skipped(result.report.skipped)
            if not result.new:
                raise _fail("nothing readable in " + ", ".join(str(p) for p in paths)
                            + (f" ({len(result.report.skipped)} skipped)" if result.report.skipped else ""))
            write_formats(outs, lambda f: _render(f, result), lambda console: render_table(result, console))
            if update and result.verdict.passed:
                added = add_checked(result, store)
                sys.stderr.write(f"updated {index}: {added.added} new, {added.replaced} replaced,"
                                 f" {added.unchanged} unchanged; {added.total} documents in the index\n")
            elif update:
                sys.stderr.write(f"not updating {index}: the check failed\n")
    if not result.verdict.passed:
        raise typer.Exit(1)


def _render(fmt: str, result: CheckReport) -> str:
    """A check report in one of the file formats."""
    from ..render.check_format import to_github, to_json, to_junit, to_markdown, to_sarif

    render = {"json": to_json, "github": to_github, "junit": to_junit, "markdown": to_markdown,
              "sarif": to_sarif}[fmt]
    return render(result)


def register(app: typer.Typer) -> None:
    """Add ``index`` and ``check`` to the main app (called from ``cli/app.py``)."""
    app.add_typer(index_app, name="index")
    app.command("check")(check_cmd)

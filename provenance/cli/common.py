"""What the command line's modules share: the progress bar, errors, and writing several
formats (the argument and option types are ``cli.options``). ``cli.app`` (scan, clean,
report, graph) and ``cli.index`` (index, check) import it; it imports neither, so the two
never import each other.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..config import IngestConfig
from ..errors import ConfigError
from ..render.output import atomic_write_text, check_not_input, write_stdout

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported where a console is asked for (a terminal's progress bar, a table): a
# command that writes JSON or CSV without a terminal never imports it (20 ms of its start).


@cache
def err_console() -> Console:
    """The console on standard error: progress bars."""
    from rich.console import Console

    return Console(stderr=True)


#: Variables that make rich take a stream for a terminal whatever it is (``Console.is_terminal``:
#: rich 15 reads the last two; ``FORCE_TERMINAL`` is read by the rich versions before it).
_TERMINAL_ENVIRON = ("FORCE_TERMINAL", "TTY_COMPATIBLE", "FORCE_COLOR")


def stderr_is_terminal() -> bool:
    """rich's ``Console.is_terminal`` for standard error: asked of rich only where it could be
    yes (a stream that is a terminal, or the variables that force one), so that a command
    writing to a pipe or a file does not import rich to learn that it is not a terminal."""
    if not any(name in os.environ for name in _TERMINAL_ENVIRON):
        try:
            if sys.stderr is None or not sys.stderr.isatty():
                return False
        except (AttributeError, ValueError):  # no isatty, or closed: rich says no too
            return False
    return err_console().is_terminal


#: The last command's result, held until the process ends (``hold_until_exit``).
_HELD: list[object] = []


def hold_until_exit(value: object) -> None:
    """Keep ``value`` (a command's report, its documents) alive until the process ends.

    The command (``cli.run``) leaves with ``os._exit``, which frees nothing one by one; a
    report dropped when its command returns would first be freed object by object, for
    nothing (25 ms at 10,000 documents, more with more). Only the last value is held, so a
    test that runs many commands in one process holds one report, not all.
    """
    _HELD[:] = [value]


def ingest_config(outlets: Path | None, follow_links: bool) -> IngestConfig:
    """What the reading options say."""
    return IngestConfig(outlets_file=str(outlets) if outlets else None, follow_links=follow_links)


#: Width of tables written where there is no terminal (CI logs, files): wide enough for ids
#: and evidence, narrow enough to read. ``COLUMNS`` overrides it.
LOG_WIDTH = 160


def stdout_console() -> Console:
    """A console on standard output: the terminal's width, else ``COLUMNS``, else ``LOG_WIDTH``
    (rich's own fallback, 80, folds every table of a CI log into a column of fragments)."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = LOG_WIDTH
    return console


def table_text(render: Callable[[Console], None]) -> str:
    """What ``render`` prints, as plain text ``LOG_WIDTH`` wide (a table written to a file)."""
    from rich.console import Console

    buffer = Console(record=True, width=LOG_WIDTH, file=io.StringIO(), highlight=False)
    render(buffer)
    return buffer.export_text()


def parse_formats(spec: Sequence[str], choices: Sequence[str], output: Path | None,
                  inputs: Sequence[Path]) -> list[tuple[str, Path | None]]:
    """``--format`` values -> (format, path or None for standard output), in the order given.

    ``-f json`` writes to ``--output`` (or standard output); several formats at once are a
    comma-separated list or a repeated option, each ``FORMAT:PATH`` writing to its own file
    (``-f github,junit:check.xml``). At most one goes to standard output, no file is named
    twice, and no output is one of the inputs.
    """
    items = [item.strip() for value in spec for item in value.split(",") if item.strip()]
    if not items:
        raise ConfigError("--format: name a format (" + ", ".join(choices) + ")")
    if len(items) > 1 and output is not None:
        raise ConfigError("--output names the file of a single format; with several, give each its"
                          " file as FORMAT:PATH (e.g. --format github,junit:check.xml)")
    outs: list[tuple[str, Path | None]] = []
    for item in items:
        fmt, colon, path = item.partition(":")
        if fmt not in choices:
            raise ConfigError(f"--format: unknown format {fmt!r}; choose from " + ", ".join(choices))
        if colon and not path:
            raise ConfigError(f"--format {item}: no file after ':'")
        target = Path(path) if path else output
        outs.append((fmt, None if target is None or str(target) == "-" else target))
    if sum(1 for _, target in outs if target is None) > 1:
        raise ConfigError("--format: only one format can go to standard output; give the others"
                          " a file as FORMAT:PATH")
    named = [os.path.realpath(target) for _, target in outs if target is not None]  # links too
    if len(set(named)) < len(named):
        raise ConfigError("--format: two formats name the same file")
    for _, target in outs:
        check_not_input(target, list(inputs))
    return outs


def write_formats(outs: Sequence[tuple[str, Path | None]], text_of: Callable[[str], str | Iterable[bytes]],
                  table: Callable[[Console], None]) -> None:
    """Write each format to its place: a table on standard output is rendered live.

    ``text_of`` may give a format's UTF-8 bytes in pieces (``report.to_json_chunks``).
    """
    for fmt, target in outs:
        if fmt == "table" and target is None:
            table(stdout_console())
            continue
        text = table_text(table) if fmt == "table" else text_of(fmt)
        if target is None:
            write_stdout(text)
        else:
            atomic_write_text(target, text)
        del text


#: Without a terminal, a stage that runs longer than this logs a progress line this often (seconds).
LOG_EVERY = 10.0


class _Bar:
    """A rich progress bar on stderr, one task per stage (none, and no rich, when not ``enabled``)."""

    def __init__(self, enabled: bool, log: bool = False) -> None:
        self.log = log and not enabled
        self.started: dict[str, float] = {}
        self.logged: dict[str, float] = {}
        self.progress: Any = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TaskProgressColumn(show_speed=True),
                                     TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                     console=err_console(), transient=True)
        self.tasks: dict[str, Any] = {}  # stage -> the bar's task

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.started:
            self.started[stage] = self.logged[stage] = time.monotonic()
            if self.progress is not None:
                self.tasks[stage] = self.progress.add_task(stage, total=total)
        if self.progress is not None:
            self.progress.update(self.tasks[stage], completed=done, total=total)
        if not self.log:
            return
        now = time.monotonic()
        if now - self.logged[stage] >= LOG_EVERY:  # no terminal: a plain line now and then
            self.logged[stage] = now
            rate = done / max(now - self.started[stage], 1e-9)
            eta = f", eta {(total - done) / rate:,.0f} s" if total and rate else ""
            speed = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"  # bands are a few a second
            sys.stderr.write(f"{stage}: {done:,}" + (f"/{total:,}" if total else "")
                             + f" ({speed}/s{eta})\n")

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)

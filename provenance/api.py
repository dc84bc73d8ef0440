"""The library's front door: what the command does, as functions.

``provenance scan`` is ``scan`` plus a renderer; ``provenance index build`` is
``build_index``; ``provenance check`` is ``check``. Each takes the same
``Config`` the command builds from its options, returns records (never
prints), and raises the errors of ``provenance.errors`` (``InputError``,
``ConfigError``, ``OutputError``, ``IndexStoreError``), so a caller handles one
tree of exceptions. Heavy modules load on first call, as for the command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .config import Config

if TYPE_CHECKING:
    from .index.check import CheckReport
    from .index.store import AddResult, IndexStore
    from .pipeline import Report

#: ``progress(stage, done, total)``; ``total`` is None while unknown.
Progress = Callable[[str, int, "int | None"], None]

PathLike = str | os.PathLike[str]


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


def _path_list(paths: PathLike | Iterable[PathLike]) -> list[PathLike]:
    """One path, or several: a list either way (a path is not the letters it is made of)."""
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def scan(paths: PathLike | Iterable[PathLike] = (), *,
         texts: Iterable[str | Mapping[str, object]] | None = None, config: Config | None = None,
         jobs: int = 1, progress: Progress | None = None) -> Report:
    """Clean, match and attribute files and folders, or texts in memory.

    Args:
        paths: files or folders (.txt, .html, .jsonl[.gz], .warc[.gz], .warc.wet[.gz]),
            or one of them; ``-`` is standard input.
        texts: instead of paths, texts in memory (or one text): each a string, or a mapping with
            ``text`` (or ``html``) and optionally ``id``, ``outlet``, ``date``
            (ISO or any form a JSON Lines file may hold), ``url``, ``title``; checked
            as a JSON Lines line is, ids become ``texts#ID``.
        config: parameters; ``Config()`` when omitted.
        jobs: processes, this one and ``jobs - 1`` workers (0: every core); the report is the
            same for any number.
        progress: called as stages advance.

    Returns:
        A ``Report``: ``cleaned`` (with each document's removals and attribution
        inputs), ``skipped``, ``groups``, ``matches``, ``derivations``, ``families``.
        ``report_dict`` gives the JSON report's dictionary, ``report_json`` its text.

    Raises:
        ConfigError: both or neither of ``paths`` and ``texts``, or a bad parameter.
    """
    from . import pipeline
    from .errors import ConfigError

    progress = progress or _noop
    if isinstance(paths, (bytes, bytearray)) or isinstance(texts, (bytes, bytearray)):
        raise ConfigError("scan takes str paths and texts, not bytes: decode them first")
    listed = _path_list(paths)
    if texts is not None:
        if listed:
            raise ConfigError("scan takes paths or texts, not both")
        if isinstance(texts, (str, Mapping)):  # one text (or record), not its characters (or keys)
            texts = [texts]
        return pipeline.run_records(texts, config, progress, jobs)
    if not listed:
        raise ConfigError("scan needs paths (files or folders) or texts")
    return pipeline.run(listed, config, progress, jobs)


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON report (``provenance scan --format json``) as a dictionary."""
    from .render.report import to_dict

    return to_dict(report)


def report_json(report: Report) -> str:
    """The JSON report's text: byte for byte what ``provenance scan --format json`` writes."""
    from .render.report import to_json

    return to_json(report)


def open_index(spec: PathLike, *, create: bool = False) -> IndexStore:
    """Open a stored index: a SQLite file path or a ``redis://`` URL (see ``index.backends.open_store``).

    Close it with ``.close()`` (or ``contextlib.closing``).
    """
    from .index.backends import open_store

    return open_store(spec, create=create)


def _with_store(index: PathLike | IndexStore, create: bool = False) -> tuple[IndexStore, bool]:
    if isinstance(index, (str, os.PathLike)):
        return open_index(index, create=create), True
    return index, False


def build_index(paths: PathLike | Iterable[PathLike], index: PathLike | IndexStore, *,
                config: Config | None = None, force: bool = False, workers: int = 1,
                progress: Progress | None = None) -> AddResult:
    """Index files and folders (``provenance index build``): created whole or not at all.

    ``config`` records the shingle size, permutations, seed, thresholds and cleaning
    settings in the index; a later ``check`` with others is refused.

    Raises:
        IndexStoreError: the index exists (without ``force``) or cannot be written.
        ConfigError: nothing readable among ``paths``.
    """
    from .index.check import build

    listed = _path_list(paths)
    store, owned = _with_store(index, create=True)
    try:
        result, _ = build(listed, store, config or Config(), force=force, workers=workers,
                          progress=progress or _noop)
        return result
    finally:
        if owned:
            store.close()


def check(paths: PathLike | Iterable[PathLike], index: PathLike | IndexStore, *,
          config: Config | None = None, fail_on: str = "documents", min_similarity: float | None = None,
          progress: Progress | None = None) -> CheckReport:
    """Check new files against an index and among themselves (``provenance check``).

    Args:
        paths: the new files or folders.
        index: an open index, or where one is (a path or ``redis://`` URL).
        config: parameters; by default the index's own (its shingle size,
            permutations, seed, thresholds, cleaning settings). Others are refused.
        fail_on: ``documents``, ``passages`` or ``none``: what fails the check.
        min_similarity: the similarity (0-100) a finding needs to fail; None: any.

    Returns:
        A ``CheckReport``; ``.verdict.passed`` says whether the files may go in,
        ``.findings`` what they copy.
    """
    from .index.check import check as run_check
    from .index.check import config_from_params

    listed = _path_list(paths)
    store, owned = _with_store(index)
    try:
        config = config or config_from_params(store.params())
        return run_check(listed, store, config, fail_on=fail_on, threshold=min_similarity,
                         progress=progress or _noop)
    finally:
        if owned:
            store.close()

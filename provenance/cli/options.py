"""The command line's argument and option types, shared by ``cli.app`` and ``cli.index``.

Each is an ``Annotated`` alias, so a command's signature names its options once and
``--help`` reads the same in every command that takes one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_PATHS_HELP = ("Files or folders (.txt, .html, .jsonl, .jsonl.gz, .warc, .warc.gz, Common Crawl's"
               " .warc.wet.gz), or - (once) for standard input, gunzipped if need be and its format"
               " sniffed (read up to 64 MiB).")
Paths = Annotated[list[Path], typer.Argument(help=_PATHS_HELP, show_default=False)]
ScanPaths = Annotated[list[str], typer.Argument(
    help=_PATHS_HELP + " With --engine spark, also Hadoop file-system URIs (hdfs://..., s3a://...,"
                       " file:///...), read through Spark's Hadoop configuration.",
    show_default=False)]
ShingleOpt = Annotated[int, typer.Option("--shingle-size", min=1, max=32, help="Words per shingle.")]
PermOpt = Annotated[int, typer.Option("--num-perm", min=16, max=1024, help="MinHash permutations.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Hash seed (fixed, so runs are reproducible).")]
ThresholdOpt = Annotated[float, typer.Option("--threshold", min=0.01, max=0.99,
                                             help="LSH threshold for near-duplicate documents (Jaccard).")]
KeepOpt = Annotated[list[str] | None, typer.Option("--keep", help="Keep spans removed for this reason"
                                                      " (comments, teaser-list, navigation, share, template,"
                                                      " ...; an unknown one is refused with the list);"
                                                      " repeat for more.")]
#: An option naming a file that must exist (not a folder): checked before any work starts.
_A_FILE = {"exists": True, "dir_okay": False}
RulesOpt = Annotated[Path | None, typer.Option(
    "--rules", **_A_FILE,
    help="A JSON rules file (phrases, class words, months) added to the built-in language files; it"
         ' may also drop built-in rules, or replace them all with "replace": true.')]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Processes for reading, cleaning and"
                                      " signing (and LSH and verification on large runs): this one and"
                                      " N-1 workers; 0 means every core. The output is the same for any"
                                      " number.")]
FollowOpt = Annotated[bool, typer.Option(
    "--follow-links", help="Read symbolic links in a scanned folder that point to files outside the"
                           " folders given (by default they are passed over, with a reason). Links into"
                           " /proc, /sys and /dev, and links to folders, are never followed.")]
OutletsOpt = Annotated[Path | None, typer.Option(
    "--outlets", **_A_FILE,
    help="An outlets file: aliases, and path or URL patterns naming outlets (outlets.json atop a"
         " scanned folder is read too).")]

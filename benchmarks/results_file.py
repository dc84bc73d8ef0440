"""Write a benchmark's figures as JSON: sorted keys, two-space indent, a final newline.

Shared by the benchmark scripts so that every ``--out``/``--json`` file reads the same
way and is replaced whole (written beside, then renamed), never left half-written.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any


def write_results(path: Path, payload: dict[str, Any]) -> None:
    """``payload`` as canonical JSON at ``path`` (its folder made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
    tmp.replace(path)


def checkout_state(folder: Path) -> tuple[str, bool] | None:
    """The short git commit of the checkout holding ``folder``, and whether ``folder`` has
    uncommitted changes; None outside a git checkout. Figures are only comparable with the
    code that made them."""
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head, bool(dirty)

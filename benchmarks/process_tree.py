"""Peak memory of a child process and everything it starts, sampled from /proc (benchmarks only)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(entry.name)
        children.setdefault(int(fields[1]), []).append(p)
        rss[p] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def run_sampled(command: list[str], every: float = 0.05, **popen: Any) -> tuple[int, float, int]:
    """Run ``command`` to its end: its exit code, wall seconds, and the peak resident bytes of its
    process tree, sampled every ``every`` seconds."""
    t0 = time.perf_counter()
    child = subprocess.Popen(command, **popen)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(child.pid))
            stop.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    return code, wall, peak

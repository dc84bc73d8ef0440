"""A killed or interrupted run leaves no worker process alive (real processes, real signals).

``provenance scan`` on a few MB runs its reading, cleaning and signing in
worker processes (``runtime.pool``). Whatever ends the main process, SIGKILL
included, which no handler sees, its workers must go too: nothing may keep
eating cores and memory after the run is gone.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provenance.runtime.pool import MIN_PARALLEL_BYTES
from provenance.runtime.spill import PREFIX

from .conftest import python_output

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

JOBS = 3  # the run and two workers (``pool.ordered_map``)
WORKERS = JOBS - 1


def _big_corpus(root: Path) -> Path:
    """Text files of made-up news prose, twice the size from which a run uses workers."""
    rng = random.Random(12)
    words = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "pu", "sar", "tol", "vin") for b in
             ("dor", "ena", "ist", "ma", "ro", "sum", "tak", "ul", "ver", "zo")]
    root.mkdir()
    size, n = 0, 0
    while size < 2 * MIN_PARALLEL_BYTES:
        paras = ["\n".join(" ".join(rng.choices(words, k=14)).capitalize() + "." for _ in range(6))
                 for _ in range(8)]
        text = "\n\n".join(paras) + "\n"
        (root / f"story-{n:05d}.txt").write_text(text, encoding="utf-8")
        size, n = size + len(text), n + 1
    return root


def _children() -> dict[int, list[int]]:
    """Every live process's children, by parent id (from /proc); zombies count as gone."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[0] != "Z":
                out.setdefault(stat[1], []).append(int(entry))
    return out


def _stat(pid: int) -> tuple[str, int] | None:
    """A process's state and parent id, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _descendants(pid: int) -> dict[int, int]:
    """Each live descendant of ``pid`` and its depth (1: a child)."""
    children, found, todo = _children(), {}, [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in children.get(parent, []):
            found[child] = depth + 1
            todo.append((child, depth + 1))
    return found


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_corpus(tmp_path_factory.mktemp("big") / "corpus")


#: ``python -m provenance``, with its pool started by the fork server (as a run already big when
#: its pool starts does: ``pool.FORK_MAX_RESIDENT``) instead of forked from the run.
VIA_FORK_SERVER = ["-c", "import sys, provenance.runtime.pool as pool; pool.FORK_MAX_RESIDENT = 0;"
                   " sys.argv[0] = 'provenance'; from provenance.cli import app; app()"]


def _start_scan(corpus: Path, tmp: Path, start: list[str] | None = None
                ) -> tuple[subprocess.Popen[str], dict[int, int]]:
    """A real ``python -m provenance scan`` with workers (or the command ``start`` gives);
    returns once its workers exist."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    # stderr to a file, not a pipe: a surviving worker would hold a pipe open, and reading it
    # would hang rather than fail
    with (tmp / "stderr").open("w") as err:
        proc = subprocess.Popen([sys.executable, *(start or ["-m", "provenance"]), "scan", str(corpus), "-q",
                                 "--jobs", str(JOBS), "--format", "json", "-o", str(tmp / "out.json")],
                                env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
    deadline = time.monotonic() + 60
    while True:
        found = _descendants(proc.pid)
        # workers: forked by the run itself (a small run's pool: the run's own command line),
        # forked by the forkserver (depth 2), or spawned by the run
        forked = sum(1 for p, d in found.items() if d == 1 and _cmdline(p) == _cmdline(proc.pid))
        if forked >= WORKERS or sum(1 for d in found.values() if d >= 2) >= WORKERS \
                or len(found) >= WORKERS + 2:
            return proc, found
        assert proc.poll() is None, ("the scan ended before its workers were seen",
                                     (tmp / "stderr").read_text())
        assert time.monotonic() < deadline, f"no workers after 60 s: {found}"
        time.sleep(0.05)


def _all_gone(pids: dict[int, int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return left


@pytest.mark.parametrize("start", [None, VIA_FORK_SERVER], ids=["forked-pool", "fork-server-pool"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_killed_run_leaves_no_worker_alive(big_corpus: Path, tmp_path: Path, sig: signal.Signals,
                                             start: list[str] | None) -> None:
    proc, workers = _start_scan(big_corpus, tmp_path, start)
    forked = all(depth == 1 for depth in workers.values())
    assert forked == (start is None), workers  # a small run forks its pool; else the fork server
    try:
        time.sleep(0.5)  # let work be under way in the workers
        workers.update(_descendants(proc.pid))
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        left = _all_gone(workers)
        assert not left, [(p, Path(f"/proc/{p}/cmdline").read_bytes()) for p in left]
    finally:
        for pid in [proc.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    err = (tmp_path / "stderr").read_text()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    # SIGTERM and Ctrl-C stop the run cleanly: its exit code, one line saying why, nothing left on disk
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines() == [f"error: stopped by {sig.name}"], err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(PREFIX)]
    assert not (tmp_path / "out.json").exists()


_LIFELINE = """
import os, sys, time
from provenance.runtime import lifeline
late = sys.argv[1] == "late"
r, w = os.pipe()
middle = os.fork()
if middle == 0:  # the run
    run = os.getpid()
    worker = os.fork()
    if worker == 0:
        if late:
            time.sleep(1)  # the run is gone before the worker sets its guard
        lifeline.worker_start(run)
        os.write(w, f"{os.getpid()}\\n".encode())
        time.sleep(60)
        os._exit(0)
    if not late:
        time.sleep(1)  # the worker has set its guard
    os._exit(0)
os.close(w)
os.waitpid(middle, 0)
print(os.read(r, 100).decode().strip(), flush=True)
"""


@pytest.mark.parametrize("when", ["late", "in-time"])
def test_a_worker_whose_run_is_gone_does_not_stay(when: str) -> None:
    # In time, the kernel kills the worker when its run dies; too late for that, it exits itself.
    out = subprocess.run([sys.executable, "-c", _LIFELINE, when], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    if when == "late":
        assert out == ""  # it never started working
        return
    assert out.isdigit(), out
    assert not _all_gone({int(out): 1})


def test_a_pool_started_off_the_main_thread_works() -> None:
    """A fork server started from another thread has no guard; its workers must still run."""
    probe = ("import threading\nfrom provenance.runtime.pool import ordered_map\nout = []\n"
             "t = threading.Thread(target=lambda: out.extend(ordered_map(abs, [(-1,), (-2,), (-3,)], 2)))\n"
             "t.start(); t.join(); print(out)")
    assert python_output(probe) == "[1, 2, 3]"


_STOP_MIDWAY = """
import sys, time
from provenance.runtime import pool
from tests import _partial_result
if __name__ == "__main__":
    pool.pool(2).submit(_partial_result.write_half_a_result)
    time.sleep(2)  # the worker has sent part of its result, and waits
    pool.stop()
    print("stopped", flush=True)
"""


def test_stop_returns_when_a_worker_dies_halfway_through_sending_a_result(tmp_path: Path) -> None:
    # SIGTERM hung a scan now and then (1 in 30 on the test corpus): pool.stop killed a
    # worker in the middle of sending a batch's result, and the pool's thread waited for the
    # rest of it for ever, and stop for that thread.
    script = tmp_path / "stop_midway.py"
    script.write_text(_STOP_MIDWAY, encoding="utf-8")
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                              env=env, cwd=root, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("pool.stop() did not return")
    assert done.stdout.strip() == "stopped", done.stderr


_FIRST_ERROR = """
import time
from provenance.runtime.pool import call, ordered_map
out = []
batches = [(time.sleep, 0.4), (float, "first"), (time.sleep, 0.4), (int, "second"), (abs, -5)]
try:
    for answer in ordered_map(call, batches, int(__import__("sys").argv[1])):
        out.append(answer)
except ValueError as e:
    print(len(out), e)
"""


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_a_failing_batch_fails_in_its_place_whoever_runs_it(jobs: int) -> None:
    """The answers before a failing batch come first, and the first failure in batch order is the
    one raised, for any ``--jobs``: the driver also runs batches itself (the fourth here, while
    the worker has the second and third), and one it runs must not fail ahead of its turn."""
    assert python_output(_FIRST_ERROR, str(jobs)) == "1 could not convert string to float: 'first'"


_AFTER_A_DEAD_WORKER = """
import os, time
from provenance.runtime.pool import call, ordered_map
def run(batches):
    try:
        return list(ordered_map(call, batches, 2))
    except Exception as e:
        return type(e).__name__
print(run([(time.sleep, 0.3), (os._exit, 3), (abs, -1)]), run([(abs, -1), (abs, -2), (abs, -3)]))
"""


def test_a_worker_that_died_does_not_break_the_next_run_in_the_process() -> None:
    """The library (``api``) may scan again in the same process after a worker died (killed
    for memory, say): that run fails, the next starts new workers rather than reuse the
    broken pool."""
    assert python_output(_AFTER_A_DEAD_WORKER) == "BrokenProcessPool [1, 2, 3]"


def test_a_pool_is_forked_only_from_a_small_process_with_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """``pool._forks``: a copy made while another thread holds a lock (a progress bar writing to
    the standard error) would hang on it, and one made from a big process keeps its pages."""
    import threading

    from provenance.runtime import pool

    monkeypatch.setattr(pool, "FORK_MAX_RESIDENT", 1 << 40)
    assert pool._forks() == (threading.active_count() == 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not pool._forks()
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(pool, "FORK_MAX_RESIDENT", 0)
    assert not pool._forks()


def test_a_pool_is_not_forked_on_a_python_that_forks_its_workers_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before 3.10.5 (gh-90622) a ``fork`` pool forked each worker at a ``submit``, once its own
    threads were running: the deadlock ``_forks`` keeps away from."""
    from provenance.runtime import pool

    monkeypatch.setattr(pool, "FORK_MAX_RESIDENT", 1 << 40)
    monkeypatch.setattr(pool.threading, "active_count", lambda: 1)
    assert pool._forks()
    monkeypatch.setattr(pool.sys, "version_info", (3, 10, 4, "final", 0))
    assert not pool._forks()


_STOP_BUSY_FORKED = """
import signal, time
from provenance.cli.app import _stop
from provenance.runtime import pool
signal.signal(signal.SIGTERM, _stop)  # as the command sets it before its pool is forked
pool.FORK_MAX_RESIDENT = 1 << 40
executor = pool.pool(2)
futures = [executor.submit(time.sleep, 30) for _ in range(2)]
time.sleep(1)  # both workers are in their batches
began = time.monotonic()
pool.stop()
print(round(time.monotonic() - began) < pool.STOP_SECONDS, flush=True)
"""


def test_stop_ends_busy_workers_of_a_forked_pool_at_once() -> None:
    """A pool forked from the command has its SIGTERM handler (``app._stop``, raising
    ``Stopped``); a worker that kept it would take ``pool.stop``'s SIGTERM for its batch's
    failure, send that back and wait for more, until SIGKILL ``STOP_SECONDS`` later."""
    assert python_output(_STOP_BUSY_FORKED) == "True"


def _pid() -> int:
    return os.getpid()


def test_ordered_map_runs_the_last_batch_here_and_gives_back_the_switch_interval() -> None:
    """The last batch runs in this process (given to a worker that holds another, it would
    leave this one waiting at the end); the switch interval lowered while workers answer is
    put back."""
    from provenance.runtime import pool

    before = sys.getswitchinterval()
    pids = list(pool.ordered_map(_pid, [(), ()], 2))  # the first goes to the idle worker
    assert pids[-1] == os.getpid()
    assert sys.getswitchinterval() == before


def test_the_answers_pipe_is_widened_where_the_system_allows() -> None:
    import fcntl

    from provenance.runtime import pool

    get = getattr(fcntl, "F_GETPIPE_SZ", None)
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    if get is None or limit < pool.RESULT_PIPE_BYTES:
        pytest.skip("no F_GETPIPE_SZ here, or pipes are capped below RESULT_PIPE_BYTES")
    reader = pool.pool(2)._result_queue._reader  # type: ignore[attr-defined]
    assert fcntl.fcntl(reader.fileno(), get) >= pool.RESULT_PIPE_BYTES

"""Fixtures for the index and check tests: a corpus and new files from samples/, and both backends.

``store_spec`` runs a test once on an SQLite file and once on Redis. Redis
comes from ``PROVENANCE_TEST_REDIS_URL`` when it is set (its database is
flushed before each test: give it a database of its own, e.g. ``/15``);
otherwise a ``redis-server`` on PATH is started on a free loopback port for
the session. Without either the Redis tests are skipped, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SAMPLES

__all__ = ["corpus_dir", "new_dir", "store_spec"]

REDIS_ENV = "PROVENANCE_TEST_REDIS_URL"
#: The corpus: every sample except the seeds and the round-up, which are the "new" files.
NEW_PARTS = ("seeds", "roundup")

_server: dict[str, object] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_server() -> None:
    proc = _server.get("proc")
    if isinstance(proc, subprocess.Popen) and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def redis_base_url() -> str:
    """A Redis URL for the tests, or skip (fail under CI=true) when there is none."""
    if os.environ.get(REDIS_ENV):
        return os.environ[REDIS_ENV]
    if "url" in _server:
        return str(_server["url"])
    exe = shutil.which("redis-server")
    if exe is None:
        reason = (f"Redis tests need redis-server on PATH or {REDIS_ENV}"
                  " (apt-get install redis-server)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI=true, so this fails instead of skipping")
        pytest.skip(reason)
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(_stop_server)
    _server["proc"] = proc
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail(f"redis-server on port {port} did not answer within 20 s")
    _server["url"] = f"redis://127.0.0.1:{port}/15"
    return str(_server["url"])


def flush_redis(url: str) -> None:
    import redis
    redis.Redis.from_url(url).flushdb()


@pytest.fixture(params=["sqlite", "redis"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's index lives: an SQLite file, or an emptied Redis database."""
    if request.param == "sqlite":
        return str(tmp_path / "corpus.db")
    url = redis_base_url()
    flush_redis(url)
    return url


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/ without the seeds and the round-up (11 documents)."""
    root = tmp_path_factory.mktemp("corpus")
    for part in SAMPLES.iterdir():
        if part.is_dir() and part.name not in NEW_PARTS:
            shutil.copytree(part, root / part.name)
    return root


@pytest.fixture(scope="session")
def new_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds and the round-up: copies of corpus documents and a page that quotes three."""
    root = tmp_path_factory.mktemp("new")
    for part in NEW_PARTS:
        shutil.copytree(SAMPLES / part, root / part)
    return root


def provenance_cmd(*args: str) -> list[str]:
    """The installed command, run with this interpreter (real processes)."""
    return [sys.executable, "-c", "from provenance.cli import app; app()", *args]

"""``provenance index build|add|stats``: both backends, refusals, concurrency and a killed add."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from provenance.bands import KNOWN_BANDING, band_keys, banding
from provenance.cli import app
from provenance.config import CleanConfig, Config, SignConfig
from provenance.errors import ConfigError, IndexStoreError
from provenance.index.backends import open_store
from provenance.index.check import build, ensure_params, index_params
from provenance.index.store import PAUSE_ENV

from .conftest import SAMPLES
from .index_fixtures import *  # noqa: F403  (the fixtures: store_spec, corpus_dir, new_dir)
from .index_fixtures import free_port, provenance_cmd

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def built(spec: str, corpus: Path) -> str:
    result = invoke("index", "build", str(corpus), "--index", spec, "-q")
    assert result.exit_code == 0, result.output
    return spec


def stats(spec: str) -> dict:
    result = invoke("index", "stats", "--index", spec, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def snapshot(spec: str) -> object:
    """Everything an index holds, for before/after comparisons."""
    if spec.startswith("redis://"):
        import redis
        r = redis.Redis.from_url(spec)
        return sorted((k, r.type(k), r.dump(k)) for k in r.scan_iter(count=1000) if not k.endswith(b":next"))
    con = sqlite3.connect(spec)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("meta", "docs", "dband", "pband")}
    finally:
        con.close()


@pytest.mark.parametrize("key", sorted(KNOWN_BANDING))
def test_known_banding_is_datasketchs(key: tuple[float, int]) -> None:
    """The table that spares a small check scipy's import holds what datasketch computes."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=key[0], num_perm=key[1])
    assert KNOWN_BANDING[key] == (lsh.b, lsh.r)


def test_band_keys_follow_datasketch_banding() -> None:
    assert banding(0.5, 128) == (25, 5)  # what MinHashLSH(threshold=0.5, num_perm=128) picks
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**32 - 1, size=(1, 128), dtype=np.uint32)
    b = a.copy()
    b[0, 5] += 1  # differs in band 1 only (values 5..9)
    ka, kb = band_keys(a, 25, 5)[0], band_keys(b, 25, 5)[0]
    assert ka[1] != kb[1]
    assert (ka[np.arange(25) != 1] == kb[np.arange(25) != 1]).all()
    assert len(set(ka.tolist())) == 25  # bands never share a key


def test_build_and_stats(store_spec: str, corpus_dir: Path) -> None:
    result = invoke("index", "build", str(corpus_dir), "--index", store_spec, "-q")
    assert result.exit_code == 0, result.output
    assert "11 documents indexed" in result.stdout
    assert "skipped:" in result.stderr and "image/png" in result.stderr
    s = stats(store_spec)
    assert s["documents"] == 11 and s["passages"] > 11
    assert s["params"]["sign"] == {**s["params"]["sign"], "num_perm": 128, "shingle_size": 5, "seed": 1}
    assert s["params"]["match"] == {"doc_threshold": 0.5, "passage_threshold": 0.3}
    assert s["params"]["clean"]["version"] == CleanConfig().version
    table = invoke("index", "stats", "--index", store_spec)
    assert table.exit_code == 0 and "sign.num_perm" in table.stdout


def test_build_refuses_an_existing_index_without_force(store_spec: str, corpus_dir: Path,
                                                       new_dir: Path) -> None:
    built(store_spec, corpus_dir)
    again = invoke("index", "build", str(new_dir), "--index", store_spec, "-q")
    assert again.exit_code == 2
    assert "already" in again.stderr and "--force" in again.stderr
    assert stats(store_spec)["documents"] == 11
    forced = invoke("index", "build", str(new_dir), "--index", store_spec, "-q", "--force")
    assert forced.exit_code == 0, forced.output
    assert stats(store_spec)["documents"] == 6


def test_add_new_unchanged_and_replaced(store_spec: str, corpus_dir: Path, new_dir: Path,
                                        tmp_path: Path) -> None:
    built(store_spec, corpus_dir)
    first = invoke("index", "add", str(new_dir), "--index", store_spec, "-q")
    assert first.exit_code == 0, first.output
    assert "6 new, 0 replaced, 0 unchanged; 17 documents" in first.stdout
    again = invoke("index", "add", str(new_dir), "--index", store_spec, "-q")
    assert "0 new, 0 replaced, 6 unchanged; 17 documents" in again.stdout
    edited = tmp_path / "edited"
    shutil.copytree(new_dir, edited)
    seed = next((edited / "seeds").glob("003_*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA closing line added later.\n", encoding="utf-8")
    replaced = invoke("index", "add", str(edited), "--index", store_spec, "-q")
    assert "0 new, 1 replaced, 5 unchanged; 17 documents" in replaced.stdout
    before = stats(store_spec)
    # the old version is gone: checking it finds the new version as a near-duplicate, not an exact copy
    old = invoke("check", str(SAMPLES / "seeds" / seed.name), "--index", store_spec, "--format", "json", "-q")
    kinds = {(f["other"], f["kind"]) for f in json.loads(old.stdout)["findings"]}
    assert ("index:seeds/" + seed.name, "document") in kinds
    assert ("index:seeds/" + seed.name, "exact") not in kinds
    assert stats(store_spec)["passages"] == before["passages"]


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--num-perm", "64", "sign.num_perm: index 128, requested 64"),
    ("--shingle-size", "4", "sign.shingle_size: index 5, requested 4"),
    ("--seed", "7", "sign.seed: index 1, requested 7"),
    ("--keep", "comments", "clean.keep: index [], requested ['comments']"),
])
def test_mismatched_parameters_are_refused(store_spec: str, corpus_dir: Path, new_dir: Path,
                                           option: str, value: str, message: str) -> None:
    built(store_spec, corpus_dir)
    before = snapshot(store_spec)
    for command in (["index", "add"], ["check"]):
        result = invoke(*command, str(new_dir), "--index", store_spec, option, value, "-q")
        assert result.exit_code == 2, result.output
        assert "was built with other parameters" in result.stderr
        assert message in result.stderr
    assert snapshot(store_spec) == before


def test_mismatched_threshold_and_cleaning_version_in_the_library(store_spec: str, corpus_dir: Path) -> None:
    built(store_spec, corpus_dir)
    store = open_store(store_spec)
    current = CleanConfig().version
    try:
        with pytest.raises(ConfigError, match=rf"clean.version: index '{current}', requested '99'") as info:
            ensure_params(store, Config(clean=CleanConfig(version="99")))
        # no option sets the cleaner's version: the message does not send the caller to look for one
        assert "Leave those options out" not in str(info.value)
        assert "Rebuild the index with this version of provenance" in str(info.value)
        with pytest.raises(ConfigError, match="Leave those options out") as info:
            ensure_params(store, Config(clean=CleanConfig(version="99"), sign=SignConfig(seed=7)))
        result = invoke("index", "add", str(corpus_dir), "--index", store_spec, "--threshold", "0.7")
        assert result.exit_code == 2
        assert "match.doc_threshold: index 0.5, requested 0.7" in result.stderr
    finally:
        store.close()


def test_missing_index(tmp_path: Path, new_dir: Path) -> None:
    missing = tmp_path / "nope.db"
    for command in (["check", str(new_dir)], ["index", "add", str(new_dir)], ["index", "stats"]):
        result = invoke(*command, "--index", str(missing))
        assert result.exit_code == 2
        assert f"{missing}: no such index; create it first with: provenance index build" in result.stderr
    assert not missing.exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a provenance index (empty file)"),
    (os.urandom(4096), "not a provenance index (not an SQLite database)"),
    (None, "an SQLite database, but not a provenance index"),
])
def test_a_file_that_is_not_an_index(tmp_path: Path, new_dir: Path, content: bytes | None,
                                     message: str) -> None:
    path = tmp_path / "other.db"
    if content is None:
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE notes (x TEXT)")
        con.commit()
        con.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    for command in (["check", str(new_dir)], ["index", "add", str(new_dir)]):
        result = invoke(*command, "--index", str(path))
        assert result.exit_code == 2
        assert message in result.stderr
    forced = invoke("index", "build", str(new_dir), "--index", str(path), "--force")
    assert forced.exit_code == 2 and message in forced.stderr  # never replaced, even with --force
    assert path.read_bytes() == before


def test_unreachable_redis_is_one_clear_line(new_dir: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for command in (["check", str(new_dir)], ["index", "add", str(new_dir)], ["index", "build", str(new_dir)]):
        result = invoke(*command, "--index", url)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"error: cannot reach Redis at {url}: ")


def test_redis_password_is_not_echoed() -> None:
    with pytest.raises(IndexStoreError) as caught:
        open_store(f"redis://user:s3cret@127.0.0.1:{free_port()}/0")
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


def test_library_build_is_atomic_when_nothing_is_readable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    store = open_store(tmp_path / "x.db", create=True)
    with pytest.raises(ConfigError, match="nothing readable"):
        build([empty], store, Config())
    store.close()
    assert not (tmp_path / "x.db").exists()
    assert not list(tmp_path.glob(".x.db.build-*"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (PAUSE_ENV, "PROVENANCE_TEST_PAUSE_SECONDS")}
    env.update(extra)
    return env


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _halves(corpus: Path, new: Path, tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(new / "seeds", a / "seeds")
    shutil.copytree(new / "roundup", b / "roundup")
    shutil.copytree(corpus / "blogs", b / "mirror" / "blogs")  # the same documents under new ids
    return a, b


def test_two_adds_at_once_both_land(store_spec: str, corpus_dir: Path, new_dir: Path, tmp_path: Path) -> None:
    """Two real processes; the first is held inside its transaction while the second starts."""
    built(store_spec, corpus_dir)
    a, b = _halves(corpus_dir, new_dir, tmp_path)
    marker = tmp_path / "first-is-inside"
    first = subprocess.Popen(provenance_cmd("index", "add", str(a), "--index", store_spec, "-q"),
                             env=_env(**{PAUSE_ENV: str(marker), "PROVENANCE_TEST_PAUSE_SECONDS": "2"}),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(marker, first)
    second = subprocess.Popen(provenance_cmd("index", "add", str(b), "--index", store_spec, "-q"),
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "5 new" in out1 and "4 new" in out2
    assert stats(store_spec)["documents"] == 11 + 5 + 4
    # and without any hook: two plain adds started together
    c, d = tmp_path / "c", tmp_path / "d"
    shutil.copytree(a, c / "again")
    shutil.copytree(corpus_dir / "dumps", d / "mirror" / "dumps")
    procs = [subprocess.Popen(provenance_cmd("index", "add", str(p), "--index", store_spec, "-q"),
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (c, d)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert stats(store_spec)["documents"] == 20 + 5 + 4


def test_an_add_killed_mid_transaction_leaves_the_index_as_it_was(store_spec: str, corpus_dir: Path,
                                                                   new_dir: Path, tmp_path: Path) -> None:
    built(store_spec, corpus_dir)
    before = snapshot(store_spec)
    marker = tmp_path / "inside"
    proc = subprocess.Popen(provenance_cmd("index", "add", str(new_dir), "--index", store_spec, "-q"),
                            env=_env(**{PAUSE_ENV: str(marker)}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(store_spec) == before
    assert stats(store_spec)["documents"] == 11
    after = invoke("index", "add", str(new_dir), "--index", store_spec, "-q")  # the lock is free again
    assert after.exit_code == 0, after.output
    assert stats(store_spec)["documents"] == 17


def test_killed_build_leaves_no_index(tmp_path: Path, corpus_dir: Path) -> None:
    target = tmp_path / "corpus.db"
    marker = tmp_path / "inside"
    proc = subprocess.Popen(provenance_cmd("index", "build", str(corpus_dir), "--index", str(target), "-q"),
                            env=_env(**{PAUSE_ENV: str(marker)}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not target.exists()
    result = invoke("check", str(corpus_dir), "--index", str(target))
    assert result.exit_code == 2 and "no such index" in result.stderr
    leftovers = list(tmp_path.glob(".corpus.db.build-*"))
    assert leftovers  # the dead build's half-written file ...
    again = invoke("index", "build", str(corpus_dir), "--index", str(target), "-q")
    assert again.exit_code == 0, again.output
    assert not any(p.exists() for p in leftovers)  # ... is removed by the next build
    assert stats(str(target))["documents"] == 11


def test_a_forced_rebuild_killed_midway_leaves_the_old_index(store_spec: str, corpus_dir: Path,
                                                             new_dir: Path, tmp_path: Path) -> None:
    built(store_spec, corpus_dir)
    before = snapshot(store_spec)
    marker = tmp_path / "inside"
    proc = subprocess.Popen(provenance_cmd("index", "build", str(new_dir), "--index", store_spec, "-q",
                                           "--force"),
                            env=_env(**{PAUSE_ENV: str(marker)}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(marker, proc)
    assert snapshot(store_spec) == before  # readers see the old index while the new one is written
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot(store_spec) == before
    assert stats(store_spec)["documents"] == 11


def test_index_params_record_what_shapes_signatures() -> None:
    params = index_params(Config(sign=SignConfig(num_perm=64)))
    assert params["sign"]["num_perm"] == 64
    assert params["sign"]["dtype"] == "uint32"
    assert set(params) == {"clean", "sign", "match"}


@pytest.mark.parametrize("setting", [{"template_min_docs": 5}, {"template_min_share": 0.5},
                                     {"template_max_words": 20}, {"main_min_share": 0.8}])
def test_an_index_refuses_other_template_or_main_content_settings(tmp_path: Path, corpus_dir: Path,
                                                                  setting: dict[str, float]) -> None:
    """These settings change the cleaned text as much as the rules do: an index built with the
    defaults is neither extended nor queried with others, and keeps its own when none are given."""
    from provenance.index.check import add, config_from_params

    store = open_store(str(tmp_path / "x.db"), create=True)
    try:
        build([corpus_dir / "blogs"], store, Config())
        other = Config(clean=CleanConfig(**setting))  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=f"clean.{next(iter(setting))}: index"):
            add([corpus_dir / "iranfocus"], store, other)
        again = config_from_params(store.params())
        assert again.clean == Config().clean
        ensure_params(store, again)
    finally:
        store.close()


@pytest.mark.parametrize("command", [["index"], ["index", "build"], ["index", "add"], ["index", "stats"],
                                     ["check"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_a_redis_index_without_the_redis_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # redis is the optional [redis] extra: the SQLite path never needs it.
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)  # "not installed"
    monkeypatch.delitem(sys.modules, "provenance.index.redis_store", raising=False)
    with pytest.raises(IndexStoreError, match=r"pip install 'provenance\[redis\]'"):
        open_store("redis://127.0.0.1:1/0")
    result = CliRunner().invoke(app, ["index", "stats", "--index", "redis://127.0.0.1:1/0"])
    assert result.exit_code == 2 and "provenance[redis]" in result.output


def test_a_damaged_index_is_one_clear_error_and_exit_2(tmp_path: Path) -> None:
    # Bytes overwritten in the second half of the file: the header still opens, the data does not.
    db = tmp_path / "corpus.db"
    runner = CliRunner()
    assert runner.invoke(app, ["index", "build", str(SAMPLES), "--index", str(db), "-q"]).exit_code == 0
    data = bytearray(db.read_bytes())
    for i in range(len(data) // 2, len(data), 3):
        data[i] = 0x5A
    db.write_bytes(bytes(data))
    for argv in (["check", str(SAMPLES / "seeds"), "--index", str(db), "-q"],
                 ["index", "add", str(SAMPLES / "blogs"), "--index", str(db), "-q"]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 2, (argv, result.output)
        assert "the index cannot be read" in result.output and "Traceback" not in result.output


def test_a_forced_redis_rebuild_deletes_only_its_own_keys(corpus_dir: Path) -> None:
    # "team" must not own "team:corpus"'s keys, nor "corpus?" those of "corpus1".
    from .index_fixtures import flush_redis, redis_base_url

    url = redis_base_url()
    flush_redis(url)
    runner = CliRunner()
    specs = {name: f"{url}?prefix={name}" for name in ("team", "team:corpus", "corpus?", "corpus1")}
    for spec in specs.values():
        assert runner.invoke(app, ["index", "build", str(corpus_dir), "--index", spec, "-q"]).exit_code == 0
    for name in ("team", "corpus?"):
        result = runner.invoke(app, ["index", "build", str(SAMPLES / "seeds"), "--index", specs[name],
                                     "--force", "-q"])
        assert result.exit_code == 0, result.output
    counts = {}
    for name, spec in specs.items():
        store = open_store(spec)
        try:
            counts[name] = store.count()
        finally:
            store.close()
    assert counts == {"team": 5, "team:corpus": 11, "corpus?": 5, "corpus1": 11}


def test_two_builds_of_one_new_index_one_lands_the_other_says_so(corpus_dir: Path, new_dir: Path,
                                                                 tmp_path: Path) -> None:
    # Both start while no index exists. The first pauses inside its build; the second finishes
    # and creates the index; the first must then fail, not replace it and report success.
    db = str(tmp_path / "new.db")
    marker = tmp_path / "inside"
    slow = subprocess.Popen(provenance_cmd("index", "build", str(new_dir), "--index", db, "-q"),
                            env=_env(**{PAUSE_ENV: str(marker), "PROVENANCE_TEST_PAUSE_SECONDS": "3"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(marker, slow)
    built(db, corpus_dir)
    out, err = slow.communicate(timeout=120)
    assert slow.returncode == 2 and "another build created this index" in err, (out, err)
    assert "built" not in out
    assert stats(db)["documents"] == 11  # the finished build's index, whole
    assert not list(tmp_path.glob(".new.db.build-*"))


def test_an_indexed_files_id_does_not_depend_on_how_it_was_named(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Two index.txt of different folders stay two documents; the same file named another way
    # (./x, or its absolute path) is the same document.
    monkeypatch.chdir(tmp_path)
    seeds = sorted((SAMPLES / "seeds").glob("*.txt"))
    for folder, seed in (("a/x", seeds[1]), ("b/y", seeds[2])):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "index.txt").write_bytes(seed.read_bytes())
    db = str(tmp_path / "c.db")
    built(db, SAMPLES / "blogs")
    base = stats(db)["documents"]
    for named in ("a/x/index.txt", "b/y/index.txt", "./b/y/index.txt", str(tmp_path / "a/x/index.txt")):
        result = invoke("index", "add", named, "--index", db, "-q")
        assert result.exit_code == 0, result.output
    assert stats(db)["documents"] == base + 2


def _redis_spec(name: str) -> tuple[str, str]:
    """An emptied Redis database, and an index spec in it under the prefix ``name``."""
    from .index_fixtures import flush_redis, redis_base_url

    url = redis_base_url()
    flush_redis(url)
    return url, f"{url}?prefix={name}"


def test_two_redis_builds_of_one_new_index_one_lands_the_other_says_so(corpus_dir: Path, new_dir: Path,
                                                                       tmp_path: Path) -> None:
    # The Redis side of the test above: the first build is held inside its transaction (after its
    # WATCH, before its EXEC) while the second builds the same new index and finishes.
    url, spec = _redis_spec("race")
    marker = tmp_path / "inside"
    slow = subprocess.Popen(provenance_cmd("index", "build", str(new_dir), "--index", spec, "-q"),
                            env=_env(**{PAUSE_ENV: str(marker), "PROVENANCE_TEST_PAUSE_SECONDS": "3"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(marker, slow)
    built(spec, corpus_dir)
    landed = snapshot(url)
    out, err = slow.communicate(timeout=120)
    assert slow.returncode == 2 and "another build created this index" in err, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert "built" not in out
    assert snapshot(url) == landed  # the finished build's index, whole and untouched
    assert stats(spec)["documents"] == 11


def test_a_forced_redis_build_replaces_an_index_built_meanwhile(corpus_dir: Path, new_dir: Path,
                                                                tmp_path: Path) -> None:
    # With --force the slow build may replace what it finds, even an index that appeared after it
    # started: it lands whole (the other's keys gone), and says so.
    url, spec = _redis_spec("race")
    marker = tmp_path / "inside"
    slow = subprocess.Popen(provenance_cmd("index", "build", str(new_dir), "--index", spec, "-q", "--force"),
                            env=_env(**{PAUSE_ENV: str(marker), "PROVENANCE_TEST_PAUSE_SECONDS": "3"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(marker, slow)
    built(spec, corpus_dir)
    out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err
    assert "built" in out and "6 documents" in out
    assert stats(spec)["documents"] == 6
    alone = f"{url}?prefix=alone"  # the same build on its own, beside it: the very same keys
    result = invoke("index", "build", str(new_dir), "--index", alone, "-q")
    assert result.exit_code == 0, result.output
    import redis
    r = redis.Redis.from_url(url)

    def under(name: str) -> set[bytes]:
        return {k.split(b":", 3)[3] for k in r.scan_iter(match=f"provenance:v1:{name}:*", count=1000)}

    assert under("race") == under("alone")


def test_a_killed_redis_build_of_a_new_index_leaves_no_key(corpus_dir: Path, tmp_path: Path) -> None:
    url, spec = _redis_spec("new")
    marker = tmp_path / "inside"
    proc = subprocess.Popen(provenance_cmd("index", "build", str(corpus_dir), "--index", spec, "-q"),
                            env=_env(**{PAUSE_ENV: str(marker)}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot(url) == [] and redis_keys(url) == []  # not even the document counter
    result = invoke("index", "stats", "--index", spec)
    assert result.exit_code == 2 and "no provenance index" in result.stderr
    assert stats(built(spec, corpus_dir))["documents"] == 11


def redis_keys(url: str) -> list[bytes]:
    import redis
    return sorted(redis.Redis.from_url(url).scan_iter(count=1000))


def test_a_live_build_is_known_by_its_lock_not_its_process_id(tmp_path: Path, corpus_dir: Path) -> None:
    """A build in another container may have any process id, even a dead one's here: its
    half-written file is left alone while its builder holds the lock, and removed once not."""
    target = tmp_path / "corpus.db"
    marker = tmp_path / "inside"
    proc = subprocess.Popen(provenance_cmd("index", "build", str(corpus_dir), "--index", str(target), "-q"),
                            env=_env(**{PAUSE_ENV: str(marker)}), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(marker, proc)
        (live,) = [p for p in tmp_path.glob(".corpus.db.build-*") if not p.name.endswith(".lock")]
        dead_pid = live.with_name(".corpus.db.build-999999999-0000")  # a pid no process has
        live.rename(dead_pid)
        Path(f"{live}.lock").rename(f"{dead_pid}.lock")
        from provenance.index.sqlite import _remove_stale_builds

        _remove_stale_builds(target)
        assert dead_pid.exists()  # its builder still holds the lock: kept
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    _remove_stale_builds(target)
    assert not list(tmp_path.glob(".corpus.db.build-*"))  # the killed builder's lock is free: gone


def test_a_new_index_never_replays_an_old_log_left_at_its_name(tmp_path: Path, corpus_dir: Path) -> None:
    """A WAL left by a deleted index of the same name must not be applied to the new file."""
    target = tmp_path / "x.db"
    assert invoke("index", "build", str(corpus_dir / "blogs"), "--index", str(target), "-q").exit_code == 0
    con = sqlite3.connect(target)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("UPDATE meta SET value = '999' WHERE key = 'documents'")
    con.commit()
    stale = Path(f"{target}-wal").read_bytes()
    con.close()
    target.unlink()
    Path(f"{target}-wal").write_bytes(stale)
    built = invoke("index", "build", str(corpus_dir / "iranfocus"), "--index", str(target), "-q")
    assert built.exit_code == 0, built.output
    assert stats(str(target))["documents"] == 1

"""Outlets, dates, credits and the direction of copying, one behaviour a test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provenance import Config, run
from provenance.clean import clean_document
from provenance.config import IngestConfig
from provenance.credits import annotate
from provenance.dates import date_from_url, find_dates
from provenance.names import outlet_key
from provenance.outlets import Outlets
from provenance.records import Document
from provenance.render.report import to_dict

from .conftest import SAMPLES, SEED_004

BODY = SEED_004.read_text(encoding="utf-8").split("Iran Focus\n", 1)[1].split("\nComments")[0].strip()


def _credits(text: str) -> list[tuple[str, str]]:
    clean = annotate(clean_document(Document(id="d", path="d", text=text, kind="text")))
    return [(c.outlet, c.kind) for c in clean.credits]


@pytest.mark.parametrize(("line", "outlet"), [
    ("Source: Iran Focus", "Iran Focus"),
    ("Originally published by Iran News Update", "Iran News Update"),
    ("Originally published at NCRI US on 31 July 2017", "NCRI US"),
    ("This article first appeared in Iran Focus", "Iran Focus"),
    ("This story was first published on The Guardian", "Guardian"),
    ("via Iran Commentary", "Iran Commentary"),
    ("Read more at Iran Focus", "Iran Focus"),
    ("Courtesy of Stratfor", "Stratfor"),
    ("(c) Iran News Update", "Iran News Update"),
])
def test_credit_lines_name_the_outlet(line: str, outlet: str) -> None:
    assert _credits(f"Some opening words of an article.\n{line}\nMore text follows here.") == [(outlet, "credit")]


def test_a_sentence_that_mentions_a_source_is_not_a_credit() -> None:
    assert _credits("The source: of this claim was never named by anyone at all in the long report.\n") == []


def test_masthead_and_dateline() -> None:
    assert _credits("Headline here\nIran Focus\nLondon, 19 Dec - The story begins.\n") == [("Iran Focus", "dateline")]
    assert _credits("TEHRAN, Jan. 3 (Reuters) - The story begins.\n") == [("Reuters", "dateline")]


def test_teaser_dateline_is_not_a_credit() -> None:
    """Seed 004's teaser list holds 'Iran Focus London, 05 Mar -' of another article: stripped first."""
    clean = annotate(clean_document(Document(id="s", path="s", text=SEED_004.read_text("utf-8"), kind="text")))
    assert [c.line for c in clean.credits] == ["Iran Focus / London, 19 Dec -"]


def test_dates_in_text_and_urls() -> None:
    assert [d for d, _, _ in find_dates("date 2017-07-28 By Jubin; AUG 21, 2017 | 19 December 2017")] == [
        "2017-07-28", "2017-08-21", "2017-12-19"]
    assert date_from_url("https://x.org/2017/12/23/weekly/") == "2017-12-23"
    assert date_from_url("https://x.org/news/2020-01-27-isolation.html") == "2020-01-27"
    assert date_from_url("https://x.org/news/12345/isolation") is None


def test_outlet_keys_fold_hosts_case_and_spacing() -> None:
    assert outlet_key("https://www.IranFocus.com/en/news") == outlet_key("Iran Focus") == "iranfocus"
    assert outlet_key("NCRI US") == outlet_key("ncrius.org")
    assert outlet_key("NCRI") != outlet_key("NCRI US")


def test_outlets_file_aliases_and_patterns(tmp_path: Path) -> None:
    path = tmp_path / "outlets.json"
    path.write_text(json.dumps({"aliases": {"Iran Focus": ["IF English Service"]},
                                "paths": {"blogs/a/*": "Blog A"}, "urls": {"https://b.example/*": "Blog B"}}))
    outlets = Outlets.load(path)
    assert outlets.canonical("if english service") == "Iran Focus"
    assert outlets.canonical("www.iranfocus.com") == "Iran Focus"  # the same key as an alias
    assert outlets.explicit("blogs/a/post.txt", None) == "Blog A"
    assert outlets.explicit("x.txt", "https://b.example/2020/post") == "Blog B"
    assert outlets.explicit("x.txt", None) is None


def test_a_malformed_outlets_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "outlets.json"
    bad.write_text("[1, 2")
    with pytest.raises(Exception, match=r"outlets\.json: not a readable outlets file"):
        run([SEED_004], Config(ingest=IngestConfig(outlets_file=str(bad))))


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _page(outlet: str, date: str | None, body: str, author: str | None = None) -> str:
    meta = f'<meta property="og:site_name" content="{outlet}">'
    if date:
        meta += f'<meta property="article:published_time" content="{date}">'
    if author:
        meta += f'<meta name="author" content="{author}">'
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    return f"<html><head>{meta}</head><body><article>{paras}</article></body></html>"


def test_byline_of_an_author_who_writes_elsewhere_points_to_that_outlet(tmp_path: Path) -> None:
    other = ("Jane Roe has covered sanctions policy for many years and writes a weekly column on the"
             " economy of the region, its oil revenue and the people who depend on it. ") * 3
    _write(tmp_path, "a/story.html", _page("Outlet A", None, BODY, author="Jane Roe"))
    _write(tmp_path, "a/column.html", _page("Outlet A", None, other, author="Jane Roe"))
    _write(tmp_path, "b/story.html", _page("Outlet B", None, BODY, author="Jane Roe"))
    data = to_dict(run([tmp_path]))
    [group] = data["groups"]
    assert group["origin"] == "a/story.html"
    assert [e["kind"] for e in group["evidence"] if e["weight"] > 0] == ["byline"]


def test_copies_crediting_the_same_absent_source_share_a_common_source(tmp_path: Path) -> None:
    _write(tmp_path, "x.txt", f"TEHRAN, Dec. 19 (Reuters) - {BODY}")
    _write(tmp_path, "y.txt", f"TEHRAN, Dec. 19 (Reuters) - {BODY}\nShare this:\nFacebook\n")
    [group] = to_dict(run([tmp_path]))["groups"]
    assert group["origin"] is None
    assert group["common_source"] == "Reuters"
    assert group["origin_outlet"] == "Reuters"


def test_same_day_copies_from_different_outlets_say_so(tmp_path: Path) -> None:
    _write(tmp_path, "x.html", _page("Daily One", "2017-12-19", BODY))
    _write(tmp_path, "y.html", _page("Daily Two", "2017-12-19", BODY))
    [group] = to_dict(run([tmp_path]))["groups"]
    assert group["origin"] is None
    assert group["common_source"] == "unnamed"
    assert any(e["kind"] == "common source" for e in group["evidence"])


def test_direction_never_follows_file_order(tmp_path: Path) -> None:
    """The same two pages under names that sort either way give the same origin."""
    for first, second in (("a.html", "b.html"), ("b.html", "a.html")):
        folder = tmp_path / first
        _write(folder, first, _page("Early Outlet", "2017-01-01", BODY))
        _write(folder, second, _page("Late Outlet", "2017-02-01", BODY))
        [group] = to_dict(run([folder]))["groups"]
        assert group["origin"] == first
        assert group["origin_outlet"] == "Early Outlet"


def test_evidence_carries_its_stance(samples_report) -> None:
    data = to_dict(samples_report)
    group = next(g for g in data["groups"] if g["origin"] and g["origin"].startswith("iranfocus/"))
    assert {e["stance"] for e in group["evidence"] if e["weight"] > 0} == {"for"}
    undecided = next(g for g in data["groups"] if g["origin"] is None)
    assert {e["stance"] for e in undecided["evidence"]} == {"neutral"}


def test_seed_004_alone_is_attributed_to_iran_focus_by_its_dateline(tmp_path: Path) -> None:
    shutil.copy(SEED_004, tmp_path / SEED_004.name)
    [doc] = to_dict(run([tmp_path]))["documents"]
    assert doc["attribution"]["outlet"] == "Iran Focus"
    assert doc["attribution"]["date"] == "2017-12-19"
    assert doc["attribution"]["evidence"] == ["dateline"]
    assert "London, 19 Dec -" in doc["attribution"]["detail"]


def test_crawl_dates_are_kept_apart_from_publication_dates(samples_report) -> None:
    docs = {c.doc.id: c.doc for c in samples_report.cleaned}
    blog = docs["crawl/network-2020.warc.gz#1"]
    assert blog.crawl_date is not None and blog.crawl_date != blog.date
    assert blog.date_source == "article:published_time"


def test_samples_outlets_file_is_read(samples_report) -> None:
    assert samples_report.params["ingest"]["outlets_files"] == [str(SAMPLES / "outlets.json")]


def test_pairs_of_documents_without_credit_byline_or_agency_are_weighed_by_dates_alone(
        samples_report, monkeypatch: pytest.MonkeyPatch) -> None:
    """``lineage.attribute_members`` skips the agency, credit, byline and wire evidence where no
    member is an agency copy, names an outlet or carries a byline: for every pair of the samples'
    documents, and each with its credits, byline and agency taken away, the verdict is the one
    that weighing all of it gives."""
    import dataclasses
    import itertools

    from provenance import lineage
    from provenance.evidence import author_homes

    docs = list(samples_report.cleaned)
    bare = [dataclasses.replace(c, doc=dataclasses.replace(c.doc, author=None, agency=None), credits=[])
            for c in docs]
    cleaned = docs + bare
    homes = author_homes(cleaned)
    pairs = list(itertools.combinations(range(len(cleaned)), 2))
    fast = [lineage.attribute_members(p, cleaned, homes, None) for p in pairs]
    monkeypatch.setattr(lineage, "_may_speak", lambda clean: True)
    assert fast == [lineage.attribute_members(p, cleaned, homes, None) for p in pairs]
    quiet = sum(1 for a, b in pairs if a >= len(docs) and b >= len(docs))
    assert quiet > 100 and any(v.origin is not None for v in fast)  # dates decide some

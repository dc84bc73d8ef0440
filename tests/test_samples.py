"""The findings samples/README.md promises, one test each, on a real scan of samples/."""

from __future__ import annotations

import pytest

from provenance import Config, Report, run
from provenance.config import CleanConfig
from provenance.render.report import to_dict

from .conftest import SAMPLES, SEEDS

IRANFOCUS = "iranfocus/tackle-iran-by-supporting-the-iranian-people.html"
FREE_IRAN = "blogs/free-iran-now/2017-12-21-tackle-iran.txt"
SEED = {n: f"seeds/{name}" for n, name in (
    (0, "000_0d593d3c2b046724.txt"), (1, "001_64fc29aab0a0f312.txt"),
    (2, "002_e83797cdff112179.txt"), (3, "003_76d74234d1cfb7f2.txt"),
    (4, "004_c7de8c5f71fa409e.txt"))}
NCRI_US = "dumps/network-2017.jsonl#ncri-us-2017-07-31-shafiee"
INU_SANCTIONS = "dumps/network-2017.jsonl#iran-news-update-2017-08-03-sanctions"
INU_SENATE = "dumps/network-2017.jsonl#iran-news-update-2017-07-28-senate"
WEATHER = "dumps/network-2017.jsonl#iran-news-update-2017-08-10-weather"
BLOG_2020, NCRI_2020, NCRI_ABOUT = (f"crawl/network-2020.warc.gz#{n}" for n in (1, 2, 3))
PERSIAN = "blogs/persian-voices/opposition-must-be-supported.txt"
DIGEST = "roundup/weekly-digest-2017-12-23.html"


@pytest.fixture(scope="module")
def data(samples_report: Report) -> dict:
    return to_dict(samples_report)


def _group_of(data: dict, doc_id: str) -> dict:
    found = [g for g in data["groups"] if doc_id in g["documents"]]
    assert len(found) == 1, f"{doc_id} is in {len(found)} groups"
    return found[0]


def _kinds(evidence: list[dict], positive: bool = True) -> set[str]:
    return {e["kind"] for e in evidence if e["weight"] > 0 or not positive}


def test_every_document_is_read_and_the_png_and_other_files_are_skipped(data: dict) -> None:
    ids = {d["id"] for d in data["documents"]}
    assert len(ids) == 17
    assert {IRANFOCUS, FREE_IRAN, NCRI_US, BLOG_2020, NCRI_2020, DIGEST, *SEED.values()} <= ids
    assert data["skipped"] == [  # outlets.json is the folder's outlets file: read, not skipped
        {"path": str(SAMPLES / "README.md"), "reason": "unsupported file type (.md)"},
        {"path": str(SAMPLES / "make_samples.py"), "reason": "unsupported file type (.py)"},
        {"path": str(SAMPLES / "crawl/network-2020.warc.gz") + "#4",
         "reason": "not an HTML response (image/png)"}]


def test_group_a_is_the_iran_focus_article_credited_by_its_copies(data: dict) -> None:
    g = _group_of(data, IRANFOCUS)
    assert sorted(g["documents"]) == sorted([IRANFOCUS, FREE_IRAN, SEED[4]])
    assert g["origin"] == IRANFOCUS
    assert g["origin_outlet"] == "Iran Focus"
    assert {"credit", "dateline"} <= _kinds(g["evidence"])
    assert all(e["favours"] == IRANFOCUS for e in g["evidence"] if e["weight"] > 0)
    assert g["confidence"] >= 0.8


def test_group_b_is_decided_by_the_earliest_date(data: dict) -> None:
    g = _group_of(data, NCRI_US)
    assert sorted(g["documents"]) == sorted([NCRI_US, INU_SANCTIONS, SEED[0]])
    assert g["origin"] == NCRI_US
    assert _kinds(g["evidence"]) == {"date", "containment"}
    date = next(e for e in g["evidence"] if e["kind"] == "date")
    assert date["favours"] == NCRI_US and "2017-07-31" in date["detail"]
    trimmed = [e for e in g["evidence"] if e["kind"] == "containment"]
    assert all(INU_SANCTIONS in e["detail"] for e in trimmed)  # the trimmed copy points away from itself


def test_group_c_uses_publication_dates_not_crawl_order(data: dict) -> None:
    g = _group_of(data, NCRI_2020)
    assert sorted(g["documents"]) == sorted([BLOG_2020, NCRI_2020, SEED[2]])
    assert g["origin"] == NCRI_2020 and g["origin_outlet"] == "NCRI"
    assert "crawl date" not in _kinds(g["evidence"], positive=False)
    docs = {d["id"]: d for d in data["documents"]}
    # the blog was crawled first, yet crawl dates are not publication dates
    assert docs[BLOG_2020]["date"] == "2020-01-29" and docs[NCRI_2020]["date"] == "2020-01-27"


def test_group_d_is_undecidable(data: dict) -> None:
    g = _group_of(data, SEED[3])
    assert sorted(g["documents"]) == sorted([PERSIAN, SEED[3]])
    assert g["origin"] is None and g["origin_outlet"] is None
    assert g["confidence"] == 0.0


def test_seed_001_and_its_dump_twin_group_without_a_forced_origin(data: dict) -> None:
    g = _group_of(data, SEED[1])
    assert sorted(g["documents"]) == sorted([INU_SENATE, SEED[1]])
    assert g["origin"] is None  # same date on both, no credit: not decided by id or order


def test_unrelated_documents_join_no_group(data: dict) -> None:
    grouped = {d for g in data["groups"] for d in g["documents"]}
    assert not grouped & {WEATHER, NCRI_ABOUT, DIGEST, "blogs/free-iran-now/about.txt"}


def test_the_round_up_quotes_three_outlets_with_three_origins(data: dict) -> None:
    found = {}
    for m in data["matches"]:
        assert DIGEST in (m["a"], m["b"]), m
        other = m["b"] if m["a"] == DIGEST else m["a"]
        origin_side = m["a"] if m["origin"] == "a" else m["b"] if m["origin"] == "b" else None
        found[other] = (origin_side, m["origin_outlet"], _kinds(m["evidence"]), m["similarity"])
    assert found == {
        INU_SENATE: (INU_SENATE, "Iran News Update", {"credit", "date"}, pytest.approx(99.9, abs=0.2)),
        NCRI_US: (NCRI_US, "NCRI US", {"credit", "date"}, 100.0),
        # Iran Focus is a news service (provenance/data/agencies.json): its own page is its copy
        IRANFOCUS: (IRANFOCUS, "Iran Focus", {"agency copy", "credit", "date"}, 100.0),
    }


def test_matched_spans_hold_the_quoted_text(samples_report: Report, by_id: dict) -> None:
    text = {c.doc.id: c.doc.text for c in samples_report.cleaned}
    for m in samples_report.matches:
        a, b = samples_report.cleaned[m.a].doc.id, samples_report.cleaned[m.b].doc.id
        sa, sb = text[a][m.a_span[0]:m.a_span[1]], text[b][m.b_span[0]:m.b_span[1]]
        assert len(sa) >= 120 and sa.split()[:5] == sb.split()[:5]
    digest = text[DIGEST]
    spans = sorted(m.b_span if samples_report.cleaned[m.b].doc.id == DIGEST else m.a_span
                   for m in samples_report.matches)
    assert digest[spans[0][0]:spans[0][1]].lstrip("“").startswith("I’m happiest to be here")
    assert digest[spans[2][0]:spans[2][1]].startswith("The number one concern for Iran")


def test_teaser_text_is_never_evidence_of_copying(data: dict) -> None:
    """The free-iran-now teaser quotes seed 001: cleaned away, it matches nothing."""
    involved = {x for m in data["matches"] for x in (m["a"], m["b"])}
    assert FREE_IRAN not in involved and SEED[1] not in involved


def test_keeping_the_teasers_would_have_made_a_false_match() -> None:
    """The control for the test above: the teaser alone produces a match when kept."""
    report = run([SAMPLES], Config(clean=CleanConfig(keep=("teaser-list",))))
    ids = [c.doc.id for c in report.cleaned]
    pairs = {frozenset((ids[m.a], ids[m.b])) for m in report.matches}
    assert frozenset((FREE_IRAN, INU_SENATE)) in pairs


def test_syndication_table(data: dict) -> None:
    rows = {(r["source"], r["republisher"]): (r["documents"], r["passages"], r["first_date"],
                                              r["last_date"]) for r in data["syndication"]}
    assert rows == {
        ("Iran Focus", "Free Iran Now"): (1, 0, "2017-12-21", "2017-12-21"),
        ("Iran Focus", "Iran Weekly Digest"): (0, 1, "2017-12-23", "2017-12-23"),
        ("Iran News Update", "Iran Weekly Digest"): (0, 1, "2017-12-23", "2017-12-23"),
        ("NCRI", "(unknown)"): (1, 0, None, None),
        ("NCRI", "Iran Commentary"): (1, 0, "2020-01-29", "2020-01-29"),
        ("NCRI US", "(unknown)"): (1, 0, None, None),
        ("NCRI US", "Iran News Update"): (1, 0, "2017-08-03", "2017-08-03"),
        ("NCRI US", "Iran Weekly Digest"): (0, 1, "2017-12-23", "2017-12-23"),
    }


def test_cp1252_page_is_decoded_by_detection(samples_report: Report) -> None:
    about = next(c for c in samples_report.cleaned if c.doc.id == "blogs/free-iran-now/about.txt")
    assert "café in Isfahan" in about.text and "résumé" in about.text
    assert "“even the angry ones”" in about.text


def test_seed_004_alone_keeps_its_article_and_names_iran_focus() -> None:
    report = run([SEEDS])
    assert report.groups == [] and report.matches == []
    seed = next(c for c in report.cleaned if c.doc.id.startswith("004_"))
    reasons = [r.reason for r in seed.removed]
    assert reasons == ["skip-link", "comments", "teaser-list"]
    assert seed.doc.date == "2017-12-19"
    assert [(c.outlet, c.kind) for c in seed.credits] == [("Iran Focus", "dateline")]
    assert seed.credits[0].line == "Iran Focus / London, 19 Dec -"
    # with no publisher metadata, the masthead and dateline name the outlet
    assert (seed.doc.outlet, seed.doc.outlet_source) == ("Iran Focus", "text: masthead and dateline")


def test_outlets_file_names_blogs_and_merges_aliases(data: dict) -> None:
    docs = {d["id"]: d for d in data["documents"]}
    assert docs[FREE_IRAN]["outlet"] == "Free Iran Now"
    assert docs[FREE_IRAN]["outlet_source"] == "outlets file"
    assert docs[PERSIAN]["outlet"] == "Persian Voices"
    assert data["params"]["ingest"]["outlets_files"] == [str(SAMPLES / "outlets.json")]


def test_digest_quotes_are_three_families_each_from_its_origin(data: dict) -> None:
    """E1-E3 of samples/README.md: each quote of the digest is a family of two occurrences, the
    origin named by the credit and the date, and the digest the copy; one match each."""
    digest = "roundup/weekly-digest-2017-12-23.html"
    origins = {f["origin"]: f for f in data["families"]}
    assert set(origins) == {"dumps/network-2017.jsonl#iran-news-update-2017-07-28-senate",
                            "dumps/network-2017.jsonl#ncri-us-2017-07-31-shafiee",
                            "iranfocus/tackle-iran-by-supporting-the-iranian-people.html"}
    for origin, f in origins.items():
        assert [(o["document"], o["origin"]) for o in f["occurrences"]] == [(origin, True), (digest, False)]
        assert "credit" in _kinds(f["evidence"])
    assert sorted(m["family"] for m in data["matches"]) == sorted(f["id"] for f in data["families"])

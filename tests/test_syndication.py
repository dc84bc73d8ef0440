"""Wire agencies and rewritten copies: who took what from the wire, one behaviour a test.

Every text here is written for these tests (an invented AP story, papers that
run it, a PA-style wire copy, two independent reports of one trial).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from provenance import Config, run
from provenance.agencies import default_agencies
from provenance.render.report import to_dict

AP_STORY = """WASHINGTON (AP) — The city council of Millbrook voted on Tuesday to close the old
river bridge after engineers found deep cracks in two of its concrete piers.

The bridge, built in 1931, carries about 14,000 vehicles a day between the mill district and
the eastern suburbs. Drivers will be sent over the Harlow Street crossing while repairs go on.

Council member Dana Ortiz said the decision was painful but unavoidable. "We cannot ask people
to drive over a structure our own engineers tell us may fail," she said.

The state transportation department estimated that repairs would cost at least 18 million
dollars and take up to two years. Federal money may cover part of the bill, officials said.

Local businesses on the east bank warned that the closure would cut their trade by a third.
The chamber of commerce asked the council to open a free shuttle across the river.

Engineers first noticed the cracks during a routine inspection in March, the report said,
and a diver confirmed in May that the damage reached below the waterline.
"""

TRIMMED = """Millbrook closes river bridge

WASHINGTON (AP) — The city council of Millbrook voted on Tuesday to close the old
river bridge after engineers found deep cracks in two of its concrete piers.

The bridge, built in 1931, carries about 14,000 vehicles a day between the mill district and
the eastern suburbs. Drivers will be sent over the Harlow Street crossing while repairs go on.

Council member Dana Ortiz said the decision was painful but unavoidable. "We cannot ask people
to drive over a structure our own engineers tell us may fail," she said.
"""

REWRITTEN = """Cracked piers shut Millbrook's 1931 bridge

Millbrook's old river bridge is to close after engineers found deep cracks in two of its
concrete piers, the city council decided this week.

Some 14,000 vehicles a day use the crossing between the mill district and the eastern suburbs,
and drivers will be sent over the Harlow Street crossing while repairs go on.

Repairs would cost at least 18 million dollars and take up to two years, according to the state
transportation department. Shop owners on the east bank fear losing a third of their trade.

Copyright 2021 The Associated Press. All rights reserved.
"""

OWN_INTRO = """Our commuters face two years of detours

Readers in the eastern suburbs have written to us all week about their morning drive, and the
news from the council will not cheer them. Here is what the wire reported.

The bridge, built in 1931, carries about 14,000 vehicles a day between the mill district and
the eastern suburbs. Drivers will be sent over the Harlow Street crossing while repairs go on.

The state transportation department estimated that repairs would cost at least 18 million
dollars and take up to two years. Federal money may cover part of the bill, officials said.

Local businesses on the east bank warned that the closure would cut their trade by a third.
The chamber of commerce asked the council to open a free shuttle across the river.

Source: Associated Press
"""

TRIAL_A = """Jurors in the forklift case at Kingsford Crown Court were sent out on Friday after
a week of evidence about missing machinery from the Harbour Road depot.

The Crown says the depot's manager sold the firm's trucks, valued at 90,000 pounds, to a Leeds
scrap merchant and faked the paperwork to hide each sale from head office.

The accused told the court: "I never saw those delivery notes before the police showed them to
me, and I have never met the man from Leeds in my life."

Proceedings resume on Monday, when the judge is expected to sum up for the jury.
"""

TRIAL_B = """A forklift theft trial heard its closing speeches yesterday, with the man in the dock
insisting he had been framed by a colleague who wanted his job at the depot.

Defence barrister Owen Price reminded the jury that no fingerprints were found on the paperwork.
The manager had said in evidence: "I never saw those delivery notes before the police showed them
to me, and I have never met the man from Leeds in my life."

His wife, sitting in the public gallery, wept as the jury was sent out. Judge Rebecca Sloane will
give her directions next week.
"""

PA_WIRE = """  ------------------------------------------------------------------------
                09:14 12/05/21: Page 1 (HHH) COURTS Forklift
  ------------------------------------------------------------------------
FORKLIFT MANAGER ACCUSED OF FORGING DELIVERY NOTES<
By Sam Nolan, PA News<
A warehouse manager forged delivery notes to sell eight forklift trucks to a scrap dealer,
Kingsford Crown Court heard today.<
Prosecutor Helen Marsh said the machines, worth 90,000 pounds, had vanished from the depot over
eight months while the defendant was in charge of the stock records.<
The scrap dealer, from Leeds, told police he had paid cash for every truck and kept receipts.<
The trial continues.<
"""

PAPER_FROM_PA = """Manager 'sold forklifts for scrap'

A warehouse boss forged delivery notes to sell eight forklift trucks to a scrap dealer, a court
heard yesterday.

The machines, worth 90,000 pounds, vanished from the depot over eight months while the manager
was in charge of the stock records, prosecutor Helen Marsh told Kingsford Crown Court.

The trial goes on.
"""


def _scan(tmp_path: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return to_dict(run([path], Config()))


def _attr(report: dict[str, Any], rid: str) -> dict[str, Any]:
    doc = next(d for d in report["documents"] if d["id"] == f"news.jsonl#{rid}")
    assert doc["attribution"] is not None, rid
    return dict(doc["attribution"])


@pytest.mark.parametrize(("line", "agency", "kind"), [
    ("WASHINGTON (AP) — The Senate voted", "Associated Press", "dateline"),
    ("By Associated Press", "Associated Press", "byline"),
    ("Copyright 2018 The Associated Press. All rights reserved.", "Associated Press", "copyright"),
    ("(Reporting by Jane Doe; Editing by Bill Roe)", "Reuters", "signature"),
    ("By Reuters", "Reuters", "byline"),
    ("By Stephen Howard, PA News", "Press Association", "byline"),
    ("                11:29 01/03/00: Page 1 (HHH) COURTS Chemists", "Press Association", "wire header"),
    ("BERLIN (dpa) - Die Regierung", "Deutsche Presse-Agentur", "dateline"),
    ("PARIS, 3 janvier (AFP) - Le gouvernement", "Agence France-Presse", "dateline"),
    ("ROMA (ANSA) - Il governo", "ANSA", "dateline"),
    ("MADRID, 4 ene (EFE).- El Gobierno", "EFE", "dateline"),
    ("TOKYO (Kyodo) — The government", "Kyodo News", "dateline"),
    ("BEIJING, Jan. 3 (Xinhua) -- China", "Xinhua", "dateline"),
    ("© 2019 Bloomberg", "Bloomberg", "copyright"),
    ("MOSCOW (TASS) - The Kremlin", "TASS", "dateline"),
    ("به گزارش ایرنا، وزیر", "Islamic Republic News Agency", "byline"),
    ("Source: UPI", "United Press International", "credit"),
])
def test_agency_lines_are_recognised(line: str, agency: str, kind: str) -> None:
    found = default_agencies().find(line)
    assert [(f.agency, f.kind) for f in found] == [(agency, kind)]


@pytest.mark.parametrize("line", ["By Pa Smith", "The AP said it would appeal", "By Jubin Katiraie",
                                  "Reporting from the scene, our correspondent"])
def test_ordinary_lines_name_no_agency(line: str) -> None:
    assert default_agencies().find(line) == []


def test_papers_running_an_ap_story_are_traced_to_the_ap_copy(tmp_path: Path) -> None:
    # The papers are dated *before* the wire copy: the agency's copy is still the origin.
    report = _scan(tmp_path, [
        {"id": "ap", "text": AP_STORY, "outlet": "AP", "date": "2021-05-12"},
        {"id": "trimmed", "text": TRIMMED, "outlet": "Millbrook Herald", "date": "2021-05-11"},
        {"id": "rewritten", "text": REWRITTEN, "outlet": "Valley Times", "date": "2021-05-11"},
        {"id": "intro", "text": OWN_INTRO, "outlet": "East Bank Post", "date": "2021-05-13"},
    ])
    ap = next(d for d in report["documents"] if d["id"] == "news.jsonl#ap")
    assert ap["outlet"] == "Associated Press" and ap["agency"] == "Associated Press"
    for rid in ("trimmed", "rewritten", "intro"):
        attr = _attr(report, rid)
        assert attr["origin"] == "news.jsonl#ap", (rid, attr)
        assert attr["outlet"] == "Associated Press"
        assert "agency copy" in attr["evidence"]
    rewritten = next(d for d in report["derivations"] if "news.jsonl#rewritten" in (d["a"], d["b"]))
    assert rewritten["verdict"] in ("partially", "wholly")
    assert 0.1 < rewritten["score"] < 0.9  # rewritten: far from verbatim, far from nothing
    assert rewritten["sentences"], "the aligned sentences are the evidence"
    assert any(e["kind"] == "agency copy" and e["stance"] == "for" for e in rewritten["evidence"])
    sources = {(r["source"], r["republisher"]) for r in report["syndication"]}
    assert {("Associated Press", "Millbrook Herald"), ("Associated Press", "Valley Times"),
            ("Associated Press", "East Bank Post")} <= sources
    assert not any(r["source"] in ("Millbrook Herald", "Valley Times", "East Bank Post")
                   for r in report["syndication"])


def test_a_wire_story_rewritten_by_two_dozen_papers_is_traced_to_the_wire(tmp_path: Path) -> None:
    # Each paper keeps a different half of the story's sentences and words them its own way:
    # the story's phrases are held by more documents than a stock phrase may be (reuse_max_df),
    # yet every paper is paired with the agency's copy among them.
    sentences = [s.strip() for s in AP_STORY.split("\n\n")]
    papers = []
    for n in range(24):
        kept = [sentences[(n + k) % len(sentences)] for k in range(3)]
        body = "\n\n".join(x.replace("said", "told reporters").replace("The ", f"Paper {n}'s report: the ", 1)
                           for x in kept)
        papers.append({"id": f"paper{n:02d}", "text": f"Local edition {n}\n\n{body}\n\nOur own reporter adds"
                       f" that residents met on day {n} to discuss the closure.",
                       "outlet": f"Daily {n:02d}", "date": "2021-05-12"})
    report = _scan(tmp_path, [{"id": "ap", "text": AP_STORY, "outlet": "AP", "date": "2021-05-12"}, *papers])
    for p in papers:
        attr = _attr(report, p["id"])
        assert attr["origin"] == "news.jsonl#ap", (p["id"], attr)
    assert {r["source"] for r in report["syndication"]} == {"Associated Press"}


def test_two_papers_crediting_ap_are_not_each_others_origin(tmp_path: Path) -> None:
    # No AP copy here; one paper's page is dated a day earlier. Dates never outweigh the credit.
    report = _scan(tmp_path, [
        {"id": "herald", "text": TRIMMED, "outlet": "Millbrook Herald", "date": "2021-05-11"},
        {"id": "post", "text": AP_STORY, "outlet": "East Bank Post", "date": "2021-05-12"},
    ])
    findings = report["groups"] + report["matches"] + report["derivations"]
    assert findings
    for f in findings:
        assert f["origin"] is None, f
        assert f["common_source"] == "Associated Press", f
        dates = [e for e in f["evidence"] if e["kind"] == "date"]
        assert dates and all(e["weight"] == 0 for e in dates)
    assert {(r["source"], r["republisher"]) for r in report["syndication"]} == {
        ("Associated Press", "Millbrook Herald"), ("Associated Press", "East Bank Post")}
    assert _attr(report, "herald")["outlet"] == "Associated Press"


def test_independent_reports_sharing_a_quote_are_not_derived(tmp_path: Path) -> None:
    report = _scan(tmp_path, [
        {"id": "a", "text": TRIAL_A, "outlet": "Kingsford Gazette", "date": "2021-05-14"},
        {"id": "b", "text": TRIAL_B, "outlet": "Northern Echo", "date": "2021-05-14"},
    ])
    assert report["groups"] == [] and report["derivations"] == []


def test_pa_wire_copy_is_the_origin_of_the_paper_written_from_it(tmp_path: Path) -> None:
    # The wire copy's outlet is unknown: its own wire header says whose copy it is.
    report = _scan(tmp_path, [
        {"id": "wire", "text": PA_WIRE, "date": "2021-05-12"},
        {"id": "paper", "text": PAPER_FROM_PA, "outlet": "Daily Courier", "date": "2021-05-12"},
        {"id": "trial", "text": TRIAL_A, "outlet": "Kingsford Gazette", "date": "2021-05-12"},
    ])
    wire = next(d for d in report["documents"] if d["id"] == "news.jsonl#wire")
    assert wire["agency"] == "Press Association"
    attr = _attr(report, "paper")
    assert attr["origin"] == "news.jsonl#wire" and attr["derivation"] in ("partially", "wholly")
    assert "agency copy" in attr["evidence"]
    d = next(d for d in report["derivations"] if "news.jsonl#paper" in (d["a"], d["b"]))
    copy_side = "a" if d["a"] == "news.jsonl#paper" else "b"
    assert d["origin"] == ("b" if copy_side == "a" else "a")
    assert not any("news.jsonl#trial" in (x["a"], x["b"]) and "news.jsonl#paper" in (x["a"], x["b"])
                   for x in report["derivations"])


def test_an_outlets_file_adds_an_agency(tmp_path: Path) -> None:
    (tmp_path / "outlets.json").write_text(json.dumps({"agencies": {"Agência Brasil": ["ABr"]}}))
    text = AP_STORY.replace("WASHINGTON (AP)", "BRASÍLIA (ABr)")
    (tmp_path / "wire.txt").write_text(text, encoding="utf-8")
    (tmp_path / "paper.txt").write_text(TRIMMED.replace("WASHINGTON (AP)", "BRASÍLIA (ABr)"),
                                        encoding="utf-8")
    report = to_dict(run([tmp_path], Config()))
    credits = {d["id"]: [(c["outlet"], c["kind"], c["agency"]) for c in d["credits"]]
               for d in report["documents"]}
    assert ("Agência Brasil", "dateline", True) in credits["paper.txt"]
    findings = report["groups"] + report["matches"] + report["derivations"]
    assert findings and all(f["common_source"] == "Agência Brasil" and f["origin"] is None for f in findings)


def test_scan_reports_rewrites_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "ap", "text": AP_STORY, "outlet": "AP", "date": "2021-05-12"},
        {"id": "rewritten", "text": REWRITTEN, "outlet": "Valley Times", "date": "2021-05-11"}]),
        encoding="utf-8")
    cli = [sys.executable, str(Path(__file__).resolve().parent.parent / "cli.py"), "scan", str(path), "-q"]
    table = subprocess.run(cli, capture_output=True, text=True, check=True).stdout
    assert "Rewritten copies" in table and "wholly" in table
    csv = subprocess.run([*cli, "--format", "csv"], capture_output=True, text=True, check=True).stdout
    assert "rewrite (" in csv


@pytest.mark.parametrize("line", ["Source: PA Department of Health", "Copyright 2021 Reuters Institute",
                                  "© 2020 Bloomberg Philanthropies", "Source: AP biology textbook"])
def test_a_name_that_goes_on_is_not_the_agency(line: str) -> None:
    assert default_agencies().find(line) == []


def test_papers_whose_outlet_is_read_from_their_wire_dateline_still_take_it_from_the_wire(
        tmp_path: Path) -> None:
    # No outlet metadata: each paper's outlet is read from its own "(AP)" dateline. The earlier
    # page is still not the origin of the later one: both credit AP, which has no copy here.
    report = _scan(tmp_path, [
        {"id": "herald", "text": TRIMMED, "date": "2021-05-11"},
        {"id": "times", "text": REWRITTEN.replace("Millbrook's old river bridge", "WASHINGTON (AP) — "
                                                  "Millbrook's old river bridge"), "date": "2021-05-12"},
    ])
    findings = report["groups"] + report["matches"] + report["derivations"]
    assert findings and all(f["origin"] is None and f["common_source"] == "Associated Press" for f in findings)


def test_an_agency_copy_dated_after_the_papers_is_still_their_source(tmp_path: Path) -> None:
    # The papers' pages are dated before the wire copy (dates on pages are unreliable); the papers
    # share the wire's text with each other too, but neither is the other's origin.
    report = _scan(tmp_path, [
        {"id": "wire", "text": AP_STORY, "outlet": "AP", "date": "2021-05-14"},
        {"id": "one", "text": OWN_INTRO, "outlet": "East Bank Post", "date": "2021-05-11"},
        {"id": "two", "text": REWRITTEN, "outlet": "Valley Times", "date": "2021-05-12"},
    ])
    for rid in ("one", "two"):
        assert _attr(report, rid)["origin"] == "news.jsonl#wire"
    between = [d for d in report["derivations"] if {d["a"], d["b"]} == {"news.jsonl#one", "news.jsonl#two"}]
    assert all(d["origin"] is None and d["common_source"] == "Associated Press" for d in between)
    assert {r["source"] for r in report["syndication"]} == {"Associated Press"}


def test_copies_of_a_rewrite_of_the_wire_are_traced_to_the_wire(tmp_path: Path) -> None:
    # Two papers run the same rewrite (a near-duplicate group); the group's origin is itself a
    # rewrite of the AP copy, so every copy's source is the AP copy.
    report = _scan(tmp_path, [
        {"id": "wire", "text": AP_STORY, "outlet": "AP", "date": "2021-05-12"},
        {"id": "first", "text": REWRITTEN, "outlet": "Valley Times", "date": "2021-05-11"},
        {"id": "second", "text": REWRITTEN + "\nPrinted with permission.", "outlet": "Hill Gazette",
         "date": "2021-05-13"},
    ])
    group = next(g for g in report["groups"] if "news.jsonl#first" in g["documents"])
    assert "news.jsonl#second" in group["documents"]
    for rid in ("first", "second"):
        attr = _attr(report, rid)
        assert attr["origin"] == "news.jsonl#wire" and attr["group"] == group["id"], (rid, attr)


@pytest.mark.parametrize("value", [0, [], {"": ["Foo"]}, {"Name": "ABr"}, {"Name": [1]}])
def test_a_malformed_agencies_entry_is_one_clear_error(tmp_path: Path, value: object) -> None:
    from provenance.errors import ConfigError
    from provenance.outlets import Outlets

    bad = tmp_path / "outlets.json"
    bad.write_text(json.dumps({"agencies": value}), encoding="utf-8")
    with pytest.raises(ConfigError, match="agencies must map"):
        Outlets.load(bad)


@pytest.mark.parametrize("head", [
    "\n11:29 01/03/00: Page 1 (HHH) COURTS Chemists\n",  # a blank line before the header
    "(Reporting by Jo Bloggs; Editing by Sam Doe)\n11:29 01/03/00: Page 1 (HHH) COURTS Chemists\n",
])
def test_a_wire_header_is_found_after_a_blank_line_or_a_signature(head: str) -> None:
    from provenance.credits import agency_credits
    from provenance.records import CleanDoc, Document

    text = head + "Two chemists were jailed on Tuesday for selling fake medicine to patients.\n"
    clean = CleanDoc(Document(id="w", path="w.txt", text=text, kind="text"), [(0, len(text))], [], text)
    headers = [c for c in agency_credits(clean, default_agencies()) if c.kind == "wire header"]
    assert [(c.outlet, c.line) for c in headers] == [("Press Association", "11:29 01/03/00: Page 1 (HHH)"
                                                      " COURTS Chemists")]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "11:29 01/03/00: Page 1 (HHH) COURTS Chemists", "Two chemists were jailed on Tuesday.",
    "word " * 70, "x" * 250, "By Associated Press", "", " ", "LONDON (PA) - The court heard",
    "11:29 01/03/00: Page 1 (HHH) COURTS Chemists " + "word " * 60]),  # too long, but not cut short
    min_size=1, max_size=12), st.sampled_from(["\n", "\r\n", "\n\n", "\u2028"]), st.integers(0, 40))
@example(["word " * 70, "11:29 01/03/00: Page 1 (HHH) COURTS Chemists " + "word " * 60], "\n", 0)
def test_the_raw_texts_head_is_read_for_a_wire_header_as_a_whole_scan_reads_it(
        lines: list[str], newline: str, cut: int) -> None:
    """``agency_credits`` reads again only the lines of the raw text's first ``HEADER_WINDOW``
    characters that the kept text's scan has not read whole (``credits._unread``): the same
    credits as reading the whole window again, kept whole or cut at its start. (A wire header
    on a line too long to read, cut short by the window, is found there.)"""
    import provenance.credits as credits_module
    from provenance.credits import agency_credits
    from provenance.records import CleanDoc, Document

    text = newline.join(lines) + newline
    kept = [(cut, len(text))] if cut < len(text) else [(0, len(text))]
    clean = CleanDoc(Document(id="w", path="w.txt", text=text, kind="text"), kept, [],
                     "".join(text[a:b] for a, b in kept))
    found = agency_credits(clean, default_agencies())
    original = credits_module._unread
    credits_module._unread = lambda clean, head: 0
    try:
        assert found == agency_credits(clean, default_agencies())
    finally:
        credits_module._unread = original

"""Passage families: a passage shared by k documents is one family with its origin, and k-1 pairs.

The texts are written for these tests: one paragraph from a local paper, and
unrelated columns of other outlets that each quote it.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import Config, run
from provenance.config import VerifyConfig
from provenance.families import build_families
from provenance.pipeline import realigner
from provenance.records import CleanDoc, Document, PassageMatch
from provenance.render.report import SCHEMA, to_csv, to_dict

PARAGRAPH = (
    "The harbour authority confirmed on Monday that the northern breakwater will be rebuilt with"
    " granite blocks taken from the old quarry at Penmor, a decision that ends three years of"
    " argument between the fishing cooperative and the town council over who pays for the work"
    " and how long the boats must moor in the southern basin while it goes on."
)

#: Each outlet's own column around the quoted paragraph: different topics, different words.
COLUMNS = {
    "Coast Herald": ("Tide tables for the week ahead show spring tides on Thursday and Friday.",
                     "The lifeboat crew will hold its open day at the station on Saturday morning."),
    "Valley Post": ("Apple growers in the upper valley expect a late harvest after the cold April.",
                    "A new bus route to the hospital starts next month, the county said."),
    "Market Weekly": ("Diesel prices rose by four pence a litre at the quayside pumps this month.",
                      "Auction prices for hake fell sharply as buyers waited for the new quotas."),
    "Island Voice": ("The ferry timetable changes on the first of the month, with one sailing fewer.",
                     "Islanders voted to keep the primary school open for another five years."),
    "Weekend Review": ("Our critic found the new play at the Lyceum long but often very funny.",
                       "The choir's winter concert raised enough money for a new piano."),
}


def _corpus(folder: Path, repeat_in: str | None = None) -> Path:
    """The origin (dated first, its own outlet) and five columns that quote its paragraph."""
    records = [{"id": "origin", "outlet": "Penmor Gazette", "date": "2021-03-01",
                "text": "Penmor Gazette\n\nBreakwater decision\n\n" + PARAGRAPH
                        + "\n\nWork starts in the autumn and should take eighteen months.\n"}]
    for n, (outlet, (before, after)) in enumerate(sorted(COLUMNS.items()), start=2):
        body = PARAGRAPH + ("\n\nAs the Gazette put it again: " + PARAGRAPH if outlet == repeat_in else "")
        records.append({"id": outlet.lower().replace(" ", "-"), "outlet": outlet, "date": f"2021-03-{n:02d}",
                        "text": f"{outlet}\n\n{before} {before}\n\n{body}\n\n{after} {after}\n"})
    path = folder / "columns.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_passage_in_six_documents_is_one_family_with_five_pairs(tmp_path: Path) -> None:
    data = to_dict(run([_corpus(tmp_path)], Config()))
    assert data["schema"] == SCHEMA == 2
    (family,) = data["families"]
    assert family["origin"] == "columns.jsonl#origin"
    assert family["origin_outlet"] == "Penmor Gazette"
    assert [o["outlet"] for o in family["occurrences"]] == [
        "Penmor Gazette", "Coast Herald", "Island Voice", "Market Weekly", "Valley Post", "Weekend Review"]
    assert [o["origin"] for o in family["occurrences"]].count(True) == 1
    assert family["spread"] == {"documents": 6, "outlets": sorted(["Penmor Gazette", *COLUMNS]),
                                "first_date": "2021-03-01", "last_date": "2021-03-06"}
    # k-1 pairs, each from the origin to one copy: not the 15 pairs of every two copies
    assert len(data["matches"]) == 5
    assert all("columns.jsonl#origin" in (m["a"], m["b"]) and m["family"] == "f1" for m in data["matches"])
    passages = {r["republisher"]: r["passages"] for r in data["syndication"] if r["source"] == "Penmor Gazette"}
    assert passages == {outlet: 1 for outlet in COLUMNS}


def test_a_passage_repeated_inside_one_document_is_one_occurrence(tmp_path: Path) -> None:
    data = to_dict(run([_corpus(tmp_path, repeat_in="Valley Post")], Config()))
    (family,) = data["families"]
    by_doc = {o["document"]: o for o in family["occurrences"]}
    assert len(by_doc) == len(family["occurrences"]) == 6
    assert by_doc["columns.jsonl#valley-post"]["repeats"] == 2
    assert {o["repeats"] for d, o in by_doc.items() if d != "columns.jsonl#valley-post"} == {1}


def test_csv_lists_each_occurrence_of_a_family(tmp_path: Path) -> None:
    rows = [line for line in to_csv(run([_corpus(tmp_path)], Config())).splitlines() if line.startswith("family,")]
    assert len(rows) == 6
    assert sum(",yes," in r for r in rows) == 1


def _doc(n: int) -> CleanDoc:
    text = "x" * 1000
    return CleanDoc(Document(id=f"d{n:02d}", path=f"d{n:02d}.txt", text=text, kind="text"),
                    [(0, len(text))], [], text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.integers(0, 2), st.integers(0, 2)),
                min_size=1, max_size=40))
def test_families_partition_the_matches_and_keep_a_spanning_tree(edges: list[tuple[int, int, int, int]]) -> None:
    """Whatever matches come in: each family's kept pairs join all its documents with k-1 pairs,
    every match is told its family, and no document holds two occurrences of one family."""
    cleaned = [_doc(n) for n in range(12)]
    matches = [PassageMatch(a, b, (200 * sa, 200 * sa + 150), (200 * sb, 200 * sb + 150), 100.0)
               for a, b, sa, sb in edges if a != b]
    families, kept = build_families(matches, cleaned)
    assert {m.family for m in matches} == set(range(len(families)))
    assert len(kept) == sum(len(f.occurrences) - 1 for f in families)
    for number, f in enumerate(families):
        docs = [o.doc for o in f.occurrences]
        assert len(docs) == len(set(docs))
        reached = {docs[0]}
        tree = list(f.matches)
        while tree:  # the kept pairs connect every document of the family
            step = next(m for m in tree if (m.a in reached) != (m.b in reached))
            reached |= {step.a, step.b}
            tree.remove(step)
        assert reached == set(docs)
        assert all(m.family == number for m in f.matches)


def test_a_copy_matched_only_to_another_copy_is_aligned_with_the_origin() -> None:
    """Candidates may join copies through a representative that is not the origin: the
    copy is then aligned with the origin afresh, so the pairs listed run from the origin."""
    texts = {0: "Penmor Gazette\n\n" + PARAGRAPH, 1: "Coast Herald column.\n\n" + PARAGRAPH,
             2: "Valley Post notes.\n\n" + PARAGRAPH}
    cleaned = []
    for n, text in texts.items():
        doc = Document(id=f"d{n}", path=f"d{n}.txt", text=text, kind="text", date=f"2021-03-0{n + 1}")
        cleaned.append(CleanDoc(doc, [(0, len(text))], [], text))
    at = {n: (t.index(PARAGRAPH), t.index(PARAGRAPH) + len(PARAGRAPH)) for n, t in texts.items()}
    # what representative-based candidates give: both copies matched with copy 1 only
    matches = [PassageMatch(1, 0, at[1], at[0], 100.0), PassageMatch(1, 2, at[1], at[2], 100.0)]
    families, kept = build_families(matches, cleaned, None, realigner(cleaned, VerifyConfig()))
    (family,) = families
    assert family.origin == 0
    assert sorted((m.a, m.b) for m in kept) == [(0, 2), (1, 0)]
    (new,) = [m for m in kept if (m.a, m.b) == (0, 2)]
    assert (new.a_span, new.b_span, new.similarity) == (at[0], at[2], 100.0)
    assert new.origin == "a" and new.family == 0
    without, _ = build_families(matches, cleaned)
    assert sorted((m.a, m.b) for m in without[0].matches) == [(1, 0), (1, 2)]

"""A text's signatures do not depend on the texts signed in the same batch.

The local engine signs in batches whose bounds depend on ``--jobs``, and the Spark engine in
batches that depend on the partitioning: a text's values must be its own. Quotations once were
found over the joined batch, so an unclosed quotation mark in one text paired with the next
text's and changed which of its fingerprints counted as quoted speech.
"""

from __future__ import annotations

import numpy as np

from provenance.config import SignConfig
from provenance.sign import sign_texts

OPEN = 'He wrote "the council will meet again on the first Monday of the month to decide the plan'
AFTER = ('Residents said the plan was late. "We have waited for years for the new bridge to open," one said. '
         'The council will meet again on the first Monday of the month to decide the plan for the river.')


def _fingerprints(texts: list[str], doc: int) -> tuple[list[int], list[int], list[bool]]:
    batch = sign_texts(texts, SignConfig())
    mine = batch.f_doc == doc
    return batch.f_hash[mine].tolist(), batch.f_start[mine].tolist(), batch.f_quoted[mine].tolist()


def test_quotes_stay_inside_their_text() -> None:
    alone = _fingerprints([AFTER], 0)
    assert _fingerprints([OPEN, AFTER], 1) == alone
    assert _fingerprints([AFTER, OPEN, AFTER], 2) == alone


def test_values_stay_the_same_in_any_batch() -> None:
    alone = sign_texts([AFTER], SignConfig())
    beside = sign_texts([OPEN, AFTER], SignConfig())
    assert np.array_equal(alone.doc_values[0], beside.doc_values[1])

"""``python -m provenance.cli ...``: the ``provenance`` command."""

from provenance.__main__ import run

run()

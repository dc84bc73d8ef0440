"""``python -m provenance ...`` runs the same app as the ``provenance`` command."""

from provenance.cli import app

app()

"""``python -m provenance ...`` runs the same app as the ``provenance`` command."""

from provenance.cli import run

if __name__ == "__main__":
    run()

"""``python -m provenance.cli ...``: the ``provenance`` command."""

from provenance.cli import run

if __name__ == "__main__":
    run()

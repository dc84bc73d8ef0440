"""``python -m provenance ...`` runs the same app as the ``provenance`` command."""

from provenance.cli import app


def run() -> None:
    """The ``provenance`` command."""
    app()


if __name__ == "__main__":
    run()

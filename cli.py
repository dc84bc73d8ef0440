"""Run provenance from a checkout: ``python cli.py scan samples/``.

The installed ``provenance`` command runs the same typer app.
"""

from provenance.cli import run

if __name__ == "__main__":
    run()

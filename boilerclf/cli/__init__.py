"""The ``boilerclf`` command line: one module per command.

``app`` is the Typer application (the ``boilerclf`` script); importing this
package registers every command on it.
"""
from boilerclf.cli import clean, convert, evaluate, label, profile, review, train  # noqa: F401 - registers the commands
from boilerclf.cli.common import app

__all__ = ["app"]

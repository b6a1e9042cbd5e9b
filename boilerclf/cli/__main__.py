"""``python -m boilerclf.cli``."""
from boilerclf.cli import app

app()

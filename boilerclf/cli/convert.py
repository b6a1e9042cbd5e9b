"""``boilerclf convert-model``: an old pickle model file rewritten in the safe format."""
from __future__ import annotations

from pathlib import Path

import typer

from boilerclf.cli.common import app, fail_usage
from boilerclf.model.files import ModelError


@app.command("convert-model", short_help="Rewrite an old pickle model file in the safe format.")
def convert_model(
    src: Path = typer.Argument(..., metavar="SRC", help="A model file in the old pickle (joblib) format."),
    dst: Path = typer.Argument(..., metavar="DST", help="Where to write it in the safe format (e.g. model.npz)."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help="Required: confirms you trust SRC (reading "
                                       "it runs code stored in it)."),
) -> None:
    """Rewrite a model file from the old pickle format in the safe format (same scores).

    The safe format is arrays and JSON: loading it never runs code from the file.
    """
    from boilerclf.model.files import convert

    if not trusted_model:
        fail_usage(f"reading {src} runs code stored in it: pass --trusted-model if you trust its origin")
    if dst.exists() and dst.resolve() == src.resolve():
        fail_usage("DST must differ from SRC")
    try:
        head = convert(src, dst)
    except ModelError as e:
        fail_usage(str(e))
    typer.echo(f"wrote {dst} ({head.get('kind')} model, feature schema {head.get('schema_version')})")

"""What the commands share: the Typer app, help texts, checks of options, and
the few things every command does the same way."""
from __future__ import annotations

import os
import warnings
from typing import Optional

import typer

from boilerclf.parse import html as html_mod
from boilerclf.pipeline import (
    PRESETS,
    Extractor,
    resolve_threshold,
)

# Plain help: rich markup would eat bracketed words such as boilerclf[dask], and rich
# help shows a type placeholder after every flag.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Learned boilerplate removal for web pages: keep the main text of a page, "
                  "drop the menus, footers, ads and other boilerplate around it.")


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("boilerclf")
        except PackageNotFoundError:  # running from a source tree that is not installed
            from boilerclf import __version__ as v
        typer.echo(f"boilerclf {v}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                 help="Print the version of boilerclf and exit."),
) -> None:
    pass


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


TRUSTED_HELP = ("Also accept model files in the old pickle (joblib) format. Loading one runs code stored "
                "in the file: use it only for files whose origin you trust, and convert them once with "
                "'boilerclf convert-model'.")
THRESHOLD_HELP = ("Which lines to keep: a number from 0 to 1 (the lines the model scores at or above it), "
                  "auto (a threshold chosen for each page from its own scores), or a preset: precision "
                  "(keeps less), balanced (the same as auto) or recall (keeps more). Default: the model's own "
                  "(auto for the shipped HTML model).")
KIND_HELP = "What the pages are: html, text (plain text, e.g. already extracted) or auto (decided for each page)."
FORMAT_HELP = ("How to read the inputs: auto (by file name: *.jsonl[.gz] and *.warc[.gz] are crawls, other "
               "files one page each; standard input is sniffed), page (one page per file), jsonl (one JSON "
               "object per line) or warc (a web archive).")
GLOB_HELP = ("In directories, read only the files matching this pattern (repeatable; e.g. '*.html.gz', "
             "'news/**/*.html').")
HTML_FIELD_HELP = "JSONL input: the field that holds the page."
ID_FIELD_HELP = "JSONL input: the field that holds the page id (default: the line number)."
URL_FIELD_HELP = "JSONL input: the field that holds the page URL."
SITE_PROFILE_HELP = ("A site profile made by 'boilerclf profile': the lines that repeat across the site's pages "
                     "(menus, footers) get lower scores.")
MODEL_HELP = "HTML model file (default: the model shipped with boilerclf)."
TEXT_MODEL_HELP = "Plain-text model file (default: the model shipped with boilerclf)."
PAGES_HELP = ("Pages: files, directories (read recursively), *.jsonl[.gz] and *.warc[.gz] crawls, or - for "
              "standard input (as for clean).")


def fail_usage(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def check_threshold(threshold: Optional[str]) -> None:
    """A --threshold that is no number from 0 to 1, auto or preset is a usage error (exit 2)."""
    if threshold is None:
        return
    try:
        resolve_threshold(threshold, 0.5)
    except ValueError:
        fail_usage(f"--threshold must be a number from 0 to 1, auto, auto:<recall weight> or one of "
                    f"{', '.join(PRESETS)}; not {threshold!r}")


def note_slow_path() -> None:
    """One line on stderr when HTML pages will take the slow Python walker (the
    library's SlowPathWarning, shown here once instead of by every worker)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", html_mod.SlowPathWarning)
        html_mod.warn_slow_path()
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)


def make_extractor(model, text_model, threshold, site_profile, **limits) -> Extractor:
    """An Extractor for a command; a bad site profile is a usage error (exit 2)."""
    from boilerclf.decide.profile import ProfileError

    try:
        return Extractor(model=model, text_model=text_model, threshold=threshold, site_profile=site_profile,
                         **limits)
    except ProfileError as e:
        fail_usage(str(e))




def open_browser(url: str) -> None:
    """Open ``url`` in the desktop's browser; never a console browser on a display-less box."""
    import sys
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        typer.echo("no display: open the URL in a browser yourself", err=True)
        return
    if not webbrowser.open(url):
        typer.echo("could not start a browser: open the URL yourself", err=True)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def silence_stdout() -> None:
    """Point standard output at /dev/null: it failed (full disk, closed pipe), and the
    interpreter's final flush would fail again with a traceback-like message."""
    import sys

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. a test runner)
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass



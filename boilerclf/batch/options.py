"""What ``boilerclf clean`` can be told, the counts of a run, and the checks of
both before anything is read or written."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from boilerclf.batch.errors import UsageError

FORMATS = ("txt", "markdown", "html", "jsonl")
INPUT_KINDS = ("auto", "html", "text")
INPUT_FORMATS = ("auto", "page", "jsonl", "warc")


@dataclass
class Options:
    """Everything ``boilerclf clean`` can be told (see the CLI for help texts)."""

    format: str = "txt"
    out: Path | None = None
    errors: Path | None = None
    jobs: int = 1
    batch_size: int = 16
    timeout: float | None = 60.0
    resume: bool = False
    lines: bool = False
    quiet: bool = False
    input_kind: str = "auto"
    input_format: str = "auto"
    html_field: str = "html"
    id_field: str = "id"
    url_field: str = "url"
    globs: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return None if self.input_kind == "auto" else self.input_kind


@dataclass
class Summary:
    """Counts of one run (``pages_in`` = cleaned + empty + failed + skipped)."""

    pages_in: int = 0
    cleaned: int = 0
    empty: int = 0
    failed: int = 0
    skipped: int = 0
    truncated: int = 0  # cleaned or empty pages that ran over a limit (cut or flattened)
    other_records: int = 0
    seconds: float = 0.0
    startup: float = 0.0  # starting the workers and loading the model
    errors_path: Path | None = None
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def line(self) -> str:
        busy = self.seconds - self.startup
        rate = self.pages_in / busy if busy > 0 else 0.0
        s = (f"{self.pages_in} pages in: {self.cleaned} cleaned, {self.empty} empty, "
             f"{self.failed} failed")
        if self.skipped:
            s += f", {self.skipped} skipped (already done)"
        if self.truncated:
            s += f"; {self.truncated} truncated (over --max-bytes, --max-nodes or the nesting limits)"
        s += f"; {self.seconds:.1f} s (startup {self.startup:.1f} s, then {rate:.1f} pages/s)"
        if self.other_records:
            s += f"; {self.other_records} non-HTML WARC records ignored"
        if self.failed and self.errors_path is not None:
            s += f"; errors in {self.errors_path}"
        if self.interrupted:
            s += "; INTERRUPTED (run again with --resume)"
        return s


def inside(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


def default_errors_path(opts: Options) -> Path | None:
    """Where failed pages are listed: beside ``--out``; with output to stdout, no
    file (each failure is printed on stderr) unless ``--errors`` names one."""
    if opts.out is None:
        return None
    if opts.format == "jsonl":
        name = opts.out.name[:-6] if opts.out.name.endswith(".jsonl") else opts.out.name
        return opts.out.with_name(name + ".errors.jsonl")
    return opts.out / "errors.jsonl"


def check(paths: list[str], opts: Options) -> None:
    """Refuse bad usage before anything is read or written (raises :class:`UsageError`)."""
    if not paths:
        raise UsageError("no input given (files, directories or - for stdin)")
    if opts.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if opts.input_kind not in INPUT_KINDS:
        raise UsageError(f"--input-kind must be one of {', '.join(INPUT_KINDS)}")
    if opts.input_format not in INPUT_FORMATS:
        raise UsageError(f"--input-format must be one of {', '.join(INPUT_FORMATS)}")
    if opts.jobs < 1 or opts.batch_size < 1:
        raise UsageError("--jobs and --batch-size must be at least 1")
    if opts.timeout is not None and opts.timeout < 0:
        raise UsageError("--timeout must be >= 0 (0 = no limit)")
    if opts.resume and opts.out is None:
        raise UsageError("--resume needs --out (it skips pages whose output exists)")
    if opts.lines and opts.format != "jsonl":
        raise UsageError("--lines needs --format jsonl")
    if paths.count("-") > 1:
        raise UsageError("- (stdin) can be given only once")
    roots: list[Path] = []
    missing: list[str] = []
    for p in paths:
        if p == "-":
            continue
        if not os.path.exists(p):  # among others: a failed page of the run, the rest go on
            missing.append(p)
            continue
        roots.append(Path(p).resolve())
    if missing and len(missing) == len(paths):
        raise UsageError(f"no such file or directory: {missing[0]}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    out = opts.out.resolve() if opts.out is not None else None
    errors = opts.errors or default_errors_path(opts)
    errors = errors.resolve() if errors is not None else None
    if out is not None:
        if opts.format == "jsonl" and out.is_dir():
            raise UsageError(f"--out {opts.out} is a directory; with --format jsonl it names a file")
        if opts.format != "jsonl" and out.exists() and not out.is_dir():
            raise UsageError(f"--out {opts.out} is a file; with --format {opts.format} it names a directory")
        for r in roots:
            if inside(out, r) or (opts.format != "jsonl" and inside(r, out)):
                raise UsageError(f"--out {opts.out} is, contains or lies inside the input {r}: "
                                 "inputs are never overwritten; choose another --out")
    for r in roots:
        if errors is not None and (inside(errors, r) or inside(errors.with_name(errors.name + ".tmp"), r)):
            raise UsageError(f"the errors file {errors} would be written inside the input {r}: "
                             "choose another --errors")
        if out is not None and opts.format == "jsonl" and inside(out.with_name(out.name + ".tmp"), r):
            raise UsageError(f"--out {opts.out}.tmp (written while running) is the input {r}")
    if out is not None and errors is not None and errors == out:
        raise UsageError("--errors and --out are the same path")

"""The batch engine's errors and its one-line messages for them."""
from __future__ import annotations

from boilerclf.parse.decode import InputError


class UsageError(ValueError):
    """Bad options or paths: the command exits 2 before touching anything."""


class FatalError(RuntimeError):
    """The batch cannot run at all (e.g. the model does not load): exit 2."""


class OutputError(FatalError):
    """An output cannot be written (disk full, permission denied...): the run stops, exit 2.

    Every page written before it is complete (each page file is renamed into
    place whole; a JSONL output is renamed only at the end); ``summary`` holds
    the counts of the run so far.
    """

    def __init__(self, msg: str, summary=None):  # a boilerclf.batch.options.Summary
        super().__init__(msg)
        self.summary = summary


def os_reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def clip(msg: str, n: int = 240) -> str:
    """A one-line, printable, bounded error message."""
    msg = "".join(c if c.isprintable() else " " for c in msg)
    msg = " ".join(msg.split())
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def reason(e: BaseException) -> str:
    msg = clip(str(e))
    if isinstance(e, InputError) and msg:  # its message says what the input is
        return msg
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__

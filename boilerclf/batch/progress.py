"""The progress line of a run on a terminal."""
from __future__ import annotations

import sys
import time


class Progress:
    """A rich progress line (pages, pages/s, errors) on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool):
        self.bar = None
        self.console = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=sys.stderr)
        self.bar = RichProgress(
            SpinnerColumn(), TextColumn("{task.completed:>8.0f} pages"),
            TextColumn("{task.fields[rate]:>7.1f} pages/s"),
            TextColumn("[red]{task.fields[errors]} errors"), TimeElapsedColumn(),
            console=self.console, transient=True)
        self.task = self.bar.add_task("clean", total=None, rate=0.0, errors=0)
        self.bar.start()
        self.t0 = time.monotonic()
        self.last = 0.0

    def update(self, done: int, errors: int, force: bool = False) -> None:
        if self.bar is None:
            return
        now = time.monotonic()
        if force or now - self.last > 0.1:
            self.last = now
            self.bar.update(self.task, completed=done, errors=errors,
                            rate=done / max(now - self.t0, 1e-9))

    def log(self, msg: str) -> None:
        if self.console is not None:
            self.console.print(msg, markup=False, highlight=False)
        else:
            print(msg, file=sys.stderr)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()

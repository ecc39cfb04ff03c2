"""The progress line of a long `tandem import` on a terminal: messages done of total, rate,
time left and rejected so far, redrawn at most a few times a second on stderr."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from server.actions.ingest import ImportResult

REDRAW_S = 0.25


@dataclass(frozen=True)
class Counts:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0

    @property
    def done(self) -> int:
        return self.imported + self.duplicates + self.rejected

    def plus(self, result: ImportResult) -> Counts:
        return Counts(
            self.imported + result.imported,
            self.duplicates + result.duplicates,
            self.rejected + result.rejected,
        )


def progress_line(counts: Counts, total: int, elapsed: float) -> str:
    done = counts.done
    rate = done / elapsed if elapsed > 0 else 0.0
    share = f" ({100 * done // total}%)" if total else ""
    left = f", {_duration((total - done) / rate)} left" if rate > 0 and total > done else ""
    return (
        f"{done:,}/{total:,} messages{share}, {rate:,.0f}/s{left}"
        f" · {counts.imported:,} imported, {counts.duplicates:,} duplicates,"
        f" {counts.rejected:,} rejected"
    )


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class ProgressLine:
    """Call with the running result of the current file after each message, `finished`
    with it at the end of the file, `close()` at the end. Draws nothing unless `out` is a
    terminal."""

    def __init__(self, total: int, out: TextIO | None = None) -> None:
        self.total = total
        self.out = out or sys.stderr
        self.shown = self.out.isatty()
        self.started = time.monotonic()
        self.before = Counts()  # the files already done
        self._drawn = 0.0
        self._width = 0

    def __call__(self, result: ImportResult) -> None:
        now = time.monotonic()
        counts = self.before.plus(result)
        if self.shown and (now - self._drawn >= REDRAW_S or counts.done >= self.total):
            self._draw(progress_line(counts, self.total, now - self.started))
            self._drawn = now

    def finished(self, result: ImportResult) -> None:
        self.before = self.before.plus(result)

    def _draw(self, line: str) -> None:
        self.out.write("\r" + line.ljust(self._width))
        self.out.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.shown and self._width:
            self.out.write("\n")
            self.out.flush()

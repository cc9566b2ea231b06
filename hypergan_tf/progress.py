"""Progress for output that goes to a log file rather than a terminal: a plain line every
`PROGRESS_SECONDS`, with the rate and the time left, instead of a progress bar that a log
shows only when it is finished."""

from __future__ import annotations

import time

PROGRESS_SECONDS = 30.0


def duration(seconds: float) -> str:
    """42 -> "42 s", 754 -> "12 min 34 s", 7380 -> "2 h 3 min"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class ProgressLines:
    """Call `update(done, total)` as work advances; every `interval` seconds, and when the
    work is done, it returns a line such as "step 1200/3300 (36%), 2.10/s, 16 min 40 s left",
    else None. The rate is measured from the first update (after a resume, from there)."""

    def __init__(self, label: str, interval: float = PROGRESS_SECONDS, clock=time.monotonic):
        self.label, self.interval, self.clock = label, interval, clock
        self.created = self.last = clock()
        self.reference: tuple[int, float] | None = None

    def update(self, done: int, total: int) -> str | None:
        now = self.clock()
        if self.reference is None:
            self.reference = (done, now)
        finished = done >= total
        if not finished and now - self.last < self.interval:
            return None
        self.last = now
        first, since = self.reference
        rate = (done - first) / (now - since) if now > since and done > first else None
        head = f"{self.label} {done}/{total} ({100 * done / total:.0f}%)"
        if finished:
            return f"{head}, done in {duration(now - self.created)}"
        if rate is None:
            return head
        return f"{head}, {rate:.2f}/s, {duration((total - done) / rate)} left"

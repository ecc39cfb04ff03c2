"""A sliding-window counter of failures per key (sign-in attempts per email and per IP).

It lives in the process: behind several `web` processes each counts on its own, so the
effective limit is the setting times the number of processes. That still turns password
guessing from millions of tries into tens per window."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from server.errors import TooManyRequests


class RateLimiter:
    def __init__(
        self, attempts: int, window_s: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._now = now
        self._failures: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        failures = self._recent(key)
        if len(failures) >= self.attempts:
            retry_after = math.ceil(failures[0] + self.window_s - self._now())
            raise TooManyRequests(
                "too many failed sign-in attempts; try again later",
                retry_after=max(1, retry_after),
            )

    def record_failure(self, key: str) -> None:
        self._recent(key).append(self._now())

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        cutoff = self._now() - self.window_s
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if len(self._failures) > 100_000:
            self._failures = {k: v for k, v in self._failures.items() if v}
        return failures

"""A sliding-window counter of failures per key (sign-in attempts per email and per IP).

It lives in the process: behind several `web` processes each counts on its own, so the
effective limit is the setting times the number of processes. That still turns password
guessing from millions of tries into tens per window.

Memory is bounded: a key keeps at most `attempts` timestamps (older ones cannot change the
verdict), and keys whose failures have all left the window are swept once per window.
"""

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
        if attempts < 1 or window_s <= 0:
            raise ValueError("a rate limit needs at least one attempt and a positive window")
        self.attempts = attempts
        self.window_s = window_s
        self._now = now
        self._failures: dict[str, deque[float]] = {}
        self._next_sweep = now() + window_s

    def check(self, key: str) -> None:
        """Raise `TooManyRequests` when `key` has used up its failures in the window."""
        failures = self._failures.get(key)
        if failures is None:
            return
        self._expire(failures)
        if len(failures) >= self.attempts:
            retry_after = math.ceil(failures[0] + self.window_s - self._now())
            raise TooManyRequests(
                "too many failed sign-in attempts; try again later",
                retry_after=max(1, retry_after),
            )

    def record_failure(self, key: str) -> None:
        self._sweep_if_due()
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self.attempts)
        failures.append(self._now())

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _expire(self, failures: deque[float]) -> None:
        cutoff = self._now() - self.window_s
        while failures and failures[0] <= cutoff:
            failures.popleft()

    def _sweep_if_due(self) -> None:
        now = self._now()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window_s
        for key, failures in list(self._failures.items()):
            self._expire(failures)
            if not failures:
                del self._failures[key]

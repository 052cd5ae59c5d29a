"""Back-off for retry loops: waits that grow by a factor per failure, up to a cap."""

from __future__ import annotations


class Backoff:
    """Delays of first_seconds, then ×factor after each one handed out, capped at max_seconds.

    A retry loop waits `next_delay()` after each failure and calls `reset()` once the thing it
    retries works again, so the next failure starts from the short delay. With the defaults of
    the speaker's reopen loop (0.5 s, 10 s) the waits are 0.5, 1, 2, 4, 8, 10, 10, ... s.
    """

    def __init__(self, first_seconds: float, max_seconds: float, factor: float = 2.0) -> None:
        if first_seconds <= 0 or max_seconds < first_seconds or factor < 1.0:
            raise ValueError(
                f"bad back-off: first {first_seconds} s, max {max_seconds} s, factor {factor}"
            )
        self.first_seconds = first_seconds
        self.max_seconds = max_seconds
        self.factor = factor
        self._delay = first_seconds

    def next_delay(self) -> float:
        """The wait before the next attempt; each call makes the one after it longer."""
        delay = self._delay
        self._delay = min(self.max_seconds, delay * self.factor)
        return delay

    def reset(self) -> None:
        """Start again from first_seconds (the retried thing worked)."""
        self._delay = self.first_seconds

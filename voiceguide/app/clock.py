"""Clocks for the runner: real monotonic time, optionally sped up for demos and tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic clock whose seconds may run faster than real ones."""

    def now(self) -> float:
        """Current time in session seconds."""
        ...

    def real_seconds_until(self, deadline: float) -> float:
        """How many real seconds to wait until `deadline` (session seconds)."""
        ...


class ScaledClock:
    """time.monotonic, running `speed` times faster (speed 1 is real time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        """Session seconds since the clock was made."""
        return (time.monotonic() - self._origin) * self.speed

    def real_seconds_until(self, deadline: float) -> float:
        """Real seconds to wait so that now() reaches `deadline`."""
        return max(0.0, (deadline - self.now()) / self.speed)

"""The small protocols the runner drives: where speech goes, where the record goes, and events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Hands an event to the runner's queue from any thread (queue.SimpleQueue.put is reentrant).
Post = Callable[[object], None]


class SpeechSink(Protocol):
    """Where spoken text goes: a speaker, or the console."""

    def speak(self, text: str, kind: str = "prompt") -> None:
        """Say `text` now, cutting off anything still playing; `kind` is the cue kind."""
        ...

    def cancel(self) -> None:
        """Silence at once."""
        ...

    def set_volume(self, volume: float) -> None:
        """Set the output gain (0..1)."""
        ...

    def set_rate(self, rate_wpm: int) -> None:
        """Set the speech rate for what is said from now on."""
        ...


class HistorySink(Protocol):
    """Where the session's record goes."""

    def start_session(self, routine_id: str, routine_title: str) -> int | None:
        """Record a new session; returns its id (None if it could not be written)."""
        ...

    def log_pain(
        self,
        session_id: int | None,
        exercise: str,
        step_index: int | None,
        side: str | None,
        seconds_into_hold: float | None,
    ) -> None:
        """Record a pain report (step_index None outside the steps)."""
        ...

    def log_step(
        self,
        session_id: int | None,
        exercise: str,
        step_index: int,
        side: str | None,
        outcome: str,
        held_seconds: float,
    ) -> None:
        """Record how one side of one step went."""
        ...

    def end_session(self, session_id: int | None, how: str) -> None:
        """Record how the session ended."""
        ...

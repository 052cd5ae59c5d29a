"""What the history store gives back: one session, one pain report, one side of a step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SessionRecord:
    """One session as stored; `how` is completed, stopped, pain, interrupted or running."""

    id: int
    routine_id: str
    routine_title: str
    started_at: datetime
    ended_at: datetime | None
    how: str

    @property
    def duration_seconds(self) -> float | None:
        """Wall-clock length of the session, or None when it never ended."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class PainRecord:
    """One "it hurts" report: where in the routine it happened.

    step_index is None during the introduction and the closing words. seconds_into_hold is
    None outside a hold or reps, and for reports written before schema 2, which kept only
    seconds_into_step (counted from the start of the step's instructions).
    """

    id: int
    session_id: int
    at: datetime
    exercise: str
    step_index: int | None
    side: str | None
    seconds_into_hold: float | None
    seconds_into_step: float | None = None


@dataclass(frozen=True)
class StepRecord:
    """One side of one step: done, skipped, easier, stopped, pain or left_out, and time held."""

    id: int
    session_id: int
    at: datetime
    exercise: str
    step_index: int
    side: str | None
    outcome: str
    held_seconds: float

"""How a session is coached for this user: verbosity, start-slowly progression, pain memory.

All pure: the store layer reads the history and builds a `Coaching`; the planner and the
session only read it.

Progression ("start slowly", from the seed precautions: begin with shorter, gentler sessions
and build up; holds of 20-30 s and 10-15 reps): a user's first session does holds and reps at
START_SCALE (2/3) of the routine's values, which takes the seeds' top of range to their bottom
(30 s -> 20 s, 15 reps -> 10). The scale rises in a straight line to 1.0 as *both* the days
since the first session reach RAMP_DAYS (14) and the sessions done reach RAMP_SESSIONS (6);
so six sessions in one afternoon do not skip the two weeks, and one session a fortnight ago
does not count as practice. A scaled hold never drops below MIN_HOLD_SECONDS, nor reps below
MIN_REPS, and nothing is ever above the routine file's own value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from voiceguide.core.locale import Locale
from voiceguide.core.routine import Counts, Reps, Routine, Step

START_SCALE = 2 / 3
RAMP_DAYS = 14.0
RAMP_SESSIONS = 6
MIN_HOLD_SECONDS = 10
MIN_REPS = 3
PROGRESSION_NOTE = "progression_note"  # the locale prompt that says why holds are shorter


class Verbosity(StrEnum):
    """How much the box says about each exercise."""

    # Every level keeps the routine's intro and each step's safety sentences.
    GUIDED = "guided"  # name, every set-up and safety sentence, the easier option
    BRIEF = "brief"  # name, the first set-up sentence, counts
    COUNTS = "counts"  # name and counts

    def more(self) -> Verbosity | None:
        """One level more detailed, or None at the most detailed."""
        order = list(Verbosity)
        i = order.index(self)
        return order[i - 1] if i > 0 else None

    def less(self) -> Verbosity | None:
        """One level less talk, or None at the least."""
        order = list(Verbosity)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


@dataclass(frozen=True)
class PainNote:
    """A pain report remembered from an earlier session."""

    exercise: str
    side: str | None
    days_ago: int


@dataclass(frozen=True)
class Progression:
    """How much of the routine's holds and reps the user does today (never above 1.0)."""

    scale: float = 1.0
    reason_key: str | None = None  # locale prompt said once, e.g. "progression_note"


def progression_for(
    sessions_done: int, days_since_first: float | None, enabled: bool = True
) -> Progression:
    """Today's progression after `sessions_done` sessions, the first `days_since_first` ago."""
    if not enabled:
        return Progression()
    days = 0.0 if days_since_first is None else max(0.0, days_since_first)
    progress = min(1.0, days / RAMP_DAYS, max(0, sessions_done) / RAMP_SESSIONS)
    scale = round(START_SCALE + (1.0 - START_SCALE) * progress, 3)
    if scale >= 1.0:
        return Progression()
    return Progression(scale, PROGRESSION_NOTE)


@dataclass(frozen=True)
class Coaching:
    """Everything about this user that shapes today's session."""

    verbosity: Verbosity = Verbosity.GUIDED
    pain_notes: tuple[PainNote, ...] = ()
    progression: Progression = Progression()
    sessions_this_week: int | None = None  # the closing line uses it, counting this session


def _scaled_step(step: Step, scale: float) -> Step:
    if step.hold_seconds is not None:
        hold = float(step.hold_seconds)
        shorter = min(hold, max(float(MIN_HOLD_SECONDS), float(round(hold * scale))))
        if shorter >= hold:
            return step
        # Counts that no longer fit the shorter hold are trimmed, as the planner would.
        counts = step.counts
        counts = Counts(
            final_seconds=min(counts.final_seconds, max(0, int(shorter) - 1)),
            every_seconds=counts.every_seconds if counts.every_seconds < shorter else 0,
            halfway=counts.halfway,
        )
        return dataclasses.replace(step, hold_seconds=shorter, counts=counts)
    if step.reps is not None:
        count = step.reps.count
        fewer = min(count, max(MIN_REPS, round(count * scale)))
        if fewer >= count:
            return step
        reps = Reps(fewer, step.reps.seconds_each, step.reps.cues)
        return dataclasses.replace(step, reps=reps)
    return step


def scaled_routine(routine: Routine, progression: Progression) -> Routine:
    """`routine` with holds and reps scaled down by `progression` (never up)."""
    scale = min(1.0, progression.scale)
    if scale >= 1.0:
        return routine
    steps = tuple(_scaled_step(step, scale) for step in routine.steps)
    return dataclasses.replace(routine, steps=steps)


def side_phrase(locale: Locale, side: str | None) -> str:
    """'on your left side' (or the locale's words), or '' for a one-sided step."""
    if side not in locale.sides:
        return ""
    return locale.prompt("on_side", side=locale.sides[side].lower())


def pain_notice(locale: Locale, note: PainNote) -> str:
    """One sentence naming the exercise (and side) that brought a pain report last time."""
    where = side_phrase(locale, note.side)
    key = "pain_notice_side" if where else "pain_notice"
    return locale.prompt(key, exercise=note.exercise, where=where)


def notes_by_exercise(notes: tuple[PainNote, ...]) -> dict[str, PainNote]:
    """The most recent note for each exercise name (lower-cased)."""
    found: dict[str, PainNote] = {}
    for note in sorted(notes, key=lambda n: -n.days_ago):
        found[note.exercise.strip().lower()] = note  # later (more recent) notes win
    return found

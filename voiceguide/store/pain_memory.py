"""Pain memory: the pain reports of the last days, as the core's PainNote list for a routine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from voiceguide.core.coaching import PainNote

if TYPE_CHECKING:
    from voiceguide.store.history import History

DEFAULT_PAIN_MEMORY_DAYS = 14


def _local_now(now: datetime | None) -> datetime:
    return datetime.now().astimezone() if now is None else now.astimezone()


def recent_pain_notes(
    history: History,
    exercises: Iterable[str] | None,
    days: int = DEFAULT_PAIN_MEMORY_DAYS,
    now: datetime | None = None,
) -> tuple[PainNote, ...]:
    """One note per (exercise, side) with a pain report in the last `days` days, newest report's
    age; only `exercises` (in their order) unless None. `days` 0 turns pain memory off."""
    if days <= 0:
        return ()
    moment = _local_now(now)
    latest: dict[tuple[str, str | None], datetime] = {}
    for event in history.pain_events(since=moment - timedelta(days=days)):
        if event.step_index is None:
            continue  # the introduction or the closing words: no exercise to leave out
        latest[(event.exercise, event.side)] = event.at  # time order: the last one wins
    if exercises is None:
        order = sorted({exercise for exercise, _ in latest}, key=str.lower)
    else:
        order = list(dict.fromkeys(exercises))
    notes = []
    for exercise in order:
        sides = sorted((side for ex, side in latest if ex == exercise), key=lambda s: s or "")
        for side in sides:
            # Calendar days in local time: a report last night is "1 day ago" this morning.
            days_ago = (moment.date() - latest[(exercise, side)].astimezone().date()).days
            notes.append(PainNote(exercise=exercise, side=side, days_ago=max(0, days_ago)))
    return tuple(notes)

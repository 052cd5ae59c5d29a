"""Progress from the history: streaks, sessions and minutes per week, pain by exercise.

A session counts once it has ended, however it ended (completed, stopped, pain, or cut short
with its end written); one whose process died before writing its end does not. Weeks are
calendar weeks in local time, starting on Monday. Progression counts completed sessions only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.store.history import History

DEFAULT_WEEKS = 8
NO_SESSIONS = "No sessions yet. Your progress appears here after your first session."


@dataclass(frozen=True)
class WeekSummary:
    """One calendar week: sessions, minutes and pain reports."""

    start: date  # the Monday
    sessions: int
    minutes: float
    pain_reports: int


@dataclass(frozen=True)
class Progress:
    """What `voiceguide progress` shows."""

    today: date
    streak_days: int  # consecutive days with a session, up to today (or yesterday)
    longest_streak_days: int
    total_sessions: int
    weeks: tuple[WeekSummary, ...]  # oldest first, the current week last
    pain_by_exercise: tuple[tuple[str, int], ...]  # most reports first, over the weeks shown


@dataclass(frozen=True)
class UseSoFar:
    """How much the box has been used: what the progression rule needs."""

    completed_sessions: int
    days_since_first: float | None  # None before the first session


def _local(moment: datetime) -> datetime:
    return moment.astimezone()


def _now(now: datetime | None) -> datetime:
    return datetime.now().astimezone() if now is None else now.astimezone()


def week_start(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def _ended(history: History) -> list[tuple[datetime, datetime]]:
    return [(_local(s), _local(e)) for s, e, _how in history.session_times() if e is not None]


def use_so_far(history: History, now: datetime | None = None) -> UseSoFar:
    """Completed sessions so far, and days since the first session of any kind."""
    times = history.session_times()
    completed = sum(1 for _s, _e, how in times if how == "completed")
    if not times:
        return UseSoFar(0, None)
    first = min(started for started, _e, _how in times)
    days = (_now(now) - first).total_seconds() / 86400
    return UseSoFar(completed, max(0.0, days))


def sessions_this_week(history: History, now: datetime | None = None) -> int:
    """Sessions this calendar week, counting the one about to start."""
    monday = week_start(_now(now).date())
    return 1 + sum(1 for started, _ended_at in _ended(history) if started.date() >= monday)


def _streaks(days: set[date], today: date) -> tuple[int, int]:
    longest = run = 0
    previous: date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    # The current streak still stands on a day without a session yet: it ends yesterday.
    current = 0
    day = today if today in days else today - timedelta(days=1)
    while day in days:
        current += 1
        day -= timedelta(days=1)
    return current, longest


def progress_summary(
    history: History, weeks: int = DEFAULT_WEEKS, now: datetime | None = None
) -> Progress:
    """Streaks, the last `weeks` calendar weeks, and pain reports by exercise in those weeks."""
    today = _now(now).date()
    sessions = _ended(history)
    current, longest = _streaks({started.date() for started, _ in sessions}, today)
    first_monday = week_start(today) - timedelta(weeks=weeks - 1)
    counts: Counter[date] = Counter()
    minutes: dict[date, float] = {}
    for started, ended in sessions:
        monday = week_start(started.date())
        if monday >= first_monday:
            counts[monday] += 1
            minutes[monday] = (
                minutes.get(monday, 0.0) + max(0.0, (ended - started).total_seconds()) / 60
            )
    pains: Counter[date] = Counter()
    by_exercise: Counter[str] = Counter()
    since = datetime.combine(first_monday, datetime.min.time()).astimezone()
    for event in history.pain_events(since=since):
        pains[week_start(_local(event.at).date())] += 1
        # A report outside the exercises still counts, under where it happened, so this list
        # never says "no pain reports" beside a week that has one.
        by_exercise[event.exercise.strip("()") if event.step_index is None else event.exercise] += 1
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    return Progress(
        today=today,
        streak_days=current,
        longest_streak_days=longest,
        total_sessions=len(sessions),
        weeks=tuple(
            WeekSummary(monday, counts[monday], round(minutes.get(monday, 0.0), 1), pains[monday])
            for monday in mondays
        ),
        pain_by_exercise=tuple(sorted(by_exercise.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def format_progress(progress: Progress) -> str:
    """The `voiceguide progress` text: streaks, a table of weeks, pain by exercise."""
    if progress.total_sessions == 0:
        return NO_SESSIONS
    out = [
        (
            f"Current streak: {_days(progress.streak_days)} in a row with a session "
            f"(longest: {_days(progress.longest_streak_days)})."
        ),
        f"Sessions in all: {progress.total_sessions}.",
        "",
        "Week of      Sessions  Minutes  Pain reports",
    ]
    for week in progress.weeks:
        out.append(
            f"{week.start.isoformat():<11}  {week.sessions:>8}  {week.minutes:>7.0f}"
            f"  {week.pain_reports:>12}"
        )
    out.append("")
    if progress.pain_by_exercise:
        out.append(f"Pain reports by exercise, last {len(progress.weeks)} weeks:")
        out.extend(f"  {exercise}: {count}" for exercise, count in progress.pain_by_exercise)
    else:
        out.append(f"No pain reports in the last {len(progress.weeks)} weeks.")
    return "\n".join(out)

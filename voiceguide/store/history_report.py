"""The `voiceguide history` table: recent sessions with their steps and pain reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceguide.store.history_records import PainRecord, StepRecord

if TYPE_CHECKING:
    from voiceguide.store.history import History

# How each step outcome reads in the table.
OUTCOME_WORDS = {
    "done": "done",
    "skipped": "skipped",
    "easier": "done the easier way",
    "stopped": "stopped",
    "pain": "stopped for pain",
    "left_out": "left out",
}
_OUTSIDE = {"(introduction)": "the introduction", "(closing words)": "the closing words"}


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _pain_line(event: PainRecord) -> str:
    if event.step_index is None:
        return f"    pain during {_OUTSIDE.get(event.exercise, event.exercise)}"
    where = f"step {event.step_index + 1}"
    if event.side:
        where += f", {event.side} side"
    line = f"    pain during {event.exercise} ({where})"
    if event.seconds_into_hold is not None:
        return f"{line}, {event.seconds_into_hold:.0f} s into the hold"
    if event.seconds_into_step is not None:  # written before schema 2
        return f"{line}, {event.seconds_into_step:.0f} s into the step"
    return line


def _step_line(record: StepRecord) -> str:
    name = record.exercise + (f", {record.side} side" if record.side else "")
    outcome = OUTCOME_WORDS.get(record.outcome, record.outcome)
    held = "" if record.outcome == "left_out" else f", {record.held_seconds:.0f} s held"
    return f"    {record.step_index + 1}. {name}: {outcome}{held}"


def format_history(history: History, limit: int = 20) -> str:
    """A table of recent sessions with their step records and pain reports."""
    sessions = history.recent_sessions(limit)
    if not sessions:
        return "No sessions yet."
    pains: dict[int, list[PainRecord]] = {}
    for event in history.pain_events():
        pains.setdefault(event.session_id, []).append(event)
    steps: dict[int, list[StepRecord]] = {}
    for record in history.step_records():
        steps.setdefault(record.session_id, []).append(record)
    header = ("Started", "Routine", "Duration", "Ended")
    rows = [
        (
            s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            s.routine_title,
            _clock(s.duration_seconds),
            s.how,
        )
        for s in sessions
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]

    def line(cells: tuple[str, str, str, str]) -> str:
        started, title, duration, how = cells
        return (
            f"{started:<{widths[0]}}  {title:<{widths[1]}}  {duration:>{widths[2]}}  {how}"
        ).rstrip()

    out = [line(header)]
    for session, row in zip(sessions, rows, strict=True):
        out.append(line(row))
        out.extend(_step_line(record) for record in steps.get(session.id, ()))
        out.extend(_pain_line(event) for event in pains.get(session.id, ()))
    return "\n".join(out)

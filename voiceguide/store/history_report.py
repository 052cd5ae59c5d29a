"""The `voiceguide history` table: recent sessions with their pain reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceguide.store.history_records import PainRecord

if TYPE_CHECKING:
    from voiceguide.store.history import History


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _pain_line(event: PainRecord) -> str:
    where = f"step {event.step_index + 1}"
    if event.side:
        where += f", {event.side} side"
    return (
        f"    pain during {event.exercise} ({where}), {event.seconds_into_step:.0f} s into the step"
    )


def format_history(history: History, limit: int = 20) -> str:
    """A table of recent sessions with their pain reports, for `voiceguide history`."""
    sessions = history.recent_sessions(limit)
    if not sessions:
        return "No sessions yet."
    pains: dict[int, list[PainRecord]] = {}
    for event in history.pain_events():
        pains.setdefault(event.session_id, []).append(event)
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
        out.extend(_pain_line(event) for event in pains.get(session.id, ()))
    return "\n".join(out)

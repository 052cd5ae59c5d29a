"""The history's records read back: sessions, pain reports, per-side step records, session times."""

from __future__ import annotations

from datetime import UTC, datetime

from voiceguide.store.history_records import PainRecord, SessionRecord, StepRecord


def iso_utc(when: datetime | None) -> str:
    """`when` (now if None) as fixed-width ISO text in UTC, the form every timestamp is stored in."""
    # Naive datetimes are taken as local time (Python's astimezone convention), then stored in UTC.
    moment = datetime.now(UTC) if when is None else when.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    """A stored timestamp back as an aware datetime."""
    return datetime.fromisoformat(text)


class HistoryReads:
    """Queries over the history's tables; History supplies `_read`."""

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        raise NotImplementedError

    def _alive(self, session_id: int, pid: int | None, boot_id: str | None) -> bool:
        raise NotImplementedError

    def recent_sessions(self, limit: int = 20) -> list[SessionRecord]:
        """The latest `limit` sessions, newest first."""
        # A process plays one session at a time, so an open session followed by a later one
        # from the same process was cut short (its end could not be written).
        rows = self._read(
            "SELECT id, routine_id, routine_title, started_at, ended_at, how, pid, boot_id,"
            " EXISTS (SELECT 1 FROM sessions AS later WHERE later.pid = s.pid"
            "   AND later.boot_id IS s.boot_id AND later.id > s.id)"
            " FROM sessions AS s ORDER BY started_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        records = []
        for sid, routine_id, title, started, ended, how, pid, boot_id, superseded in rows:
            if how is None:
                alive = not superseded and self._alive(sid, pid, boot_id)
                how = "running" if alive else "interrupted"
            records.append(
                SessionRecord(
                    id=sid,
                    routine_id=routine_id,
                    routine_title=title,
                    started_at=parse_time(started),
                    ended_at=parse_time(ended) if ended else None,
                    how=how,
                )
            )
        return records

    def pain_events(
        self, session_id: int | None = None, since: datetime | None = None
    ) -> list[PainRecord]:
        """Pain reports in time order, for one session or for all, optionally from `since` on."""
        sql = (
            "SELECT id, session_id, at, exercise, step_index, side, seconds_into_hold,"
            " seconds_into_step FROM pain_events WHERE 1"
        )
        params: tuple[object, ...] = ()
        if session_id is not None:
            sql += " AND session_id = ?"
            params += (session_id,)
        if since is not None:
            sql += " AND at >= ?"  # ISO UTC text with fixed width sorts as time does
            params += (iso_utc(since),)
        rows = self._read(sql + " ORDER BY at, id", params)
        return [
            PainRecord(
                id=pid,
                session_id=sid,
                at=parse_time(at),
                exercise=exercise,
                step_index=step,
                side=side,
                seconds_into_hold=held,
                seconds_into_step=secs,
            )
            for pid, sid, at, exercise, step, side, held, secs in rows
        ]

    def step_records(self, session_id: int | None = None) -> list[StepRecord]:
        """Per-side step records in the order they were written, for one session or for all."""
        sql = (
            "SELECT id, session_id, at, exercise, step_index, side, outcome, held_seconds"
            " FROM step_records"
        )
        params: tuple[object, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params = (session_id,)
        rows = self._read(sql + " ORDER BY id", params)
        return [
            StepRecord(
                id=rid,
                session_id=sid,
                at=parse_time(at),
                exercise=exercise,
                step_index=step,
                side=side,
                outcome=outcome,
                held_seconds=held,
            )
            for rid, sid, at, exercise, step, side, outcome, held in rows
        ]

    def session_times(self) -> list[tuple[datetime, datetime | None, str | None]]:
        """(started_at, ended_at, how) of every session, oldest first; how is None while open."""
        rows = self._read("SELECT started_at, ended_at, how FROM sessions ORDER BY started_at, id")
        return [(parse_time(s), parse_time(e) if e else None, how) for s, e, how in rows]

    # -- lifetime -----------------------------------------------------------------------------

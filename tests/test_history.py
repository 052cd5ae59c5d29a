"""History store tests against real SQLite files: durability, failures, display."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import voiceguide
from tests.support.small_disk import fill
from voiceguide.core.commands import Ending
from voiceguide.errors import UserError
from voiceguide.store import history as history_module
from voiceguide.store import history_schema
from voiceguide.store.history import ENDINGS, History, default_history_path
from voiceguide.store.history_report import format_history
from voiceguide.store.history_schema import schema_version

REPO_ROOT = Path(voiceguide.__file__).resolve().parent.parent
T0 = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Warning records logged by the history store."""
    return [
        r for r in caplog.records if r.name == "voiceguide.history" and r.levelno >= logging.WARNING
    ]


@pytest.fixture
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Show local times as UTC so table output is the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# ---- round trip ----------------------------------------------------------------------------
def test_round_trip(tmp_path: Path) -> None:
    with History(tmp_path / "deep" / "dir" / "history.db") as history:
        first = history.start_session("morning", "Gentle morning", started_at=T0)
        assert first is not None
        history.log_pain(first, "Cat-cow", 2, "left", 12.4, at=T0 + timedelta(seconds=100))
        history.log_pain(first, "Knee hug", 3, None, 3.0, at=T0 + timedelta(seconds=200))
        history.end_session(first, "pain", ended_at=T0 + timedelta(seconds=201))
        second = history.start_session("evening", "Evening unwind", started_at=T0 + timedelta(1))
        history.end_session(second, "completed", ended_at=T0 + timedelta(days=1, minutes=12))

    with History(tmp_path / "deep" / "dir" / "history.db") as history:
        sessions = history.recent_sessions()
        assert [s.routine_id for s in sessions] == ["evening", "morning"]  # newest first
        morning = sessions[1]
        assert (morning.id, morning.routine_title, morning.how) == (first, "Gentle morning", "pain")
        assert morning.started_at == T0 and morning.started_at.tzinfo is not None
        assert morning.duration_seconds == 201
        assert sessions[0].duration_seconds == 12 * 60
        assert history.recent_sessions(limit=1) == sessions[:1]

        pains = history.pain_events(first)
        assert [(p.exercise, p.step_index, p.side) for p in pains] == [
            ("Cat-cow", 2, "left"),
            ("Knee hug", 3, None),
        ]
        assert pains[0].seconds_into_hold == pytest.approx(12.4)
        assert pains[0].seconds_into_step is None  # kept for reports written by schema 1
        assert pains[0].at == T0 + timedelta(seconds=100)
        assert history.pain_events(second) == []
        assert history.pain_events() == pains


def test_timestamps_are_stored_as_iso_utc(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with History(path) as history:
        plus_two = datetime(2025, 3, 1, 10, 30, tzinfo=UTC).astimezone(
            tz=datetime.now(UTC).astimezone().tzinfo
        )
        history.start_session("r", "R", started_at=plus_two)
        history.start_session("r", "R")  # defaults to now
    stored = [row[0] for row in sqlite3.connect(path).execute("SELECT started_at FROM sessions")]
    assert stored[0] == "2025-03-01T10:30:00.000+00:00"
    assert all(text.endswith("+00:00") for text in stored)


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    History(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version()


# The sessions table exactly as schema 1 shipped: user databases were built from this text, so
# the CHECK built from Ending must not drift from it (a new ending needs a migration instead).
SHIPPED_V1_SESSIONS = """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            routine_id TEXT NOT NULL,
            routine_title TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            how TEXT CHECK (how IN ('completed', 'stopped', 'pain', 'interrupted')),
            pid INTEGER,
            boot_id TEXT
        )"""


def test_schema_v1_is_the_text_that_shipped(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    History(path).close()
    conn = sqlite3.connect(path)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sessions'").fetchone()
    assert sql == SHIPPED_V1_SESSIONS
    assert ENDINGS == tuple(Ending) == ("completed", "stopped", "pain", "interrupted")


def test_a_database_built_by_the_shipped_schema_takes_every_ending(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.execute(SHIPPED_V1_SESSIONS)
        conn.execute(
            "CREATE TABLE pain_events (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL"
            " REFERENCES sessions(id) ON DELETE CASCADE, at TEXT NOT NULL, exercise TEXT NOT NULL,"
            " step_index INTEGER NOT NULL, side TEXT, seconds_into_step REAL NOT NULL)"
        )
        conn.execute("PRAGMA user_version = 1")
    with History(path, strict=True) as history:
        for ending in Ending:
            history.end_session(history.start_session("r", "R"), ending)
        assert sorted(s.how for s in history.recent_sessions()) == sorted(ENDINGS)
    with pytest.raises(sqlite3.IntegrityError), sqlite3.connect(path) as conn:
        conn.execute("UPDATE sessions SET how = 'exploded'")


def test_migration_hook_upgrades_an_older_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    with History(path) as history:
        sid = history.start_session("r", "Routine")
        history.end_session(sid, "completed")

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN notes TEXT")

    later = schema_version() + 1
    monkeypatch.setitem(history_schema.MIGRATIONS, later, add_notes)
    with History(path) as history:
        assert [s.how for s in history.recent_sessions()] == ["completed"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == later
    assert "notes" in [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]


def test_newer_schema_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.db"
    History(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="newer voiceguide"):
        History(path, strict=True)
    history = History(path)
    assert history.start_session("r", "R") is None
    assert len(warnings_from(caplog)) == 1


def test_invalid_ending_is_a_bug(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history, pytest.raises(ValueError):
        history.end_session(history.start_session("r", "R"), "exploded")


def test_none_session_calls_are_noops(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        history.log_pain(None, "Cat-cow", 0, None, 1.0)
        history.end_session(None, "stopped")
        assert history.recent_sessions() == [] and history.pain_events() == []


def test_writes_after_close_are_dropped(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    sid = history.start_session("r", "R")
    history.close()
    history.close()  # twice is fine
    assert history.start_session("r", "R") is None
    history.log_pain(sid, "Cat-cow", 0, None, 1.0)
    history.end_session(sid, "stopped")


# ---- interrupted sessions and SIGKILL --------------------------------------------------------
WRITER = """
import sys
from pathlib import Path
from voiceguide.store.history import History

history = History(Path(sys.argv[1]))
while True:
    sid = history.start_session("loop", "Loop routine")
    for step in range(5):
        history.log_pain(sid, "Cat-cow", step, "left", 1.5)
    history.end_session(sid, "completed")
    print(sid, flush=True)
"""


def test_sigkill_mid_writes_leaves_a_sound_database(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    finished: list[int] = []
    # Kill after different numbers of sessions so the kill lands at different points in a write.
    for sessions_before_kill in (3, 11, 25):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        for _ in range(sessions_before_kill):
            finished.append(int(child.stdout.readline()))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()

    with History(path, strict=True) as history:
        sessions = {s.id: s for s in history.recent_sessions(limit=1000)}
        for sid in finished:
            assert sessions[sid].how == "completed"
            assert len(history.pain_events(sid)) == 5
        unfinished = [s for s in sessions.values() if s.ended_at is None]
        # The child died, so a session it left open is shown as interrupted, never running.
        assert all(s.how == "interrupted" for s in unfinished)


def test_open_session_of_this_process_is_running(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        history.start_session("r", "R")
        assert history.recent_sessions()[0].how == "running"


def test_session_from_before_a_reboot_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with History(tmp_path / "h.db") as history:
        history.start_session("r", "R")
        # Same pid (ours, alive) but another boot: that pid belonged to another process.
        monkeypatch.setattr(history_module, "_boot_id", lambda: "another-boot")
        assert history.recent_sessions()[0].how == "interrupted"


# ---- unopenable databases --------------------------------------------------------------------
def test_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 100)
    with pytest.raises(UserError) as caught:
        History(path, strict=True)
    assert str(caught.value) == f"history database {path} is not readable: file is not a database"


def test_directory_that_cannot_be_created_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "afile" / "sub" / "history.db"
    with pytest.raises(UserError) as caught:
        History(path, strict=True)
    message = str(caught.value)
    assert message.startswith(f"history database {path} cannot be created")
    assert "\n" not in message


def test_unopenable_database_drops_writes_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"garbage" * 1000)
    caplog.set_level(logging.INFO, logger="voiceguide.history")
    history = History(path)
    for _ in range(10):
        sid = history.start_session("r", "R")
        assert sid is None
        history.log_pain(sid, "Cat-cow", 0, None, 1.0)
        history.end_session(sid, "completed")
    assert history.recent_sessions() == []
    assert len(warnings_from(caplog)) == 1
    assert "not readable: file is not a database" in warnings_from(caplog)[0].getMessage()


# ---- failures while writing: injected --------------------------------------------------------
class FailingConnection:
    """Wraps a real connection; data-changing statements fail while `failing` is set."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.failing = False

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if self.failing and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise sqlite3.OperationalError("disk I/O error")
        return self.real.execute(sql, params)

    @property
    def in_transaction(self) -> bool:
        return self.real.in_transaction

    def close(self) -> None:
        self.real.close()


def test_injected_write_failures_log_once_and_rearm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    history = History(tmp_path / "history.db")
    failing = FailingConnection(history._conn)  # type: ignore[arg-type]
    history._conn = failing  # type: ignore[assignment]
    good = history.start_session("r", "R")
    assert good is not None

    failing.failing = True
    for _ in range(20):
        assert history.start_session("r", "R") is None
        history.log_pain(good, "Cat-cow", 0, "left", 2.0)
        history.end_session(good, "completed")
    assert len(warnings_from(caplog)) == 1
    assert "disk I/O error" in warnings_from(caplog)[0].getMessage()

    failing.failing = False  # a success re-arms the warning
    assert history.start_session("r", "R") is not None
    failing.failing = True
    history.end_session(good, "stopped")
    history.end_session(good, "stopped")
    assert len(warnings_from(caplog)) == 2

    failing.failing = False
    history.close()
    # Failed writes were rolled back whole: the first session never got its end or pain events.
    # It counts as interrupted because this process started another session after it. The
    # second was never ended either, and its History is closed (its session lock let go), so
    # it was interrupted too.
    with History(tmp_path / "history.db") as reopened:
        assert reopened.pain_events() == []
        assert [s.how for s in reopened.recent_sessions()] == ["interrupted", "interrupted"]
        conn = sqlite3.connect(tmp_path / "history.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_locked_database_does_not_block_or_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.db"
    history = History(path, busy_timeout_seconds=0.05)
    sid = history.start_session("r", "R")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the lock
    history.log_pain(sid, "Cat-cow", 0, None, 1.0)
    history.end_session(sid, "completed")
    assert len(warnings_from(caplog)) == 1
    assert "database is locked" in warnings_from(caplog)[0].getMessage()
    other.execute("ROLLBACK")
    history.end_session(sid, "completed")
    assert history.recent_sessions()[0].how == "completed"
    history.close()


# ---- failures while writing: a real small filesystem ---------------------------------------
def test_disk_full_logs_once_and_recovers(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = small_disk / "history.db"
    history = History(path)
    saved = history.start_session("r", "Before the disk filled")
    history.end_session(saved, "completed")
    assert saved is not None

    filler = fill(small_disk)
    ids = []
    for _ in range(30):
        # Long titles make each write need new pages, which the full disk cannot give.
        sid = history.start_session("r", "x" * 3000)
        ids.append(sid)
        history.log_pain(sid, "Cat-cow" * 300, 0, "left", 1.0)
        history.end_session(sid, "completed")
    assert None in ids
    assert len(warnings_from(caplog)) == 1
    assert "full" in warnings_from(caplog)[0].getMessage()

    filler.unlink()  # space is back: writes work again and the warning is re-armed
    after = history.start_session("r", "After space came back")
    assert after is not None
    history.end_session(after, "completed")
    fill(small_disk)
    for _ in range(30):
        history.start_session("r", "y" * 3000)
    assert len(warnings_from(caplog)) == 2
    history.close()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    titles = {
        row[0] for row in conn.execute("SELECT routine_title FROM sessions WHERE how IS NOT NULL")
    }
    assert {"Before the disk filled", "After space came back"} <= titles


def test_full_disk_at_open(small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    fill(small_disk)
    path = small_disk / "history.db"
    history = History(path)
    for _ in range(5):
        assert history.start_session("r", "R") is None
    assert len(warnings_from(caplog)) == 1
    with pytest.raises(UserError, match=f"history database {path}"):
        History(path, strict=True)


def test_read_only_mount(small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = small_disk / "history.db"
    with History(path) as history:
        history.end_session(history.start_session("r", "Saved earlier"), "completed")
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    subprocess.run(remount, check=True, capture_output=True)

    history = History(path)
    for _ in range(5):
        sid = history.start_session("r", "R")
        assert sid is None
        history.end_session(sid, "completed")
    assert len(warnings_from(caplog)) == 1

    # `voiceguide history` can still read it.
    with History(path, strict=True) as reader:
        assert [s.routine_title for s in reader.recent_sessions()] == ["Saved earlier"]


# ---- display and paths ---------------------------------------------------------------------
def test_format_empty(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        assert format_history(history) == "No sessions yet."


def test_format_history_table(tmp_path: Path, utc_display: None) -> None:
    with History(tmp_path / "h.db") as history:
        sid = history.start_session("morning", "Gentle morning", started_at=T0)
        history.log_pain(sid, "Cat-cow", 2, "left", 12.4)
        history.log_pain(sid, "Knee hug", 0, None, 3.0)
        history.end_session(sid, "pain", ended_at=T0 + timedelta(minutes=12, seconds=5))
        long = history.start_session("long", "Long one", started_at=T0 + timedelta(days=1))
        history.end_session(long, "stopped", ended_at=T0 + timedelta(days=1, hours=1, seconds=1))
        history.start_session("open", "Still open", started_at=T0 + timedelta(days=2))
        text = format_history(history)
    assert text.splitlines() == [
        "Started           Routine         Duration  Ended",
        "2025-03-03 08:30  Still open             -  running",
        "2025-03-02 08:30  Long one         1:00:01  stopped",
        "2025-03-01 08:30  Gentle morning     12:05  pain",
        "    pain during Cat-cow (step 3, left side), 12 s into the hold",
        "    pain during Knee hug (step 1), 3 s into the hold",
    ]


def test_format_history_limit(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        for day in range(5):
            history.start_session("r", f"Day {day}", started_at=T0 + timedelta(days=day))
        text = format_history(history, limit=2)
    assert "Day 4" in text and "Day 3" in text and "Day 2" not in text


def test_default_history_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEGUIDE_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_history_path(None) == tmp_path / "data" / "voiceguide" / "history.db"
    monkeypatch.setenv("VOICEGUIDE_HISTORY", str(tmp_path / "env.db"))
    assert default_history_path(None) == tmp_path / "env.db"
    assert default_history_path(tmp_path / "config.db") == tmp_path / "config.db"


def test_concurrent_first_open_migrates_once(tmp_path: Path) -> None:
    for attempt in range(10):
        path = tmp_path / f"h{attempt}.db"
        errors: list[BaseException] = []

        def open_and_write(path: Path = path, errors: list[BaseException] = errors) -> None:
            try:
                with History(path, strict=True, busy_timeout_seconds=5) as history:
                    assert history.start_session("r", "R") is not None
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=open_and_write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with History(path, strict=True) as history:
            assert len(history.recent_sessions()) == 4


# ---- schema 2: seconds into the hold, per-side step records ------------------------------------
def _v1_database(path: Path) -> None:
    """A database exactly as schema 1 built it, with reports inside and outside the steps."""
    conn = sqlite3.connect(path)
    history_schema._schema_v1(conn)
    conn.execute(
        "INSERT INTO sessions (id, routine_id, routine_title, started_at, ended_at, how)"
        " VALUES (1, 'gentle-back', 'Gentle back', ?, ?, 'pain')",
        (T0.isoformat(), (T0 + timedelta(minutes=3)).isoformat()),
    )
    conn.executemany(
        "INSERT INTO pain_events (session_id, at, exercise, step_index, side, seconds_into_step)"
        " VALUES (1, ?, ?, ?, ?, ?)",
        [
            ((T0 + timedelta(seconds=5)).isoformat(), "(introduction)", -1, None, 2.0),
            ((T0 + timedelta(seconds=90)).isoformat(), "Knee to chest", 1, "left", 17.5),
        ],
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_a_schema_1_database_is_migrated_and_its_reports_stay_readable(
    tmp_path: Path, utc_display: None
) -> None:
    path = tmp_path / "history.db"
    _v1_database(path)
    with History(path, strict=True) as history:
        intro, knee = history.pain_events()
        assert (intro.exercise, intro.step_index, intro.seconds_into_hold) == (
            "(introduction)", None, None,
        )  # fmt: skip
        assert (knee.step_index, knee.side, knee.seconds_into_step) == (1, "left", 17.5)
        assert knee.seconds_into_hold is None
        # New reports and step records go into the migrated tables.
        sid = history.start_session("gentle-back", "Gentle back", started_at=T0 + timedelta(1))
        history.log_pain(sid, "(closing words)", None, None, None)
        history.log_step(sid, "Knee to chest", 1, "left", "left_out", 0.0)
        assert history.pain_events(sid)[0].step_index is None
        assert [r.outcome for r in history.step_records(sid)] == ["left_out"]
        text = format_history(history)
    assert "    pain during the introduction" in text.splitlines()
    assert "    pain during Knee to chest (step 2, left side), 18 s into the step" in text
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() == 2
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(pain_events)")}
    assert "pain_events_session" in indexes


def test_step_records_round_trip_and_show_per_side(tmp_path: Path, utc_display: None) -> None:
    with History(tmp_path / "h.db") as history:
        sid = history.start_session("gentle-back", "Gentle back", started_at=T0)
        history.log_step(sid, "Pelvic tilt", 0, None, "done", 45.0)
        history.log_step(sid, "Knee to chest", 1, "left", "pain", 12.3)
        history.log_pain(sid, "Knee to chest", 1, "left", 12.3)
        history.end_session(sid, "pain", ended_at=T0 + timedelta(minutes=2))
        other = history.start_session("gentle-back", "Gentle back", started_at=T0 + timedelta(1))
        history.log_step(other, "Knee to chest", 1, "left", "left_out", 0.0)
        history.log_step(other, "Knee to chest", 1, "right", "easier", 30.0)
        history.log_step(other, "Cat-cow", 2, None, "skipped", 0.0)
        history.log_step(other, "Child's pose", 3, None, "stopped", 8.0)
        history.end_session(other, "stopped", ended_at=T0 + timedelta(days=1, minutes=1))
        records = history.step_records(sid)
        assert [(r.exercise, r.side, r.outcome) for r in records] == [
            ("Pelvic tilt", None, "done"),
            ("Knee to chest", "left", "pain"),
        ]
        assert records[1].held_seconds == pytest.approx(12.3)
        assert len(history.step_records()) == 6
        with pytest.raises(ValueError, match="unknown step outcome"):
            history.log_step(sid, "Cat-cow", 2, None, "exploded", 1.0)
        history.log_step(None, "Cat-cow", 2, None, "done", 1.0)  # an unsaved session: no-op
        assert len(history.step_records()) == 6
        text = format_history(history)
    assert text.splitlines() == [
        "Started           Routine      Duration  Ended",
        "2025-03-02 08:30  Gentle back      1:00  stopped",
        "    2. Knee to chest, left side: left out",
        "    2. Knee to chest, right side: done the easier way, 30 s held",
        "    3. Cat-cow: skipped, 0 s held",
        "    4. Child's pose: stopped, 8 s held",
        "2025-03-01 08:30  Gentle back      2:00  pain",
        "    1. Pelvic tilt: done, 45 s held",
        "    2. Knee to chest, left side: stopped for pain, 12 s held",
        "    pain during Knee to chest (step 2, left side), 12 s into the hold",
    ]


def test_the_step_outcomes_are_the_cores() -> None:
    from typing import get_args

    from voiceguide.core.actions import Outcome

    assert history_schema.STEP_OUTCOMES == get_args(Outcome)

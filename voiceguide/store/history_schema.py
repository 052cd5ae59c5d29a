"""The history database's tables, and the migrations that build and upgrade them.

The schema version is SQLite's `user_version`. MIGRATIONS[n] turns a version n-1 database into
version n; `migrate()` runs the missing ones, each in its own transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from voiceguide.core.commands import Ending


class NewerSchema(Exception):
    """The database was written by a newer voiceguide than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"schema {found} is newer than {known}")
        self.found = found
        self.known = known


def _ending_check() -> str:
    # The session endings, as the CHECK constraint spells them. Every database is built with
    # the endings of its day: a new Ending needs a migration that rebuilds the sessions table
    # (SQLite cannot alter a CHECK), and tests/test_history.py pins the text v1 shipped with.
    return "how IN (" + ", ".join(f"'{ending.value}'" for ending in Ending) + ")"


def _schema_v1(conn: sqlite3.Connection) -> None:
    # pid and boot_id let a reader tell a session that is still playing from one whose
    # process died (SIGKILL, power cut) before it could write ended_at.
    conn.execute(
        f"""CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            routine_id TEXT NOT NULL,
            routine_title TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            how TEXT CHECK ({_ending_check()}),
            pid INTEGER,
            boot_id TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE pain_events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            exercise TEXT NOT NULL,
            step_index INTEGER NOT NULL,
            side TEXT,
            seconds_into_step REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX sessions_started_at ON sessions(started_at)")
    conn.execute("CREATE INDEX pain_events_session ON pain_events(session_id)")


# The outcomes a step record may have, as core.actions.LogStep spells them.
STEP_OUTCOMES: tuple[str, ...] = ("done", "skipped", "easier", "stopped", "pain", "left_out")
# v1 wrote these names for a pain report outside any step, with a made-up step index.
OUTSIDE_STEPS: tuple[str, ...] = ("(introduction)", "(closing words)")


def _schema_v2(conn: sqlite3.Connection) -> None:
    # Pain reports gain seconds_into_hold (v1's seconds_into_step counted from the start of the
    # instructions, which says little about how long a stretch was held). step_index becomes
    # NULL outside the steps, and seconds_into_step is kept for old rows only. SQLite cannot
    # drop a NOT NULL, so the table is rebuilt; no other table refers to it.
    conn.execute(
        """CREATE TABLE pain_events_v2 (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            exercise TEXT NOT NULL,
            step_index INTEGER,
            side TEXT,
            seconds_into_step REAL,
            seconds_into_hold REAL
        )"""
    )
    outside = ", ".join(f"'{name}'" for name in OUTSIDE_STEPS)
    conn.execute(
        "INSERT INTO pain_events_v2"
        " (id, session_id, at, exercise, step_index, side, seconds_into_step)"
        " SELECT id, session_id, at, exercise,"
        f" CASE WHEN exercise IN ({outside}) THEN NULL ELSE step_index END,"
        " side, seconds_into_step FROM pain_events"
    )
    conn.execute("DROP TABLE pain_events")
    conn.execute("ALTER TABLE pain_events_v2 RENAME TO pain_events")
    conn.execute("CREATE INDEX pain_events_session ON pain_events(session_id)")
    conn.execute("CREATE INDEX pain_events_at ON pain_events(at)")
    # One row per side of each step: how it went and how long it was held.
    outcomes = ", ".join(f"'{outcome}'" for outcome in STEP_OUTCOMES)
    conn.execute(
        f"""CREATE TABLE step_records (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            exercise TEXT NOT NULL,
            step_index INTEGER NOT NULL,
            side TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ({outcomes})),
            held_seconds REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX step_records_session ON step_records(session_id)")


# MIGRATIONS[n] turns a version n-1 database into version n. Add a function here for each schema
# change; never edit one that has shipped, since user databases were built by it.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _schema_v1, 2: _schema_v2}


def schema_version() -> int:
    """The schema version this code writes."""
    return max(MIGRATIONS)


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; never raises."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite may already have rolled back, e.g. after SQLITE_FULL


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to schema_version(); NewerSchema if it is past it."""
    target = schema_version()
    while True:
        # Read the version inside the write lock: two processes opening a new database at
        # once must not both run the same migration.
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > target:
                raise NewerSchema(current, target)
            if current == target:
                conn.execute("COMMIT")
                return
            MIGRATIONS[current + 1](conn)
            # user_version lives in the database header, so it commits with the migration.
            conn.execute(f"PRAGMA user_version = {current + 1:d}")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

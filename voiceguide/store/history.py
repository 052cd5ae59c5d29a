"""Session history: a small SQLite file recording sessions and pain reports.

The tables and their migrations are in store.history_schema, the queries in
store.history_reads (their records in store.history_records), and the `voiceguide history`
table in store.history_report.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Self

import platformdirs

from voiceguide.core.commands import Ending
from voiceguide.errors import UserError
from voiceguide.store.history_files import (
    SessionLocks,
    create_private_file,
    lock_held,
    make_private_dirs,
    remove_lock,
    unheld_locks,
)
from voiceguide.store.history_reads import HistoryReads, iso_utc
from voiceguide.store.history_report import format_history  # noqa: F401 - cli.main's import
from voiceguide.store.history_schema import (
    STEP_OUTCOMES,
    NewerSchema,
    migrate,
    rollback,
    schema_version,
)

log = logging.getLogger("voiceguide.history")

HISTORY_ENV = "VOICEGUIDE_HISTORY"
ENDINGS: tuple[str, ...] = tuple(ending.value for ending in Ending)
_BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
# Less free space than this explains an otherwise cryptic SQLite error: the disk is full.
_NEARLY_FULL_BYTES = 64 * 1024


def default_history_path(config_value: Path | None) -> Path:
    """Where the history database lives: config value, else $VOICEGUIDE_HISTORY, else user data."""
    if config_value is not None:
        return Path(config_value).expanduser()
    env = os.environ.get(HISTORY_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("voiceguide")) / "history.db"


# ---- helpers -------------------------------------------------------------------------------
def _boot_id() -> str | None:
    try:
        return _BOOT_ID_PATH.read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _process_alive(pid: int | None, boot_id: str | None) -> bool:
    if pid is None:
        return False
    current_boot = _boot_id()
    if boot_id and current_boot and boot_id != current_boot:
        return False  # the machine rebooted since, so that pid is someone else's now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _lock_or_pid_alive(db: Path, session_id: int, pid: int | None, boot_id: str | None) -> bool:
    current_boot = _boot_id()
    if boot_id and current_boot and boot_id != current_boot:
        return False  # written before the last reboot
    held = lock_held(db, session_id)
    if held is not None:
        return held  # the lock file says it exactly, with or without /proc
    return _process_alive(pid, boot_id)  # sessions written before session locks


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror[0].lower() + exc.strerror[1:]
        return text if exc.filename is None else f"{text} ({exc.filename})"
    return str(exc) or type(exc).__name__


# ---- the store -----------------------------------------------------------------------------
class History(HistoryReads):
    """Append-only session log; writes never raise, so a full disk cannot stop a routine."""

    def __init__(
        self,
        path: Path,
        *,
        strict: bool = False,
        busy_timeout_seconds: float = 1.0,
        read_only: bool = False,
        upgrade: bool = True,
    ) -> None:
        """Open (creating if needed) the database at `path`.

        With strict=False (a running session) an unopenable database logs one warning and
        gives a History that drops writes. With strict=True it raises UserError instead.
        With read_only=True (`voiceguide history`) nothing is created or changed: a missing
        database reads as no sessions, and errors raise UserError; an older schema is upgraded
        (as the next session would) only with `upgrade` and only in a file this user owns.
        """
        self.path = Path(path)
        self._busy_timeout_seconds = busy_timeout_seconds
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._write_failing = False  # True after a logged failure; the next success re-arms it
        self._closed = False
        self._session_locks = SessionLocks(self.path)
        self._read_only = read_only
        if read_only:
            self._conn = self._open_reader(upgrade)
            return
        try:
            self._conn = self._open()
        except (sqlite3.Error, OSError, NewerSchema) as exc:
            if not strict:
                self._note_failure(
                    f"{self._describe_open_error(exc)}; this session will not be saved"
                )
                return
            self._conn = self._open_read_only(exc)
            if self._conn is None:
                raise UserError(self._describe_open_error(exc)) from None

    # -- opening ------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        # Created by us, so 0600 in 0700 folders: the history holds pain reports.
        make_private_dirs(self.path.parent)
        create_private_file(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so every write is exactly one
        # short transaction. check_same_thread=False: the runner may hand the store to its loop
        # thread; self._lock serialises access.
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_seconds,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            # WAL: a crash mid-write leaves the main file untouched; readers never block the
            # session's writes. synchronous=FULL (not NORMAL) fsyncs the WAL on every commit:
            # a Pi is often switched off at the plug, and with NORMAL the last sessions could
            # roll back on power loss. We commit a handful of times per session, so the cost of
            # an fsync each time is irrelevant.
            mode = self._enable_wal(conn)
            if str(mode).lower() != "wal":
                log.debug("history database %s uses journal mode %s, not wal", self.path, mode)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._mark_dead_sessions(conn)
        return conn

    def _mark_dead_sessions(self, conn: sqlite3.Connection) -> None:
        """Record as interrupted the open sessions whose player died, and drop their locks."""
        # Inside the write lock no session is half-started: a session's lock is taken before
        # its row commits (see start_session), so an unheld lock of a committed row is a dead
        # player's, and a lock file with no row is left over from a rolled-back start.
        try:
            conn.execute("BEGIN IMMEDIATE")
            dead = unheld_locks(self.path)
            for session_id in dead:
                conn.execute(
                    "UPDATE sessions SET how = ? WHERE id = ? AND how IS NULL",
                    (Ending.INTERRUPTED.value, session_id),
                )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            rollback(conn)
            log.debug("could not mark interrupted sessions in %s: %s", self.path, exc)
            return
        for session_id in dead:
            remove_lock(self.path, session_id)

    def _open_reader(self, upgrade: bool) -> sqlite3.Connection | None:
        """A connection that never creates or changes a file, or None when there is no database."""
        try:
            if self.path.is_dir():
                raise UserError(f"history database {self.path} is a folder, not a file")
            os.stat(self.path)
        except FileNotFoundError:
            return None  # no session has been saved yet; `sudo voiceguide history` must not
            # create the file (root-owned, the service could not write it)
        except OSError as exc:
            raise UserError(self._describe_open_error(exc)) from None
        # mode=ro creates -wal and -shm files when they are missing (and leaves them); with no
        # -wal file there is nothing outside the main file, which immutable=1 reads as it is.
        has_wal = os.path.exists(f"{self.path}-wal")
        queries = ("mode=ro", "immutable=1") if has_wal else ("immutable=1", "mode=ro")
        error: BaseException = sqlite3.OperationalError("unable to open database file")
        for query in queries:
            try:
                conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?{query}", uri=True, check_same_thread=False
                )
            except sqlite3.Error as exc:
                error = exc
                continue
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            except sqlite3.OperationalError as exc:
                conn.close()
                error = exc
                continue
            except sqlite3.Error as exc:  # not a database at all
                conn.close()
                raise UserError(self._describe_open_error(exc)) from None
            if version == 0 and tables == 0:
                conn.close()  # an empty file (older doctors left one): no sessions
                return None
            if version > schema_version():
                conn.close()
                raise UserError(self._describe_open_error(NewerSchema(version, schema_version())))
            if version < schema_version() and upgrade:
                conn.close()
                return self._upgrade_own(version)
            return conn
        raise UserError(self._describe_open_error(error)) from None

    def _upgrade_own(self, version: int) -> sqlite3.Connection:
        """An older schema: upgraded as a session would, but only in a file this user owns."""
        if os.stat(self.path).st_uid == os.geteuid() and os.access(self.path, os.W_OK):
            try:
                return self._open()
            except (sqlite3.Error, OSError, NewerSchema) as exc:
                raise UserError(self._describe_open_error(exc)) from None
        raise UserError(
            f"history database {self.path} was written by an older voiceguide (schema "
            f"{version}); the next session upgrades it, or run this as its owner"
        )

    def _enable_wal(self, conn: sqlite3.Connection) -> str:
        # Switching a new database to WAL can report SQLITE_BUSY at once, without waiting for
        # the busy timeout, when another process is opening it at the same moment; retry
        # until the timeout instead of failing the open.
        deadline = time.monotonic() + self._busy_timeout_seconds
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _open_read_only(self, first_error: BaseException) -> sqlite3.Connection | None:
        """For `voiceguide history` on a database we may read but not write, or None."""
        # Typical case: a user reading the system service's database in a directory they
        # cannot write, or a read-only mount. SQLite cannot open a WAL database read-only
        # without creating its -shm file, so the last resort is immutable=1, which skips
        # locking and ignores a leftover -wal (its sessions are then not shown).
        if not isinstance(first_error, sqlite3.OperationalError) or not self.path.is_file():
            return None
        for query in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?{query}", uri=True, check_same_thread=False
                )
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error:
                continue
            if version == schema_version():
                return conn
            conn.close()
        return None

    def _describe_open_error(self, exc: BaseException) -> str:
        if isinstance(exc, NewerSchema):
            return (
                f"history database {self.path} was written by a newer voiceguide "
                f"(schema {exc.found}, this version knows {exc.known})"
            )
        if isinstance(exc, OSError) and not self.path.parent.is_dir():
            blocker = next((p for p in self.path.parents if p.exists()), None)
            if blocker is not None and not blocker.is_dir():
                return f"history database {self.path} cannot be created: {blocker} is a file"
            return f"history database {self.path} cannot be created: {_reason(exc)}"
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            return f"history database {self.path} is not readable: {_reason(exc)}"  # corrupt
        return f"history database {self.path} cannot be opened: {self._reason_on_disk(exc)}"

    def _reason_on_disk(self, exc: BaseException) -> str:
        """_reason(exc), saying so when the disk is full.

        On a full disk SQLite often reports only "disk I/O error" (it could not create the
        -shm file), which sends a user looking for a failing SD card instead of a full one.
        """
        reason = _reason(exc)
        if "full" in reason:
            return reason  # SQLITE_FULL already says "database or disk is full"
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            return reason
        return f"{reason} (the disk is full)" if free < _NEARLY_FULL_BYTES else reason

    # -- failure bookkeeping --------------------------------------------------------------------
    def _note_failure(self, message: str) -> None:
        # Log once per run of failures: a full disk would otherwise log on every count.
        if not self._write_failing:
            log.warning("%s", message)
        self._write_failing = True

    def _note_success(self) -> None:
        if self._write_failing:
            log.info("history database %s is writable again", self.path)
        self._write_failing = False

    def _write(
        self,
        what: str,
        statement: str,
        params: tuple[object, ...],
        before_commit: Callable[[int], object] | None = None,
    ) -> int | None:
        """Run one statement as its own transaction; returns its lastrowid, or None on failure.

        `before_commit(lastrowid)` runs inside the transaction. Failures are logged once per
        run of failures and swallowed.
        """
        with self._lock:
            if self._closed or self._read_only:
                return None
            if self._conn is None:
                # The database could not be opened earlier; it may be fine now (a USB stick
                # plugged in, space freed). Retrying costs one failed open per write.
                try:
                    self._conn = self._open()
                except (sqlite3.Error, OSError, NewerSchema) as exc:
                    self._note_failure(f"{self._describe_open_error(exc)}; {what} was not saved")
                    return None
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                row_id = conn.execute(statement, params).lastrowid
                if before_commit is not None and row_id is not None:
                    before_commit(row_id)
                conn.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                rollback(conn)
                self._note_failure(
                    f"could not write to history database {self.path} "
                    f"({self._reason_on_disk(exc)}); "
                    f"{what} was not saved"
                )
                return None
            except BaseException:
                rollback(conn)
                raise
            self._note_success()
            return row_id

    # -- writes -------------------------------------------------------------------------------
    def start_session(
        self, routine_id: str, routine_title: str, started_at: datetime | None = None
    ) -> int | None:
        """Record a session start; returns its id, or None when it could not be saved."""
        locked: list[int] = []

        def lock(row_id: int) -> None:
            # Held before the row commits, so no reader ever sees this session unlocked.
            if self._session_locks.hold(row_id):
                locked.append(row_id)

        session_id = self._write(
            "the session start",
            "INSERT INTO sessions (routine_id, routine_title, started_at, pid, boot_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (routine_id, routine_title, iso_utc(started_at), os.getpid(), _boot_id()),
            before_commit=lock,
        )
        if session_id is None:
            for row_id in locked:  # the insert rolled back
                self._session_locks.release(row_id)
        return session_id

    def log_pain(
        self,
        session_id: int | None,
        exercise: str,
        step_index: int | None,
        side: str | None,
        seconds_into_hold: float | None,
        at: datetime | None = None,
    ) -> None:
        """Record an "it hurts" report; a no-op for an unsaved (None) session.

        step_index is None outside the steps; seconds_into_hold is None outside a hold or reps.
        """
        if session_id is None:
            return
        held = None if seconds_into_hold is None else float(seconds_into_hold)
        self._write(
            "a pain report",
            "INSERT INTO pain_events"
            " (session_id, at, exercise, step_index, side, seconds_into_hold)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, iso_utc(at), exercise, step_index, side, held),
        )

    def log_step(
        self,
        session_id: int | None,
        exercise: str,
        step_index: int,
        side: str | None,
        outcome: str,
        held_seconds: float,
        at: datetime | None = None,
    ) -> None:
        """Record how one side of one step went; a no-op for an unsaved (None) session."""
        if outcome not in STEP_OUTCOMES:
            raise ValueError(f"unknown step outcome {outcome!r}; expected one of {STEP_OUTCOMES}")
        if session_id is None:
            return
        self._write(
            "a step record",
            "INSERT INTO step_records"
            " (session_id, at, exercise, step_index, side, outcome, held_seconds)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, iso_utc(at), exercise, step_index, side, outcome, float(held_seconds)),
        )

    def end_session(
        self, session_id: int | None, how: str, ended_at: datetime | None = None
    ) -> None:
        """Record how a session ended: an Ending (completed, stopped, pain, interrupted)."""
        if how not in ENDINGS:
            raise ValueError(f"unknown session ending {how!r}; expected one of {ENDINGS}")
        if session_id is None:
            return
        saved = self._write(
            "the session end",
            "UPDATE sessions SET ended_at = ?, how = ? WHERE id = ?",
            (iso_utc(ended_at), how, session_id),
        )
        if saved is not None:  # unsaved, the session stays open: its lock tells it from a live one
            self._session_locks.release(session_id)

    # -- reads --------------------------------------------------------------------------------
    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        with self._lock:
            if self._conn is None:
                return []
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise UserError(f"history database {self.path} is not readable: {exc}") from None

    def _alive(self, session_id: int, pid: int | None, boot_id: str | None) -> bool:
        return _lock_or_pid_alive(self.path, session_id, pid, boot_id)

    def close(self) -> None:
        """Close the database; later writes are dropped."""
        with self._lock:
            self._closed = True
            self._session_locks.close()
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass  # closing only checkpoints the WAL; the data is already committed
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

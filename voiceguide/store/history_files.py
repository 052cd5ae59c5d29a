"""The history's files on disk: private folders and files, and a lock per session being played.

A session's lock is an flock on `<db>-locks/<session id>.lock`, held by the process playing it.
The kernel drops the lock when that process dies, however it dies (SIGKILL, a crash, a power
cut), so an open session whose lock nobody holds was interrupted. Unlike a pid and boot id this
needs no /proc (the system unit's ProcSubset=pid hides /proc/sys/kernel/random/boot_id) and
cannot be fooled by a pid that was reused after a reboot.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import time
from pathlib import Path

log = logging.getLogger("voiceguide.history")

# The history holds pain reports: only its owner may read it. SQLite gives the -wal and -shm
# files the mode (and, when run as root, the owner) of the database file itself.
FILE_MODE = 0o600
DIR_MODE = 0o700
_LOCK_WAIT_SECONDS = 0.5  # a reader holds a shared lock for microseconds while it looks


def make_private_dirs(folder: Path) -> None:
    """Create `folder` and its missing parents with mode 0700; existing folders are left alone."""
    missing = []
    current = folder
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it first; its own code chose the mode
        os.chmod(path, DIR_MODE)  # mkdir's mode went through the umask


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600, or tighten it (and its -wal/-shm) if we own it."""
    if not os.path.lexists(path):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            return
        except FileExistsError:
            pass  # another process created it just now
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            status = os.stat(candidate)
            # Files written by older versions were 0644; only their owner may change that.
            ours = stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid()
            if ours and status.st_mode & 0o077:
                os.chmod(candidate, FILE_MODE)
        except OSError:
            continue  # absent, or on a read-only mount: nothing to tighten


def lock_folder(db: Path) -> Path:
    """The folder beside the database that holds the session locks."""
    return db.with_name(f"{db.name}-locks")


def _lock_path(db: Path, session_id: int) -> Path:
    return lock_folder(db) / f"{session_id}.lock"


def lock_held(db: Path, session_id: int) -> bool | None:
    """True while a live process holds the session's lock, False when none does.

    None when there is no lock file to tell (a session written by an older voiceguide, or one
    whose lock could not be created) or it cannot be opened here.
    """
    try:
        fd = os.open(_lock_path(db, session_id), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # also releases the shared lock we may have taken
    return False


def unheld_locks(db: Path) -> list[int]:
    """Session ids whose lock file exists but is held by no process (their player died)."""
    try:
        names = os.listdir(lock_folder(db))
    except OSError:
        return []
    found = []
    for name in names:
        stem, dot, suffix = name.partition(".")
        if dot and suffix == "lock" and stem.isdigit() and lock_held(db, int(stem)) is False:
            found.append(int(stem))
    return sorted(found)


def remove_lock(db: Path, session_id: int) -> None:
    """Delete a session's lock file, if it is there."""
    try:
        os.unlink(_lock_path(db, session_id))
    except OSError:
        pass


class SessionLocks:
    """The locks this process holds, one for each session it is playing."""

    def __init__(self, db: Path) -> None:
        """Locks for sessions in the database at `db`."""
        self.db = db
        self._held: dict[int, int] = {}

    def hold(self, session_id: int) -> bool:
        """Take the session's lock; False (and a debug line) when it cannot be taken."""
        self.release(session_id, remove=False)  # an id from a rolled-back insert comes back
        path = _lock_path(self.db, session_id)
        try:
            make_private_dirs(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            log.debug("cannot create session lock %s: %s", path, exc)
            return False
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.005)
                    continue
                os.close(fd)
                log.debug("session lock %s is held by another process", path)
                return False
            except OSError as exc:
                os.close(fd)
                log.debug("cannot lock %s: %s", path, exc)
                return False
        self._held[session_id] = fd
        return True

    def release(self, session_id: int, *, remove: bool = True) -> None:
        """Let go of a session's lock; `remove` deletes its file too (the session has ended)."""
        fd = self._held.pop(session_id, None)
        if fd is None:
            return
        if remove:
            remove_lock(self.db, session_id)  # while still held, so no reader sees it unheld
        os.close(fd)

    def close(self) -> None:
        """Let go of every lock; sessions still open then read as interrupted."""
        for session_id in list(self._held):
            self.release(session_id, remove=False)

"""Issue 13, part 7: session locks instead of boot ids, private history files, read-only readers."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceguide.app.config import Config
from voiceguide.app.doctor import check_history
from voiceguide.cli.main import main
from voiceguide.errors import UserError
from voiceguide.store import history as history_module
from voiceguide.store.history import History
from voiceguide.store.history_files import lock_folder

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYER = """
import sys, time
from pathlib import Path
from voiceguide.store.history import History

history = History(Path(sys.argv[1]))
print(history.start_session("r", "R"), flush=True)
time.sleep(120)
"""


@pytest.fixture
def no_boot_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """As under the system unit's ProcSubset=pid: /proc/sys/kernel/random/boot_id is hidden."""
    monkeypatch.setattr(history_module, "_boot_id", lambda: None)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common 022 umask, so any 0600/0700 seen comes from the code, not the umask."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def reader_sees(path: Path) -> list[str]:
    with History(path, read_only=True) as reader:
        return [s.how for s in reader.recent_sessions()]


def start_player(path: Path) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", PLAYER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


# ---- interrupted or running, without boot_id --------------------------------------------------
@pytest.mark.usefixtures("no_boot_id")
def test_crashed_player_is_interrupted_and_a_live_one_running_without_boot_id(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    child, session_id = start_player(path)
    try:
        assert reader_sees(path) == ["running"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert reader_sees(path) == ["interrupted"]
    # After a power cut the pid may belong to a live process again (here: ours). With no boot
    # id to compare, only the lock can tell, and nobody holds it.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sessions SET pid = ? WHERE id = ?", (os.getpid(), session_id))
    assert reader_sees(path) == ["interrupted"]


@pytest.mark.usefixtures("no_boot_id")
def test_a_session_of_this_process_is_running_until_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with History(path) as history:
        sid = history.start_session("r", "R")
        assert sid is not None
        assert (lock_folder(path) / f"{sid}.lock").exists()
        assert reader_sees(path) == ["running"]
        history.end_session(sid, "completed")
        assert reader_sees(path) == ["completed"]
        assert not (lock_folder(path) / f"{sid}.lock").exists()  # ended: its lock is gone


@pytest.mark.usefixtures("no_boot_id")
def test_the_next_player_records_a_dead_session_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    child, session_id = start_player(path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.stdout is not None
    child.stdout.close()
    assert (lock_folder(path) / f"{session_id}.lock").exists()
    with History(path):  # a new run or serve opening the database
        pass
    with sqlite3.connect(path) as conn:
        how = conn.execute("SELECT how FROM sessions WHERE id = ?", (session_id,)).fetchone()
    assert how == ("interrupted",)
    assert not (lock_folder(path) / f"{session_id}.lock").exists()  # no files pile up


# ---- private files ---------------------------------------------------------------------------
@pytest.mark.usefixtures("loose_umask")
def test_history_files_are_0600_in_0700_folders(tmp_path: Path) -> None:
    path = tmp_path / "made" / "by" / "us" / "history.db"
    with History(path) as history:
        sid = history.start_session("r", "R")
        history.log_pain(sid, "Cat-cow", 0, "left", 1.0)
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), lock_folder(path) / f"{sid}.lock"]
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
        folders = [tmp_path / "made", tmp_path / "made" / "by", path.parent, lock_folder(path)]
        assert {str(d): oct(mode(d)) for d in folders} == {str(d): "0o700" for d in folders}


@pytest.mark.usefixtures("loose_umask")
def test_an_older_world_readable_history_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with History(path) as history:
        history.start_session("r", "R")
    os.chmod(path, 0o644)
    with History(path):
        assert mode(path) == 0o600
        assert mode(Path(f"{path}-wal")) == 0o600


# ---- readers never create ----------------------------------------------------------------------
def test_history_command_on_a_fresh_path_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new" / "history.db"
    monkeypatch.setenv("VOICEGUIDE_HISTORY", str(path))
    assert main(["history"]) == 0
    assert "No sessions yet." in capsys.readouterr().out
    assert not (tmp_path / "new").exists()


def test_doctor_history_check_on_a_fresh_path_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "history.db"
    monkeypatch.setenv("VOICEGUIDE_HISTORY", str(path))
    [result] = check_history(Config())
    assert result.ok is True and "no sessions yet" in result.detail
    assert list(tmp_path.iterdir()) == []


def test_doctor_history_check_reads_without_leaving_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    with History(path) as history:
        history.end_session(history.start_session("r", "R"), "completed")
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setenv("VOICEGUIDE_HISTORY", str(path))
    [result] = check_history(Config())
    assert result.ok is True and "1 session(s)" in result.detail
    assert reader_sees(path) == ["completed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal/-shm left behind


def test_an_empty_file_left_by_an_old_doctor_reads_as_no_sessions(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.touch()
    assert reader_sees(path) == []
    assert path.stat().st_size == 0


def test_a_folder_in_place_of_the_database_is_named_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    with pytest.raises(UserError, match="is a folder, not a file"):
        History(path, read_only=True)
    History(path).close()  # a session cannot save, but must not chmod the folder to 0600
    assert mode(path) == 0o755

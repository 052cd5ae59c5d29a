"""Log lines carry their journald priority under systemd, and read as sentences in a terminal."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceguide.cli.log_setup import (
    JOURNAL_STREAM_ENV,
    ConsoleFormatter,
    JournalFormatter,
    configure_logging,
    journal_stream,
    priority,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
STDOUT_SOCKET = Path("/run/systemd/journal/stdout")


def journald_listening() -> bool:
    """Whether systemd-journald accepts stream connections here (its socket may be stale)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(STDOUT_SOCKET))
        except OSError:
            return False
    return True


def record(level: int, message: str, name: str = "voiceguide.runner") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_priorities_follow_syslog() -> None:
    levels = [logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]
    assert [priority(level) for level in levels] == [2, 3, 4, 6, 7]
    assert priority(logging.INFO + 5) == 4  # between two levels: the more urgent one


def test_journal_lines_start_with_their_priority() -> None:
    formatter = JournalFormatter()
    line = formatter.format(record(logging.WARNING, "speaker lost: unplugged"))
    assert line == "<4>voiceguide.runner: speaker lost: unplugged"
    assert formatter.format(record(logging.ERROR, "a\nb")) == "<3>voiceguide.runner: a\n<3>b"
    assert formatter.format(record(logging.INFO, "ready in 1.0 s")).startswith("<6>")


def test_console_lines_are_sentences_without_levels_or_logger_names() -> None:
    message = "Pain reported during Cat-cow, left side."
    assert ConsoleFormatter().format(record(logging.WARNING, message)) == f"voiceguide: {message}"
    detailed = ConsoleFormatter(detailed=True).format(record(logging.WARNING, "x"))
    assert detailed == "voiceguide: warning (voiceguide.runner): x"


def test_journal_stream_must_be_our_own_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "err", "w", encoding="utf-8") as stream:
        status = os.fstat(stream.fileno())
        monkeypatch.setenv(JOURNAL_STREAM_ENV, f"{status.st_dev}:{status.st_ino}")
        assert journal_stream(stream)
        with open(tmp_path / "other", "w", encoding="utf-8") as other:
            assert not journal_stream(other)  # inherited variable, another stream
        monkeypatch.setenv(JOURNAL_STREAM_ENV, "garbage")
        assert not journal_stream(stream)
        monkeypatch.delenv(JOURNAL_STREAM_ENV)
        assert not journal_stream(stream)
        assert not journal_stream(io.StringIO())


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_picks_the_format_by_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = logging.getLogger("voiceguide.test")
    with open(tmp_path / "journal", "w+", encoding="utf-8") as stream:
        status = os.fstat(stream.fileno())
        monkeypatch.setenv(JOURNAL_STREAM_ENV, f"{status.st_dev}:{status.st_ino}")
        configure_logging("info", stream)
        log.warning("microphone lost: no such device")
        log.debug("not shown at info")
        stream.flush()
        assert (tmp_path / "journal").read_text() == (
            "<4>voiceguide.test: microphone lost: no such device\n"
        )
    monkeypatch.delenv(JOURNAL_STREAM_ENV)
    console = io.StringIO()
    configure_logging("info", console)
    log.warning("microphone lost: no such device")
    assert console.getvalue() == "voiceguide: microphone lost: no such device\n"
    # Configured twice, the first handler is replaced, not doubled.
    assert sum(getattr(h, "voiceguide_handler", False) for h in logging.getLogger().handlers) == 1


LOGGER_SCRIPT = """
import logging
from voiceguide.cli.log_setup import configure_logging
configure_logging("info")
log = logging.getLogger("voiceguide.journal-test")
log.info("an ordinary line")
log.warning("a warning line")
log.error("an error line")
"""


@pytest.mark.skipif(
    shutil.which("journalctl") is None or shutil.which("systemd-cat") is None,
    reason="journalctl and systemd-cat are not installed (apt-get install systemd)",
)
@pytest.mark.skipif(
    not journald_listening(), reason="systemd-journald is not running on this machine"
)
def test_journalctl_priority_filter_finds_only_warnings_and_worse() -> None:
    # systemd-cat connects stderr to journald's stdout socket, as a service's stderr is; the
    # service manager would also set $JOURNAL_STREAM to that socket's device:inode, which
    # systemd-cat does not, so the shell sets it here the same way.
    tag = f"voiceguide-test-{uuid.uuid4().hex[:8]}"
    inner = 'JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)" exec "$0" -c "$1"'
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run(
        ["systemd-cat", "-t", tag, "sh", "-c", inner, sys.executable, LOGGER_SCRIPT],
        check=True, timeout=60, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        shown = subprocess.run(
            ["journalctl", "--no-pager", "-o", "cat", "-t", tag, "-p", "warning"],
            capture_output=True, text=True, check=False, timeout=30,
        ).stdout.splitlines()  # fmt: skip
        if len(shown) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown == [
        "voiceguide.journal-test: a warning line",
        "voiceguide.journal-test: an error line",
    ]
    everything = subprocess.run(
        ["journalctl", "--no-pager", "-o", "cat", "-t", tag],
        capture_output=True, text=True, check=False, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    assert "voiceguide.journal-test: an ordinary line" in everything

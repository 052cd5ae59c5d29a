"""Where log lines go: plain sentences for a person, journald priorities for the service.

Under systemd, stdout and stderr are connected to the journal and $JOURNAL_STREAM names that
stream ("device:inode"). Each line then starts with its syslog priority, "<4>" for a warning,
as sd-daemon(3) describes, so `journalctl -p warning` finds the warnings. In a terminal a
warning reads as a sentence after the program's name, as the one-line errors do, without level
names or logger names ("voiceguide: speaker lost: ..."); --log-level debug adds both back.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

JOURNAL_STREAM_ENV = "JOURNAL_STREAM"
_OURS = "voiceguide_handler"  # marks the handler configure_logging installed
# syslog(3) priorities, as journald reads them from a "<N>" line prefix.
PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (levels between two take the more urgent one)."""
    return next((p for level, p in sorted(PRIORITIES.items()) if levelno <= level), 2)


class JournalFormatter(logging.Formatter):
    """`<4>voiceguide.runner: message`, the prefix repeated on every line of the record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record with its journald priority in front of each line."""
        text = f"{record.name}: {super().format(record)}"
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


class ConsoleFormatter(logging.Formatter):
    """For a person: `voiceguide: message`; with debug on, the level and logger name too."""

    def __init__(self, detailed: bool = False) -> None:
        """`detailed` keeps the level and logger name (for --log-level debug)."""
        super().__init__()
        self.detailed = detailed

    def format(self, record: logging.LogRecord) -> str:
        """The message as a sentence after the program's name."""
        message = super().format(record)
        if self.detailed:
            return f"voiceguide: {record.levelname.lower()} ({record.name}): {message}"
        return f"voiceguide: {message}"


def journal_stream(stream: TextIO) -> bool:
    """Whether `stream` is the journal stream systemd connected us to ($JOURNAL_STREAM)."""
    # A child started by the service inherits the variable but may have its own stderr, so the
    # stream's device and inode must match, as sd-daemon(3) advises.
    value = os.environ.get(JOURNAL_STREAM_ENV, "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler | None:
    """Send log records at `level` and above to stderr (or `stream`), formatted for its reader.

    Like logging.basicConfig, it leaves alone a program (or test runner) that set up logging
    itself, unless `stream` is given; then None is returned.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _OURS, False)]
    if stream is None and len(ours) < len(root.handlers):
        return None
    out = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(out)
    debug = level.lower() == "debug"
    handler.setFormatter(JournalFormatter() if journal_stream(out) else ConsoleFormatter(debug))
    setattr(handler, _OURS, True)
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler

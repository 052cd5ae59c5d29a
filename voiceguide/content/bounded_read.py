"""Reading a content file without letting it hang or flood the box: regular files only, capped.

A FIFO named `x.yaml` would block a plain open() forever, and a symlink to /dev/zero would be read
until memory ran out; both are refused from their stat, and everything is read with a size cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024  # the largest routine we ship is under 8 KiB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((word for test, word in _KINDS if test(mode)), "not a plain file")
    return f"cannot read file: it is {kind}, not a regular file"


def too_big(size: int) -> str:
    """The one-line reason a file of `size` bytes is refused."""
    return f"file is too large ({size / 1024:.0f} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB)"


def read_bounded(path: Path) -> bytes | str:
    """The bytes of regular file `path` (at most MAX_FILE_BYTES), or why it was not read."""
    try:
        # stat follows a symlink, so a link to /dev/zero is seen as the device it is.
        reason = _not_regular(os.stat(path).st_mode)
        if reason:
            return reason
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open must not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as e:
        return f"cannot read file: {e.strerror}"
    try:
        info = os.fstat(fd)
        reason = _not_regular(info.st_mode)
        if reason:
            return reason
        if info.st_size > MAX_FILE_BYTES:
            return too_big(info.st_size)
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_FILE_BYTES:
            return too_big(total)  # it grew after the fstat
        return b"".join(chunks)
    except OSError as e:
        return f"cannot read file: {e.strerror}"
    finally:
        os.close(fd)

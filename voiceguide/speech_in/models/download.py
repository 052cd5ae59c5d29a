"""Fetch a model archive over HTTP into a `.part` file, resuming with Range requests."""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from voiceguide import __version__

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 30.0

# errno values that mean "this machine cannot reach the network", as opposed to a server
# that answered badly: the user then needs the sneakernet route, not a retry.
_OFFLINE_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EADDRNOTAVAIL}
)


class NoNetwork(Exception):
    """The server could not be reached at all (offline, DNS failure, connection refused)."""


class DownloadFailed(Exception):
    """The server answered, but not with the file (HTTP error, unusable reply)."""


class Interrupted(Exception):
    """The transfer stopped part way; the `.part` file holds what arrived."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _offline_reason(exc: BaseException) -> str | None:
    """A short reason if `exc` means the host is unreachable, else None."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "cannot resolve host name"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.errno in _OFFLINE_ERRNOS:
        return reason.strerror or "network unreachable"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "connection timed out"
    return None


def _open(url: str, offset: int) -> http.client.HTTPResponse:
    headers = {"User-Agent": f"voiceguide/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)


def _resumes_at(response: http.client.HTTPResponse, offset: int) -> bool:
    """Whether a reply continues the file at `offset` (a 206 whose Content-Range starts there)."""
    if response.status != 206:
        return False
    content_range = response.headers.get("Content-Range", "")
    start = content_range.removeprefix("bytes ").split("-", 1)[0]
    return start.isdigit() and int(start) == offset


def _fetch_once(url: str, part: Path, label: str, expected_size: int | None) -> None:
    """One HTTP request that appends to (or restarts) `part`; raises Interrupted if cut short."""
    offset = part.stat().st_size if part.exists() else 0
    if expected_size is not None and offset >= expected_size:
        return  # already complete (or too long, which the checksum will catch)
    try:
        response = _open(url, offset)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return  # nothing left to send: the part file is as long as the file
        raise DownloadFailed(
            f"the server answered HTTP {exc.code} {exc.reason} for {url}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = _offline_reason(exc)
        if reason is not None:
            raise NoNetwork(reason) from None
        cause = getattr(exc, "reason", exc)
        if isinstance(cause, ssl.SSLError):
            raise DownloadFailed(f"secure connection to {url} failed ({cause})") from None
        raise Interrupted(str(cause)) from None

    with response:
        if offset and not _resumes_at(response, offset):
            log.info(
                "server did not resume at byte %d; downloading %s from the start", offset, label
            )
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else expected_size
        received = offset
        mode = "ab" if offset else "wb"
        # disable=None: a progress bar on a terminal, silence in logs and tests.
        with (
            part.open(mode) as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=label,
                disable=None,
                leave=False,
            ) as bar,
        ):
            try:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as exc:
                raise Interrupted(f"{type(exc).__name__} after {received} bytes") from None
    # http.client returns a short body without complaint when a server closes early,
    # so the length check is ours to make.
    if total is not None and received < total:
        raise Interrupted(f"connection closed after {received} of {total} bytes")


def download(
    url: str, part: Path, label: str, expected_size: int | None = None, retries: int = 3
) -> None:
    """Download `url` into `part`, continuing from any bytes already there.

    An interrupted transfer is resumed with an HTTP Range request up to `retries` times;
    after that Interrupted is raised and `part` is kept for a later resume.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(retries + 1):
        try:
            _fetch_once(url, part, label, expected_size)
            return
        except Interrupted as exc:
            if attempt == retries:
                raise
            log.info("download of %s interrupted (%s); resuming", label, exc)

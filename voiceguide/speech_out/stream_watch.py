"""The output's watch thread: notice a dead stream, report it once, reopen it with back-off.

A healthy stream calls back every few milliseconds. The watch counts callbacks; when they
stop for `stall_seconds` (an unplugged USB speaker, a removed PulseAudio sink) or the stream
stops being active (PortAudio's ALSA thread gave up), the output is marked lost and reopened
at the same rate and channel count until a new stream really asks for audio again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from voiceguide.audio.backoff import Backoff

# The player's logger: journal readers and tests look for "speaker lost" and "is back" there.
log = logging.getLogger("voiceguide.speech_out.player")

FLOWING_CALLBACKS = 3  # a reopened stream counts as back only once it really asks for audio


class WatchedOutput(Protocol):
    """What the watch needs of the output it looks after (the Player)."""

    @property
    def callbacks(self) -> int:
        """How many times any stream's callback has run."""
        ...

    def current_stream(self) -> Any:
        """The stream in use."""
        ...

    def mark_lost(self, why: str) -> None:
        """Give up on the current stream and report the loss."""
        ...

    def new_stream(self) -> Any:
        """A new, not yet started stream at the same rate and channels (may raise)."""
        ...

    def reset_stream_state(self) -> None:
        """Start the callback afresh for a new stream, before it is started."""
        ...

    def adopt(self, stream: Any) -> None:
        """Make a reopened stream that is flowing the current one."""
        ...

    def abandon(self, stream: Any) -> None:
        """Drop a reopened stream that never flowed."""
        ...

    def notify_back(self) -> None:
        """Tell the output's owner that sound is back."""
        ...


def release_stream(stream: Any, graceful: bool) -> threading.Thread:
    """Stop and close `stream` on a throwaway thread, since a dead device may block it."""

    def release() -> None:
        try:
            if graceful:
                stream.stop()
            else:
                stream.abort()
            stream.close()
        except Exception as exc:  # noqa: BLE001 - the device is gone or going anyway
            log.debug("closing the output stream: %s", exc)

    thread = threading.Thread(target=release, name="voiceguide-output-release", daemon=True)
    thread.start()
    return thread


class StreamWatch:
    """Runs the watch thread of one output; `stop()` ends it."""

    def __init__(
        self,
        output: WatchedOutput,
        missing_error: type[BaseException],
        stall_seconds: float,
        watch_seconds: float,
        retry_first_seconds: float,
        retry_max_seconds: float,
    ) -> None:
        self._output = output
        self._missing_error = missing_error  # sounddevice.PortAudioError: still not there
        self.stall_seconds = stall_seconds
        self._watch_seconds = watch_seconds
        self._backoff = Backoff(retry_first_seconds, retry_max_seconds)
        self._closing = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="voiceguide-output-watch", daemon=True
        )

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (a reopen loop in progress gives up); waits a little for the thread."""
        self._closing.set()
        self._thread.join(timeout=self.stall_seconds + 1)

    def _watch(self) -> None:
        output = self._output
        seen = output.callbacks
        progressed_at = checked_at = time.monotonic()
        while not self._closing.wait(self._watch_seconds):
            now = time.monotonic()
            if now - checked_at > self.stall_seconds:
                progressed_at = now  # the whole process stood still (suspend, swap): no verdict
            checked_at = now
            if output.callbacks != seen:
                seen, progressed_at = output.callbacks, now
                continue
            why = self._why_dead(now - progressed_at)
            if why is None:
                continue
            output.mark_lost(why)
            if not self._reconnect():
                return  # closing
            seen, progressed_at = output.callbacks, time.monotonic()

    def _why_dead(self, silent_seconds: float) -> str | None:
        """Why the stream counts as dead, or None while it looks alive."""
        try:
            active = bool(self._output.current_stream().active)
        except Exception as exc:  # noqa: BLE001 - PortAudio says the stream is unusable
            return f"the output stream failed ({exc})"
        if not active:
            return "the output stream stopped"
        if silent_seconds > self.stall_seconds:
            return f"the device asked for no audio for {silent_seconds:.1f} s"
        return None

    def _reconnect(self) -> bool:
        """Reopen the device with back-off until audio flows again; False when closing."""
        output = self._output
        self._backoff.reset()
        attempts = 0
        while not self._closing.wait(self._backoff.next_delay()):
            attempts += 1
            try:
                # Same rate and channels: every phrase in memory is resampled for this rate.
                stream = output.new_stream()
            except self._missing_error as exc:
                log.debug("speaker still missing (attempt %d): %s", attempts, exc)
                continue
            output.reset_stream_state()
            started = output.callbacks
            try:
                stream.start()
            except Exception as exc:  # noqa: BLE001 - opened but would not run: still gone
                log.debug("reopened speaker would not start (attempt %d): %s", attempts, exc)
                release_stream(stream, graceful=False)
                continue
            if self._flows(started):
                output.adopt(stream)
                log.warning("speaker is back after %d attempt(s)", attempts)
                output.notify_back()
                return True
            log.debug("reopened speaker asks for no audio (attempt %d)", attempts)
            output.abandon(stream)
        return False

    def _flows(self, started: int) -> bool:
        """Wait (briefly) until the new stream's callback runs a few times."""
        deadline = time.monotonic() + self.stall_seconds
        while time.monotonic() < deadline:
            if self._closing.wait(0.05):
                return False
            if self._output.callbacks - started >= FLOWING_CALLBACKS:
                return True
        return False

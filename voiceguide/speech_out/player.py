"""Interruptible playback: a PortAudio output stream whose callback only copies prepared audio.

Control calls (play, cancel, volume) just swap one request object; the callback picks it up at
its next block, so a cancel is heard within one block plus the device's own buffering. Phrases
are placed on the stream's sample clock at a fixed lead after the call, not at whatever block
boundary comes next, so timed cues keep their spacing.

A watch thread notices when the device goes away (the callback stops being called, or the
stream stops being active), reports it once, and reopens the device with back-off at the same
rate and channel count. While it is gone, play() settles each phrase at once as not completed,
so callers never block on a speaker that cannot sound.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceguide.audio.devices import (
    AudioDevice,
    NoOutputDevice,
    candidate_rates,
    import_sounddevice,
)

log = logging.getLogger(__name__)

FADE_SECONDS = 0.003  # cut-offs fade this fast: quick enough to feel instant, no click
TAIL_SECONDS = 0.15  # a cut or finished phrase may still be heard (room echo) this long
# A healthy stream calls back every few milliseconds, so two silent seconds mean the device is
# gone (an unplugged USB speaker, a removed PulseAudio sink), not a slow moment.
STALL_SECONDS = 2.0
WATCH_SECONDS = 0.25  # how often the watch thread looks
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 10.0
FLOWING_CALLBACKS = 3  # a reopened stream counts as back only once it really asks for audio
RELEASE_TIMEOUT_SECONDS = 2.0  # close() waits no longer than this for the driver


@dataclass(frozen=True)
class PlayedBlock:
    """One block of exactly what was sent to the speaker, for echo cancellation."""

    frames: np.ndarray  # float32 mono, after gain
    sample_rate_hz: int
    start_monotonic: float  # estimated time.monotonic() at which frames[0] leaves the speaker
    text: str | None  # phrase being played, if any


@dataclass(frozen=True)
class _Request:
    seq: int
    samples: np.ndarray | None  # int16 mono at the stream rate; None means cancel
    text: str | None
    start_frame: int | None  # absolute output frame to start at; None = as soon as possible


FinishedCallback = Callable[[str, bool], None]  # (text, completed)
TapCallback = Callable[[PlayedBlock], None]
LostCallback = Callable[[str], None]  # (why)
BackCallback = Callable[[], None]


class Player:
    """Plays one phrase at a time on an output device; a new phrase cuts off the old one.

    `block_seconds=0` lets PortAudio pick the block size for the `latency` target (about 7 ms
    blocks for 30 ms); fixed 20 ms blocks made the ALSA pulse plugin underrun at low latency
    (see docs/benchmarks.md), and a cancel takes effect at the next block either way.
    """

    def __init__(
        self,
        device: AudioDevice,
        preferred_rate_hz: int | None = None,
        block_seconds: float = 0.0,
        latency: float | str = 0.03,
        on_finished: FinishedCallback | None = None,
        clock_window_blocks: int = 100,
        on_lost: LostCallback | None = None,
        on_back: BackCallback | None = None,
    ) -> None:
        self.device = device
        self.block_seconds = block_seconds
        self.on_finished = on_finished
        self.on_lost = on_lost  # called on the watch thread, once per loss
        self.on_back = on_back
        self._latency = latency
        self._taps: list[TapCallback] = []
        # Requests and clock state shared with the audio callback. Single attribute writes are
        # atomic under the GIL, so the callback never waits on a lock.
        self._request: _Request | None = None
        self._next_seq = 0
        self._gain = 1.0
        self._applied_gain = 1.0
        self._frames_written = 0
        self._anchor: float | None = None
        self._window_min = math.inf
        self._window_count = 0
        self._clock_window_blocks = clock_window_blocks
        self._seen_seq = 0
        self._active: np.ndarray | None = None
        self._active_pos = 0
        self._active_seq = 0
        self._active_start = 0
        self._active_text: str | None = None
        self.late_starts = 0
        self.underflows = 0
        self.callbacks = 0
        # Everything that may block (user callbacks, taps) runs on the dispatcher thread.
        self._events: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._unsettled: dict[int, str] = {}
        self._idle = threading.Event()
        self._idle.set()
        self._now_playing: str | None = None
        self._tail: tuple[str, float] | None = None
        # Each stream's callback carries the generation it was opened with; bumping it makes a
        # stream we gave up on abort if its driver ever calls back again.
        self._generation = 0
        self._lost = False
        self._closing = threading.Event()
        self._stream, self.sample_rate_hz, self.channels = self._open(device, preferred_rate_hz)
        self.output_latency_seconds = float(self._stream.latency)
        # Lead from a play() call to its first sample: one block so the sample clock position
        # is still ahead of the callback, plus a margin for loading the phrase.
        self.lead_seconds = max(block_seconds, 0.01) + 0.01
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="voiceguide-playback", daemon=True
        )
        self._dispatcher.start()
        try:
            self._stream.start()
        except Exception as exc:
            self._stream.close()
            self._events.put(None)
            raise NoOutputDevice(f"output device '{device.name}' would not start: {exc}") from exc
        self._watcher = threading.Thread(
            target=self._watch, name="voiceguide-output-watch", daemon=True
        )
        self._watcher.start()

    def _open(self, device: AudioDevice, preferred_rate_hz: int | None) -> tuple[Any, int, int]:
        """Open the stream at the first rate and channel count the device accepts."""
        sd = import_sounddevice()
        refused = []
        reasons: dict[str, None] = {}  # distinct PortAudio errors, in order
        for rate in candidate_rates(device, preferred_rate_hz):
            for channels in (1, 2):
                if channels > max(1, device.max_output_channels):
                    continue
                try:
                    stream = self._open_stream(rate, channels)
                except sd.PortAudioError as exc:
                    refused.append(f"{rate} Hz/{channels} ch ({exc})")
                    reasons[str(exc)] = None
                    continue
                if refused:
                    log.warning(
                        "output '%s' refused %s; using %d Hz, %d channel(s)",
                        device.name,
                        "; ".join(refused),
                        rate,
                        channels,
                    )
                return stream, rate, channels
        # A listed device that opens at no rate at all is, in practice, one that has gone (a
        # PulseAudio sink that was removed, a USB speaker unplugged since start-up).
        raise NoOutputDevice(
            f"output device '{device.name}' could not be opened at any sample rate "
            f"({'; '.join(reasons) or 'it has no output channels'})"
        )

    def _open_stream(self, rate: int, channels: int) -> Any:
        """A new, not yet started stream whose callback belongs to a new generation."""
        sd = import_sounddevice()
        with self._lock:
            self._generation += 1
            generation = self._generation
        abort = sd.CallbackAbort

        def callback(outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            if generation != self._generation:
                raise abort  # a stream we gave up on woke up: it must not touch shared state
            self._callback(outdata, frames, time_info, status)

        return sd.OutputStream(
            device=self.device.index,
            samplerate=rate,
            channels=channels,
            dtype="float32",
            blocksize=round(rate * self.block_seconds),  # 0: PortAudio chooses
            latency=self._latency,
            callback=callback,
        )

    # ---- control, from any thread ----

    def play(self, samples: np.ndarray, text: str, start_at: float | None = None) -> int:
        """Play int16 mono `samples` (at `sample_rate_hz`), cutting off whatever is playing.

        `start_at` is a time.monotonic() instant at which the phrase should begin; it is mapped
        onto the stream's sample clock. By default the phrase starts `lead_seconds` from now.
        """
        if start_at is None:
            start_at = time.monotonic() + self.lead_seconds
        anchor = self._anchor
        start_frame = None if anchor is None else round((start_at - anchor) * self.sample_rate_hz)
        with self._lock:
            self._next_seq += 1
            seq = self._next_seq
            self._supersede()
            self._unsettled[seq] = text
            self._idle.clear()
            if self._lost:
                # Nothing can sound: report it cut off at once rather than let callers wait.
                self._events.put(("settle", seq, False))
                return seq
            self._now_playing = text
            self._request = _Request(
                seq, np.ascontiguousarray(samples, np.int16), text, start_frame
            )
        return seq

    def cancel(self) -> None:
        """Silence the output at the next block."""
        with self._lock:
            self._next_seq += 1
            self._supersede()
            self._request = _Request(self._next_seq, None, None, None)

    def _supersede(self) -> None:
        """Mark the phrase requested last as cut off (caller holds the lock)."""
        previous = self._request
        if previous is not None and previous.samples is not None:
            self._events.put(("settle", previous.seq, False))
        if self._now_playing is not None:
            self._tail = (self._now_playing, time.monotonic() + self._tail_seconds())
            self._now_playing = None

    def set_volume(self, volume: float) -> None:
        """Digital gain, clamped to 0..1; changes ramp over one block so they do not click."""
        self._gain = min(1.0, max(0.0, float(volume)))

    @property
    def volume(self) -> float:
        """Current gain (0..1)."""
        return self._gain

    def playing_text(self) -> str | None:
        """Text being played, or cut/finished so recently that it may still be heard."""
        current = self._now_playing
        if current is not None:
            return current
        tail = self._tail
        if tail is not None and time.monotonic() < tail[1]:
            return tail[0]
        return None

    @property
    def lost(self) -> bool:
        """True while the output device is gone and being reopened."""
        return self._lost

    def is_busy(self) -> bool:
        """True while a phrase is queued or playing."""
        return not self._idle.is_set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is playing; False on timeout."""
        return self._idle.wait(timeout)

    def add_tap(self, tap: TapCallback) -> None:
        """Receive every block sent to the speaker (on the dispatcher thread)."""
        self._taps.append(tap)

    def frame_time(self, frame: int) -> float | None:
        """Estimated time.monotonic() at which output frame `frame` leaves the speaker."""
        anchor = self._anchor
        if anchor is None:
            return None
        return anchor + frame / self.sample_rate_hz + self.output_latency_seconds

    def close(self) -> None:
        """Stop the stream, the watch thread and the dispatcher."""
        self._closing.set()
        self._watcher.join(timeout=STALL_SECONDS + 1)
        with self._lock:
            stream = None if self._lost else self._stream  # a lost one is released already
        try:
            if stream is not None:
                # stop() lets the last words play out, but a device that dies at this very
                # moment could hold it for many seconds: never wait on it for long.
                self._release(stream, graceful=True).join(RELEASE_TIMEOUT_SECONDS)
        finally:
            self._events.put(None)
            self._dispatcher.join(timeout=2)

    def _tail_seconds(self) -> float:
        return self.output_latency_seconds + TAIL_SECONDS

    # ---- the watch thread: notice a dead device and reopen it ----

    def _watch(self) -> None:
        seen = self.callbacks
        progressed_at = checked_at = time.monotonic()
        while not self._closing.wait(WATCH_SECONDS):
            now = time.monotonic()
            if now - checked_at > STALL_SECONDS:
                progressed_at = now  # the whole process stood still (suspend, swap): no verdict
            checked_at = now
            if self.callbacks != seen:
                seen, progressed_at = self.callbacks, now
                continue
            why = self._why_dead(now - progressed_at)
            if why is None:
                continue
            self._mark_lost(why)
            if not self._reconnect():
                return  # closing
            seen, progressed_at = self.callbacks, time.monotonic()

    def _why_dead(self, silent_seconds: float) -> str | None:
        """Why the stream counts as dead, or None while it looks alive."""
        try:
            active = bool(self._stream.active)
        except Exception as exc:  # noqa: BLE001 - PortAudio says the stream is unusable
            return f"the output stream failed ({exc})"
        if not active:
            return "the output stream stopped"
        if silent_seconds > STALL_SECONDS:
            return f"the device asked for no audio for {silent_seconds:.1f} s"
        return None

    def _mark_lost(self, why: str) -> None:
        with self._lock:
            self._lost = True
            self._generation += 1
            dead = self._stream
            self._request = None
            self._now_playing = None
            self._tail = None
            for seq in list(self._unsettled):
                self._events.put(("settle", seq, False))  # wait_idle() must not wait forever
        log.warning("speaker lost: %s; reopening it in the background", why)
        self._release(dead, graceful=False)
        if self.on_lost is not None:
            try:
                self.on_lost(why)
            except Exception:
                log.exception("speaker-lost callback failed")

    def _reconnect(self) -> bool:
        """Reopen the device with back-off until audio flows again; False when closing."""
        sd = import_sounddevice()
        delay = RETRY_FIRST_SECONDS
        attempts = 0
        while not self._closing.wait(delay):
            delay = min(RETRY_MAX_SECONDS, delay * 2)
            attempts += 1
            try:
                # Same rate and channels: every phrase in memory is resampled for this rate.
                stream = self._open_stream(self.sample_rate_hz, self.channels)
            except sd.PortAudioError as exc:
                log.debug("speaker still missing (attempt %d): %s", attempts, exc)
                continue
            self._reset_stream_state()
            started = self.callbacks
            try:
                stream.start()
            except Exception as exc:  # noqa: BLE001 - opened but would not run: still gone
                log.debug("reopened speaker would not start (attempt %d): %s", attempts, exc)
                self._release(stream, graceful=False)
                continue
            if self._flows(started):
                with self._lock:
                    self._stream = stream
                    self._lost = False
                self.output_latency_seconds = float(stream.latency)
                log.warning("speaker is back after %d attempt(s)", attempts)
                if self.on_back is not None:
                    try:
                        self.on_back()
                    except Exception:
                        log.exception("speaker-back callback failed")
                return True
            log.debug("reopened speaker asks for no audio (attempt %d)", attempts)
            with self._lock:
                self._generation += 1
            self._release(stream, graceful=False)
        return False

    def _flows(self, started: int) -> bool:
        """Wait (briefly) until the new stream's callback runs a few times."""
        deadline = time.monotonic() + STALL_SECONDS
        while time.monotonic() < deadline:
            if self._closing.wait(0.05):
                return False
            if self.callbacks - started >= FLOWING_CALLBACKS:
                return True
        return False

    def _reset_stream_state(self) -> None:
        """Start the callback afresh for a new stream (before it is started)."""
        self._frames_written = 0
        self._anchor = None
        self._window_min = math.inf
        self._window_count = 0
        self._active = None
        self._applied_gain = self._gain

    @staticmethod
    def _release(stream: Any, graceful: bool) -> threading.Thread:
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

    # ---- the audio callback: copies only ----

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self.callbacks += 1
        written = self._frames_written
        if status.output_underflow:
            # The device ran dry, so frame counts no longer map to its clock: start afresh.
            self.underflows += 1
            self._anchor = None
            self._window_min = math.inf
            self._window_count = 0
        self._track_clock(now, written)
        out = outdata[:, 0]
        out.fill(0.0)
        request = self._request
        if request is not None and request.seq != self._seen_seq:
            self._seen_seq = request.seq
            if self._active is not None:
                self._fade_out_active(out, frames)
                self._events.put(("settle", self._active_seq, False))
            self._active = request.samples
            if request.samples is not None:
                self._active_pos = 0
                self._active_seq = request.seq
                self._active_text = request.text
                start = request.start_frame
                if start is None or start < written:
                    if start is not None:
                        self.late_starts += 1
                    start = written
                self._active_start = start
        active = self._active
        sounding = False
        if active is not None:
            offset = max(0, self._active_start - written)
            if offset < frames:
                sounding = True
                pos = self._active_pos
                n = min(frames - offset, len(active) - pos)
                out[offset : offset + n] += active[pos : pos + n] * (1.0 / 32768.0)
                self._active_pos = pos + n
                if self._active_pos >= len(active):
                    self._active = None
                    self._events.put(("settle", self._active_seq, True))
        self._apply_gain(out, frames)
        if self.channels > 1:
            outdata[:, 1:] = outdata[:, :1]
        if self._taps:
            anchor = self._anchor
            heard_at = now if anchor is None else anchor + written / self.sample_rate_hz
            text = self._active_text if sounding else None
            self._events.put(("tap", out.copy(), heard_at + self.output_latency_seconds, text))
        self._frames_written = written + frames

    def _track_clock(self, now: float, written: int) -> None:
        """Map output frames to monotonic time: the least-delayed callback in a window wins."""
        implied = now - written / self.sample_rate_hz
        self._window_min = min(self._window_min, implied)
        self._window_count += 1
        if self._anchor is None and self._window_count >= 10:
            self._anchor = self._window_min  # a rough start; refined every window
        if self._window_count >= self._clock_window_blocks:
            self._anchor = self._window_min
            self._window_min = math.inf
            self._window_count = 0

    def _fade_out_active(self, out: np.ndarray, frames: int) -> None:
        """Write a short fade of the phrase being cut, starting where it was."""
        active = self._active
        assert active is not None
        pos = self._active_pos
        if self._active_start > self._frames_written or pos >= len(active):
            return  # it had not started yet, or had just ended: nothing to fade
        fade = min(frames, len(active) - pos, max(1, round(FADE_SECONDS * self.sample_rate_hz)))
        ramp = np.linspace(1.0, 0.0, fade, endpoint=False, dtype=np.float32)
        out[:fade] = active[pos : pos + fade] * (ramp / 32768.0)

    def _apply_gain(self, out: np.ndarray, frames: int) -> None:
        target = self._gain
        if target == self._applied_gain:
            if target != 1.0:
                out *= target
            return
        out *= np.linspace(self._applied_gain, target, frames, dtype=np.float32)
        self._applied_gain = target

    # ---- dispatcher thread ----

    def _dispatch(self) -> None:
        while True:
            event = self._events.get()
            if event is None:
                return
            if event[0] == "tap":
                block = PlayedBlock(event[1], self.sample_rate_hz, event[2], event[3])
                for tap in list(self._taps):
                    try:
                        tap(block)
                    except Exception:
                        log.exception("playback tap failed")
            else:
                self._settle(event[1], completed=event[2])

    def _settle(self, seq: int, completed: bool) -> None:
        with self._lock:
            text = self._unsettled.pop(seq, None)
            if text is None:
                return  # already reported (e.g. cut off before it ever started)
            if not self._unsettled:
                self._idle.set()
            if completed and self._request is not None and self._request.seq == seq:
                self._now_playing = None
                self._tail = (text, time.monotonic() + self._tail_seconds())
        if self.on_finished is not None:
            try:
                self.on_finished(text, completed)
            except Exception:
                log.exception("speech-finished callback failed")

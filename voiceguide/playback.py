"""Interruptible playback: a PortAudio output stream whose callback only copies prepared audio.

Control calls (play, cancel, volume) just swap one request object; the callback picks it up at
its next block, so a cancel is heard within one block plus the device's own buffering. Phrases
are placed on the stream's sample clock at a fixed lead after the call, not at whatever block
boundary comes next, so timed cues keep their spacing.
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

from voiceguide.devices import AudioDevice, candidate_rates, import_sounddevice
from voiceguide.errors import UserError

log = logging.getLogger(__name__)

FADE_SECONDS = 0.003  # cut-offs fade this fast: quick enough to feel instant, no click
TAIL_SECONDS = 0.15  # a cut or finished phrase may still be heard (room echo) this long


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
    ) -> None:
        self.device = device
        self.block_seconds = block_seconds
        self.on_finished = on_finished
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
        self._stream, self.sample_rate_hz, self.channels = self._open(
            device, preferred_rate_hz, latency
        )
        self.output_latency_seconds = float(self._stream.latency)
        # Lead from a play() call to its first sample: one block so the sample clock position
        # is still ahead of the callback, plus a margin for loading the phrase.
        self.lead_seconds = max(block_seconds, 0.01) + 0.01
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="voiceguide-playback", daemon=True
        )
        self._dispatcher.start()
        self._stream.start()

    def _open(
        self, device: AudioDevice, preferred_rate_hz: int | None, latency: float | str
    ) -> tuple[Any, int, int]:
        """Open the stream at the first rate and channel count the device accepts."""
        sd = import_sounddevice()
        refused = []
        for rate in candidate_rates(device, preferred_rate_hz):
            for channels in (1, 2):
                if channels > max(1, device.max_output_channels):
                    continue
                try:
                    stream = sd.OutputStream(
                        device=device.index,
                        samplerate=rate,
                        channels=channels,
                        dtype="float32",
                        blocksize=round(rate * self.block_seconds),  # 0: PortAudio chooses
                        latency=latency,
                        callback=self._callback,
                    )
                except sd.PortAudioError as exc:
                    refused.append(f"{rate} Hz/{channels} ch ({exc})")
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
        raise UserError(f"output device '{device.name}' refused every sample rate we tried")

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
        """Stop the stream and the dispatcher."""
        try:
            self._stream.stop()
            self._stream.close()
        finally:
            self._events.put(None)
            self._dispatcher.join(timeout=2)

    def _tail_seconds(self) -> float:
        return self.output_latency_seconds + TAIL_SECONDS

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

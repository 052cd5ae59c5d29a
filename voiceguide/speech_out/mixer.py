"""The output callback's work: place phrases on the sample clock, fade cut-offs, apply gain.

This runs on PortAudio's thread for every block, so it only copies and scales arrays it was
handed. It never takes a lock and never blocks: the control side swaps in one `Request`
object (a single attribute write, atomic under the GIL), and everything that may block
(settling a phrase, feeding taps) goes out through `emit` to the player's dispatcher thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceguide.audio.pcm import pcm16_to_float

FADE_SECONDS = 0.003  # cut-offs fade this fast: quick enough to feel instant, no click


@dataclass(frozen=True)
class PlayedBlock:
    """One block of exactly what was sent to the speaker, for echo cancellation."""

    frames: np.ndarray  # float32 mono, after gain
    sample_rate_hz: int
    start_monotonic: float  # estimated time.monotonic() at which frames[0] leaves the speaker
    text: str | None  # phrase being played, if any


@dataclass(frozen=True)
class Request:
    """What the callback should play next; the newest one replaces any older one."""

    seq: int
    samples: np.ndarray | None  # int16 mono at the stream rate; None means cancel
    text: str | None
    start_frame: int | None  # absolute output frame to start at; None = as soon as possible


# ("settle", seq, completed) or ("tap", frames, start_monotonic, text), for the dispatcher.
Emit = Callable[[tuple[Any, ...]], None]


class Mixer:
    """The callback's state for one output stream: the phrase playing, the gain, the clock."""

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        emit: Emit,
        taps: list[Any],
        output_latency_seconds: float,
        clock_window_blocks: int = 100,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels
        self.output_latency_seconds = output_latency_seconds
        self._emit = emit
        self._taps = taps  # the player's list: blocks are copied out only while it has taps
        self._clock_window_blocks = clock_window_blocks
        self.request: Request | None = None  # written by the control side
        self.gain = 1.0  # written by the control side; ramped to over one block
        self._applied_gain = 1.0
        self.frames_written = 0
        self.anchor: float | None = None  # monotonic time of output frame 0, once known
        self._window_min = math.inf
        self._window_count = 0
        self._seen_seq = 0
        self._active: np.ndarray | None = None
        self._active_pos = 0
        self._active_seq = 0
        self._active_start = 0
        self._active_text: str | None = None
        self.late_starts = 0
        self.underflows = 0
        self.callbacks = 0

    def reset(self) -> None:
        """Start afresh for a new stream (before it is started)."""
        self.frames_written = 0
        self.anchor = None
        self._window_min = math.inf
        self._window_count = 0
        self._active = None
        self._applied_gain = self.gain

    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """Fill `outdata` (frames x channels, float32) with the next block."""
        now = time.monotonic()
        self.callbacks += 1
        written = self.frames_written
        if status.output_underflow:
            # The device ran dry, so frame counts no longer map to its clock: start afresh.
            self.underflows += 1
            self.anchor = None
            self._window_min = math.inf
            self._window_count = 0
        self._track_clock(now, written)
        out = outdata[:, 0]
        out.fill(0.0)
        request = self.request
        if request is not None and request.seq != self._seen_seq:
            self._seen_seq = request.seq
            if self._active is not None:
                self._fade_out_active(out, frames)
                self._emit(("settle", self._active_seq, False))
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
                out[offset : offset + n] += pcm16_to_float(active[pos : pos + n])
                self._active_pos = pos + n
                if self._active_pos >= len(active):
                    self._active = None
                    self._emit(("settle", self._active_seq, True))
        self._apply_gain(out, frames)
        if self.channels > 1:
            outdata[:, 1:] = outdata[:, :1]
        if self._taps:
            anchor = self.anchor
            heard_at = now if anchor is None else anchor + written / self.sample_rate_hz
            text = self._active_text if sounding else None
            self._emit(("tap", out.copy(), heard_at + self.output_latency_seconds, text))
        self.frames_written = written + frames

    def _track_clock(self, now: float, written: int) -> None:
        """Map output frames to monotonic time: the least-delayed callback in a window wins."""
        implied = now - written / self.sample_rate_hz
        self._window_min = min(self._window_min, implied)
        self._window_count += 1
        if self.anchor is None and self._window_count >= 10:
            self.anchor = self._window_min  # a rough start; refined every window
        if self._window_count >= self._clock_window_blocks:
            self.anchor = self._window_min
            self._window_min = math.inf
            self._window_count = 0

    def _fade_out_active(self, out: np.ndarray, frames: int) -> None:
        """Write a short fade of the phrase being cut, starting where it was."""
        active = self._active
        assert active is not None
        pos = self._active_pos
        if self._active_start > self.frames_written or pos >= len(active):
            return  # it had not started yet, or had just ended: nothing to fade
        fade = min(frames, len(active) - pos, max(1, round(FADE_SECONDS * self.sample_rate_hz)))
        ramp = np.linspace(1.0, 0.0, fade, endpoint=False, dtype=np.float32)
        out[:fade] = pcm16_to_float(active[pos : pos + fade]) * ramp

    def _apply_gain(self, out: np.ndarray, frames: int) -> None:
        target = self.gain
        if target == self._applied_gain:
            if target != 1.0:
                out *= target
            return
        out *= np.linspace(self._applied_gain, target, frames, dtype=np.float32)
        self._applied_gain = target

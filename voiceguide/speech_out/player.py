"""Interruptible playback: a PortAudio output stream whose callback only copies prepared audio.

Control calls (play, cancel, volume) just swap one request object; the callback picks it up at
its next block, so a cancel is heard within one block plus the device's own buffering. Phrases
are placed on the stream's sample clock at a fixed lead after the call, not at whatever block
boundary comes next, so timed cues keep their spacing. The callback's work (placing, fading,
gain) is in speech_out.mixer.

A watch thread (speech_out.stream_watch) notices when the device goes away (the callback stops being called, or the
stream stops being active), reports it once, and reopens the device with back-off at the same
rate and channel count. While it is gone, play() settles each phrase at once as not completed,
so callers never block on a speaker that cannot sound.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from voiceguide.audio.devices import (
    AudioDevice,
    NoOutputDevice,
    candidate_rates,
    import_sounddevice,
)
from voiceguide.speech_out.mixer import Mixer, PlayedBlock, Request
from voiceguide.speech_out.stream_watch import StreamWatch, release_stream

log = logging.getLogger(__name__)

TAIL_SECONDS = 0.15  # a cut or finished phrase may still be heard (room echo) this long
# A healthy stream calls back every few milliseconds, so two silent seconds mean the device is
# gone (an unplugged USB speaker, a removed PulseAudio sink), not a slow moment.
STALL_SECONDS = 2.0
WATCH_SECONDS = 0.25  # how often the watch thread looks
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 10.0  # the reopen loop's back-off
RELEASE_TIMEOUT_SECONDS = 2.0  # close() waits no longer than this for the driver


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
        self._next_seq = 0
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
        self._stream, self.sample_rate_hz, self.channels = self._open(device, preferred_rate_hz)
        # The callback's state. Requests and gain are handed over by single attribute writes,
        # atomic under the GIL, so the callback never waits on a lock.
        self._mixer = Mixer(
            self.sample_rate_hz,
            self.channels,
            self._events.put,
            self._taps,
            float(self._stream.latency),
            clock_window_blocks,
        )
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
        self._watch = StreamWatch(
            self,
            import_sounddevice().PortAudioError,
            stall_seconds=STALL_SECONDS,
            watch_seconds=WATCH_SECONDS,
            retry_first_seconds=RETRY_FIRST_SECONDS,
            retry_max_seconds=RETRY_MAX_SECONDS,
        )
        self._watch.start()

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
            self._mixer.callback(outdata, frames, time_info, status)

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
        anchor = self._mixer.anchor
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
            self._mixer.request = Request(
                seq, np.ascontiguousarray(samples, np.int16), text, start_frame
            )
        return seq

    def cancel(self) -> None:
        """Silence the output at the next block."""
        with self._lock:
            self._next_seq += 1
            self._supersede()
            self._mixer.request = Request(self._next_seq, None, None, None)

    def _supersede(self) -> None:
        """Mark the phrase requested last as cut off (caller holds the lock)."""
        previous = self._mixer.request
        if previous is not None and previous.samples is not None:
            self._events.put(("settle", previous.seq, False))
        if self._now_playing is not None:
            self._tail = (self._now_playing, time.monotonic() + self._tail_seconds())
            self._now_playing = None

    def set_volume(self, volume: float) -> None:
        """Digital gain, clamped to 0..1; changes ramp over one block so they do not click."""
        self._mixer.gain = min(1.0, max(0.0, float(volume)))

    @property
    def volume(self) -> float:
        """Current gain (0..1)."""
        return self._mixer.gain

    @property
    def output_latency_seconds(self) -> float:
        """The stream's reported output latency: from the callback to the speaker."""
        return self._mixer.output_latency_seconds

    @property
    def anchor(self) -> float | None:
        """time.monotonic() of output frame 0 on the current stream, once the clock is known."""
        return self._mixer.anchor

    @property
    def callbacks(self) -> int:
        """How many blocks the device has asked for, on every stream so far."""
        return self._mixer.callbacks

    @property
    def underflows(self) -> int:
        """How many times the output ran dry."""
        return self._mixer.underflows

    @property
    def late_starts(self) -> int:
        """Phrases that began after the frame they were placed at (the callback was late)."""
        return self._mixer.late_starts

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
        anchor = self._mixer.anchor
        if anchor is None:
            return None
        return anchor + frame / self.sample_rate_hz + self.output_latency_seconds

    def close(self) -> None:
        """Stop the stream, the watch thread and the dispatcher."""
        self._watch.stop()
        with self._lock:
            stream = None if self._lost else self._stream  # a lost one is released already
        try:
            if stream is not None:
                # stop() lets the last words play out, but a device that dies at this very
                # moment could hold it for many seconds: never wait on it for long.
                release_stream(stream, graceful=True).join(RELEASE_TIMEOUT_SECONDS)
        finally:
            self._events.put(None)
            self._dispatcher.join(timeout=2)

    def _tail_seconds(self) -> float:
        return self.output_latency_seconds + TAIL_SECONDS

    # ---- for the watch thread (stream_watch.WatchedOutput) ----

    def current_stream(self) -> Any:
        """The stream in use (possibly dead: the watch asks it)."""
        return self._stream

    def mark_lost(self, why: str) -> None:
        """Give up on the current stream: settle every phrase as cut off and report the loss."""
        with self._lock:
            self._lost = True
            self._generation += 1
            dead = self._stream
            self._mixer.request = None
            self._now_playing = None
            self._tail = None
            for seq in list(self._unsettled):
                self._events.put(("settle", seq, False))  # wait_idle() must not wait forever
        log.warning("speaker lost: %s; reopening it in the background", why)
        release_stream(dead, graceful=False)
        if self.on_lost is not None:
            try:
                self.on_lost(why)
            except Exception:
                log.exception("speaker-lost callback failed")

    def new_stream(self) -> Any:
        """A new stream at the same rate and channels: every phrase in memory is at this rate."""
        return self._open_stream(self.sample_rate_hz, self.channels)

    def reset_stream_state(self) -> None:
        """Start the callback afresh for a new stream (before it is started)."""
        self._mixer.reset()

    def adopt(self, stream: Any) -> None:
        """A reopened stream is flowing: it becomes the one in use."""
        with self._lock:
            self._stream = stream
            self._lost = False
        self._mixer.output_latency_seconds = float(stream.latency)

    def abandon(self, stream: Any) -> None:
        """A reopened stream asked for no audio: make its callback abort, and release it."""
        with self._lock:
            self._generation += 1
        release_stream(stream, graceful=False)

    def notify_back(self) -> None:
        """Tell the owner the speaker is back."""
        if self.on_back is not None:
            try:
                self.on_back()
            except Exception:
                log.exception("speaker-back callback failed")

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
            request = self._mixer.request
            if completed and request is not None and request.seq == seq:
                self._now_playing = None
                self._tail = (text, time.monotonic() + self._tail_seconds())
        if self.on_finished is not None:
            try:
                self.on_finished(text, completed)
            except Exception:
                log.exception("speech-finished callback failed")

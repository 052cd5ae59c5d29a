"""Live listening: microphone → 16 kHz → recogniser → commands posted to the runner's queue.

The PortAudio callback only copies blocks into a bounded queue (a full queue counts an
overflow and drops the block: recognition must never stall the audio thread). Recognition runs
on its own thread. If no audio arrives for a while, the microphone is taken as lost: the loop
posts InputLost, closes the stream and reopens it with back-off, then posts InputBack.

The recognition thread is supervised: an exception in the engine, the listener or the
resampler would otherwise end the thread and leave the box deaf (and deaf to "it hurts") with
nothing but a traceback on stderr. Instead the crash is logged, the loop backs off, builds a
fresh engine and listener, reopens the stream and carries on. The back-off doubles on each
crash that follows a short run, so a recogniser that fails on every block restarts at most
every RECOGNISER_RETRY_MAX_SECONDS instead of spinning.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from voiceguide.audio.backoff import Backoff
from voiceguide.audio.pcm import SPEECH_RATE_HZ, float_to_pcm16
from voiceguide.core.actions import CommandHeard, InputBack, InputLost
from voiceguide.core.locale import Locale
from voiceguide.speech_in.echo_cancel import ReferenceBuffer
from voiceguide.speech_in.echo_path import EchoPath
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.listener import Listener
from voiceguide.speech_in.settings import ListenSettings

log = logging.getLogger("voiceguide.mic")
BLOCK_SECONDS = 0.03
QUEUE_BLOCKS = 200  # six seconds of audio: enough to ride out a slow recogniser moment
SILENT_STREAM_SECONDS = 1.5  # no blocks for this long means the device has gone
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 10.0
RECOGNISER_RETRY_FIRST_SECONDS, RECOGNISER_RETRY_MAX_SECONDS = 1.0, 30.0
# A recogniser that ran this long before crashing was healthy: its back-off starts over.
RECOGNISER_HEALTHY_SECONDS = 60.0

Post = Callable[[object], None]


class MicInput:
    """Listens continuously and posts CommandHeard, InputLost and InputBack events."""

    def __init__(
        self,
        settings: ListenSettings,
        locale: Locale,
        post: Post,
        commands: Mapping[str, Sequence[str]],
        playing_text: Callable[[], str | None] | None = None,
        show_levels: bool = False,
        reference: ReferenceBuffer | None = None,
        echo_delay_seconds: float = 0.0,
        speaker_glitches: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.locale = locale
        self.post = post
        self.overflows = 0  # blocks dropped because the recogniser fell behind
        self.input_overflows = 0  # the device's own overruns (samples lost before us)
        self._speaker_glitches = speaker_glitches  # how often the speaker ran dry
        self._playing_text = playing_text
        self._show_levels = show_levels  # `voiceguide listen`: print level and hypotheses
        self._level_at = 0.0
        self.recogniser_restarts = 0  # how often the recognition thread was revived
        # Each block with the monotonic time its first sample was captured (about).
        self._blocks: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize=QUEUE_BLOCKS)
        # What the speaker played, for the echo canceller; None where the hardware or sound
        # server cancels echo itself, or there is no speaker.
        self.echo = (
            EchoPath(reference, initial_delay_seconds=echo_delay_seconds, glitches=self._glitches)
            if reference is not None
            else None
        )
        self._lock = threading.Lock()
        self._commands = commands
        self._listener = self._make_listener(commands)
        self._stop = threading.Event()
        self._rate = SPEECH_RATE_HZ  # the device's rate, once opened
        self._lost = False
        self._thread = threading.Thread(target=self._run, name="voiceguide-mic", daemon=True)
        self._thread.start()

    def _make_listener(self, commands: Mapping[str, Sequence[str]]) -> Listener:
        show = self._print_hypothesis if self._show_levels else None
        echo = self.echo
        return open_listener(self.settings, self.locale, commands,
                             playing_text=self._playing_text, on_hypothesis=show,
                             echo=echo)  # fmt: skip

    @staticmethod
    def _print_hypothesis(hyp: Hypothesis) -> None:
        if hyp.text:
            kind = "final" if hyp.is_final else "partial"
            print(f"  {kind}: {hyp.text!r} ({hyp.confidence:.2f})", file=sys.stderr, flush=True)

    def _print_level(self, block: np.ndarray) -> None:
        now = time.monotonic()
        if now - self._level_at >= 0.5:
            self._level_at = now
            rms = float(np.sqrt(np.mean(np.square(block)))) if block.size else 0.0
            db = 20 * np.log10(max(rms, 1e-9))
            bar = "#" * max(0, int((db + 70) / 2))
            print(f"  level {db:6.1f} dBFS {bar}", file=sys.stderr, flush=True)

    def set_commands(self, commands: Mapping[str, Sequence[str]]) -> None:
        """Listen for a different set of phrases (idle mode vs. a session)."""
        listener = self._make_listener(commands)
        with self._lock:
            self._commands = commands  # a restarted recogniser listens for the same phrases
            self._listener = listener

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(timeout=5)
        if self.echo is None:
            return
        if not self.echo.echo_heard:
            log.info("echo canceller: no echo of the speaker heard in %.0f s of the box talking; "
                     "only the linear filter ran, with no residual suppression",
                     self.echo.stats.active_seconds)  # fmt: skip
        else:
            log.info(
                "echo canceller: delay %.0f ms, %.1f dB removed over %.0f s of the box talking "
                "(%.0f dB by the filter alone from the median loud block); %d audio glitches",
                self.echo.delay_seconds * 1000, self.echo.stats.removed_db,
                self.echo.stats.active_seconds, self.echo.stats.filter_median_db,
                self.echo.stats.glitches,
            )  # fmt: skip
        self.echo.close()

    # ---- the listening thread ----------------------------------------------------------------
    def _glitches(self) -> int:
        """Audio lost on either side so far: each may move the echo against its reference."""
        speaker = self._speaker_glitches() if self._speaker_glitches is not None else 0
        return self.overflows + self.input_overflows + speaker

    def _callback(self, indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        # Real-time thread: copy and hand over, nothing else.
        if getattr(status, "input_overflow", False):
            self.input_overflows += 1
        try:
            self._blocks.put_nowait((indata[:, 0].copy(), time.monotonic() - frames / self._rate))
        except queue.Full:
            self.overflows += 1

    def _open_stream(self) -> tuple[object, int]:
        from voiceguide.audio.devices import choose_input_device, import_sounddevice

        sd = import_sounddevice()
        device = choose_input_device(self.settings.input_device)
        rate = device.default_sample_rate_hz  # USB mics often refuse 16 kHz; resample instead
        stream = sd.InputStream(device=device.index, samplerate=rate, channels=1,
                                dtype="float32", blocksize=round(rate * BLOCK_SECONDS),
                                callback=self._callback)  # fmt: skip
        self._rate = rate
        stream.start()
        log.info("listening on %s at %d Hz", device.name, rate)
        return stream, rate

    def _run(self) -> None:
        """Thread body: listen until closed, rebuilding the recogniser whenever it crashes."""
        backoff = Backoff(RECOGNISER_RETRY_FIRST_SECONDS, RECOGNISER_RETRY_MAX_SECONDS)
        tracebacks_logged: set[str] = set()
        rebuild = False
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if rebuild:
                    self._rebuild_listener()
                    rebuild = False
                self._capture()
                return  # only a close() ends the capture loop normally
            except Exception as exc:  # any escape here would leave the box deaf for good
                if time.monotonic() - started >= RECOGNISER_HEALTHY_SECONDS:
                    backoff.reset()  # it was healthy: this crash is a first one again
                self.recogniser_restarts += 1
                delay = backoff.next_delay()
                # One traceback per distinct failure: enough to find the bug, and a recogniser
                # failing on every block cannot flood the journal.
                signature = f"{type(exc).__name__}: {exc}"
                first_time = signature not in tracebacks_logged
                if len(tracebacks_logged) < 32:  # messages with counters in them stay bounded
                    tracebacks_logged.add(signature)
                log.error(
                    "speech recognition crashed (%s); restarting it in %.1f s",
                    signature, delay, exc_info=first_time,
                )  # fmt: skip
                rebuild = True
                self._stop.wait(delay)

    def _rebuild_listener(self) -> None:
        """A fresh engine and listener, and no audio queued from before the crash."""
        with self._lock:
            commands = self._commands
        listener = self._make_listener(commands)
        with self._lock:
            if self._commands is commands:  # else set_commands installed a fresh one meanwhile
                self._listener = listener
        while True:
            try:
                self._blocks.get_nowait()  # stale audio would be heard late, out of context
            except queue.Empty:
                break
        log.warning("speech recognition restarted")

    def _capture(self) -> None:
        """Open the microphone and listen, reopening it with back-off while it is missing."""
        backoff = Backoff(RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS)
        while not self._stop.is_set():
            try:
                stream, rate = self._open_stream()
            except Exception as exc:  # noqa: BLE001 - missing or busy device, PortAudio error
                self._mark_lost(str(exc))
                self._stop.wait(backoff.next_delay())
                continue
            try:
                self._listen(rate)
            finally:
                try:
                    stream.close()  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001 - the device is gone anyway
                    log.debug("closing the lost stream: %s", exc)
            if self._lost:
                # Opened, but no audio came: back off as for a failure.
                self._stop.wait(backoff.next_delay())
            elif not self._stop.is_set():
                backoff.reset()
                self._mark_lost("no audio from the microphone")

    def _mark_lost(self, why: str) -> None:
        if not self._lost:
            self._lost = True
            log.warning("microphone lost: %s", why)
            self.post(InputLost())

    def _listen(self, rate: int) -> None:
        import soxr

        resampler = soxr.ResampleStream(rate, SPEECH_RATE_HZ, 1, dtype="float32")
        last_audio = time.monotonic()
        clock = _SampleClock()
        while not self._stop.is_set():
            try:
                block, captured_at = self._blocks.get(timeout=0.25)
            except queue.Empty:
                if time.monotonic() - last_audio > SILENT_STREAM_SECONDS:
                    return  # the stream stopped delivering: the device is gone
                continue
            last_audio = time.monotonic()
            if self._lost:  # only audio that really flows proves the microphone is back
                self._lost = False
                log.warning("microphone is back")
                self.post(InputBack())
            if self._show_levels:
                self._print_level(block)
            pcm16 = float_to_pcm16(resampler.resample_chunk(block))
            starts_at = clock.start_of(captured_at, len(pcm16))
            if self.echo is not None:
                pcm16 = self.echo.process(pcm16, starts_at)
            with self._lock:
                heard = self._listener.feed(pcm16.tobytes())
            for command in heard:
                log.info("heard %r -> %s (%.2f)", command.text, command.command,
                         command.confidence)  # fmt: skip
                self.post(CommandHeard(command.command, command.phrase))


class _SampleClock:
    """Capture times for the 16 kHz stream that advance by exactly the samples delivered.

    Callbacks arrive in bursts (tens of milliseconds early or late through a sound server),
    and the echo canceller needs its reference lined up to a fraction of that, so the clock
    counts samples; the slow drift between the sound card's clock and the speaker's is left
    to the echo stage's delay tracking. A real gap (dropped blocks, a reopened device) moves
    it onto the callback times.
    """

    RESYNC_SECONDS = 0.5

    def __init__(self) -> None:
        self._origin: float | None = None
        self._samples = 0

    def start_of(self, captured_at: float, samples: int) -> float:
        """The time of the first of the next `samples` samples."""
        if self._origin is None:
            self._origin = captured_at
        expected = self._origin + self._samples / SPEECH_RATE_HZ
        if abs(captured_at - expected) > self.RESYNC_SECONDS:
            log.debug("capture clock moved by %.0f ms", (captured_at - expected) * 1000)
            self._origin = captured_at - self._samples / SPEECH_RATE_HZ
            expected = captured_at
        self._samples += samples
        return expected

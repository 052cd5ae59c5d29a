"""The speech-output edge: pre-rendered phrases played on an audio device, cut off at will."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from voiceguide.audio.devices import AudioDevice, choose_output_device, resample
from voiceguide.core.actions import InputBack, InputLost
from voiceguide.speech_out.phrase_cache import PhraseCache, PrepareStats, normalise
from voiceguide.speech_out.player import FinishedCallback, Player, TapCallback
from voiceguide.speech_out.settings import SpeakerSettings
from voiceguide.speech_out.synth import Pcm, SynthesisError, Synthesizer, VoiceSettings

log = logging.getLogger(__name__)

MIN_RATE_WPM = 80  # espeak-ng's own limits
MAX_RATE_WPM = 450

Post = Callable[[object], None]


class _PhraseMemory:
    """Phrases resampled to the device rate, kept in memory up to a byte budget (LRU)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            samples = self._items.get(key)
            if samples is not None:
                self._items.move_to_end(key)
            return samples

    def put(self, key: str, samples: np.ndarray) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = samples
            self._bytes += samples.nbytes
            while self._bytes > self.budget_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.nbytes


class AudioSpeechOut:
    """Speech output through espeak-ng, the phrase cache and an audio device."""

    def __init__(
        self,
        settings: SpeakerSettings,
        *,
        synth: Synthesizer | None = None,
        on_finished: FinishedCallback | None = None,
        block_seconds: float = 0.0,
        latency_seconds: float | None = None,
        memory_budget_bytes: int = 48 * 1024 * 1024,
    ) -> None:
        self.settings = settings.voice
        self.device: AudioDevice = choose_output_device(settings.output_device)
        self.synth = synth if synth is not None else Synthesizer()
        self.cache = PhraseCache(settings.phrase_dir, self.synth)
        # Where speaker-lost/back events go (the runner's queue); see watch().
        self._post: Post | None = None
        self._post_lock = threading.Lock()
        try:
            # Start the worker now: fail early, and speak() never waits for it.
            self.synth.engine_version  # noqa: B018
            self.player = self._open_player(settings, block_seconds, latency_seconds, on_finished)
        except BaseException:
            self.synth.close()  # do not leave a worker process behind
            raise
        self.player.set_volume(settings.volume)
        self._memory = _PhraseMemory(memory_budget_bytes)
        self._prepared: list[str] = []
        self._prepared_with: VoiceSettings | None = None  # the settings prepare() rendered at
        self.last_prepare: PrepareStats | None = None
        self.late_phrases = 0
        # One background thread renders phrases that were not ready (a live request wins over
        # re-rendering after a rate change), so speak() itself never waits for synthesis.
        self._generation = 0
        self._wake = threading.Condition()
        self._live: tuple[int, str, VoiceSettings, float] | None = None
        self._background: list[tuple[str, VoiceSettings]] = []
        self._closing = False
        self._worker = threading.Thread(
            target=self._render_loop, name="voiceguide-tts", daemon=True
        )
        self._worker.start()

    def _open_player(
        self,
        settings: SpeakerSettings,
        block_seconds: float,
        latency_seconds: float | None,
        on_finished: FinishedCallback | None,
    ) -> Player:
        latency = latency_seconds or settings.output_latency_seconds
        return Player(
            self.device,
            preferred_rate_hz=settings.output_rate_hz,
            block_seconds=block_seconds,
            latency=latency,
            on_finished=on_finished,
            on_lost=self._speaker_lost,
            on_back=self._speaker_back,
        )

    def watch(self, post: Post) -> None:
        """Post InputLost/InputBack(device="speaker") to `post` as the speaker goes and returns.

        If the speaker is gone right now, InputLost is posted at once, so a loss that happened
        before the session existed (while pre-rendering, or while idle) still pauses it.
        """
        with self._post_lock:
            self._post = post
            if self.player.lost:
                post(InputLost("speaker"))

    @property
    def output_lost(self) -> bool:
        """True while the output device is gone (speech is then printed/logged only)."""
        return self.player.lost

    def _speaker_lost(self, why: str) -> None:
        with self._post_lock:
            if self._post is not None:
                self._post(InputLost("speaker"))

    def _speaker_back(self) -> None:
        with self._post_lock:
            if self._post is not None:
                self._post(InputBack("speaker"))

    @property
    def sample_rate_hz(self) -> int:
        """Rate the output device was opened at."""
        return self.player.sample_rate_hz

    def prepare(self, texts: Iterable[str], progress: bool = True) -> None:
        """Render every phrase into the cache and load it, so no cue waits for synthesis."""
        unique = sorted({normalise(t) for t in texts} - {""})
        self.last_prepare = self.cache.prepare(unique, self.settings, progress=progress)
        self._prepared = unique
        self._prepared_with = self.settings
        for text in unique:
            self._load(text, self.settings)

    def speak(self, text: str, kind: str = "prompt") -> None:
        """Play `text` now, cutting off whatever is playing (the timed cue wins)."""
        called_at = time.monotonic()
        text = normalise(text)
        if not text:
            return
        with self._wake:
            self._generation += 1
            generation = self._generation
            self._live = None
        samples = self._load(text, self.settings, render=False)
        old = self._prepared_with
        if samples is None and old is not None and old != self.settings:
            # After "slower"/"faster" the phrases are re-rendered in the background. Until this
            # one is, its prepared rendering at the old rate plays on time: the safety advice
            # must not wait for synthesis (which may hang for up to the watchdog's 10 s).
            samples = self._load(text, old, render=False)
            if samples is not None:
                log.info("phrase not re-rendered at the new rate yet; playing it at the old one")
        if samples is not None:
            self.player.play(samples, text, start_at=called_at + self.player.lead_seconds)
            return
        log.warning("%s phrase was not prepared; rendering it now, so it will be late: %r",
                    kind, text[:60])  # fmt: skip
        self.late_phrases += 1
        self.player.cancel()  # the new cue still wins over the old one while it renders
        with self._wake:
            self._live = (generation, text, self.settings, called_at)
            self._wake.notify()

    def cancel(self) -> None:
        """Silence within one block, including any phrase still being rendered."""
        with self._wake:
            self._generation += 1
            self._live = None
        self.player.cancel()

    def set_volume(self, volume: float) -> None:
        """Set the digital gain (clamped to 0..1)."""
        self.player.set_volume(volume)

    @property
    def volume(self) -> float:
        """Current gain."""
        return self.player.volume

    def set_rate(self, rate_wpm: int) -> None:
        """Speak later phrases at `rate_wpm`; prepared phrases are re-rendered in the background."""
        rate = min(MAX_RATE_WPM, max(MIN_RATE_WPM, int(rate_wpm)))
        if rate == self.settings.rate_wpm:
            return
        self.settings = replace(self.settings, rate_wpm=rate)
        with self._wake:
            self._background = [(t, self.settings) for t in self._prepared]
            self._wake.notify()

    @property
    def rate_wpm(self) -> int:
        """Current speech rate."""
        return self.settings.rate_wpm

    def playing_text(self) -> str | None:
        """Text currently audible (or just cut off), for the echo guard."""
        return self.player.playing_text()

    def add_tap(self, tap: TapCallback) -> None:
        """Receive every block of audio sent to the speaker (for echo cancellation)."""
        self.player.add_tap(tap)

    def wait_until_done(self, timeout: float | None = None) -> bool:
        """Wait until nothing is rendering or playing; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._wake:
                rendering = self._live is not None
            if not rendering and not self.player.is_busy():
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self.player.wait_idle(0.05 if remaining is None else min(0.05, remaining))

    def close(self) -> None:
        """Stop playback, the render thread and the synthesis worker."""
        with self._wake:
            if self._closing:
                return
            self._closing = True
            self._wake.notify()
        self._worker.join(timeout=5)
        self.player.close()
        self.synth.close()
        if self.player.underflows:
            log.info("the output ran dry %d time(s) during this session", self.player.underflows)

    def _load(self, text: str, settings: VoiceSettings, render: bool = True) -> np.ndarray | None:
        """The phrase at the device rate, from memory, then disk, then (if allowed) synthesis."""
        key = self.cache.key(text, settings)
        samples = self._memory.get(key)
        if samples is not None:
            return samples
        pcm: Pcm | None = (
            self.cache.load(text, settings) if render else self.cache.cached(text, settings)
        )
        if pcm is None:
            return None
        samples = resample(pcm.samples, pcm.sample_rate_hz, self.player.sample_rate_hz)
        self._memory.put(key, samples)
        return samples

    def _render_loop(self) -> None:
        while True:
            with self._wake:
                while not self._closing and self._live is None and not self._background:
                    self._wake.wait()
                if self._closing:
                    return
                live = self._live
                job = None if live is not None else self._background.pop(0)
            if live is not None:
                self._play_late(*live)
            elif job is not None:
                try:
                    self._load(*job)
                except SynthesisError as exc:
                    log.error("could not re-render %r: %s", job[0][:60], exc)

    def _play_late(
        self, generation: int, text: str, settings: VoiceSettings, called: float
    ) -> None:
        try:
            samples = self._load(text, settings)
        except SynthesisError as exc:
            log.error("could not say %r: %s", text[:60], exc)
            samples = None
        with self._wake:
            current = generation == self._generation
            if samples is not None and current:
                # Start it before clearing _live, so wait_until_done never sees a gap.
                self.player.play(samples, text)
            if self._live is not None and self._live[0] == generation:
                self._live = None
        if samples is not None and current:
            log.warning(
                "late phrase started %.0f ms after it was due", (time.monotonic() - called) * 1e3
            )


def open_speaker(settings: SpeakerSettings, **kwargs: Any) -> AudioSpeechOut:
    """Open speech output; raises NoOutputDevice when there is no output device at all."""
    return AudioSpeechOut(settings, **kwargs)

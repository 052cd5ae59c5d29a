"""Wiring the real speaker into `run` and `serve`: open it, pre-render, log what is said."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from voiceguide.app.config import Config
from voiceguide.app.notify import ServiceNotifier
from voiceguide.app.runner import SpeechSink
from voiceguide.audio.devices import NoInputDevice, NoOutputDevice, choose_input_device
from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine
from voiceguide.core.timeline import build_timeline, estimate_speech_seconds
from voiceguide.speech_out.speaker import AudioSpeechOut, open_speech_out

log = logging.getLogger("voiceguide.audio")
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 1.0, 30.0


class TeeSpeech:
    """Sends every speech action to several sinks (the speaker, and the console or the log)."""

    def __init__(self, *sinks: SpeechSink) -> None:
        self.sinks = sinks

    def speak(self, text: str) -> None:
        """Say `text` on every sink."""
        self._each(lambda sink: sink.speak(text))

    def cancel(self) -> None:
        """Silence every sink."""
        self._each(lambda sink: sink.cancel())

    def set_volume(self, volume: float) -> None:
        """Set the volume on every sink."""
        self._each(lambda sink: sink.set_volume(volume))

    def set_rate(self, rate_wpm: int) -> None:
        """Set the speech rate on every sink."""
        self._each(lambda sink: sink.set_rate(rate_wpm))

    def _each(self, call: Callable[[SpeechSink], None]) -> None:
        # A failing speaker must never keep the line from the console or the log, where it may
        # be the only trace of what the box meant to say.
        for sink in self.sinks:
            try:
                call(sink)
            except Exception:
                log.exception("speech sink %s failed", type(sink).__name__)


class LogSpeech:
    """A SpeechSink that writes each spoken line to the log (journald under systemd)."""

    def speak(self, text: str) -> None:
        """Log the line."""
        log.info("say: %s", text)

    def cancel(self) -> None:
        """Log the cut."""
        log.info("speech cancelled")

    def set_volume(self, volume: float) -> None:
        """Log the new volume."""
        log.info("volume %.0f%%", volume * 100)

    def set_rate(self, rate_wpm: int) -> None:
        """Log the new rate."""
        log.info("speech rate %d wpm", rate_wpm)


def open_speaker_or_none(config: Config) -> AudioSpeechOut | None:
    """The speaker, or None (logged once, with the reason) when no output device opens."""
    try:
        return open_speech_out(config)
    except NoOutputDevice as exc:
        log.warning("no speaker: %s; using console mode (spoken lines are printed only)", exc)
        return None


def has_input_device(config: Config) -> bool:
    """True if the configured (or default) microphone exists right now."""
    try:
        choose_input_device(config.input_device)
    except NoInputDevice:
        return False
    return True


def wait_for_speaker(config: Config, stop: threading.Event) -> AudioSpeechOut | None:
    """Open the speaker, retrying with back-off while it is missing; None if `stop` is set."""
    delay = RETRY_FIRST_SECONDS
    warned = False
    while not stop.is_set():
        try:
            return open_speech_out(config)
        except NoOutputDevice as exc:
            if not warned:
                log.warning("waiting for a speaker: %s", exc)
                warned = True
        stop.wait(delay)
        delay = min(RETRY_MAX_SECONDS, delay * 2)
    return None


def phrases_to_prepare(routines: list[Routine], locale: Locale, rate_wpm: int) -> set[str]:
    """Every fixed text a session may say: each routine's timeline and the plain prompts."""
    texts: set[str] = set()
    for routine in routines:
        plan = build_timeline(routine, locale, lambda t: estimate_speech_seconds(t, rate_wpm))
        texts |= plan.texts()
        texts.add(locale.prompt("starting", title=routine.title))
    texts |= {p for p in locale.prompts.values() if "{" not in p}
    pain = f"{locale.prompt('pain_advice')} {locale.prompt('pain_red_flags')}"
    texts.add(pain)  # the one phrase that must never wait for synthesis
    return texts


def prepare_phrases(
    speaker: AudioSpeechOut, texts: set[str], notifier: ServiceNotifier | None = None
) -> None:
    """Render `texts` into the phrase cache before anything is timed."""
    started = time.monotonic()
    if notifier is not None:
        # A first run on a Pi renders a few hundred phrases; tell systemd it is still starting.
        notifier.extend_start(max(60.0, len(texts) * 2.0))
    speaker.prepare(sorted(texts))
    log.info("%d phrases ready in %.1f s", len(texts), time.monotonic() - started)

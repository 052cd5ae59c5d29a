"""Speech sinks the app combines: one speech action sent to several sinks, and the log."""

from __future__ import annotations

import logging
from collections.abc import Callable

from voiceguide.app.ports import SpeechSink

log = logging.getLogger("voiceguide.audio")


class TeeSpeech:
    """Sends every speech action to several sinks (the speaker, and the console or the log)."""

    def __init__(self, *sinks: SpeechSink) -> None:
        self.sinks = sinks

    def speak(self, text: str, kind: str = "prompt") -> None:
        """Say `text` on every sink."""
        self._each(lambda sink: sink.speak(text, kind))

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

    def speak(self, text: str, kind: str = "prompt") -> None:
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

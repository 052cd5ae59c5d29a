"""The speech-recogniser interface shared by every engine, and the factory that picks one.

Engine packages (pocketsphinx, vosk) are imported only inside their adapters, and the
adapters only when `create_engine` asks for them, so the rest of the program never pays for
an engine it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voiceguide.core.locale import Locale
from voiceguide.errors import UserError

ENGINES = ("pocketsphinx", "vosk")


@dataclass(frozen=True)
class Hypothesis:
    """A recogniser result for a stretch of audio."""

    text: str
    is_final: bool  # False for a partial result (pain/stop act on partials)
    start_seconds: float  # from the start of the stream
    end_seconds: float
    confidence: float  # 0..1, engine-specific but monotonic


class Engine(Protocol):
    """A streaming recogniser restricted to a list of phrases."""

    sample_rate_hz: int  # 16000

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        """Feed a chunk; get any new partial/final results."""
        ...

    def flush(self) -> list[Hypothesis]:
        """End of stream: results for audio still being decoded."""
        ...

    def reset(self) -> None:
        """Forget the stream so far; times count from zero again."""
        ...


def create_engine(
    name: str, locale: Locale, grammar_phrases: list[str], model_path: Path | None = None
) -> Engine:
    """A recogniser `name` listening for `grammar_phrases`; UserError if it cannot be set up."""
    if name == "pocketsphinx":
        if locale.language != "en":
            raise UserError(
                f"pocketsphinx only has an English model; for locale '{locale.language}' "
                "use --engine vosk",
                2,
            )
        from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine

        return PocketsphinxEngine(grammar_phrases, model_dir=model_path)
    if name == "vosk":
        from voiceguide.speech_in.engines.vosk import create_vosk_engine

        return create_vosk_engine(locale, grammar_phrases, model_path)
    raise UserError(f"unknown speech engine '{name}' (choose from: {', '.join(ENGINES)})", 2)

"""The speech-recogniser interface every engine implements (speech_in.factory builds them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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

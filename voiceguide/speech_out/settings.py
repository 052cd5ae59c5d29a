"""Typed settings for speech output, built once by the app from its config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.speech_out.phrase_cache import default_cache_dir
from voiceguide.speech_out.synth import VoiceSettings


@dataclass(frozen=True)
class SpeakerSettings:
    """Everything the speaker needs: the voice, where phrases are cached, and the device."""

    voice: VoiceSettings = field(default_factory=VoiceSettings)
    phrase_dir: Path = field(default_factory=default_cache_dir)
    output_device: str | int | None = None  # name substring or PortAudio index; None: default
    output_rate_hz: int | None = None  # None: the device's own preferred rate
    volume: float = 0.8  # 0..1
    output_latency_seconds: float = 0.03

"""Typed settings for speech input, built once by the app from its config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ENGINES = ("pocketsphinx", "vosk", "neural")
GRAMMAR_ENGINE = "pocketsphinx"  # for phrase tables the neural head was not trained on (idle)


@dataclass(frozen=True)
class ModelSettings:
    """Where speech models are installed and which Vosk model to use."""

    models_dir: Path | None = None  # None: the user's data folder (and a checkout's models/)
    vosk_model: str | None = None  # a manifest name or a folder; None: the first for the locale


@dataclass(frozen=True)
class ListenSettings:
    """Which recogniser listens, on which microphone."""

    engine: str = "pocketsphinx"
    input_device: str | int | None = None  # name substring or PortAudio index; None: default
    models: ModelSettings = field(default_factory=ModelSettings)
    # Subtract the box's own speech from the microphone (libspeexdsp). Off for hardware, or a
    # PipeWire/PulseAudio echo-cancel source, that already does it.
    echo_cancel: bool = True

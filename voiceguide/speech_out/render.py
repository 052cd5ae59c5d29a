"""`voiceguide render`: mix a routine's whole timeline into one WAV file, with no real-time wait."""

from __future__ import annotations

import os
import tempfile
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.audio.devices import resample
from voiceguide.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceguide.core.timeline import Timeline
from voiceguide.errors import UserError
from voiceguide.speech_out.phrase_cache import PhraseCache
from voiceguide.speech_out.settings import SpeakerSettings
from voiceguide.speech_out.synth import Synthesizer, VoiceSettings

CUT_FADE_SECONDS = 0.005  # a cue cut off by the next one fades out this fast, without a click
MIN_RATE_HZ, MAX_RATE_HZ = 8000, 192000
WAV_SUFFIXES = (".wav", ".wave")


@dataclass(frozen=True)
class RenderResult:
    """What a render produced."""

    path: Path
    seconds: float
    cues: int
    cut_short: int  # cues still sounding when the next cue (or the end) arrived


def mix(
    placed: Iterable[tuple[float, np.ndarray]], total_seconds: float, sample_rate_hz: int
) -> tuple[np.ndarray, int]:
    """Place each (offset, float audio) at its exact frame; a later cue cuts off an earlier one.

    Returns the mixed float32 signal, exactly `total_seconds` long, and how many cues were cut.
    """
    total = round(total_seconds * sample_rate_hz)
    out = np.zeros(total, dtype=np.float32)
    items = sorted(
        ((round(at * sample_rate_hz), audio) for at, audio in placed), key=lambda item: item[0]
    )
    fade = max(1, round(CUT_FADE_SECONDS * sample_rate_hz))
    cut = 0
    for index, (start, audio) in enumerate(items):
        limit = items[index + 1][0] if index + 1 < len(items) else total
        limit = min(limit, total)
        length = min(len(audio), limit - start)
        if length <= 0:
            cut += 1
            continue
        chunk = audio[:length].astype(np.float32)
        if length < len(audio):
            cut += 1
            ramp = min(fade, length)
            chunk[-ramp:] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
        out[start : start + length] = chunk
    return out, cut


def check_output_path(path: Path) -> None:
    """Refuse, before any work, an output render cannot honour: not .wav, or no folder for it."""
    # Only WAV is written: a WAV under an .mp3 name would fool whatever opens it next.
    if path.suffix and path.suffix.lower() not in WAV_SUFFIXES:
        raise UserError(
            f"cannot write {path}: render writes WAV only, so name it {path.stem}.wav "
            "(convert afterwards if you need another format)",
            2,
        )
    if path.is_dir():
        raise UserError(f"cannot write {path}: it is a folder; give a file name ending .wav", 2)
    folder = path.resolve().parent
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: folder {folder} does not exist", 2)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: folder {folder} is not writable by this user", 2)


def write_wav(path: Path, samples: np.ndarray, sample_rate_hz: int) -> None:
    """Write float samples as 16-bit mono WAV, atomically (a reader never sees half a file)."""
    pcm = float_to_pcm16(samples)
    folder = path.resolve().parent
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: folder {folder} does not exist", 2)
    handle, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate_hz)
            wav.writeframes(pcm.tobytes())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def render_timeline(
    timeline: Timeline,
    cache: PhraseCache,
    settings: VoiceSettings,
    sample_rate_hz: int = 22050,
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Render every cue (through the phrase cache) and mix the session; returns (audio, cut)."""
    if not MIN_RATE_HZ <= sample_rate_hz <= MAX_RATE_HZ:
        raise UserError(f"sample rate must be {MIN_RATE_HZ} to {MAX_RATE_HZ} Hz", 2)
    cache.prepare(timeline.texts(), settings, progress=progress)
    audio_by_text: dict[str, np.ndarray] = {}
    placed = []
    for cue in timeline.cues():
        if cue.text not in audio_by_text:
            pcm = cache.load(cue.text, settings)
            floats = pcm16_to_float(pcm.samples)
            audio_by_text[cue.text] = resample(floats, pcm.sample_rate_hz, sample_rate_hz)
        placed.append((cue.at_seconds, audio_by_text[cue.text]))
    return mix(placed, timeline.total_seconds, sample_rate_hz)


def render_to_file(
    timeline: Timeline, settings: SpeakerSettings, out_path: Path, sample_rate_hz: int = 22050
) -> RenderResult:
    """Render a planned timeline, exactly as it would be spoken, into one WAV file."""
    check_output_path(out_path)  # before minutes of synthesis, not after
    with Synthesizer() as synth:
        cache = PhraseCache(settings.phrase_dir, synth)
        audio, cut = render_timeline(timeline, cache, settings.voice, sample_rate_hz, progress=True)
    write_wav(out_path, audio, sample_rate_hz)
    return RenderResult(out_path, len(audio) / sample_rate_hz, len(timeline.cues()), cut)

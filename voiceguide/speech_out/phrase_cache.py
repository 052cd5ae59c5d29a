"""Render-ahead phrase cache: one checksummed WAV file per (text, voice, rate, pitch, engine)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voiceguide.speech_out.synth import Pcm, Synthesizer, VoiceSettings, read_wav

log = logging.getLogger(__name__)

# A trailing RIFF chunk holding the sha256 of everything before it. WAV readers skip unknown
# chunks, and it lets us tell a complete entry from a truncated or damaged one.
_CHECK_CHUNK = b"vgck"
_CHECK_LEN = 8 + 32


def default_cache_dir() -> Path:
    """Where phrases are cached when the config does not say: the user cache dir."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("voiceguide")) / "phrases"


def _seal(wav_bytes: bytes) -> bytes:
    """Append the checksum chunk and fix the RIFF size to cover it."""
    body = wav_bytes[12:]
    digest = hashlib.sha256(body).digest()
    riff_size = len(wav_bytes) - 8 + _CHECK_LEN
    header = b"RIFF" + struct.pack("<I", riff_size) + wav_bytes[8:12]
    return header + body + _CHECK_CHUNK + struct.pack("<I", 32) + digest


def is_intact(data: bytes) -> bool:
    """True if `data` is a complete cache entry whose checksum matches."""
    if len(data) < 12 + _CHECK_LEN or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size != len(data) - 8:
        return False
    trailer = data[-_CHECK_LEN:]
    if trailer[:4] != _CHECK_CHUNK or struct.unpack("<I", trailer[4:8])[0] != 32:
        return False
    return hashlib.sha256(data[12:-_CHECK_LEN]).digest() == trailer[8:]


def normalise(text: str) -> str:
    """Collapse whitespace, which does not change how a phrase sounds."""
    return " ".join(text.split())


@dataclass(frozen=True)
class PrepareStats:
    """What one `prepare` call did."""

    phrases: int
    hits: int
    rendered: int
    seconds: float

    @property
    def hit_rate(self) -> float:
        """Fraction of phrases that were already cached."""
        return self.hits / self.phrases if self.phrases else 1.0


class PhraseCache:
    """Rendered phrases on disk, keyed by a hash of text, voice settings and engine version."""

    def __init__(self, directory: Path | None, synth: Synthesizer) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.synth = synth
        self.hits = 0
        self.misses = 0
        self.repaired = 0

    def key(self, text: str, settings: VoiceSettings) -> str:
        """The sha256 cache key for a phrase."""
        material = json.dumps(
            [
                normalise(text),
                settings.voice,
                settings.rate_wpm,
                settings.pitch,
                self.synth.engine_version,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def path_for(self, text: str, settings: VoiceSettings) -> Path:
        """Where the phrase's WAV file lives (whether or not it exists yet)."""
        return self.directory / f"{self.key(text, settings)}.wav"

    def lookup(self, text: str, settings: VoiceSettings) -> Path | None:
        """Path of an intact cached rendering, or None (a damaged entry is removed)."""
        path = self.path_for(text, settings)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if is_intact(data):
            return path
        log.warning("phrase cache entry %s is damaged; it will be rendered again", path.name)
        path.unlink(missing_ok=True)
        self.repaired += 1
        return None

    def ensure(self, text: str, settings: VoiceSettings) -> Path:
        """Path of the phrase's rendering, rendering it now if needed."""
        path = self.lookup(text, settings)
        if path is not None:
            self.hits += 1
            return path
        self.misses += 1
        return self._render(text, settings)

    def load(self, text: str, settings: VoiceSettings) -> Pcm:
        """The phrase's audio, rendering it now if needed."""
        return read_wav(self.ensure(text, settings))

    def cached(self, text: str, settings: VoiceSettings) -> Pcm | None:
        """The phrase's audio if it is already cached, else None; never renders."""
        path = self.lookup(text, settings)
        if path is None:
            return None
        self.hits += 1
        return read_wav(path)

    def _render(self, text: str, settings: VoiceSettings) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path_for(text, settings)
        with tempfile.TemporaryDirectory(dir=self.directory, prefix=".render-") as tmp:
            raw = Path(tmp) / "raw.wav"
            self.synth.render_to_file(text, settings, raw)
            read_wav(raw)  # fails loudly if the worker wrote something that is not a WAV
            sealed = Path(tmp) / "sealed.wav"
            sealed.write_bytes(_seal(raw.read_bytes()))
            # Same directory, so the rename is atomic: readers see all of the file or none.
            os.replace(sealed, final)
        return final

    def prepare(
        self, texts: Iterable[str], settings: VoiceSettings, progress: bool = True
    ) -> PrepareStats:
        """Render every phrase not yet cached, so none has to wait for synthesis later."""
        unique = sorted({normalise(t) for t in texts} - {""})
        started = time.monotonic()
        hits = rendered = 0
        items: Iterable[str] = unique
        if progress:
            from tqdm import tqdm

            items = tqdm(unique, desc="preparing speech", unit="phrase", leave=False)
        for text in items:
            if self.lookup(text, settings) is not None:
                hits += 1
                continue
            self._render(text, settings)
            rendered += 1
        self.hits += hits
        self.misses += rendered
        return PrepareStats(len(unique), hits, rendered, time.monotonic() - started)

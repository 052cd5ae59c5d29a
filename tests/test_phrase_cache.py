"""The phrase cache: keys, atomic checksummed entries, and repair of damaged files."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceguide.app.config import Config
from voiceguide.speech_out.phrase_cache import PhraseCache, is_intact
from voiceguide.speech_out.settings import SpeakerSettings
from voiceguide.speech_out.synth import Synthesizer, VoiceSettings

TEXTS = ["Halfway there.", "five", "four", "And gently release."]


@pytest.fixture(scope="module")
def synth() -> Iterator[Synthesizer]:
    with Synthesizer() as s:
        yield s


@pytest.fixture
def cache(tmp_path: Path, synth: Synthesizer) -> PhraseCache:
    return PhraseCache(tmp_path / "phrases", synth)


def test_prepare_renders_once_then_hits(cache: PhraseCache) -> None:
    first = cache.prepare([*TEXTS, "five", " five "], VoiceSettings(), progress=False)
    assert (first.phrases, first.rendered, first.hits) == (4, 4, 0)
    second = cache.prepare(TEXTS, VoiceSettings(), progress=False)
    assert (second.rendered, second.hits, second.hit_rate) == (0, 4, 1.0)
    assert sorted(p.suffix for p in cache.directory.iterdir()) == [".wav"] * 4  # no temp files


def test_key_covers_text_voice_rate_pitch_and_engine(cache: PhraseCache) -> None:
    base = VoiceSettings()
    key = cache.key("five", base)
    assert cache.key("  five ", base) == key  # whitespace does not change speech
    assert cache.key("Five", base) != key
    assert cache.key("five", VoiceSettings(rate_wpm=200)) != key
    assert cache.key("five", VoiceSettings(pitch=60)) != key
    assert cache.key("five", VoiceSettings(voice="en-gb")) != key
    assert len(key) == 64


def test_entries_are_ordinary_wav_files(cache: PhraseCache) -> None:
    path = cache.ensure("Halfway there.", VoiceSettings())
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() > 22050 * 0.4
    assert is_intact(path.read_bytes())


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_entry_is_detected_and_rendered_again(cache: PhraseCache, damage: str) -> None:
    settings = VoiceSettings()
    path = cache.ensure("And gently release.", settings)
    good = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "flip":
        middle = len(good) // 2
        path.write_bytes(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1 :])
    else:
        path.write_bytes(b"")
    assert cache.lookup("And gently release.", settings) is None
    stats = cache.prepare(["And gently release."], settings, progress=False)
    assert stats.rendered == 1
    assert cache.repaired == 1
    assert is_intact(path.read_bytes())
    assert cache.load("And gently release.", settings).duration_seconds > 0.5


def test_cache_folder_comes_from_config(tmp_path: Path) -> None:
    assert Config(cache_dir=tmp_path).speaker_settings().phrase_dir == tmp_path / "phrases"
    assert SpeakerSettings().phrase_dir.name == "phrases"

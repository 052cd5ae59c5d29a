"""Real PocketSphinx on speech synthesised by espeak-ng at test time, through the same
streaming path as live listening and `voiceguide recognize`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from voiceguide.content.locales import load_locale
from voiceguide.errors import UserError
from voiceguide.speech_in.factory import create_engine
from voiceguide.speech_in.listener import HeardCommand, Listener, grammar_for, run_stream

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
RATE = 16000
VOICE, WPM = "en-us+klatt4", 150  # a voice the bundled model hears well (see docs)
ROOT = Path(__file__).resolve().parents[1]


def speak(text: str) -> np.ndarray:
    """espeak-ng's rendering of `text`, as float32 at 16 kHz."""
    wav = subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(WPM), "--stdout", text],
                         capture_output=True, check=True).stdout  # fmt: skip
    with wave.open(__import__("io").BytesIO(wav)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
        return soxr.resample(pcm, w.getframerate(), RATE).astype(np.float32)


def stream(*texts: str, gap_seconds: float = 1.5) -> tuple[bytes, list[tuple[float, float]]]:
    """The texts one after another with pauses, over a quiet noise floor like a real mic."""
    rng = np.random.default_rng(7)
    parts, spans, pos = [np.zeros(RATE, np.float32)], [], RATE
    for text in texts:
        clip = speak(text)
        clip = clip * (0.05 / np.sqrt(np.mean(clip**2)))  # about -26 dBFS
        spans.append((pos / RATE, (pos + len(clip)) / RATE))
        parts += [clip, np.zeros(int(gap_seconds * RATE), np.float32)]
        pos += len(clip) + int(gap_seconds * RATE)
    audio = np.concatenate(parts)
    audio += rng.standard_normal(len(audio)).astype(np.float32) * 5e-4
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes(), spans


@pytest.fixture(scope="module")
def listener() -> Listener:
    locale = load_locale("en")
    engine = create_engine("pocketsphinx", locale, grammar_for(locale.commands))
    return Listener(engine, locale)


def recognise(listener: Listener, pcm: bytes) -> list[HeardCommand]:
    listener.reset()
    return run_stream(listener, pcm, 0.03)


def test_it_hurts_and_pause_are_heard_and_talk_is_not(listener: Listener) -> None:
    pcm, spans = stream("it hurts", "pause", "I think we should go to the shops before dinner.")
    heard = recognise(listener, pcm)
    assert [h.command for h in heard] == ["pain", "pause"]
    for h, (start, end) in zip(heard, spans, strict=False):
        assert start - 0.3 <= h.start_seconds and h.end_seconds <= end + 0.3
        assert h.heard_at_seconds - end < 1.0  # decided soon after the words end
        assert 0.0 <= h.confidence <= 1.0


def test_without_the_phone_loop_the_grammar_score_alone_still_decides() -> None:
    # The benchmark's ablation (docs/benchmarks.md): cheaper, and less accurate on the corpus.
    import dataclasses

    from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine, SphinxSettings

    locale = load_locale("en")
    settings = dataclasses.replace(SphinxSettings(), phone_loop=False, llr_center=-59.0)
    engine = PocketsphinxEngine(grammar_for(locale.commands), settings)
    pcm, _ = stream("it hurts", "pause", "I think we should go to the shops before dinner.")
    heard = recognise(Listener(engine, locale), pcm)
    assert [h.command for h in heard] == ["pain", "pause"]


def test_a_non_command_sentence_gives_no_command(listener: Listener) -> None:
    pcm, _ = stream("The weather looks lovely today, maybe we can walk to the park.")
    assert recognise(listener, pcm) == []


def test_silence_and_steady_noise_give_no_command(listener: Listener) -> None:
    rng = np.random.default_rng(2)
    noise = (rng.standard_normal(RATE * 5) * 0.02 * 32767).astype(np.int16).tobytes()
    assert recognise(listener, bytes(RATE * 2 * 3)) == []
    assert recognise(listener, noise) == []


def test_commands_are_heard_over_a_steady_fan_like_noise(listener: Listener) -> None:
    """White noise 10 dB below the speech: the steady-noise denoiser must switch on."""
    pcm, _ = stream("it hurts", "pause", "louder", gap_seconds=2.0)
    speech = np.frombuffer(pcm, np.int16).astype(np.float32) / 32768
    lead = np.zeros(RATE * 4, np.float32)  # the fan runs before anyone speaks
    audio = np.concatenate([lead, speech])
    rng = np.random.default_rng(3)
    audio += rng.standard_normal(len(audio)).astype(np.float32) * 0.05 / np.sqrt(10)
    noisy = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
    assert [h.command for h in recognise(listener, noisy)] == ["pain", "pause", "louder"]


def test_the_recognize_command_prints_one_json_line_per_file(tmp_path: Path) -> None:
    pcm, _ = stream("it hurts")
    path = tmp_path / "hurts.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(pcm)
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "recognize", "--engine", "pocketsphinx",
         str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip())
    assert record["file"] == str(path)
    assert [c["command"] for c in record["commands"]] == ["pain"]
    assert {"command", "phrase", "start", "end", "confidence"} <= record["commands"][0].keys()


def test_recognize_idle_hears_start_and_the_routine_name(tmp_path: Path) -> None:
    pcm, _ = stream("start gentle back", "pause")
    path = tmp_path / "start.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(pcm)
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "recognize", "--idle", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip())
    # Idle mode has no "pause": only the start phrase, with the routine's name, is heard. The
    # command names the routine, from the same idle table serve listens with.
    assert [(c["command"], c["phrase"]) for c in record["commands"]] == [
        ("start:gentle-back", "start gentle back")
    ]


def test_a_file_that_is_not_audio_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "recognize", str(bad)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "notes.wav" in result.stderr


def test_pocketsphinx_has_no_korean_model() -> None:
    with pytest.raises(UserError, match="vosk"):
        create_engine("pocketsphinx", load_locale("ko"), ["그만"])

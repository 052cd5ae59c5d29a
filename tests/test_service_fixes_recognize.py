"""Issue 13, part 8: `recognize` names each bad file in words and goes on to the rest."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.cli.wav_files import BadRecording, read_pcm

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000


def tone_pcm(seconds: float = 1.0) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def write_wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)
    return path


def float_wav(path: Path) -> Path:
    data = np.zeros(RATE, "<f4").tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 3, 1, RATE, RATE * 4, 4, 32)  # format 3: IEEE float
    riff = b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    return path


def reason(path: Path) -> str:
    with pytest.raises(BadRecording) as caught:
        read_pcm(path)
    return str(caught.value)


def test_a_truncated_wav_is_an_error_not_silence(tmp_path: Path) -> None:
    whole = write_wav(tmp_path / "whole.wav", tone_pcm()).read_bytes()
    for cut in (44 + 1000, 44 + 1001):  # a whole number of frames, and half a frame
        path = tmp_path / f"cut{cut}.wav"
        path.write_bytes(whole[:cut])
        assert reason(path) == (
            "is truncated: its header promises 1.00 s of audio, the file holds 0.03 s"
        )
    (tmp_path / "header.wav").write_bytes(whole[:30])
    assert reason(tmp_path / "header.wav") == "is cut short inside its WAV header"


def test_a_text_file_and_an_empty_file_say_what_they_are(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("hello, these are my notes\n")
    assert reason(tmp_path / "notes.wav") == (
        "is a text file, not a WAV recording (it does not start with RIFF/WAVE)"
    )
    (tmp_path / "empty.wav").write_bytes(b"")
    assert reason(tmp_path / "empty.wav") == "is empty"
    (tmp_path / "noise.wav").write_bytes(bytes(range(256)))
    assert reason(tmp_path / "noise.wav") == (
        "is not a WAV recording (it does not start with RIFF/WAVE)"
    )


def test_a_float_wav_is_refused_with_the_way_to_convert_it(tmp_path: Path) -> None:
    message = reason(float_wav(tmp_path / "float.wav"))
    assert message.startswith("is a 32/64-bit float WAV, which is not read here; convert it")
    assert "unknown format" not in message and "sox" in message


def test_recognize_reports_each_bad_file_goes_on_and_fails_at_the_end(tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav", tone_pcm())
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n")
    floats = float_wav(tmp_path / "float.wav")
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "recognize", "--engine", "pocketsphinx",
         str(text), str(good), str(floats)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(text), str(good), str(floats)]
    assert records[1]["commands"] == [] and "error" in records[0] and "error" in records[2]
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == [str(text), str(floats)]
    assert all(line.startswith("voiceguide: ") for line in lines)

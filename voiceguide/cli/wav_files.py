"""Reading recordings for `voiceguide recognize`: PCM WAV in, a plain reason for any other file."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np

from voiceguide.audio.pcm import SPEECH_RATE_HZ, float_to_pcm16, pcm16_to_float

# WAVE format tags Python's wave module cannot read, as a person would name them.
FORMAT_NAMES = {
    3: "32/64-bit float",
    6: "A-law",
    7: "mu-law",
    0x11: "IMA ADPCM",
    0x55: "MP3",
    0xFFFE: "non-PCM (extensible)",
}
_CONVERT = "convert it to 16-bit PCM first, e.g.: sox IN.wav -b 16 -e signed-integer OUT.wav"


class BadRecording(Exception):
    """A file `recognize` cannot read; the message says why, in words."""


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as raw:
            head = raw.read(512)
    except OSError as exc:
        raise BadRecording(f"cannot be read: {(exc.strerror or str(exc)).lower()}") from None
    if not head:
        raise BadRecording("is empty")
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        kind = "is a text file, not" if _looks_like_text(head) else "is not"
        raise BadRecording(f"{kind} a WAV recording (it does not start with RIFF/WAVE)")


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """The file's samples as floats shaped (frames, channels), and its rate; BadRecording if not."""
    _check_header(path)
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            promised = wav.getnframes()
            frames = wav.readframes(promised)
    except EOFError:
        raise BadRecording("is cut short inside its WAV header") from None
    except wave.Error as exc:
        found = re.fullmatch(r"unknown format: (\d+)", str(exc))
        if found:
            name = FORMAT_NAMES.get(int(found.group(1)), f"format {found.group(1)}")
            raise BadRecording(f"is a {name} WAV, which is not read here; {_CONVERT}") from None
        raise BadRecording(f"is not a readable WAV file ({exc})") from None
    except OSError as exc:
        raise BadRecording(f"cannot be read: {(exc.strerror or str(exc)).lower()}") from None
    if width != 2:
        raise BadRecording(f"is {8 * width}-bit; only 16-bit PCM WAV is read: {_CONVERT}")
    frame_bytes = width * channels
    if len(frames) < promised * frame_bytes:
        # wave hands back whatever is there; a cut-off file would be heard as silence.
        held = len(frames) // frame_bytes
        raise BadRecording(
            f"is truncated: its header promises {promised / rate:.2f} s of audio, the file "
            f"holds {held / rate:.2f} s"
        )
    return pcm16_to_float(frames).reshape(-1, channels), rate


def read_wav_16k(path: Path) -> list[bytes]:
    """Each channel of a 16-bit PCM WAV as mono PCM at 16 kHz (resampled with soxr)."""
    import soxr

    samples, rate = read_pcm(path)
    out = []
    for channel in samples.T:
        if rate != SPEECH_RATE_HZ:
            channel = soxr.resample(channel, rate, SPEECH_RATE_HZ)
        out.append(float_to_pcm16(channel).tobytes())
    return out

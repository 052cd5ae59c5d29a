"""The one float <-> 16-bit PCM conversion (voiceguide.audio.pcm)."""

from __future__ import annotations

import numpy as np

from voiceguide.audio.pcm import SPEECH_RATE_HZ, float_to_pcm16, pcm16_to_float


def test_the_speech_rate_is_the_recognisers_rate() -> None:
    assert SPEECH_RATE_HZ == 16000


def test_float_to_pcm16_scales_by_32767_and_clips() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -3.0, 1e-6], np.float32)
    pcm = float_to_pcm16(samples)
    assert pcm.dtype == np.dtype("<i2")
    assert pcm.tolist() == [0, 16383, -16383, 32767, -32767, 32767, -32767, 0]


def test_float_to_pcm16_bytes_are_little_endian() -> None:
    assert float_to_pcm16(np.array([1.0, -1.0])).tobytes() == b"\xff\x7f\x01\x80"


def test_float_to_pcm16_matches_the_arithmetic_callers_used() -> None:
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        samples = rng.normal(0.0, 0.8, 4000).astype(dtype)
        old = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        assert float_to_pcm16(samples).tobytes() == old.tobytes()


def test_pcm16_to_float_divides_by_32768() -> None:
    pcm = np.array([0, 16384, -16384, 32767, -32768], np.int16)
    samples = pcm16_to_float(pcm)
    assert samples.dtype == np.float32
    assert samples.tolist() == [0.0, 0.5, -0.5, 32767 / 32768, -1.0]


def test_pcm16_to_float_takes_bytes_or_an_array_alike() -> None:
    pcm = np.arange(-32768, 32768, 97, dtype=np.int16)
    from_array = pcm16_to_float(pcm)
    assert from_array.tobytes() == pcm16_to_float(pcm.tobytes()).tobytes()
    assert from_array.tobytes() == (pcm.astype(np.float32) / 32768.0).tobytes()


def test_a_round_trip_stays_within_two_steps() -> None:
    samples = np.linspace(-1.0, 1.0, 1001, dtype=np.float32)
    back = pcm16_to_float(float_to_pcm16(samples))
    assert np.max(np.abs(back - samples)) <= 2.0 / 32767  # truncation, then 32767 vs 32768

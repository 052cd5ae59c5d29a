"""The one PCM conversion: float samples in -1..1 to and from 16-bit little-endian integers.

The arithmetic is fixed so that every caller gets the same bytes: float to int16 clips to ±1
and scales by 32767 (so +1.0 is 32767 and -1.0 is -32767, never wrapping), int16 to float
divides by 32768 (so -32768 reads as exactly -1.0).
"""

from __future__ import annotations

import numpy as np

SPEECH_RATE_HZ = 16000  # the rate every recogniser, the echo canceller and the VAD work at
PCM16 = np.dtype("<i2")  # signed 16-bit little-endian: what the engines and WAV files take


def float_to_pcm16(samples: np.ndarray) -> np.ndarray:
    """int16 (little-endian) samples from float ones, clipped to ±1; `.tobytes()` for bytes."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(PCM16)


def pcm16_to_float(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """float32 samples in -1..1 from int16 ones (raw little-endian bytes or an array)."""
    if isinstance(data, np.ndarray):
        samples = data
    else:
        samples = np.frombuffer(data, PCM16)
    return samples.astype(np.float32) / 32768.0

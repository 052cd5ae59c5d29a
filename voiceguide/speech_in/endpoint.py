"""Speech/non-speech per 10 ms frame, relative to the room's own noise floor.

A fixed-threshold detector hears a fan or a quiet echo residual as speech forever, so the
utterance never ends and no command is decided. This one measures each frame's energy in
the band where speech is strongest (250-3500 Hz, which leaves out most of a fan's rumble
and hiss), tracks the noise floor as a low percentile of recent frames, and calls a frame
speech only when it stands clearly above that floor and above an absolute minimum level.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voiceguide.audio.pcm import SPEECH_RATE_HZ, pcm16_to_float

BAND_HZ = (250.0, 3500.0)
FFT_SIZE = 256


class NoiseFloorVad:
    """Band-energy detector with an adaptive floor, for 10 ms int16 frames at 16 kHz."""

    def __init__(
        self,
        margin_db: float = 8.0,
        min_dbfs: float = -55.0,
        floor_seconds: float = 3.0,
        floor_percentile: float = 10.0,
        sample_rate_hz: int = SPEECH_RATE_HZ,
        frames_per_second: int = 100,
    ) -> None:
        self.margin_db = margin_db
        self.min_dbfs = min_dbfs
        self.floor_percentile = floor_percentile
        freqs = np.fft.rfftfreq(FFT_SIZE, 1.0 / sample_rate_hz)
        self._band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
        self._window = np.hanning(sample_rate_hz // frames_per_second).astype(np.float32)
        # Scales band power so a full-scale sine in the band reads about 0 dBFS.
        self._norm = 2.0 / float(self._window.sum() ** 2)
        self._history: deque[float] = deque(maxlen=round(floor_seconds * frames_per_second))
        self._floor = min_dbfs - margin_db
        self._count = 0

    @property
    def floor_dbfs(self) -> float:
        """Current noise-floor estimate."""
        return self._floor

    def levels(self, frames: np.ndarray) -> np.ndarray:
        """Band level in dBFS of each row of `frames` (n x samples-per-frame, int16)."""
        x = pcm16_to_float(frames) * self._window
        spectrum = np.fft.rfft(x, FFT_SIZE, axis=1)
        power = (np.abs(spectrum[:, self._band]) ** 2).sum(axis=1) * self._norm
        return 10.0 * np.log10(power + 1e-12)

    def decide(self, frames: np.ndarray) -> np.ndarray:
        """Speech (True) or not for each frame, updating the floor as it goes."""
        return self.decide_levels(self.levels(frames))

    def decide_levels(self, levels: np.ndarray) -> np.ndarray:
        """As decide(), from band levels already measured with levels()."""
        out = np.zeros(len(levels), bool)
        for i, level in enumerate(levels):
            self._history.append(float(level))
            self._count += 1
            if self._count % 10 == 0 or self._count < 10:  # the percentile is the costly part
                self._floor = float(np.percentile(self._history, self.floor_percentile))
            out[i] = level > self.min_dbfs and level > self._floor + self.margin_db
        return out

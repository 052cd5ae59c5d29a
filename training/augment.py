"""Augmentation: noise, babble, simulated rooms, the box's own speech as echo, a cheap USB mic."""

from __future__ import annotations

import numpy as np
import soxr

from bench.corpus import active_rms, pink_noise, white_noise

RATE_HZ = 16000
FLOOR_DBFS = -66.0


def brown_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS 1/f^2 noise."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    x = np.fft.irfft(spectrum / freqs, n)
    x -= x.mean()
    return (x / (x.std() + 1e-12)).astype(np.float32)


NOISES = {"white": white_noise, "pink": pink_noise, "brown": brown_noise}


def room_bank(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Impulse responses of simulated shoebox rooms (pyroomacoustics image method)."""
    import pyroomacoustics as pra

    bank = []
    while len(bank) < count:
        dims = np.array([rng.uniform(3, 7), rng.uniform(2.5, 6), rng.uniform(2.3, 3.2)])
        rt60 = rng.uniform(0.15, 0.7)
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:
            continue
        room = pra.ShoeBox(dims, fs=RATE_HZ, materials=pra.Material(absorption),
                           max_order=min(order, 12))  # fmt: skip
        src = [rng.uniform(0.5, d - 0.5) for d in dims]
        mic = [rng.uniform(0.5, d - 0.5) for d in dims]
        room.add_source(src)
        room.add_microphone(mic)
        room.compute_rir()
        h = np.asarray(room.rir[0][0], np.float32)
        h = h[np.argmax(np.abs(h)) - 40 if np.argmax(np.abs(h)) > 40 else 0 :][: int(0.8 * RATE_HZ)]
        bank.append((h / (np.abs(h).max() + 1e-9)).astype(np.float32))
    return bank


def reverb(audio: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response, keeping the level."""
    n = len(audio) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(h, size), size)[: len(audio)]
    return (out * (active_rms(audio) / (active_rms(out) + 1e-9))).astype(np.float32)


def speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Tempo and pitch together by `factor` (a different-sounding talker)."""
    return soxr.resample(audio, RATE_HZ * factor, RATE_HZ).astype(np.float32)


def usb_mic(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Band-limit like a cheap microphone: a high-pass and a soft low-pass."""
    spec = np.fft.rfft(audio)
    f = np.fft.rfftfreq(len(audio), 1 / RATE_HZ)
    lo, hi = rng.uniform(80, 350), rng.uniform(3400, 7500)
    gain = 1 / (1 + (lo / np.maximum(f, 1)) ** 4) / (1 + (f / hi) ** 6)
    tilt = 10 ** (rng.uniform(-4, 4) / 20 * (f / 4000 - 0.5))
    return np.fft.irfft(spec * gain * tilt, len(audio)).astype(np.float32)


def babble(bank: list[np.ndarray], n: int, rng: np.random.Generator, talkers: int) -> np.ndarray:
    """Unit-RMS babble of `talkers` continuous monologues made from bank clips."""
    mix = np.zeros(n, np.float32)
    for _ in range(talkers):
        parts, total = [], 0
        while total < n + RATE_HZ:
            clip = bank[int(rng.integers(len(bank)))]
            clip = clip / (active_rms(clip) + 1e-9) * 0.1
            gap = np.zeros(int(rng.uniform(0.05, 0.3) * RATE_HZ), np.float32)
            parts += [clip, gap]
            total += len(clip) + len(gap)
        voice = np.concatenate(parts)
        off = int(rng.integers(0, len(voice) - n))
        mix += voice[off : off + n] * rng.uniform(0.6, 1.4)
    return (mix / (mix.std() + 1e-9)).astype(np.float32)


def after_echo_canceller(mic: np.ndarray, reference: np.ndarray, block: int = 1600) -> np.ndarray:
    """What the product's echo stage (speech_in.echo_path) leaves of `mic`, given what the box
    played (`reference`, on the same clock), fed in `block`-sample blocks. (The training scenes
    were made with 100 ms blocks; the live microphone thread feeds 30 ms, which is what
    training.tune_rule passes.)"""
    from voiceguide.speech_in.echo_path import feed_recording, offline_echo_path

    mic16 = (np.clip(mic, -1, 1) * 32767).astype(np.int16)
    ref16 = (np.clip(reference[: len(mic)], -1, 1) * 32767).astype(np.int16)
    path, feeder = offline_echo_path(ref16)
    try:
        cleaned = feed_recording(path, feeder, mic16, block).astype(np.float32) / 32768
    finally:
        path.close()
    return np.pad(cleaned, (0, len(mic) - len(cleaned)))

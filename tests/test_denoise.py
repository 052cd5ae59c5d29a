"""The steady-noise gate and libspeexdsp's denoiser (real library, synthetic signals)."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.speech_in.denoise import Denoiser, SteadyNoiseGate
from voiceguide.speech_in.echo_cancel import load_speexdsp


def test_the_gate_turns_on_for_a_steady_loud_floor_only() -> None:
    rng = np.random.default_rng(1)
    quiet, fan = SteadyNoiseGate(), SteadyNoiseGate()
    for _ in range(40):
        quiet.update(-67 + rng.normal(0, 0.5, 10))
        fan.update(-40 + rng.normal(0, 0.5, 10))
    assert not quiet.noisy and not quiet.warming
    assert fan.noisy and fan.warming


def test_the_gate_stays_off_under_background_talk_and_recovers() -> None:
    rng = np.random.default_rng(2)
    gate = SteadyNoiseGate()
    for _ in range(40):  # talk: syllables and gaps, levels swinging by 10-20 dB
        gate.update(-45 + rng.uniform(-12, 12, 10))
    assert not gate.noisy
    for _ in range(40):
        gate.update(-40 + rng.normal(0, 0.5, 10))
    assert gate.noisy
    for _ in range(40):  # the fan is switched off
        gate.update(-70 + rng.normal(0, 0.5, 10))
    assert not gate.noisy


@pytest.mark.skipif(load_speexdsp() is None, reason="needs libspeexdsp1")
def test_the_denoiser_lowers_steady_noise_by_several_db() -> None:
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal((400, 160)) * 1000).astype(np.int16)
    denoiser = Denoiser()
    out = denoiser.process(noise)
    denoiser.close()
    assert out.shape == noise.shape and out.dtype == np.int16
    before = np.mean(noise[200:].astype(np.float64) ** 2)
    after = np.mean(out[200:].astype(np.float64) ** 2)
    assert 10 * np.log10(after / before) < -6

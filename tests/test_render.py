"""`voiceguide render`: exact cue placement, cut-offs, and a real routine mixed to one WAV."""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.app.config import Config
from voiceguide.app.plans import timeline_for
from voiceguide.cli.speech import cmd_render
from voiceguide.errors import UserError
from voiceguide.speech_out.render import mix, write_wav

RATE = 8000


def test_mix_places_each_cue_at_its_exact_frame() -> None:
    beep = np.full(800, 0.5, dtype=np.float32)  # 0.1 s
    out, cut = mix([(0.25, beep), (1.0, beep)], total_seconds=2.0, sample_rate_hz=RATE)
    assert len(out) == 2 * RATE and cut == 0
    loud = np.nonzero(out)[0]
    assert loud[0] == 2000 and loud[799] == 2799  # first cue: frames 2000..2799
    assert np.count_nonzero(out) == 1600 and out[8000] == 0.5


def test_a_later_cue_cuts_off_an_earlier_one() -> None:
    long = np.full(RATE, 0.5, dtype=np.float32)  # 1 s
    short = np.full(400, -0.25, dtype=np.float32)
    out, cut = mix([(0.5, short), (0.0, long)], total_seconds=1.5, sample_rate_hz=RATE)
    assert cut == 1
    assert out[3999] == pytest.approx(0.0, abs=0.01)  # faded right before the cut
    assert out[3000] == 0.5
    assert np.all(out[4000:4400] == -0.25) and np.all(out[4400:] == 0)


def test_audio_past_the_end_is_cut_and_length_is_exact() -> None:
    long = np.full(RATE, 0.5, dtype=np.float32)
    out, cut = mix([(1.2, long)], total_seconds=1.5, sample_rate_hz=RATE)
    assert len(out) == 12000 and cut == 1


def test_write_wav_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        write_wav(tmp_path / "no" / "x.wav", np.zeros(10, np.float32), RATE)


@pytest.mark.parametrize("rate_hz", [22050, 48000])
def test_render_routine_matches_the_plan(tmp_path: Path, rate_hz: int) -> None:
    config = Config(cache_dir=tmp_path / "cache")
    out = tmp_path / "session.wav"
    args = argparse.Namespace(routine="quick-reset", output=out, rate=rate_hz)
    assert cmd_render(args, config) == 0
    timeline = timeline_for(config, "quick-reset")
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == rate_hz and wav.getnchannels() == 1
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / rate_hz
    assert seconds == pytest.approx(timeline.total_seconds, abs=0.05)
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768
    quiet_before = 0
    for cue in timeline.cues():
        start = round(cue.at_seconds * rate_hz)
        after = audio[start : start + rate_hz // 2]  # the cue's first half second
        assert np.abs(after).max() > 0.05, f"no speech at {cue.at_seconds:.2f} s ({cue.text})"
        before = audio[max(0, start - rate_hz // 10) : start]  # 100 ms before it
        quiet_before += len(before) == 0 or np.abs(before).max() < 0.002
    # Most cues start after silence; the rest cut off a previous cue that ran long.
    assert quiet_before >= 0.8 * len(timeline.cues())

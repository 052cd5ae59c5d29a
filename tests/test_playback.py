"""Real playback through PulseAudio null sinks, checked by recording the speaker's monitor."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio_room import AudioRoom, rms_db, sound_spans
from voiceguide.app.config import Config
from voiceguide.speech_out.player import PlayedBlock
from voiceguide.speech_out.speaker import AudioSpeechOut, open_speaker

pytestmark = pytest.mark.audio

LONG = "Lie on your back with your knees bent, and let your whole back settle into the mat."
SHORT = "Halfway there."
RATE = 48000
QUIET = 0.003  # peak level we call silence in the monitor (speech peaks are around 0.3)


def _config(tmp_path: Path, **overrides: object) -> Config:
    values: dict[str, object] = {"output_device": "vg_box_speaker", "cache_dir": tmp_path}
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


@pytest.fixture
def speech(audio_room: AudioRoom, tmp_path: Path) -> Iterator[AudioSpeechOut]:
    out = open_speaker(_config(tmp_path).speaker_settings())
    out.prepare([LONG, SHORT], progress=False)
    time.sleep(0.3)  # let the stream's sample clock settle
    yield out
    out.close()


def _window(samples: np.ndarray, start: float, t0: float, t1: float) -> np.ndarray:
    """Samples recorded between monotonic times t0 and t1."""
    a = max(0, round((t0 - start) * RATE))
    b = max(a, round((t1 - start) * RATE))
    return samples[a:b]


def test_speech_is_heard_and_stops_after_cancel(
    speech: AudioSpeechOut,
    audio_room: AudioRoom,
) -> None:
    recording = audio_room.record_speaker()
    time.sleep(0.2)
    spoken = time.monotonic()
    speech.speak(LONG)
    assert speech.playing_text() == LONG
    time.sleep(1.5)
    cancelled = time.monotonic()
    speech.cancel()
    time.sleep(0.8)
    samples, start = recording.stop()

    heard = _window(samples, start, spoken, cancelled)
    assert rms_db(heard) > -35, "speech should be clearly audible in the speaker's monitor"
    # Well after the cancel (generous for a loaded CI machine), the speaker is silent.
    after = _window(samples, start, cancelled + 0.25, cancelled + 0.75)
    assert len(after) > RATE // 4
    assert np.abs(after).max() < QUIET
    assert speech.playing_text() is None
    assert speech.wait_until_done(1.0)


def test_volume_change_shows_in_rms(speech: AudioSpeechOut, audio_room: AudioRoom) -> None:
    levels = []
    for volume in (0.8, 0.2):
        speech.set_volume(volume)
        recording = audio_room.record_speaker()
        time.sleep(0.2)
        speech.speak(SHORT)
        assert speech.wait_until_done(5)
        time.sleep(0.3)
        samples, _ = recording.stop()
        # The sink is digitally silent between phrases, so total energy compares the phrase.
        levels.append(10 * np.log10(np.sum(np.square(samples, dtype=np.float64))))
    assert levels[0] - levels[1] == pytest.approx(12.0, abs=1.0)  # 20*log10(0.8/0.2) = 12 dB


def test_new_phrase_cuts_off_the_old_one(audio_room: AudioRoom, tmp_path: Path) -> None:
    finished: list[tuple[str, bool]] = []
    speech = AudioSpeechOut(
        _config(tmp_path).speaker_settings(),
        on_finished=lambda text, done: finished.append((text, done)),
    )
    try:
        speech.prepare([LONG, SHORT], progress=False)
        recording = audio_room.record_speaker()
        time.sleep(0.3)
        speech.speak(LONG)
        time.sleep(0.8)
        cut_at = time.monotonic()
        speech.speak(SHORT)
        assert speech.playing_text() == SHORT
        assert speech.wait_until_done(5)
        time.sleep(0.5)
        samples, start = recording.stop()
    finally:
        speech.close()
    short_seconds = speech.cache.load(SHORT, speech.settings).duration_seconds
    spans = [
        (start + a, start + b)
        for a, b in sound_spans(samples, RATE, threshold=QUIET, min_gap_seconds=0.4)
    ]
    # Nothing of the long phrase remains once the short one has had time to finish.
    assert spans[-1][1] < cut_at + short_seconds + 0.3
    assert finished == [(LONG, False), (SHORT, True)]


@pytest.mark.parametrize(
    ("device", "rate_hz", "sink"),
    [("vg_box_speaker_44k", None, "box_speaker_44k"), ("vg_box_speaker", 48000, "box_speaker")],
)
def test_phrases_are_resampled_for_44k_and_48k_devices(
    audio_room: AudioRoom,
    tmp_path: Path,
    device: str,
    rate_hz: int | None,
    sink: str,
) -> None:
    speech = open_speaker(
        _config(tmp_path, output_device=device, output_rate_hz=rate_hz).speaker_settings()
    )
    try:
        expected_rate = rate_hz or 44100
        assert speech.sample_rate_hz == expected_rate
        speech.prepare([SHORT], progress=False)
        recording = audio_room.record_speaker(expected_rate, sink=sink)
        time.sleep(0.3)
        speech.speak(SHORT)
        assert speech.wait_until_done(5)
        time.sleep(0.4)
        samples, _ = recording.stop()
    finally:
        speech.close()
    rendered = speech.cache.load(SHORT, speech.settings)
    spans = sound_spans(samples, expected_rate, threshold=QUIET, min_gap_seconds=0.5)
    assert len(spans) == 1
    heard = spans[0][1] - spans[0][0]
    # Played at the wrong rate, the phrase would be ~2x shorter; resampled, it keeps its length.
    assert heard == pytest.approx(rendered.duration_seconds, rel=0.15)


def test_refused_sample_rate_falls_back_to_one_the_device_accepts(
    audio_room: AudioRoom,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="voiceguide.speech_out.player"):
        speech = open_speaker(_config(tmp_path, output_rate_hz=1_000_000).speaker_settings())
    try:
        assert speech.sample_rate_hz == 44100  # the device's own default, tried next
        assert any("refused 1000000 Hz" in r.message for r in caplog.records)
        recording = audio_room.record_speaker()
        time.sleep(0.2)
        speech.speak(SHORT)  # not prepared: rendered in the worker, then played
        assert speech.wait_until_done(5)
        time.sleep(0.3)
        samples, _ = recording.stop()
    finally:
        speech.close()
    assert speech.late_phrases == 1
    assert np.abs(samples).max() > 0.05


def test_tap_sees_exactly_what_is_played(speech: AudioSpeechOut) -> None:
    blocks: list[PlayedBlock] = []
    speech.add_tap(blocks.append)
    speech.speak(SHORT)
    assert speech.wait_until_done(5)
    time.sleep(0.1)
    played = [b for b in blocks if b.text == SHORT]
    assert played, "the tap should see the phrase's blocks"
    assert all(b.sample_rate_hz == speech.sample_rate_hz for b in blocks)
    starts = np.array([b.start_monotonic for b in blocks])
    assert np.all(np.diff(starts) > -0.005)  # in order (the clock estimate may wobble slightly)
    tapped = np.concatenate([b.frames for b in played])
    expected = speech._load(SHORT, speech.settings)
    assert expected is not None
    # Same length as the phrase and scaled by the volume. The first and last tapped blocks are
    # whole blocks, padded with silence before and after the phrase, so up to two blocks more.
    assert 0 <= len(tapped) - len(expected) <= 2 * max(len(b.frames) for b in played)
    ratio = np.abs(tapped).max() / (np.abs(expected).max() / 32768)
    assert ratio == pytest.approx(speech.volume, rel=0.05)


def test_after_a_rate_change_a_prepared_phrase_plays_at_once_while_synthesis_hangs(
    speech: AudioSpeechOut,
) -> None:
    """'Slower' re-renders in the background; meanwhile the old rendering plays on time, so
    even a hung synthesis worker cannot hold back a cue such as the safety advice."""
    pid = speech.synth.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # a hung worker: nothing renders now
    try:
        speech.set_rate(speech.rate_wpm - 40)
        called = time.monotonic()
        speech.speak(SHORT)
        while speech.playing_text() is None and time.monotonic() - called < 2:
            time.sleep(0.01)
        assert speech.playing_text() == SHORT
        assert time.monotonic() - called < 0.5
        assert speech.late_phrases == 0
    finally:
        os.kill(pid, signal.SIGCONT)

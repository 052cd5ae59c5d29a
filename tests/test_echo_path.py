"""The echo stage on signals with a known echo: delay found, echo removed, silence untouched;
and `voiceguide recognize --reference` decides exactly as the benchmark does on one stream."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceguide.speech_in.echo_cancel import ReferenceBuffer, load_speexdsp
from voiceguide.speech_in.echo_path import (
    EchoPath,
    OfflineReference,
    feed_recording,
    gcc_phat_delay,
    offline_echo_path,
)
from voiceguide.speech_in.mic import _SampleClock

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
pytestmark = pytest.mark.skipif(load_speexdsp() is None, reason="libspeexdsp1 is not installed")


def _talk(seconds: float, seed: int = 1) -> np.ndarray:
    """Speech-like reference: bursts of coloured noise with pauses, int16."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = np.convolve(rng.standard_normal(n), np.hanning(24), "same")
    envelope = np.repeat(rng.random(n // 3200 + 1) > 0.3, 3200)[:n]
    return (np.clip(noise * envelope * 0.08, -1, 1) * 32767).astype(np.int16)


def _feed(path: EchoPath, feeder: OfflineReference, mic: np.ndarray) -> np.ndarray:
    """The microphone through `path` in 30 ms blocks, its reference handed over ahead."""
    return feed_recording(path, feeder, mic, 480)


def _run(mic: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, object]:
    """Both signals through the product's offline echo stage, in 30 ms blocks."""
    path, feeder = offline_echo_path(ref)
    out = _feed(path, feeder, mic)
    path.close()
    return out, path.stats


def test_the_delay_is_found_and_the_echo_removed() -> None:
    ref = _talk(8.0)
    delay = 1920  # 120 ms from speaker to microphone
    echo = np.concatenate([np.zeros(delay), ref[:-delay] * 0.5])
    mic = (echo + np.random.default_rng(2).standard_normal(len(ref)) * 30).astype(np.int16)
    out, stats = _run(mic, ref)
    assert stats.delay_seconds == pytest.approx(0.120, abs=0.001)  # type: ignore[attr-defined]
    tail = slice(5 * RATE, len(out))
    removed = 10 * np.log10(
        np.sum(mic[tail].astype(float) ** 2) / np.sum(out[tail].astype(float) ** 2)
    )
    assert removed > 15, removed


def test_a_person_talking_over_the_box_lowers_the_overall_figure_not_the_median_block() -> None:
    ref = _talk(30.0)
    delay = 1920
    echo = np.concatenate([np.zeros(delay), ref[:-delay] * 0.5])
    noise = np.random.default_rng(2).standard_normal(len(ref)) * 30
    person = np.zeros(len(ref))
    person[20 * RATE : 23 * RATE] = _talk(3.0, seed=5) * 0.5  # 3 s at the echo's level
    _, alone = _run((echo + noise).astype(np.int16), ref)
    _, talked_over = _run((echo + person + noise).astype(np.int16), ref)
    # The person's words are left in, as they should be, and they are most of what is left.
    assert talked_over.removed_db < alone.removed_db - 3  # type: ignore[attr-defined]
    assert talked_over.filter_median_db > 30  # type: ignore[attr-defined]
    assert abs(talked_over.filter_median_db - alone.filter_median_db) <= 3  # type: ignore[attr-defined]


def test_a_silent_box_leaves_the_microphone_untouched() -> None:
    mic = _talk(3.0, seed=3)
    out, stats = _run(mic, np.zeros_like(mic))
    assert np.array_equal(out, mic)
    assert stats.active_seconds == 0  # type: ignore[attr-defined]


def test_gcc_phat_finds_a_pure_delay() -> None:
    ref = _talk(1.5).astype(np.float32)
    mic = np.concatenate([np.zeros(700, np.float32), ref[:-700]])
    lag, height = gcc_phat_delay(mic, ref, 8000) or (None, 0.0)
    assert lag == 700 and height > 6


def test_the_capture_clock_counts_samples_through_jitter_and_jumps_a_gap() -> None:
    clock = _SampleClock()
    rng = np.random.default_rng(4)
    starts = [clock.start_of(i * 0.03 + rng.uniform(-0.05, 0.05), 480) for i in range(100)]
    assert np.allclose(np.diff(starts), 0.03)  # bursts of callbacks do not move the timeline
    after_gap = clock.start_of(100 * 0.03 + 2.0, 480)  # two seconds of audio were dropped
    assert after_gap == pytest.approx(100 * 0.03 + 2.0)


@pytest.mark.slow
def test_recognize_with_a_reference_decides_as_the_benchmark_does(tmp_path: Path) -> None:
    from bench import asr_bench, corpus

    box = corpus.at_level(corpus.synthesize(corpus.BOX_VOICES[0],
                          "Lie on your back with your knees bent and your feet flat. "
                          "Gently press your lower back into the mat, then let it ease. "
                          "Keep your hips down and your shoulders loose.", 160, 50), corpus.BOX_DBFS)  # fmt: skip
    # This test is about the two paths being one, not about accuracy: a clear "pause" just
    # after the box has finished (the canceller is still running on the echo's tail).
    user = corpus.at_level(corpus.synthesize(corpus.Speaker("flite", "slt"), "pause", 160, 50),
                           corpus.BOX_DBFS)  # fmt: skip
    at = len(box) + RATE // 10
    box = np.concatenate([box, np.zeros(at + len(user) + RATE - len(box), np.float32)])
    mic = corpus.echo_of(box)
    mic[at : at + len(user)] += user
    corpus.write_wav(tmp_path / "s.wav", mic, RATE)
    corpus.write_wav(tmp_path / "s.ref.wav", box, RATE)
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "recognize", "--reference", str(tmp_path / "s.ref.wav"),
         str(tmp_path / "s.wav")], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    heard = json.loads(result.stdout)
    assert [c["command"] for c in heard["commands"]] == ["pause"], heard
    entry = {"played": [], "utterances": []}
    bench = asr_bench.decode_stream((str(tmp_path), "s", "pocketsphinx", True, entry, {}))
    assert [(c["command"], c["start"], c["end"]) for c in heard["commands"]] == [
        (e["command"], round(e["start_seconds"], 2), round(e["end_seconds"], 2))
        for e in bench["events"]
    ]
    assert heard["echo"]["removed_db"] == round(bench["echo"]["removed_db"], 1)


def test_a_microphone_that_does_not_hear_the_speaker_settles_without_an_echo() -> None:
    ref = _talk(6.0, seed=5)
    mic = (np.random.default_rng(6).standard_normal(len(ref)) * 30).astype(np.int16)
    path, feeder = offline_echo_path(ref)
    _feed(path, feeder, mic)
    # (GCC-PHAT may still latch onto a chance peak in the noise; the filter then removes
    # nothing, so no echo is heard and the microphone passes untouched.)
    assert path.lined_up  # commands said over the box are not held back for good
    assert not path.unsettled(0.0)
    path.close()


def test_a_person_heard_over_a_box_the_microphone_does_not_hear_keeps_their_voice() -> None:
    """No echo in the mic, but a person talking over the box: GCC-PHAT finds chance peaks
    between the two voices, and the residual suppressor run on them took 1.5-1.9 dB from the
    person's words. A filter that removes nothing has heard no echo: its output alone goes on."""
    ref = _talk(10.0, seed=8)
    mic = np.random.default_rng(9).standard_normal(len(ref)) * 30
    mic[2 * RATE : 7 * RATE] += _talk(5.0, seed=10)
    mic16 = mic.astype(np.int16)
    path, feeder = offline_echo_path(ref)
    out = _feed(path, feeder, mic16)
    assert path.stats.delay_estimates > 0  # the chance peaks this is about
    assert not path.echo_heard
    voice = slice(2 * RATE, 7 * RATE)
    lost = 10 * np.log10(
        np.sum(mic16[voice].astype(float) ** 2) / np.sum(out[voice].astype(float) ** 2)
    )
    # The filter, misadapting a little on two voices of the same colour, takes 0.7 dB here
    # (0.1-0.2 dB of a flite voice over espeak-ng); with the suppressor it was 1.75 dB.
    assert abs(lost) < 1.0, lost
    path.close()


def test_an_echo_is_heard_within_two_seconds_of_the_box_talking() -> None:
    ref = _talk(6.0, seed=11)
    echo = np.concatenate([np.zeros(800), ref[:-800] * 0.3])  # 50 ms, -10 dB
    path, feeder = offline_echo_path(ref)
    noise = np.random.default_rng(12).standard_normal(len(ref)) * 30
    _feed(path, feeder, (echo + noise).astype(np.int16))
    assert path.stats.echo_heard_at is not None and path.stats.echo_heard_at < 2.0
    path.close()


def test_with_no_delay_ever_measured_the_stage_settles_after_three_seconds() -> None:
    from voiceguide.speech_in import echo_path

    path, feeder = offline_echo_path(_talk(6.0, seed=7))
    path._remember = lambda *args: None  # type: ignore[method-assign]  # no estimate at all
    _feed(path, feeder, np.zeros(6 * RATE, np.int16))
    assert path.stats.delay_estimates == 0
    assert path.lined_up and path.stats.active_seconds >= echo_path.NO_ECHO_SECONDS
    path.close()


def test_the_stage_tells_how_lately_the_box_talked() -> None:
    """Two seconds of the box talking, then two of silence: words begun within the last
    two seconds (plus the filter's ring) were said over it, later ones were not."""
    ref = np.concatenate([_talk(2.0, seed=5), np.zeros(2 * RATE, np.int16)])
    ref[int(1.9 * RATE) : 2 * RATE] = 8000  # the box's last sound ends at exactly 2.0 s
    path, feeder = offline_echo_path(ref)
    _feed(path, feeder, (ref // 4).astype(np.int16))
    path.close()
    assert path.talked_within(2.0)  # the words began as the box fell silent
    assert not path.talked_within(1.5)  # 0.5 s after it: its echo has rung out


def test_after_an_audio_glitch_the_filter_must_converge_again_and_the_delay_is_measured_afresh() -> (
    None
):
    """A capture overrun or the speaker running dry can move the echo by some milliseconds: the
    stage stops trusting its filter (the echo guard then treats words over the box as at
    start-up) and adopts the new delay from its next estimate, not after a median swings."""
    ref = _talk(12.0, seed=7)
    delay = 64  # 4 ms, then 20 ms after the glitch at 6 s
    late = 320
    echo = np.zeros(len(ref))
    half = 6 * RATE
    echo[delay:half] = ref[: half - delay] * 0.4
    echo[half:] = ref[half - late : len(ref) - late] * 0.4
    mic = echo.astype(np.int16)
    glitches = [0]
    path = EchoPath(ReferenceBuffer(), glitches=lambda: glitches[0])
    feeder = OfflineReference(path.reference, ref.astype(np.float32) / 32768)
    _feed(path, feeder, mic[:half])
    assert path.lined_up and abs(path.delay_seconds - 0.004) < 0.002
    glitches[0] = 1
    _feed_from(path, feeder, mic, half, half + 480)
    assert not path.lined_up and path.unsettled() and path.stats.glitches == 1
    _feed_from(path, feeder, mic, half + 480, len(mic))
    path.close()
    assert abs(path.delay_seconds - 0.020) < 0.002  # the new delay, adopted
    assert path.lined_up  # and converged again on it


def _feed_from(
    path: EchoPath, feeder: OfflineReference, mic: np.ndarray, start: int, end: int
) -> None:
    """Samples `start` to `end` of the microphone through `path`, in 30 ms blocks."""
    for offset in range(start, end, 480):
        feeder.until((offset + 480) / RATE)
        path.process(mic[offset : offset + 480], offset / RATE)

"""The second look at a safety command heard before the canceller converged: the box's echo
alone is recognised as such, and a person talking over the box, even 6 dB under it, is not."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.speech_in.echo_cancel import load_speexdsp
from voiceguide.speech_in.echo_guard import SUSPECT_REMOVED_DB
from voiceguide.speech_in.echo_path import (
    EchoPath,
    OfflineReference,
    feed_recording,
    offline_echo_path,
)

RATE = 16000
pytestmark = pytest.mark.skipif(load_speexdsp() is None, reason="libspeexdsp1 is not installed")


def _talk(seconds: float, seed: int) -> np.ndarray:
    """Speech-like signal: bursts of coloured noise with pauses, as floats."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = np.convolve(rng.standard_normal(n), np.hanning(24), "same")
    envelope = np.repeat(rng.random(n // 3200 + 1) > 0.3, 3200)[:n]
    return noise * envelope * 0.08


def _room(signal: np.ndarray, seed: int = 3, tail: float = 0.2) -> np.ndarray:
    """The box heard through a small room: 4 ms away, a 0.15 s decaying tail, 5 dB quieter."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.15 * RATE)) / RATE
    h = np.zeros(64 + len(t))
    h[64] = 1.0
    h[64 + 48 :] += rng.standard_normal(len(t) - 48) * np.exp(-6.9 * t[48:] / 0.15) * tail
    h *= 10 ** (-5 / 20) / np.sqrt(np.sum(h**2))
    return np.convolve(signal, h)[: len(signal)]


def _to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def _feed(path: EchoPath, feeder: OfflineReference, mic: np.ndarray, seconds: float) -> None:
    feed_recording(path, feeder, mic[: round(seconds * RATE)], 480)


def _scene(person_db: float | None) -> tuple[EchoPath, np.ndarray]:
    """The box talks from the start; a person (if any) talks from 1.0 to 1.8 s at `person_db`
    relative to the box's echo. Returns the stage fed up to 2.0 s, before it has converged."""
    box = _talk(4.0, seed=1)
    echo = _room(box)
    mic = echo + np.random.default_rng(5).standard_normal(len(box)) * 1e-4
    if person_db is not None:
        person = _talk(4.0, seed=9)
        person[:RATE] = 0.0
        person[int(1.8 * RATE) :] = 0.0
        span = slice(RATE, int(1.8 * RATE))
        gain = np.sqrt(np.mean(echo[span] ** 2) / max(np.mean(person[span] ** 2), 1e-12))
        mic = mic + person * gain * 10 ** (person_db / 20)
    path, feeder = offline_echo_path(_to_int16(box))
    _feed(path, feeder, _to_int16(mic), 2.0)
    return path, mic


def test_the_box_alone_is_found_to_be_alone_before_convergence() -> None:
    path, _ = _scene(None)
    try:
        assert path.unsettled(1.0)  # the words at 1.0 s came before the filter converged
        assert path.second_look(1.0, 0.2) is True
        assert path.stats.second_looks and path.stats.second_looks[-1][2] >= 12
    finally:
        path.close()


@pytest.mark.parametrize("person_db", [0.0, -6.0])
def test_a_person_talking_over_the_box_is_never_taken_for_it(person_db: float) -> None:
    path, _ = _scene(person_db)
    try:
        assert path.unsettled(1.0)
        assert path.second_look(1.0, 0.2) is False
    finally:
        path.close()


def test_words_heard_while_the_box_is_silent_are_not_its_voice() -> None:
    path, feeder = offline_echo_path(np.zeros(4 * RATE, np.int16))
    try:
        mic = _to_int16(_talk(4.0, seed=9))
        _feed(path, feeder, mic, 2.0)
        assert path.second_look(1.0, 0.2) is False  # the box has been silent: not its voice
        assert not path.stats.second_looks  # and nothing was computed to say so
    finally:
        path.close()


def _converged(mic: np.ndarray, box: np.ndarray) -> EchoPath:
    """The stage after 14 s of the box talking (converged after about 3)."""
    path, feeder = offline_echo_path(_to_int16(box))
    _feed(path, feeder, _to_int16(mic), 14.0)
    assert path.lined_up
    return path


def test_a_canceller_doing_its_job_is_not_looked_over_but_a_poor_one_is() -> None:
    box = _talk(14.0, seed=1)
    echo = _room(box, tail=0.05)  # little reverberation: the filter removes about 34 dB
    good = _converged(echo, box)
    # A speaker and a microphone on two clocks that drift 500 ppm apart: the adaptive filter
    # keeps chasing the echo and removes only about 9 dB.
    n = np.arange(len(box))
    poor = _converged(np.interp(n * (1 + 500e-6), n, echo), box)
    try:
        assert not good.cancelling_poorly
        assert poor.cancelling_poorly
    finally:
        good.close()
        poor.close()


def test_with_little_history_before_the_words_a_low_figure_means_cannot_tell() -> None:
    box = _talk(4.0, seed=1)
    echo = _room(box)
    person = _talk(4.0, seed=9)
    person[int(0.9 * RATE) :] = 0.0
    person[: int(0.2 * RATE)] = 0.0
    mic = echo + person * 0.5  # someone talking from 0.2 to 0.9 s, as the box starts
    path, feeder = offline_echo_path(_to_int16(box))
    try:
        _feed(path, feeder, _to_int16(mic), 1.2)
        # 0.2 s of the box before the words: too little to prove someone else talked
        assert path.second_look(1.0, 0.3) is None
        assert path.stats.second_looks[-1][2] < 15
    finally:
        path.close()


def test_the_converged_stage_says_how_much_it_removed_from_some_words() -> None:
    """removed_over (the echo guard's pick of suspects): much of the box alone is removed,
    little of a person talking over it, nothing where the box was silent."""
    box = _talk(14.0, seed=1)
    box[12 * RATE : int(13.5 * RATE)] = 0.0  # the box pauses from 12 to 13.5 s
    echo = _room(box, tail=0.05)
    person = _talk(14.0, seed=9)
    person[: 10 * RATE] = 0.0
    person[11 * RATE :] = 0.0  # someone talks from 10 to 11 s, at the echo's level
    person *= np.sqrt(np.mean(echo[10 * RATE : 11 * RATE] ** 2) / np.mean(person[person != 0] ** 2))
    quiet = _talk(14.0, seed=4) * 0.3
    quiet[: int(12.3 * RATE)] = 0.0
    quiet[int(13.2 * RATE) :] = 0.0  # and again, quietly, while the box is silent
    path = _converged(echo + person + quiet, box)
    try:
        alone = path.removed_over(4.8, 4.2)  # 9.2-9.8 s: the box alone
        over = path.removed_over(3.9, 3.1)  # 10.1-10.9 s: the person over the box
        silent = path.removed_over(1.7, 0.9)  # 12.3-13.1 s: the person, the box silent
        assert alone is not None and alone >= 15
        assert over is not None and over < SUSPECT_REMOVED_DB  # no look is taken for it
        assert silent is not None and silent < 1
        assert path.removed_over(3.0, 3.0) is None  # no span
        assert path.removed_over(5.5, 5.0) is None  # older than what is kept
    finally:
        path.close()

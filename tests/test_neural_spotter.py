"""The neural spotter on WAV fixtures named after the command they must trigger."""

import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.speech_in.engines.neural.spotter import Detection, Spotter, decide_sequence

FIXTURES = Path(__file__).parent / "fixtures" / "neural"
WAVS = sorted(FIXTURES.glob("*.wav"))


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


@pytest.fixture(scope="module")
def spotter() -> Spotter:
    return Spotter()


def run(spotter: Spotter, pcm: np.ndarray, chunk: int = 1600) -> list[Detection]:
    spotter.reset()
    out = []
    for k in range(0, len(pcm), chunk):
        out += spotter.accept(pcm[k : k + chunk].tobytes())
    return out + spotter.flush()


def test_there_are_fixtures():
    assert len(WAVS) >= 6


@pytest.mark.parametrize("path", WAVS, ids=[p.stem for p in WAVS])
def test_fixture_triggers_exactly_its_command(spotter, path):
    expected = path.stem.split("__")[0]
    pcm = read(path)
    got = run(spotter, pcm)
    if expected == "none":
        assert got == []
        return
    assert [d.command for d in got] == [expected]
    d = got[0]
    assert 0.0 <= d.score <= 1.0 and d.is_final
    assert 0.0 <= d.start_seconds < d.end_seconds <= d.decided_at <= len(pcm) / 16000 + 0.6


def test_chunk_size_does_not_change_the_decision(spotter):
    pcm = read(FIXTURES / "pain__it_hurts__kal.wav")
    a = [(d.command, round(d.decided_at, 2)) for d in run(spotter, pcm, 320)]
    b = [(d.command, round(d.decided_at, 2)) for d in run(spotter, pcm, 4800)]
    assert [c for c, _ in a] == [c for c, _ in b] == ["pain"]
    assert abs(a[0][1] - b[0][1]) <= 0.3


def test_silence_and_noise_give_nothing(spotter):
    rng = np.random.default_rng(0)
    assert run(spotter, np.zeros(16000 * 3, np.int16)) == []
    assert run(spotter, (rng.standard_normal(16000 * 5) * 300).astype(np.int16)) == []


def test_one_decision_per_utterance_from_a_score_sequence():
    classes = ("none", "pain", "stop")
    probs = np.array(
        [[1, 0, 0]] * 3 + [[0.02, 0.98, 0]] * 6 + [[1, 0, 0]] * 15 + [[0.02, 0, 0.98]] * 3
    )
    hits = decide_sequence(probs.astype(np.float32), classes, Spotter_config())
    assert [h[1] for h in hits] == [1, 2]


def Spotter_config():
    from voiceguide.speech_in.engines.neural.spotter import SpotterConfig

    return SpotterConfig()


def test_a_command_waits_for_the_talk_to_stop():
    """The gap rule: a confident run is held while speech goes on, and decided once it stops."""
    from voiceguide.speech_in.engines.neural.spotter import SpotterConfig

    classes = ("none", "pain", "skip")
    probs = np.array([[1, 0, 0]] * 3 + [[0.01, 0, 0.99]] * 6 + [[1, 0, 0]] * 12, np.float32)
    config = SpotterConfig(gap_seconds=0.08, gap_safety_seconds=0.08)
    talking = np.zeros(len(probs))  # speech right up to every window's end
    assert decide_sequence(probs, classes, config, gaps=talking) == []
    stops = np.where(np.arange(len(probs)) >= 7, 0.1, 0.0)  # the talk stops before window 7
    assert [(j, c) for j, c, _ in decide_sequence(probs, classes, config, gaps=stops)] == [(7, 2)]
    # No speech found by the energy tracker (loud babble) holds nothing back.
    unheard = np.full(len(probs), np.inf)
    assert [j for j, _, _ in decide_sequence(probs, classes, config, gaps=unheard)] == [5]


def test_the_gap_is_how_long_the_tracker_heard_no_speech(spotter):
    rng = np.random.default_rng(0)
    floor = rng.standard_normal(16000 * 3) * 10
    tone = np.sin(np.arange(8000) * 2 * np.pi * 300 / 16000) * 8000
    pcm = floor.copy()
    pcm[16000:24000] += tone  # speech from 1.0 to 1.5 s
    run(spotter, pcm.astype(np.int16))
    assert spotter._gap(1.4) == pytest.approx(0.0, abs=0.02)
    assert spotter._gap(1.8) == pytest.approx(0.3, abs=0.03)
    spotter.reset()
    spotter.accept(floor.astype(np.int16).tobytes())
    assert spotter._gap(2.5) == np.inf


def test_the_words_are_never_talk_older_than_the_head_can_see(spotter):
    """Speech the tracker heard long before is not the words of a decision made now: with
    nothing it calls speech in the head's 2 s, the words are the last second."""
    rng = np.random.default_rng(0)
    floor = rng.standard_normal(16000 * 8) * 10
    tone = np.sin(np.arange(8000) * 2 * np.pi * 300 / 16000) * 8000
    pcm = floor.copy()
    pcm[16000:24000] += tone  # speech from 1.0 to 1.5 s, then only the floor
    run(spotter, pcm.astype(np.int16))
    start, end, _ = spotter._segment(2.5)  # within the head's reach: the tracker's words
    assert start == pytest.approx(1.0, abs=0.03) and end == pytest.approx(1.5, abs=0.03)
    assert spotter._segment(7.0)[:2] == pytest.approx((6.0, 7.0))  # 5.5 s later: not those


def test_a_command_between_stretches_of_digital_silence_is_decided(spotter):
    """Zeros (padding, a muted input) must not make the fixture's faint hiss count as talk."""
    zeros = np.zeros(24000, np.int16)
    pcm = np.concatenate([zeros, read(FIXTURES / "stop__stop__joe.wav"), zeros])
    assert [d.command for d in run(spotter, pcm)] == ["stop"]


def test_while_the_box_talks_the_gap_rule_is_lifted():
    """A hum that goes on under the end of a command (what the canceller leaves of the box's
    voice) holds the decision back, unless the spotter knows the box is talking."""
    pcm = read(FIXTURES / "stop__stop__joe.wav").astype(np.float32)
    end = np.flatnonzero(np.abs(pcm) > 300)[-1]
    t = np.arange(len(pcm) - end)
    pcm[end:] += (
        np.sin(t * 2 * np.pi * 200 / 16000) * 600 * (1 + 0.5 * np.sin(t * 2 * np.pi / 4000))
    )
    pcm = np.concatenate([pcm, np.zeros(8000)]).astype(np.int16)
    assert run(Spotter(box_talking=lambda: False), pcm) == []
    assert [d.command for d in run(Spotter(box_talking=lambda: True), pcm)] == ["stop"]

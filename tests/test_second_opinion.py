"""The spotter's second opinion: near-misses are decided by a check, once per utterance."""

import numpy as np

from voiceguide.speech_in.engines.neural.spotter import SpotterConfig, decide_sequence

CLASSES = ("none", "pain", "skip")
QUIET = [[1.0, 0.0, 0.0]]


def near_miss(score: float, windows: int = 4) -> np.ndarray:
    """A "skip" utterance whose scores stay under the head's own threshold."""
    return np.array(QUIET * 3 + [[1 - score, 0.0, score]] * windows + QUIET * 15, np.float32)


def asked(log: list):
    def check(command: str, index: int) -> bool:
        log.append((command, index))
        return True

    return check


def test_without_a_check_threshold_the_head_alone_decides():
    log: list = []
    probs = near_miss(0.8)
    assert decide_sequence(probs, CLASSES, SpotterConfig(), check=asked(log)) == []
    assert log == []


def test_a_near_miss_is_asked_about_once_and_the_check_decides():
    config = SpotterConfig(check_threshold=0.6, check_hops=2)
    log: list = []
    hits = decide_sequence(near_miss(0.8), CLASSES, config, check=asked(log))
    assert log == [("skip", 4)]  # the second window of the run, once
    assert [(j, CLASSES[c]) for j, c, _ in hits] == [(4, "skip")]
    refused: list = []

    def no(command: str, index: int) -> bool:
        refused.append(index)
        return False

    assert decide_sequence(near_miss(0.8), CLASSES, config, check=no) == []
    assert refused == [4]  # not asked again while the same run goes on


def test_scores_under_the_check_threshold_are_not_asked_about():
    log: list = []
    config = SpotterConfig(check_threshold=0.6, check_hops=2)
    assert decide_sequence(near_miss(0.5), CLASSES, config, check=asked(log)) == []
    assert log == []


def test_a_sure_command_is_decided_without_asking():
    log: list = []
    config = SpotterConfig(check_threshold=0.6, check_hops=3)
    probs = near_miss(0.99, windows=5)
    hits = decide_sequence(probs, CLASSES, config, check=asked(log))
    assert [(j, CLASSES[c]) for j, c, _ in hits] == [(5, "skip")]  # the head's own 3 windows
    assert log == []


def test_the_check_waits_for_the_talk_to_stop():
    log: list = []
    config = SpotterConfig(check_threshold=0.6, check_hops=2)
    probs = near_miss(0.8, windows=6)
    gaps = np.where(np.arange(len(probs)) >= 7, 0.1, 0.0)  # talk until window 7
    hits = decide_sequence(probs, CLASSES, config, gaps=gaps, check=asked(log))
    assert log == [("skip", 7)]
    assert [j for j, _, _ in hits] == [7]


def test_long_talk_is_not_asked_about_except_for_safety():
    log: list = []
    config = SpotterConfig(check_threshold=0.6, check_hops=2)
    probs = near_miss(0.8)
    long = np.full(len(probs), 10.0)  # ten seconds of unbroken speech before each window
    assert decide_sequence(probs, CLASSES, config, unbroken=long, check=asked(log)) == []
    pain = probs[:, [0, 2, 1]]  # the same scores for "pain"
    hits = decide_sequence(pain, CLASSES, config, unbroken=long, check=asked(log))
    assert [CLASSES[c] for _, c, _ in hits] == ["pain"] and log == [("pain", 4)]


# ---- the edges: the real grammar on WAV fixtures, and the audio the spotter hands over ---------
def _wav(name: str) -> np.ndarray:
    from pathlib import Path

    from voiceguide.speech_out.synth import read_wav

    return read_wav(Path(__file__).parent / "fixtures" / "neural" / f"{name}.wav").samples


def _grammar_check():
    from voiceguide.content.locales import load_locale
    from voiceguide.speech_in.engines.grammar_check import GrammarCheck
    from voiceguide.speech_in.factory import spoken_commands

    en = load_locale("en")
    return GrammarCheck(en, spoken_commands(en, en.commands), bar=0.8, safety_bar=0.8)


def test_the_grammar_check_confirms_only_the_command_it_hears():
    check = _grammar_check()
    hurts = _wav("pain__it_hurts__kal")
    assert check.hears(hurts)[0] == "pain"
    assert check("pain", hurts) and not check("skip", hurts)
    assert check("skip", _wav("skip__next_exercise__joe"))
    assert not check("skip", _wav("none__talk__joe"))  # talk forced into the grammar scores low
    assert check.hears(np.zeros(0, np.int16)) == (None, 0.0)
    assert check.asked == 6


def test_the_spotter_hands_the_check_the_utterance_it_is_unsure_of():
    """A head that is never sure enough alone: only the check can decide, on the right audio."""
    from voiceguide.speech_in.engines.neural.spotter import Spotter

    seen: list[tuple[str, int]] = []
    pcm = _wav("skip__next_exercise__joe")

    def check(command: str, audio: np.ndarray) -> bool:
        seen.append((command, len(audio)))
        return True

    config = SpotterConfig(threshold=1.01, early_threshold=1.01, check_threshold=0.5)
    spotter = Spotter(config=config, check=check)
    got = spotter.accept(pcm.tobytes()) + spotter.flush()
    assert [d.command for d in got] == ["skip"] and [c for c, _ in seen] == ["skip"]
    # the words (about 1 s) with 0.3 s either side, never the whole clip
    assert 1.0 * 16000 <= seen[0][1] <= 2.2 * 16000
    assert Spotter(config=SpotterConfig(), check=check).check is None  # no threshold: no check


def test_a_run_too_sure_to_ask_about_but_too_short_for_the_head_is_asked_about_at_its_end():
    """Two windows over the head's bar (it wants three) and then quiet: one last question."""
    log: list = []
    config = SpotterConfig(check_threshold=0.6, check_hops=2)
    probs = near_miss(0.97, windows=2)
    hits = decide_sequence(probs, CLASSES, config, check=asked(log))
    assert log == [("skip", 5)] and [j for j, _, _ in hits] == [5]
    # ...and a second such utterance later is asked about again
    twice = np.concatenate([probs, probs])
    log.clear()
    assert len(decide_sequence(twice, CLASSES, config, check=asked(log))) == 2 and len(log) == 2

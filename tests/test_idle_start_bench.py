"""bench.idle_start: what each speaker asks for, and how a request is scored."""

from collections import Counter

import numpy as np

from bench.idle_start import REQUESTS_PER_ROUTINE, accuracy, phrases_with_title, requests
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.loader import bundled_routines_dir
from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode


def _table() -> dict[str, list[str]]:
    idle = IdleMode(load_good_routines(bundled_routines_dir(), "en"), load_locale("en"))
    return idle.command_table()


def test_each_routine_is_asked_for_by_its_title_and_two_other_phrases():
    table = _table()
    asked = requests(table, np.random.default_rng(0))
    starts = [k for k in table if k.startswith("start:")]
    assert len(asked) == REQUESTS_PER_ROUTINE * len(starts)
    for key in starts:
        phrases = [p for k, p in asked if k == key]
        assert phrases[0] == phrases_with_title(table[key])
        assert len(set(phrases)) == REQUESTS_PER_ROUTINE
        assert set(phrases) <= set(table[key])
    assert not any(k in ("help", "list_routines") for k, _ in asked)


def test_title_phrase_keeps_the_title_capital():
    assert phrases_with_title(["start the Quick reset", "start Quick reset", "start quick"]) == (
        "start Quick reset"
    )


def test_accuracy_counts_right_requests_only():
    assert accuracy(Counter(right=3, missed=1, wrong=0, stray=5)) == 0.75


def test_replay_applies_another_start_bar_to_recorded_results():
    from bench.corpus import Utterance
    from bench.idle_start import Decoded, replay, score
    from voiceguide.speech_in.engine import Hypothesis
    from voiceguide.speech_in.rejection import Thresholds

    table = _table()
    truth = [Utterance("start Quick reset", "start:quick-reset", "x", 1.0, 2.0)]
    log = [(70, Hypothesis("start quick reset", True, 1.0, 2.0, 0.7))]
    stream = Decoded("x", "clean", truth, [], log)
    locale = load_locale("en")
    strict = replay(stream, locale, table, Thresholds(final_start=0.95))
    relaxed = replay(stream, locale, table, Thresholds(final_start=0.5))
    assert strict == []
    assert [e["command"] for e in relaxed] == ["start:quick-reset"]
    assert accuracy(score([stream], [relaxed]).conditions["clean"]) == 1.0

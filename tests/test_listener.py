"""The listener's decisions: rejection, the partial-result safety path and debouncing.

A scripted engine stands in for the recogniser here: these tests are about what the
listener does with hypotheses, not about recognition (tests/test_recognize.py is).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode
from voiceguide.core.phrases import PhraseMatch, PhraseMatcher
from voiceguide.speech_in.echo_guard import EchoGuard
from voiceguide.speech_in.endpoint import NoiseFloorVad
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.listener import (
    HeardCommand,
    Listener,
    grammar_for,
    run_stream,
)
from voiceguide.speech_in.rejection import Rejection, Thresholds

CHUNK = b"\x00\x00" * 480  # 30 ms at 16 kHz


class ScriptedEngine:
    """Returns the hypotheses scripted for each accept() call, in order."""

    sample_rate_hz = 16000

    def __init__(self, script: list[list[Hypothesis]]) -> None:
        self.script = list(script)
        self.flushed: list[Hypothesis] = []

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        return self.script.pop(0) if self.script else []

    def flush(self) -> list[Hypothesis]:
        return self.flushed

    def reset(self) -> None:
        self.script = []


def hyp(text: str, final: bool, start: float, end: float, conf: float) -> Hypothesis:
    return Hypothesis(text, final, start, end, conf)


def listen(script: list[list[Hypothesis]], **thresholds: object) -> list[HeardCommand]:
    locale = load_locale("en")
    rejection = Rejection(Thresholds(**thresholds)) if thresholds else None  # type: ignore[arg-type]
    listener = Listener(ScriptedEngine(script), locale, rejection=rejection)
    heard: list[HeardCommand] = []
    for _ in range(len(script)):
        heard += listener.feed(CHUNK)
    return heard + listener.flush()


def test_a_final_command_is_heard_once_with_its_times() -> None:
    heard = listen([[], [hyp("pause please", True, 1.0, 1.6, 0.97)]])
    assert [(h.command, h.phrase, h.from_partial) for h in heard] == [("pause", "pause", False)]
    assert heard[0].start_seconds == 1.0 and heard[0].end_seconds == 1.6
    assert heard[0].heard_at_seconds == 0.06  # two 30 ms chunks had been fed
    assert heard[0].to_json()["command"] == "pause"


def test_pain_acts_on_a_sure_partial_and_the_final_is_not_repeated() -> None:
    script = [
        [hyp("it", False, 1.0, 1.2, 0.2)],
        [hyp("it hurts", False, 1.0, 1.5, 0.97)],
        [hyp("it hurts", True, 1.0, 1.55, 0.97)],
    ]
    heard = listen(script, partial_safety=0.95)
    assert [(h.command, h.from_partial) for h in heard] == [("pain", True)]


def test_an_unsure_partial_waits_for_the_final() -> None:
    script = [[hyp("stop", False, 2.0, 2.4, 0.5)], [hyp("stop", True, 2.0, 2.45, 0.8)]]
    heard = listen(script, partial_safety=0.95)
    assert [(h.command, h.from_partial) for h in heard] == [("stop", False)]


def test_other_commands_never_act_on_partials() -> None:
    script = [[hyp("skip", False, 1.0, 1.3, 1.0)], []]
    assert listen(script) == []


def test_low_confidence_is_rejected_with_a_lower_bar_for_safety() -> None:
    script = [
        [hyp("louder", True, 1.0, 1.4, 0.4)],
        [hyp("that hurts", True, 3.0, 3.5, 0.4)],
    ]
    heard = listen(script, final_safety=0.3, final_other=0.6)
    assert [h.command for h in heard] == ["pain"]


def test_a_command_buried_in_talk_is_not_a_command_but_pain_is() -> None:
    script = [
        [hyp("we had to wait for the bus", True, 1.0, 2.5, 0.99)],
        [hyp("oh no it hurts so much", True, 4.0, 5.5, 0.99)],
    ]
    assert [h.command for h in listen(script)] == ["pain"]


def test_one_utterance_gives_one_command() -> None:
    # The engine re-describes the same stretch of speech: only the first result counts.
    script = [
        [hyp("stop", True, 1.0, 1.4, 0.97)],
        [hyp("stop the session", True, 1.0, 1.9, 0.97)],
        [hyp("pause", True, 1.5, 1.9, 0.97)],
    ]
    assert [h.command for h in listen(script)] == ["stop"]


def test_the_same_command_said_again_later_counts_again() -> None:
    script = [[hyp("louder", True, 1.0, 1.4, 0.97)], [hyp("louder", True, 3.0, 3.4, 0.97)]]
    assert [h.command for h in listen(script)] == ["louder", "louder"]


def test_safety_overrides_a_command_from_the_same_breath() -> None:
    script = [[hyp("wait", True, 1.0, 1.3, 0.97)], [hyp("it hurts", True, 1.2, 1.8, 0.97)]]
    assert [h.command for h in listen(script)] == ["pause", "pain"]


def test_flush_delivers_the_last_utterance() -> None:
    locale = load_locale("en")
    engine = ScriptedEngine([])
    engine.flushed = [hyp("repeat that", True, 1.0, 1.5, 0.97)]
    heard = run_stream(Listener(engine, locale), CHUNK * 3)
    assert [h.command for h in heard] == ["repeat"]


def test_run_stream_feeds_real_time_sized_chunks() -> None:
    sizes: list[int] = []

    class Counting(ScriptedEngine):
        def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
            sizes.append(len(pcm16_mono))
            return []

    run_stream(Listener(Counting([]), load_locale("en")), b"\x00\x00" * 16000, 0.03)
    assert sizes[0] == 960 and sum(sizes) == 32000


def test_hypotheses_are_shown_to_a_watcher() -> None:
    seen: list[Hypothesis] = []
    engine = ScriptedEngine([[hyp("skip", False, 1.0, 1.2, 0.5)]])
    Listener(engine, load_locale("en"), on_hypothesis=seen.append).feed(CHUNK)
    assert [h.text for h in seen] == ["skip"]


def idle_table(routine_id: str, alias: str, title: str) -> dict[str, list[str]]:
    """Idle mode's command table for one routine (only id, aliases and title are read)."""
    routine = SimpleNamespace(id=routine_id, aliases=(alias,), title=title)
    return IdleMode([routine], load_locale("en")).command_table()  # type: ignore[list-item]


def test_idle_mode_listens_for_start_phrases_and_lists() -> None:
    locale = load_locale("en")
    table = idle_table("morning-mobility", "morning stretch", "Morning mobility")
    assert "start morning stretch" in table["start:morning-mobility"]
    assert "begin the Morning mobility" in table["start:morning-mobility"]
    assert "list routines" in table["list_routines"]
    script = [[hyp("start morning stretch", True, 1.0, 2.0, 0.97)]]
    listener = Listener(ScriptedEngine(script), locale, commands=table)
    heard = listener.feed(CHUNK)
    assert [(h.command, h.text) for h in heard] == [
        ("start:morning-mobility", "start morning stretch")
    ]
    assert "list routines" in grammar_for(table)


def test_idle_starts_have_their_own_bar_and_help_keeps_the_usual_one() -> None:
    locale = load_locale("en")
    table = idle_table("quick-reset", "quick stretch", "Quick reset")
    bars = Thresholds(final_other=0.95, final_start=0.6)
    script = [
        [hyp("start the quick reset", True, 1.0, 2.0, 0.7)],
        [hyp("help", True, 4.0, 4.4, 0.7)],
        [hyp("start quick stretch", True, 6.0, 7.0, 0.5)],
    ]
    listener = Listener(ScriptedEngine(script), locale, commands=table, rejection=Rejection(bars))
    heard = [h.command for _ in script for h in listener.feed(CHUNK)]
    assert heard == ["start:quick-reset"]


def test_the_noise_floor_vad_follows_a_steady_noise() -> None:
    rng = np.random.default_rng(1)
    vad = NoiseFloorVad()
    noise = (rng.standard_normal(16000 * 4) * 0.03 * 32767).astype(np.int16)
    decisions = vad.decide(noise.reshape(-1, 160))
    assert decisions[-200:].mean() < 0.05  # a steady fan is not speech once the floor is known
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 700 * t) * 0.5 * 32767).astype(np.int16)
    loud = vad.decide((noise[:16000] + tone).reshape(-1, 160))
    assert loud.mean() > 0.9


class _WorkingCanceller:
    """An echo stage converged and doing its job; `talking` says whether the box talked."""

    cancelling_poorly = False

    def __init__(self) -> None:
        self.talking = False

    def unsettled(self, seconds_ago: float = 0.0) -> bool:
        return False

    def second_look(self, start_ago: float, end_ago: float) -> bool | None:
        return None

    def removed_over(self, start_ago: float, end_ago: float) -> float | None:
        return None

    def talked_within(self, seconds: float) -> bool:
        return self.talking


def test_words_said_over_the_box_get_their_own_bar() -> None:
    """A true command said while the box talks comes out of the echo canceller less sure; the
    echo guard answers for the box's own words, so the bar may be lower there only."""
    locale = load_locale("en")
    thresholds = Thresholds(final_other=0.95, final_other_over_box=0.6)
    echo = _WorkingCanceller()
    script = [[hyp("resume", True, 0.0, 0.5, 0.7)], [hyp("skip", True, 1.0, 1.5, 0.7)]]
    listener = Listener(
        ScriptedEngine(script),
        locale,
        rejection=Rejection(thresholds),
        guard=EchoGuard(lambda: None, echo),
    )
    assert listener.feed(CHUNK) == []  # the box silent: 0.7 is not enough
    echo.talking = True
    assert [h.command for h in listener.feed(CHUNK)] == ["skip"]
    rejection = Rejection(thresholds)
    assert not rejection.accepts(hyp("resume", True, 0, 1, 0.7), match_of("resume"))
    assert rejection.accepts(hyp("resume", True, 0, 1, 0.7), match_of("resume"), lambda: True)
    # The question is asked only where its answer decides: not for a sure result, a safety
    # command or a partial.
    asked: list[int] = []

    def over() -> bool:
        asked.append(1)
        return True

    assert rejection.accepts(hyp("resume", True, 0, 1, 0.97), match_of("resume"), over)
    assert rejection.accepts(hyp("it hurts", True, 0, 1, 0.7), match_of("it hurts"), over)
    assert not rejection.accepts(hyp("resume", False, 0, 1, 0.7), match_of("resume"), over)
    assert not rejection.accepts(hyp("resume", True, 0, 1, 0.5), match_of("resume"), over)
    assert asked == []
    # Unset, the bar over the box is the usual one.
    plain = Rejection(Thresholds(final_other=0.95))
    assert not plain.accepts(hyp("resume", True, 0, 1, 0.7), match_of("resume"), lambda: True)


def match_of(text: str) -> PhraseMatch:
    found = PhraseMatcher(load_locale("en")).match(text)
    assert found is not None
    return found

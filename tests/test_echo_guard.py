"""Echo defences: the guard on words being played (layer 3) and the canceller (layer 2)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from voiceguide.content.locales import load_locale
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.speech_in.echo_cancel import EchoCanceller, ReferenceBuffer, load_speexdsp
from voiceguide.speech_in.echo_guard import EchoGuard
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.listener import Listener

LOCALE = load_locale("en")
MATCHER = PhraseMatcher(LOCALE)


def match(text: str):
    found = MATCHER.match(text)
    assert found is not None
    return found


def test_the_prompt_naming_resume_cannot_resume_the_session() -> None:
    guard = EchoGuard(lambda: LOCALE.prompt("paused"))  # "Paused. Say resume when ..."
    assert guard.blocks(match("resume"))
    assert guard.dropped == 1


def test_the_person_can_still_say_another_command_over_it() -> None:
    guard = EchoGuard(lambda: LOCALE.prompt("paused"))
    assert not guard.blocks(match("pause"))  # "paused" is not "pause"
    assert not guard.blocks(match("skip"))


def test_multi_word_phrases_need_every_word_in_the_played_text() -> None:
    guard = EchoGuard(lambda: LOCALE.prompt("help"))  # names "how long left", "go back" ...
    assert guard.blocks(match("how long left"))
    assert guard.blocks(match("go back"))
    assert not guard.blocks(match("keep going"))


def test_pain_is_never_muted_and_stop_only_while_the_box_says_it() -> None:
    guard = EchoGuard(lambda: "If it hurts, stop and tell me. It hurts? Stop.")
    assert not guard.blocks(match("it hurts"))
    assert guard.blocks(match("stop"))  # the help answer names it (core.commands)
    assert not EchoGuard(lambda: LOCALE.prompt("paused")).blocks(match("stop"))
    unsettled = EchoGuard(lambda: LOCALE.prompt("paused"), _Echo(lambda _: True))
    assert not unsettled.blocks(match("stop")) and not unsettled.blocks(match("it hurts"))


def test_nothing_is_blocked_while_the_box_is_quiet() -> None:
    assert not EchoGuard(lambda: None).blocks(match("resume"))


def test_the_listener_drops_guarded_commands_but_keeps_pain() -> None:
    class Engine:
        sample_rate_hz = 16000
        script = [  # noqa: RUF012 - a fake's fixed script
            [Hypothesis("resume", True, 1.0, 1.4, 0.95)],
            [Hypothesis("it hurts", True, 3.0, 3.5, 0.95)],
        ]

        def accept(self, pcm: bytes) -> list[Hypothesis]:
            return self.script.pop(0)

        def flush(self) -> list[Hypothesis]:
            return []

        def reset(self) -> None: ...

    guard = EchoGuard(lambda: LOCALE.prompt("paused"))
    listener = Listener(Engine(), LOCALE, guard=guard)
    heard = listener.feed(b"\x00\x00" * 480) + listener.feed(b"\x00\x00" * 480)
    assert [h.command for h in heard] == ["pain"]


needs_speex = pytest.mark.skipif(load_speexdsp() is None, reason="libspeexdsp1 not installed")


@needs_speex
def test_the_canceller_removes_the_box_voice_from_the_microphone() -> None:
    rng = np.random.default_rng(3)
    rate = 16000
    # Speech-like reference: noise bursts shaped by a slow envelope, through a room with a
    # delay and a short decaying tail.
    n = rate * 6
    envelope = np.abs(np.sin(np.arange(n) / rate * 2 * np.pi * 1.5))
    played = rng.standard_normal(n) * envelope * 0.2
    room = np.zeros(800)
    room[64] = 0.6
    room[64:] += rng.standard_normal(736) * np.exp(-np.arange(736) / 150) * 0.1
    echo = np.convolve(played, room)[:n]
    to16 = lambda x: (np.clip(x, -1, 1) * 32767).astype(np.int16)
    canceller = EchoCanceller(rate, suppress_residual=False)
    out = np.concatenate(
        [canceller.process(to16(echo[i : i + 480]), to16(played[i : i + 480]))
         for i in range(0, n, 480)]
    )  # fmt: skip
    canceller.close()
    tail = slice(3 * rate, len(out))  # after the filter has converged
    before = np.mean(to16(echo)[tail].astype(float) ** 2)
    after = np.mean(out[tail].astype(float) ** 2)
    assert 10 * np.log10(before / after) > 20


def test_the_reference_buffer_lines_up_played_blocks_with_capture_time() -> None:
    class Block:
        def __init__(self, frames: np.ndarray, start: float) -> None:
            self.frames, self.sample_rate_hz, self.start_monotonic = frames, 16000, start
            self.text = None

    buffer = ReferenceBuffer(lead_seconds=0.0)
    buffer.add(Block(np.full(1600, 0.5, np.float32), 100.0))
    buffer.add(Block(np.full(1600, -0.5, np.float32), 100.1))
    got = buffer.take(100.05, 1600)
    assert got[:800].min() > 16000 and got[800:].max() < -16000
    assert not buffer.take(50.0, 160).any()  # before anything was played: silence


class _Echo:
    """An echo stage that answers as told (the real one is tested in test_double_talk.py)."""

    def __init__(
        self,
        unsettled: Callable[[float], bool],
        second_look: Callable[[float, float], bool | None] = lambda _s, _e: None,
        removed_over: Callable[[float, float], float | None] = lambda _s, _e: None,
    ) -> None:
        self.unsettled = unsettled
        self.second_look = second_look
        self.removed_over = removed_over
        self.cancelling_poorly = False
        self.talked: list[float] = []  # what talked_within was asked

    def talked_within(self, seconds: float) -> bool:
        self.talked.append(seconds)
        return seconds > 1.0


def test_the_bar_over_the_box_is_lowered_only_where_the_canceller_does_its_job() -> None:
    echo = _Echo(lambda words_ago: words_ago > 3.0)  # converged 3 s ago
    guard = EchoGuard(lambda: None, echo)
    assert guard.over_the_box(2.0)  # said over the box, the canceller working
    assert not guard.over_the_box(0.5)  # the box silent since before the words
    assert not guard.over_the_box(4.0)  # said before the filter had converged
    echo.cancelling_poorly = True
    assert not guard.over_the_box(2.0)
    assert echo.talked == [2.0, 0.5, 4.0, 2.0]
    # No echo stage of ours (hardware cancellation, or none): the usual bar always.
    assert not EchoGuard(lambda: "Breathe in.").over_the_box(2.0)


def test_until_the_canceller_converges_only_safety_commands_pass_over_the_box() -> None:
    asked: list[float] = []

    def unsettled(words_ago: float) -> bool:
        asked.append(words_ago)
        return words_ago > 2.0  # the words were said before the filter had converged

    guard = EchoGuard(lambda: None, _Echo(unsettled))  # the second look cannot tell
    assert guard.blocks(match("resume"), words_ago=3.0)  # even with the box silent by now
    assert not guard.blocks(match("resume"), words_ago=0.5)
    assert not guard.blocks(match("it hurts"), words_ago=3.0)  # safety is not muted on words
    assert not guard.blocks(match("stop"), words_ago=3.0)
    assert asked == [3.0, 0.5, 3.0, 3.0]


def test_the_second_look_decides_while_the_canceller_is_not_doing_its_job() -> None:
    looked: list[tuple[float, float]] = []

    def second_look(start_ago: float, end_ago: float) -> bool | None:
        looked.append((start_ago, end_ago))
        return start_ago > 2.0  # older words: the box alone; newer: someone over it

    guard = EchoGuard(lambda: None, _Echo(lambda _: True, second_look))
    assert guard.blocks(match("it hurts"), words_ago=3.0, end_ago=2.5)
    assert not guard.blocks(match("it hurts"), words_ago=1.0, end_ago=0.5)
    assert not guard.blocks(match("stop"), words_ago=1.0, end_ago=0.5)
    assert guard.blocks(match("resume"), words_ago=3.0, end_ago=2.5)
    assert not guard.blocks(match("resume"), words_ago=1.0, end_ago=0.5)  # a person said it
    assert looked == [(3.0, 2.5), (1.0, 0.5), (1.0, 0.5), (3.0, 2.5), (1.0, 0.5)]
    settled = EchoGuard(lambda: None, _Echo(lambda _: False, second_look))
    assert not settled.blocks(match("it hurts"), words_ago=3.0, end_ago=2.5)
    assert not settled.blocks(match("resume"), words_ago=3.0, end_ago=2.5)
    assert len(looked) == 5  # converged and working: no look delays anything
    poor = _Echo(lambda _: False, second_look)
    poor.cancelling_poorly = True  # converged, but removing little: everything gets a look
    assert EchoGuard(lambda: None, poor).blocks(match("it hurts"), words_ago=3.0, end_ago=2.5)
    assert not EchoGuard(lambda: None, poor).blocks(match("it hurts"), words_ago=1.0)
    assert EchoGuard(lambda: None, poor).blocks(match("resume"), words_ago=3.0, end_ago=2.5)
    assert not EchoGuard(lambda: None, poor).blocks(match("skip"), words_ago=1.0, end_ago=0.5)
    unsure = _Echo(lambda _: False)  # the look cannot tell
    unsure.cancelling_poorly = True
    assert not EchoGuard(lambda: None, unsure).blocks(match("resume"), words_ago=3.0)


def test_words_the_working_canceller_removed_much_of_get_a_second_look() -> None:
    """Converged and working, the canceller's own figure picks the suspects: the box's residue
    (much removed) is looked at again, a person over the box (little removed) is not."""
    looked: list[tuple[float, float]] = []

    def second_look(start_ago: float, end_ago: float) -> bool | None:
        looked.append((start_ago, end_ago))
        return start_ago > 2.0  # older words: the box alone; newer: someone over it

    def removed(start_ago: float, end_ago: float) -> float | None:
        return {3.0: 20.0, 2.5: 4.0, 1.5: 12.0}.get(start_ago)

    guard = EchoGuard(lambda: None, _Echo(lambda _: False, second_look, removed))
    assert guard.blocks(match("skip"), words_ago=3.0, end_ago=2.8)  # much removed, the box alone
    assert not guard.blocks(match("skip"), words_ago=2.5, end_ago=2.2)  # little removed: no look
    assert not guard.blocks(match("skip"), words_ago=1.5, end_ago=1.2)  # looked: someone spoke
    assert not guard.blocks(match("skip"), words_ago=0.5, end_ago=0.2)  # the figure is unknown
    # Safety commands are not muted on this: only an untrusted canceller's look drops them.
    assert not guard.blocks(match("it hurts"), words_ago=3.0, end_ago=2.8)
    assert looked == [(3.0, 2.8), (1.5, 1.2)]
    assert guard.dropped == 1

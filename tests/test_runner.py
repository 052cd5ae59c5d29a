"""The runner loop with a fake clock and fake sinks: dispatch order, Quit and the heartbeat."""

from __future__ import annotations

import queue
import threading

from tests.support.factories import two_step_routine
from voiceguide.app.console import format_offset
from voiceguide.app.runner import Quit, Runner
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import CommandHeard
from voiceguide.core.commands import Ending, safety_advice
from voiceguide.core.session import Session
from voiceguide.core.timeline import build_timeline

LOCALE = load_locale("en")


class FakeClock:
    """Session time that jumps straight to whatever deadline the runner waits for."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def real_seconds_until(self, deadline: float) -> float:
        # No real waiting: time moves on to the deadline, and the queue poll returns at once.
        self.t = max(self.t, deadline)
        return 0.0


class Calls:
    """Records every call on the speech and history sinks, in order, in one list."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    # speech
    def speak(self, text: str, kind: str = "prompt") -> None:
        self.calls.append(("speak", kind, text))

    def cancel(self) -> None:
        self.calls.append(("cancel",))

    def set_volume(self, volume: float) -> None:
        self.calls.append(("volume", volume))

    def set_rate(self, rate_wpm: int) -> None:
        self.calls.append(("rate", rate_wpm))

    # history
    def start_session(self, routine_id: str, routine_title: str) -> int | None:
        self.calls.append(("start", routine_id))
        return 7

    def log_pain(self, session_id: int | None, exercise: str, step_index: int | None,
                 side: str | None, seconds_into_hold: float | None) -> None:  # fmt: skip
        self.calls.append(("pain", session_id, exercise, step_index))

    def log_step(self, session_id: int | None, exercise: str, step_index: int,
                 side: str | None, outcome: str, held_seconds: float) -> None:  # fmt: skip
        self.calls.append(("step", session_id, exercise, side, outcome))

    def end_session(self, session_id: int | None, how: str) -> None:
        self.calls.append(("end", session_id, how))


def make_runner(
    calls: Calls, events: queue.SimpleQueue[object], beats: list[int] | None = None
) -> Runner:
    session = Session(build_timeline(two_step_routine(), LOCALE), LOCALE)
    heartbeat = (lambda: beats.append(1)) if beats is not None else None
    return Runner(session, FakeClock(), calls, calls, events, heartbeat=heartbeat)


def test_a_routine_runs_to_its_end_with_the_history_written_around_it() -> None:
    calls = Calls()
    how = make_runner(calls, queue.SimpleQueue()).run()
    assert how is Ending.COMPLETED
    assert calls.calls[0] == ("start", "test-routine")
    assert calls.calls[-1] == ("end", 7, Ending.COMPLETED)
    spoken = [c for c in calls.calls if c[0] == "speak"]
    assert spoken[0][2].startswith("Test routine")  # the welcome comes first
    assert not any(c[0] == "pain" for c in calls.calls)


def test_it_hurts_is_dispatched_in_order_cancel_advice_record_end() -> None:
    calls = Calls()
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    events.put(CommandHeard("pain", "it hurts"))
    how = make_runner(calls, events).run()
    assert how is Ending.PAIN
    start = calls.calls.index(("cancel",))
    assert calls.calls[start:] == [
        ("cancel",),
        ("speak", "safety", safety_advice(LOCALE)),
        ("pain", 7, "(introduction)", None),  # before the first step: no step index
        ("end", 7, Ending.PAIN),
    ]


def test_quit_cuts_the_speech_and_ends_the_session_without_a_word() -> None:
    calls = Calls()
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    events.put(Quit())
    how = make_runner(calls, events).run()
    assert how is Ending.INTERRUPTED
    assert calls.calls[-2:] == [("cancel",), ("end", 7, Ending.INTERRUPTED)]


def test_the_heartbeat_is_called_on_every_wake_up() -> None:
    calls, beats = Calls(), []
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    runner = make_runner(calls, events, beats)
    runner.run()
    # One wake-up per due cue or segment end, and none is skipped: at least one beat per cue.
    spoken = sum(1 for c in calls.calls if c[0] == "speak")
    assert len(beats) >= spoken - 1


def test_events_posted_from_another_thread_reach_the_loop() -> None:
    calls = Calls()
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    runner = make_runner(calls, events)
    poster = threading.Thread(target=lambda: runner.post(CommandHeard("stop", "stop")))
    poster.start()
    poster.join()
    assert runner.run() is Ending.STOPPED
    assert ("speak", "prompt", LOCALE.prompt("goodbye")) in calls.calls


def test_offsets_round_before_they_carry_into_the_minutes() -> None:
    assert format_offset(239.97) == "04:00.0"
    assert format_offset(59.94) == "00:59.9"
    assert format_offset(-1.0) == "00:00.0"


def test_the_pain_report_reads_as_a_sentence() -> None:
    from voiceguide.app.runner import pain_sentence
    from voiceguide.core.actions import LogPain

    assert pain_sentence(LogPain("Knee to chest", 0, "left", 4.4)) == (
        "Pain reported during Knee to chest (step 1, left side), 4 s into the hold."
    )
    assert pain_sentence(LogPain("(introduction)", None, None, None)) == (
        "Pain reported during the introduction."
    )


def test_every_side_of_every_step_is_recorded_with_its_outcome() -> None:
    calls = Calls()
    assert make_runner(calls, queue.SimpleQueue()).run() is Ending.COMPLETED
    steps = [c for c in calls.calls if c[0] == "step"]
    assert steps == [
        ("step", 7, "Knee to chest", "left", "done"),
        ("step", 7, "Knee to chest", "right", "done"),
        ("step", 7, "Pelvic tilt", None, "done"),
    ]
    assert calls.calls.index(steps[-1]) < calls.calls.index(("end", 7, Ending.COMPLETED))

"""The pure session engine, driven tick by tick with a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.factories import two_step_routine
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import (
    CancelSpeech,
    CommandHeard,
    Finish,
    InputBack,
    InputLost,
    LogPain,
    SetRate,
    SetVolume,
    Speak,
    Tick,
)
from voiceguide.core.session import LATE_TOLERANCE_SECONDS, Session, State
from voiceguide.core.timeline import build_timeline

LOCALE = load_locale("en")


def make_session() -> Session:
    return Session(build_timeline(two_step_routine(), LOCALE), LOCALE)


class Driver:
    """Steps a session through time with a fake clock and records every action."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.now = 0.0
        self.log: list[tuple[float, object]] = []
        self._record(session.start(0.0))

    def _record(self, actions: list) -> list:
        self.log += [(self.now, a) for a in actions]
        return actions

    def run_until(self, t: float) -> None:
        """Deliver every Tick the session asks for up to time t."""
        while (d := self.session.next_deadline) is not None and d <= t:
            self.now = d
            self._record(self.session.handle(Tick(), d))
        self.now = max(self.now, t)

    def run_to_end(self) -> None:
        self.run_until(float("inf"))

    def say(self, command: str) -> list:
        return self._record(self.session.handle(CommandHeard(command), self.now))

    def spoken(self) -> list[tuple[float, str, str]]:
        return [(t, a.kind, a.text) for t, a in self.log if isinstance(a, Speak)]

    def first(self, kind: str, after: float = -1.0) -> float:
        return next(t for t, k, _ in self.spoken() if k == kind and t > after)


def test_plays_every_cue_at_its_planned_time_and_completes() -> None:
    timeline = build_timeline(two_step_routine(), LOCALE)
    driver = Driver(Session(timeline, LOCALE))
    driver.run_to_end()
    planned = [(round(c.at_seconds, 6), c.kind, c.text) for c in timeline.cues()]
    played = [(round(t, 6), k, x) for t, k, x in driver.spoken()]
    assert played == planned
    assert driver.session.state is State.FINISHED
    assert isinstance(driver.log[-1][1], Finish) and driver.log[-1][1].how == "completed"
    assert driver.log[-1][0] == pytest.approx(timeline.total_seconds)


def test_states_follow_the_routine() -> None:
    driver = Driver(make_session())
    seen = []
    while not driver.session.is_over:
        seen.append(driver.session.state)
        driver.run_until(driver.session.next_deadline)
    order = list(dict.fromkeys(seen))
    assert order == [State.INSTRUCTING, State.HOLDING, State.SWITCHING, State.RESTING, State.REPS]


def test_switch_sides_between_left_and_right_holds() -> None:
    driver = Driver(make_session())
    driver.run_to_end()
    kinds = [k for _, k, _ in driver.spoken()]
    texts = [x for _, _, x in driver.spoken()]
    # The first side is named before its set-up, the second as it starts.
    left = texts.index("Left side first.")
    assert left == texts.index("Knee to chest.") + 1 and kinds[left + 1] == "setup"
    right = texts.index("Right side. Hold here, and breathe easily.")
    assert left < kinds.index("switch") < right


def test_hold_is_exact_length_between_start_and_release() -> None:
    driver = Driver(make_session())
    driver.run_to_end()
    start = driver.first("hold_start")
    release = driver.first("release")
    assert release - start == pytest.approx(20.0)
    counts = [x for t, k, x in driver.spoken() if k == "count" and t < release]
    assert counts == ["Three.", "Two.", "One."]


def test_pause_keeps_remaining_time_exactly() -> None:
    driver = Driver(make_session())
    cues = build_timeline(two_step_routine(), LOCALE).cues()
    start = next(c.at_seconds for c in cues if c.kind == "hold_start")
    driver.run_until(start + 7.25)
    actions = driver.say("pause")
    assert isinstance(actions[0], CancelSpeech)
    assert driver.session.state is State.PAUSED
    assert driver.session.next_deadline is None
    driver.now += 42.0  # a long pause
    driver.say("resume")
    assert driver.session.state is State.HOLDING
    driver.run_to_end()
    release = driver.first("release")
    assert release - start - 42.0 == pytest.approx(20.0, abs=1e-9)


def test_pain_cancels_first_then_advises_logs_and_finishes() -> None:
    driver = Driver(make_session())
    start = next(
        c.at_seconds for c in build_timeline(two_step_routine(), LOCALE).cues()
        if c.kind == "hold_start"
    )  # fmt: skip
    driver.run_until(start + 5.0)
    actions = driver.say("pain")
    assert isinstance(actions[0], CancelSpeech)
    advice = actions[1]
    assert isinstance(advice, Speak) and advice.kind == "safety"
    for words in ("Ease out", "push through pain", "numbness", "weakness",
                  "healthcare professional", "bladder", "emergency"):  # fmt: skip
        assert words in advice.text
    pain = actions[2]
    assert isinstance(pain, LogPain)
    assert (pain.exercise, pain.side, pain.step_index) == ("Knee to chest", "left", 0)
    assert pain.seconds_into_hold == pytest.approx(5.0)  # from the start of the hold
    assert actions[-1] == Finish("pain", {"exercise": "Knee to chest"})
    assert driver.session.state is State.SAFETY_STOPPED
    assert driver.session.next_deadline is None
    assert driver.session.handle(Tick(), driver.now + 100) == []


def test_pain_works_while_paused() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    driver.say("pause")
    actions = driver.say("pain")
    assert isinstance(actions[0], CancelSpeech)
    assert driver.session.state is State.SAFETY_STOPPED


def test_stop_says_goodbye_and_finishes() -> None:
    driver = Driver(make_session())
    driver.run_until(12)
    actions = driver.say("stop")
    assert isinstance(actions[0], CancelSpeech)
    assert isinstance(actions[1], Speak) and "Thank you" in actions[1].text
    assert actions[-1] == Finish("stopped")


def test_skip_goes_to_next_exercise_and_previous_comes_back() -> None:
    driver = Driver(make_session())
    driver.run_until(30)  # in the left hold of step 0
    actions = driver.say("skip")
    assert isinstance(actions[0], CancelSpeech)
    assert actions[1] == Speak("Pelvic tilt.", "name", actions[1].cue_id)
    assert driver.session.segment.step_index == 1
    actions = driver.say("previous")
    assert actions[1].text == "Knee to chest."
    assert driver.session.segment.step_index == 0


def test_skip_during_the_welcome_starts_the_first_exercise() -> None:
    driver = Driver(make_session())
    driver.run_until(1.0)
    actions = driver.say("skip")
    assert actions[1].text == "Knee to chest."


def test_skip_on_last_exercise_goes_to_the_closing_words() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    driver.say("skip")
    actions = driver.say("skip")
    assert actions[1].kind == "finished"
    driver.run_to_end()
    assert driver.session.state is State.FINISHED


def test_repeat_replays_instructions_then_returns_to_the_same_side() -> None:
    driver = Driver(make_session())
    segments = driver.session.timeline.segments
    right_hold = next(i for i, s in enumerate(segments) if s.side == "right")
    start = sum(s.duration_seconds for s in segments[:right_hold])
    driver.run_until(start + 5)
    actions = driver.say("repeat")
    assert actions[1].text == "Knee to chest."
    driver.run_until(driver.now + segments[1].duration_seconds)
    assert driver.session.segment.side == "right"
    assert driver.session.segment.kind == "hold"


def test_time_left_and_whats_next() -> None:
    driver = Driver(make_session())
    driver.run_until(driver.session.timeline.segment_starts()[2] + 5)  # left hold, 5 s in
    (answer,) = driver.say("time_left")
    assert answer.text.startswith("Fifteen seconds left on this one")  # a capital, as a sentence
    (answer,) = driver.say("whats_next")
    assert answer.text == "After this, we change over to the second side."
    driver.say("skip")
    (answer,) = driver.say("whats_next")
    assert answer.text == "This is the last exercise."


def test_volume_and_rate_change_within_limits() -> None:
    driver = Driver(make_session())
    actions = driver.say("louder")
    assert actions[0] == SetVolume(0.95)
    actions = driver.say("louder")
    assert actions[0] == SetVolume(1.0)
    (limit,) = driver.say("louder")
    assert limit.text == "That is as loud as I go."
    assert driver.say("slower")[0] == SetRate(140)
    assert driver.say("faster")[0] == SetRate(160)


def test_late_wakeup_drops_counts_but_not_instructions() -> None:
    driver = Driver(make_session())
    timeline = driver.session.timeline
    counts = [c for c in timeline.cues() if c.kind == "count"]
    late = counts[-1].at_seconds + LATE_TOLERANCE_SECONDS + 0.5
    driver.now = late
    driver._record(driver.session.handle(Tick(), late))
    spoken_kinds = [k for _, k, _ in driver.spoken()]
    assert "count" not in spoken_kinds  # stale counts are never blurted out
    assert spoken_kinds.count("setup") == 2


def test_resume_in_instructions_restarts_them() -> None:
    driver = Driver(make_session())
    driver.run_until(10)  # in the instructions of step 0
    driver.say("pause")
    driver.now += 5
    actions = driver.say("resume")
    assert actions[0].text == "Knee to chest."


def test_losing_the_microphone_pauses_and_its_return_is_announced() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    actions = driver.session.handle(InputLost(), driver.now)
    assert isinstance(actions[0], CancelSpeech)
    assert actions[1].text == "I can't hear the microphone. Pausing until it is back."
    assert driver.session.state is State.PAUSED
    (back,) = driver.session.handle(InputBack(), driver.now + 20)
    assert back.text == "Microphone is back. Say resume to continue."
    assert driver.session.state is State.PAUSED
    driver.now += 25
    driver.say("resume")
    assert driver.session.state is State.HOLDING


def test_losing_the_speaker_pauses_and_its_return_is_announced() -> None:
    driver = Driver(make_session())
    driver.run_until(30)  # holding
    held = driver.session.elapsed_in_segment(driver.now)
    actions = driver.session.handle(InputLost("speaker"), driver.now)
    assert isinstance(actions[0], CancelSpeech)
    assert actions[1].text == "I can't reach the speaker. Pausing until it is back."
    assert driver.session.state is State.PAUSED
    assert driver.session.missing_devices == ("speaker",)
    (back,) = driver.session.handle(InputBack("speaker"), driver.now + 40)
    assert back.text == "Speaker is back. Say resume to continue."
    assert driver.session.state is State.PAUSED  # coming back is not a resume
    driver.now += 45
    driver.say("resume")
    assert driver.session.state is State.HOLDING
    assert driver.session.elapsed_in_segment(driver.now) == pytest.approx(held)


def test_losing_the_speaker_while_paused_only_says_so() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    driver.say("pause")
    (lost,) = driver.session.handle(InputLost("speaker"), driver.now + 1)
    assert lost.text.startswith("I can't reach the speaker")
    assert driver.session.state is State.PAUSED


def test_a_repeated_loss_or_an_unknown_return_says_nothing() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    assert driver.session.handle(InputBack("speaker"), driver.now) == []  # never lost here
    assert driver.session.state is State.HOLDING
    driver.session.handle(InputLost("speaker"), driver.now)
    assert driver.session.handle(InputLost("speaker"), driver.now + 1) == []
    assert driver.session.handle(InputBack("microphone"), driver.now + 2) == []
    assert driver.session.missing_devices == ("speaker",)


def test_with_both_devices_gone_the_first_return_repeats_what_is_still_missing() -> None:
    driver = Driver(make_session())
    driver.run_until(30)
    driver.session.handle(InputLost("microphone"), driver.now)
    (lost,) = driver.session.handle(InputLost("speaker"), driver.now + 1)
    assert lost.text.startswith("I can't reach the speaker")
    # "Say resume" would be wrong while the microphone is still gone; and the microphone's own
    # message was said while the speaker was gone, so say it again now that it can be heard.
    (still,) = driver.session.handle(InputBack("speaker"), driver.now + 2)
    assert still.text == "I can't hear the microphone. Pausing until it is back."
    (back,) = driver.session.handle(InputBack("microphone"), driver.now + 3)
    assert back.text == "Microphone is back. Say resume to continue."
    assert driver.session.missing_devices == ()
    assert driver.session.state is State.PAUSED


def test_device_prompts_exist_in_every_locale() -> None:
    for language in ("en", "ko"):
        locale = load_locale(language)
        for key in ("mic_lost", "mic_back", "speaker_lost", "speaker_back"):
            assert locale.prompt(key)


# ---- properties -----------------------------------------------------------------------------
devices = st.sampled_from(["microphone", "speaker"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 20.0), st.booleans(), devices), max_size=12))
def test_device_events_alone_never_let_the_session_carry_on(
    events: list[tuple[float, bool, str]],
) -> None:
    """Once a device is lost, only "resume" (never a device's return) restarts the clock."""
    driver = Driver(make_session())
    driver.run_until(30)
    lost_any = False
    for gap, lost, device in events:
        driver.now += gap
        event = InputLost(device) if lost else InputBack(device)  # type: ignore[arg-type]
        driver._record(driver.session.handle(event, driver.now))
        lost_any = lost_any or lost
        if lost_any:
            assert driver.session.state is State.PAUSED
            assert driver.session.next_deadline is None
    assert len(set(driver.session.missing_devices)) == len(driver.session.missing_devices)


commands = st.sampled_from(["pause", "resume"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 30.0), commands), max_size=12))
def test_pause_resume_never_changes_hold_time(events: list[tuple[float, str]]) -> None:
    """Hold time (release minus start, pauses excluded) is exact whatever pauses happen."""
    driver = Driver(make_session())
    for gap, command in events:
        driver.run_until(driver.now + gap)
        driver.say(command)
    if driver.session.state is State.PAUSED:
        driver.say("resume")
    driver.run_to_end()
    spoken = driver.spoken()
    starts = [t for t, k, _ in spoken if k == "hold_start"]
    releases = [t for t, k, _ in spoken if k == "release"]
    # Measure each hold against the pauses that fell inside it.
    assert len(starts) == len(releases) == 2
    for start, release in zip(starts, releases):
        inside = _paused_time_between(driver.log, start, release)
        assert abs((release - start - inside) - 20.0) <= 0.010


def _paused_time_between(log: list[tuple[float, object]], start: float, end: float) -> float:
    total, paused_from = 0.0, None
    for t, action in log:
        if not isinstance(action, Speak) or not (start <= t <= end):
            continue
        if action.text.startswith("Paused") and paused_from is None:
            paused_from = t
        elif action.text == "Okay, carrying on." and paused_from is not None:
            total += t - paused_from
            paused_from = None
    return total


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 40.0),
            st.sampled_from(["skip", "previous", "repeat", "pause", "resume", "time_left"]),
        ),
        max_size=15,
    )
)
def test_navigation_always_leaves_a_next_deadline(events: list[tuple[float, str]]) -> None:
    """After skip or previous at any moment, the session always knows when to wake next."""
    driver = Driver(make_session())
    for gap, command in events:
        driver.run_until(driver.now + gap)
        if driver.session.is_over:
            return
        driver.say(command)
        if command in ("skip", "previous", "repeat") and not driver.session.is_over:
            assert driver.session.state is not State.PAUSED
            assert driver.session.next_deadline is not None
            assert driver.session.next_deadline >= driver.now - 1e-9
    driver.say("resume")
    driver.run_to_end()
    assert driver.session.state is State.FINISHED
    assert isinstance(driver.log[-1][1], Finish)

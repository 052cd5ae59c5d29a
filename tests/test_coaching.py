"""Coaching in the pure core, with a fake clock: pain memory, easier, other side, verbosity,
progression, and the per-side log."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.factories import two_step_routine
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import CommandHeard, Finish, LogPain, LogStep, Speak, Tick
from voiceguide.core.coaching import (
    MIN_HOLD_SECONDS,
    Coaching,
    PainNote,
    Progression,
    Verbosity,
    pain_notice,
    progression_for,
    scaled_routine,
)
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.core.routine import Routine
from voiceguide.core.segments import ASK_WAIT_SECONDS
from voiceguide.core.session import Session, State
from voiceguide.core.speech_texts import session_texts
from voiceguide.core.timeline import plan_session

LOCALE = load_locale("en")
ROUTINE = two_step_routine()
KNEE = PainNote("Knee to chest", "left", 3)


class Driver:
    """Steps a session through time with a fake clock and records every action."""

    def __init__(self, coaching: Coaching | None = None, rate: int = 160) -> None:
        timeline = plan_session(ROUTINE, LOCALE, rate, coaching)
        self.session = Session(timeline, LOCALE, rate_wpm=rate, coaching=coaching)
        self.now = 0.0
        self.log: list[tuple[float, object]] = []
        self._record(self.session.start(0.0))

    def _record(self, actions: list) -> list:
        self.log += [(self.now, a) for a in actions]
        return actions

    def run_until(self, t: float) -> None:
        while (d := self.session.next_deadline) is not None and d <= t:
            self.now = d
            self._record(self.session.handle(Tick(), d))
        self.now = max(self.now, t)

    def run_to(self, kind: str, side: str | None = None, step: int | None = None) -> None:
        """Run until the session enters a segment of `kind` (and side, step)."""
        while not self.session.is_over:
            seg = self.session.segment
            if (
                seg.kind == kind
                and (side is None or seg.side == side)
                and (step is None or seg.step_index == step)
            ):
                return
            self.run_until(self.session.next_deadline or float("inf"))
        raise AssertionError(f"never reached {kind}")

    def say(self, command: str) -> list:
        return self._record(self.session.handle(CommandHeard(command), self.now))

    def texts(self) -> list[str]:
        return [a.text for _, a in self.log if isinstance(a, Speak)]

    def steps(self) -> list[tuple[int, str | None, str]]:
        return [(a.step_index, a.side, a.outcome) for _, a in self.log if isinstance(a, LogStep)]


# ---- pain memory -----------------------------------------------------------------------------
def test_pain_notice_is_careful_and_never_says_a_command() -> None:
    notice = pain_notice(LOCALE, KNEE)
    assert notice == "Last time, Knee to chest was uncomfortable on your left side."
    assert PhraseMatcher(LOCALE).find_all(notice, negation=False) == []
    assert pain_notice(LOCALE, PainNote("Pelvic tilt", None, 1)).endswith("was uncomfortable.")


def test_the_question_comes_before_the_exercise_and_leave_it_out_works() -> None:
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    assert driver.session.state is State.ASKING
    question = driver.texts()[-1]
    assert question.startswith("Last time, Knee to chest was uncomfortable on your left side.")
    assert "leave it out" in question and "keep it in" in question
    assert "Knee to chest." not in driver.texts()  # nothing of the exercise yet
    actions = driver.say("leave_out")
    assert next(a.text for a in actions if isinstance(a, Speak)) == LOCALE.prompt("left_out")
    assert driver.steps() == [(0, "left", "left_out"), (0, "right", "left_out")]
    driver.run_until(float("inf"))
    assert "Knee to chest." not in driver.texts() and "Pelvic tilt." in driver.texts()


def test_the_question_times_out_to_the_safe_choice_leave_it_out() -> None:
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    asked = driver.now
    driver.run_to("instruct")
    assert driver.session.segment.step_index == 1  # knee to chest was left out
    assert driver.now >= asked + ASK_WAIT_SECONDS
    assert LOCALE.prompt("left_out") in driver.texts()
    assert driver.steps()[:2] == [(0, "left", "left_out"), (0, "right", "left_out")]


def test_keep_it_in_plays_the_exercise() -> None:
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    driver.say("keep_it")
    driver.run_until(float("inf"))
    assert "Knee to chest." in driver.texts()
    assert driver.steps()[:2] == [(0, "left", "done"), (0, "right", "done")]


def test_gentler_answer_plays_the_easier_variant() -> None:
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    driver.say("easier")
    driver.run_until(float("inf"))
    assert "Okay, a gentler way. Hold behind the thigh." in driver.texts()
    assert driver.steps()[:2] == [(0, "left", "easier"), (0, "right", "easier")]


def test_pain_and_stop_still_work_while_waiting() -> None:
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    actions = driver.say("pain")
    pain = next(a for a in actions if isinstance(a, LogPain))
    assert (pain.exercise, pain.step_index, pain.seconds_into_hold) == ("Knee to chest", 0, None)
    assert isinstance(actions[-1], Finish) and actions[-1].how == "pain"
    driver = Driver(Coaching(pain_notes=(KNEE,)))
    driver.run_to("ask")
    assert driver.say("stop")[-1] == Finish("stopped")


def test_a_note_for_an_exercise_not_in_the_routine_asks_nothing() -> None:
    timeline = plan_session(
        ROUTINE, LOCALE, 160, Coaching(pain_notes=(PainNote("Cobra", None, 1),))
    )
    assert "ask" not in [s.kind for s in timeline.segments]


# ---- easier and other side -----------------------------------------------------------------
def test_easier_mid_hold_speaks_the_variant_and_keeps_the_hold_time() -> None:
    driver = Driver()
    driver.run_to("hold", "left")
    start = driver.now
    driver.run_until(start + 5)
    actions = driver.say("easier")
    assert Speak("Okay, a gentler way. Hold behind the thigh.", "easier") in actions
    driver.run_to("switch")
    release = next(t for t, a in driver.log if isinstance(a, Speak) and a.kind == "release")
    assert release - start == pytest.approx(20.0)
    driver.run_until(float("inf"))
    assert driver.steps()[:2] == [(0, "left", "easier"), (0, "right", "easier")]


def test_easier_without_a_variant_says_so() -> None:
    driver = Driver()
    driver.run_to("reps")
    (answer,) = driver.say("easier")
    assert answer.text == LOCALE.prompt("no_easier")


def test_other_side_moves_to_the_next_side_not_the_next_exercise() -> None:
    driver = Driver()
    driver.run_to("hold", "left")
    driver.run_until(driver.now + 4)
    driver.say("other_side")
    assert driver.session.segment.kind == "switch"
    assert driver.steps() == [(0, "left", "done")]
    driver.run_to("hold", "right")
    (answer,) = driver.say("other_side")
    assert answer.text == LOCALE.prompt("last_side")
    driver.run_to("reps")
    (answer,) = driver.say("other_side")
    assert answer.text == LOCALE.prompt("one_side")


def test_held_seconds_and_outcomes_for_every_side() -> None:
    driver = Driver()
    driver.run_to("hold", "left")
    driver.run_until(driver.now + 6)
    driver.say("skip")
    logs = [a for _, a in driver.log if isinstance(a, LogStep)]
    assert [(x.side, x.outcome) for x in logs] == [("left", "skipped"), ("right", "skipped")]
    assert logs[0].held_seconds == pytest.approx(6.0) and logs[1].held_seconds == 0.0
    driver.run_until(driver.now + 30)
    driver.say("stop")
    assert driver.steps()[-1] == (1, None, "stopped")


def test_stop_during_a_set_up_records_the_side_it_was_for() -> None:
    driver = Driver()
    driver.run_to("instruct", step=0)
    driver.run_until(driver.now + 3)
    driver.say("stop")
    assert driver.steps() == [(0, "left", "stopped")]


def test_pain_during_a_set_up_is_on_the_side_named_first() -> None:
    driver = Driver()
    driver.run_to("instruct", step=0)
    driver.run_until(driver.now + 3)
    pain = next(a for a in driver.say("pain") if isinstance(a, LogPain))
    assert (pain.step_index, pain.side, pain.seconds_into_hold) == (0, "left", None)
    assert driver.steps() == [(0, "left", "pain")]


def test_pain_in_the_change_over_is_on_the_side_just_left() -> None:
    driver = Driver()
    driver.run_to("switch")
    pain = next(a for a in driver.say("pain") if isinstance(a, LogPain))
    assert pain.side == "left"
    assert driver.steps() == [(0, "left", "done"), (0, "right", "stopped")]


def test_pain_outside_the_steps_has_no_step_index() -> None:
    driver = Driver()
    driver.run_until(1.0)
    pain = next(a for a in driver.say("pain") if isinstance(a, LogPain))
    assert (pain.exercise, pain.step_index, pain.seconds_into_hold) == (
        "(introduction)",
        None,
        None,
    )


# ---- verbosity -----------------------------------------------------------------------------
def instruct_kinds(level: Verbosity) -> list[str]:
    timeline = plan_session(ROUTINE, LOCALE, 160, Coaching(verbosity=level))
    return [c.kind for c in timeline.segments[1].cues]


def test_each_verbosity_level_and_brief_is_shorter() -> None:
    assert instruct_kinds(Verbosity.GUIDED) == [
        "name",
        "side",
        "setup",
        "setup",
        "safety",
        "easier",
    ]
    assert instruct_kinds(Verbosity.BRIEF) == ["name", "side", "setup", "safety"]
    # Safety sentences (and the routine's intro) are kept at every level.
    assert instruct_kinds(Verbosity.COUNTS) == ["name", "side", "safety"]
    counts_intro = plan_session(ROUTINE, LOCALE, 160, Coaching(verbosity=Verbosity.COUNTS))
    assert ROUTINE.intro is None or "intro" in {c.kind for c in counts_intro.segments[0].cues}
    totals = [plan_session(ROUTINE, LOCALE, 160, Coaching(verbosity=v)).total_seconds
              for v in Verbosity]  # fmt: skip
    assert totals == sorted(totals, reverse=True) and totals[0] > totals[1] > totals[2]
    counts = plan_session(ROUTINE, LOCALE, 160, Coaching(verbosity=Verbosity.COUNTS))
    assert "breath" not in {c.kind for c in counts.cues()}
    assert [c.text for c in counts.cues() if c.kind == "rep"][:2] == ["One.", "Two."]


def test_less_talking_and_more_detail_by_voice_replan_the_rest() -> None:
    driver = Driver()
    driver.run_until(1.0)
    assert driver.say("less_talk")[0].text == LOCALE.prompt("less_talk")
    assert driver.session.coaching.verbosity is Verbosity.BRIEF
    driver.say("less_talk")
    (answer,) = driver.say("less_talk")
    assert answer.text == LOCALE.prompt("least_talk")
    driver.run_to("hold", "left")
    assert "Draw one knee in." not in driver.texts()  # counts level: no set-up
    driver.say("more_detail")
    driver.say("more_detail")
    assert driver.session.coaching.verbosity is Verbosity.GUIDED
    driver.run_to("reps")
    assert "Flatten your lower back into the mat." in driver.texts()


# ---- progression ---------------------------------------------------------------------------
def test_progression_starts_at_two_thirds_and_reaches_the_routine_over_two_weeks() -> None:
    assert progression_for(0, None) == Progression(round(2 / 3, 3), "progression_note")
    assert progression_for(3, 7.0).scale == pytest.approx(0.833, abs=1e-3)
    assert progression_for(6, 14.0) == Progression()
    assert progression_for(20, 3.0).scale < 1.0  # many sessions in a few days: still building
    assert progression_for(1, 30.0).scale < 1.0  # one session long ago: still building
    assert progression_for(0, None, enabled=False) == Progression()


def test_progression_shortens_holds_and_reps_never_above_the_file() -> None:
    scaled = scaled_routine(ROUTINE, Progression(0.5, "progression_note"))
    assert scaled.steps[0].hold_seconds == MIN_HOLD_SECONDS  # 20 s -> 10 s, the floor
    assert scaled.steps[1].reps is not None and scaled.steps[1].reps.count == 3
    assert scaled_routine(ROUTINE, Progression(1.5)) is ROUTINE  # never raised


def test_the_box_says_once_why_holds_are_shorter() -> None:
    driver = Driver(Coaching(progression=progression_for(0, None)))
    driver.run_until(float("inf"))
    texts = driver.texts()
    assert texts.count(LOCALE.prompt("progression_note")) == 1
    assert driver.session.timeline.routine is ROUTINE  # the file's routine, unscaled
    hold = next(s for s in driver.session.timeline.segments if s.kind == "hold")
    assert hold.cues[-1].offset_seconds == pytest.approx(13.0)  # 20 s * 2/3


def test_closing_line_counts_this_weeks_sessions() -> None:
    driver = Driver(Coaching(sessions_this_week=3))
    driver.run_until(float("inf"))
    assert driver.texts()[-1] == "That is three sessions this week."


def test_session_texts_cover_every_level_question_and_closing_line() -> None:
    coaching = Coaching(pain_notes=(KNEE,), progression=progression_for(0, None),
                        sessions_this_week=1)  # fmt: skip
    texts = session_texts([ROUTINE], LOCALE, 160, coaching)
    driver = Driver(coaching)
    driver.run_to("ask")
    driver.say("easier")
    driver.say("less_talk")
    driver.run_until(float("inf"))
    assert set(driver.texts()) <= texts


def test_easier_during_the_instructions_is_said_once_and_they_carry_on() -> None:
    driver = Driver()
    driver.run_until(driver.session.timeline.segment_starts()[1] + 0.1)  # "Knee to chest."
    driver.say("easier")
    driver.run_to("hold", "left")
    texts = driver.texts()
    assert texts.count("Okay, a gentler way. Hold behind the thigh.") == 1
    assert "Draw one knee in." in texts and "Keep your head on the mat." in texts


def test_slower_after_the_welcome_does_not_say_it_again_but_one_it_cut_off_is() -> None:
    welcome = "Test routine. This takes about"
    driver = Driver()
    driver.run_until(driver.session.timeline.segment_starts()[1] - 0.5)  # welcome said
    driver.say("slower")
    driver.run_to("instruct")
    assert sum(t.startswith(welcome) for t in driver.texts()) == 1
    driver = Driver()
    driver.run_until(0.5)
    driver.say("slower")  # its answer cuts the welcome off: it is said again, more slowly
    driver.run_to("instruct")
    assert sum(t.startswith(welcome) for t in driver.texts()) == 2


def test_leave_it_out_during_an_exercise_moves_on_like_skip() -> None:
    driver = Driver()
    driver.run_to("hold", "left")
    driver.say("leave_out")
    assert driver.session.segment.step_index == 1
    assert driver.steps() == [(0, "left", "skipped"), (0, "right", "skipped")]


def _twice() -> Routine:
    knee, tilt = ROUTINE.steps
    return dataclasses.replace(ROUTINE, steps=(knee, tilt, knee))


@pytest.mark.parametrize(
    ("answer", "third"),
    [("leave_out", "left_out"), ("keep_it", "done"), ("easier", "easier"), (None, "left_out")],
)
def test_the_answer_holds_for_the_same_exercise_later_in_the_routine(
    answer: str | None, third: str
) -> None:
    routine = _twice()
    coaching = Coaching(pain_notes=(KNEE,))
    session = Session(plan_session(routine, LOCALE, 160, coaching), LOCALE, coaching=coaching)
    log = list(session.start(0.0))
    now = 0.0
    while session.segment.kind != "ask":
        now = session.next_deadline or now
        log += session.handle(Tick(), now)
    if answer:
        log += session.handle(CommandHeard(answer), now)
    while (d := session.next_deadline) is not None:
        log += session.handle(Tick(), d)
    asked = [a for a in log if isinstance(a, Speak) and a.kind == "ask"]
    assert len(asked) == 1  # asked once, before the first time
    outcomes = [(a.step_index, a.outcome) for a in log if isinstance(a, LogStep)]
    assert (2, third) in outcomes and len(outcomes) == 5  # two sides, tilt, two sides


def test_after_any_replan_every_text_said_was_pre_rendered() -> None:
    coaching = Coaching(pain_notes=(KNEE,), sessions_this_week=2)
    texts = session_texts([ROUTINE], LOCALE, 160, coaching)
    driver = Driver(coaching)
    driver.run_until(0.5)
    driver.say("slower")
    driver.say("slower")
    driver.say("repeat")  # the welcome again, after the re-plans: the same words
    driver.say("more_detail")
    driver.run_to("ask")
    driver.say("keep_it")
    driver.say("faster")
    driver.say("less_talk")
    driver.run_until(float("inf"))
    assert set(driver.texts()) <= texts

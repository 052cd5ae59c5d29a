"""Pacing that re-plans: "slower"/"faster" re-plan the rest of the session, and no cue is cut off.

A cue is cut off when its estimated spoken end (at the rate in effect when it was said) passes
the start of the next thing said. Cut-offs a user command causes (its answer interrupting a
cue, or a cue said right after it) are the user's doing and do not count.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.factories import two_step_routine
from voiceguide.content.loader import default_routines_dir, load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import CommandHeard, Speak, Tick
from voiceguide.core.coaching import Coaching, Verbosity
from voiceguide.core.routine import Routine
from voiceguide.core.session import Session
from voiceguide.core.timeline import cut_off_cues, estimate_speech_seconds, plan_session

LOCALE = load_locale("en")
ROUTINES, _PROBLEMS = load_routines(default_routines_dir())
RATES = range(100, 241, 20)


class Recorder:
    """Drives a session with a fake clock; keeps (time, Speak, rate, from a command)."""

    def __init__(self, routine: Routine, rate: int = 160, coaching: Coaching | None = None):
        self.session = Session(
            plan_session(routine, LOCALE, rate, coaching), LOCALE, rate_wpm=rate, coaching=coaching
        )
        self.said: list[tuple[float, Speak, int, bool]] = []
        self.commands: list[float] = []
        self.now = 0.0
        self._keep(self.session.start(0.0), False)

    def _keep(self, actions: list[object], command: bool) -> None:
        rate = self.session.rate_wpm
        self.said += [(self.now, a, rate, command) for a in actions if isinstance(a, Speak)]

    def run_until(self, t: float) -> None:
        while (d := self.session.next_deadline) is not None and d <= t:
            self.now = d
            self._keep(self.session.handle(Tick(), d), False)
        self.now = max(self.now, t)

    def say(self, command: str) -> None:
        self.commands.append(self.now)
        self._keep(self.session.handle(CommandHeard(command), self.now), True)

    def cut_off(self) -> list[str]:
        """Cues cut off by the next thing said, not counting what a command caused."""
        found = []
        for (t, a, rate, _), (t2, b, _, by_command) in itertools.pairwise(self.said):
            if by_command or any(t <= c <= t2 for c in self.commands):
                continue
            if t + estimate_speech_seconds(a.text, rate) > t2 + 1e-6:
                found.append(f"{a.text!r} at {t:.2f} cut by {b.text!r} at {t2:.2f}")
        return found


def test_the_routines_load() -> None:
    assert ROUTINES and not _PROBLEMS


@pytest.mark.parametrize("level", list(Verbosity))
@pytest.mark.parametrize("routine", ROUTINES, ids=lambda r: r.id)
def test_every_routine_fits_at_every_rate_and_level(routine: Routine, level: Verbosity) -> None:
    """Planned at any rate the box speaks at, every cue (rep cues too) fits before the next."""
    for rate in RATES:
        timeline = plan_session(routine, LOCALE, rate, Coaching(verbosity=level))
        say = lambda text, rate=rate: estimate_speech_seconds(text, rate)
        assert cut_off_cues(timeline, say) == [], (rate, level)


def test_slower_replans_instructions_and_keeps_hold_lengths() -> None:
    routine = two_step_routine()
    fast, slow = plan_session(routine, LOCALE, 160), plan_session(routine, LOCALE, 100)
    kinds = [s.kind for s in fast.segments]
    assert kinds == [s.kind for s in slow.segments]
    for a, b in zip(fast.segments, slow.segments, strict=True):
        if a.kind == "instruct":
            assert b.duration_seconds > a.duration_seconds  # instruction slots stretch
        if a.kind == "hold":
            assert a.cues[-1].offset_seconds == b.cues[-1].offset_seconds == 20.0  # holds stay


def test_rep_cues_get_slots_that_fit_at_100_wpm() -> None:
    timeline = plan_session(two_step_routine(), LOCALE, 160)
    reps = next(s for s in timeline.segments if s.kind == "reps")
    rep_cues = [c for c in reps.cues if c.kind == "rep"]
    for a, b in itertools.pairwise(rep_cues):
        assert a.offset_seconds + estimate_speech_seconds(a.text, 100) <= b.offset_seconds + 1e-9


def test_a_live_session_replans_on_slower() -> None:
    rec = Recorder(two_step_routine())
    before = rec.session.remaining_seconds(0.0)
    rec.say("slower")
    assert rec.session.rate_wpm == 140
    assert rec.session.remaining_seconds(0.0) > before  # the rest is planned at 140 wpm
    rec.run_until(float("inf"))
    assert rec.cut_off() == []


@pytest.mark.parametrize("routine", ROUTINES, ids=lambda r: r.id)
def test_no_cue_is_cut_off_after_up_to_four_rate_changes(routine: Routine) -> None:
    """Every sequence of up to four slower/faster, spread over the session, in every routine."""
    total = plan_session(routine, LOCALE, 160).total_seconds
    for n in range(1, 5):
        for changes in itertools.product(["slower", "faster"], repeat=n):
            rec = Recorder(routine)
            for i, command in enumerate(changes):
                rec.run_until(total * (i + 1) / (n + 2))
                rec.say(command)
            rec.run_until(float("inf"))
            assert rec.session.is_over
            assert rec.cut_off() == [], changes


SESSION_COMMANDS = [
    "slower", "faster", "more_detail", "less_talk", "easier", "other_side", "skip", "previous",
    "repeat", "pause", "resume", "time_left", "whats_next", "help", "louder", "leave_out",
    "keep_it",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 25.0), st.sampled_from(SESSION_COMMANDS)), max_size=10),
    st.sampled_from([r for r in ROUTINES if r.id == "quick-reset"] + [two_step_routine()]),
    st.booleans(),
)
def test_no_command_sequence_leaves_a_planned_cue_cut_off(
    events: list[tuple[float, str]], routine: Routine, remembered: bool
) -> None:
    """Any commands at any moments: a cue is cut off by the next planned one only when a user
    command caused it."""
    from voiceguide.core.coaching import PainNote

    notes = (PainNote(routine.steps[0].exercise, "left", 2),) if remembered else ()
    rec = Recorder(routine, coaching=Coaching(pain_notes=notes))
    for gap, command in events:
        rec.run_until(rec.now + gap)
        if rec.session.is_over:
            break
        rec.say(command)
    if not rec.session.is_over:
        rec.say("resume")
    rec.run_until(float("inf"))
    assert rec.session.is_over
    assert rec.cut_off() == []

"""Plan a routine into segments of timed cues, before anything is spoken.

A timeline is a list of segments (intro, ask, instructions, hold, reps, switch, rest, outro).
Each segment holds cues at offsets from its own start, so the session can jump between
segments (skip, go back, repeat) and pause inside one without re-planning anything. A
re-plan (new rate, verbosity or easier variant) keeps the same segments in the same order,
so the session can swap plans in the middle of one.
"""

from __future__ import annotations

from voiceguide.core.coaching import Coaching, notes_by_exercise, scaled_routine
from voiceguide.core.locale import Locale
from voiceguide.core.planner import Planner, PlanOptions
from voiceguide.core.routine import Routine, Sides, Step
from voiceguide.core.segments import (
    ASK_WAIT_SECONDS,
    CUE_CLEARANCE_SECONDS,
    GAP_SECONDS,
    MAX_CUES_PER_STEP,
    SETTLE_SECONDS,
    SLOWEST_WPM,
    SWITCH_SECONDS,
    TAIL_SECONDS,
    Cue,
    PlannedCue,
    Segment,
    SpeechSeconds,
    Timeline,
    about,
    breath_slots,
    cut_off_cues,
    estimate_speech_seconds,
)

__all__ = [
    "ASK_WAIT_SECONDS",
    "CUE_CLEARANCE_SECONDS",
    "GAP_SECONDS",
    "MAX_CUES_PER_STEP",
    "SETTLE_SECONDS",
    "SLOWEST_WPM",
    "SWITCH_SECONDS",
    "TAIL_SECONDS",
    "Cue",
    "PlanOptions",
    "PlannedCue",
    "Segment",
    "SpeechSeconds",
    "Timeline",
    "about",
    "breath_slots",
    "build_timeline",
    "cut_off_cues",
    "estimate_speech_seconds",
    "plan_at_rate",
    "plan_options",
    "plan_session",
    "step_cue_bound",
]


def step_cue_bound(step: Step) -> int:
    """The most cues planning `step` can produce (all its segments), counted without planning."""
    sides = 2 if step.sides is Sides.BOTH else 1
    # a pain-memory question; name, the first side, set-up, safety, easier
    instruct = 1 + 1 + (sides - 1) + len(step.setup) + len(step.safety) + (1 if step.easier else 0)
    if step.reps is not None:
        work = 2 + step.reps.count * max(1, len(step.reps.cues))
    else:
        hold = float(step.hold_seconds or 0)
        counts = step.counts
        work = 2 + max(0, min(counts.final_seconds, int(hold) - 1))
        if counts.every_seconds > 0:
            work += max(0, (int(hold) - 1) // counts.every_seconds)
        work += 1 if counts.halfway else 0
        if step.breathing and step.breathing.cues:
            work += breath_slots(hold, step.breathing.every_seconds)
    rest = 2 if step.rest_seconds > 0 else 0
    return instruct + sides * work + (sides - 1) + rest


def build_timeline(
    routine: Routine,
    locale: Locale,
    speech_seconds: SpeechSeconds | None = None,
    options: PlanOptions | None = None,
) -> Timeline:
    """Plan every cue of `routine`; `speech_seconds` gives each text's spoken length."""
    for i, step in enumerate(routine.steps):
        # The loader reports this, located in the file; here it only guards other callers.
        if step_cue_bound(step) > MAX_CUES_PER_STEP:
            raise ValueError(f"step {i} asks for more than {MAX_CUES_PER_STEP} cues")
    planner = Planner(
        routine, locale, speech_seconds or estimate_speech_seconds, options or PlanOptions()
    )
    body = [seg for i, step in enumerate(routine.steps) for seg in planner.step_segments(i, step)]
    outro = planner.outro()
    intro = planner.intro(sum(s.duration_seconds for s in body) + outro.duration_seconds)
    return Timeline(routine, (intro, *body, outro))


def plan_at_rate(routine: Routine, locale: Locale, rate_wpm: int) -> Timeline:
    """Plan `routine` with every text's length estimated at `rate_wpm`, as the box speaks it."""
    return build_timeline(routine, locale, lambda text: estimate_speech_seconds(text, rate_wpm))


def plan_options(
    routine: Routine,
    coaching: Coaching,
    easier_steps: frozenset[int] = frozenset(),
    welcome_seconds: float | None = None,
) -> PlanOptions:
    """The plan options `coaching` asks for: verbosity, pain questions, notes and closing line."""
    notes = notes_by_exercise(coaching.pain_notes)
    ask = {
        i: notes[step.exercise.strip().lower()]
        for i, step in enumerate(routine.steps)
        if step.exercise.strip().lower() in notes
    }
    shorter = scaled_routine(routine, coaching.progression) is not routine
    return PlanOptions(
        verbosity=coaching.verbosity,
        easier_steps=easier_steps,
        ask_about=ask,
        progression_note=coaching.progression.reason_key if shorter else None,
        sessions_this_week=coaching.sessions_this_week,
        welcome_seconds=welcome_seconds,
    )


def plan_session(
    routine: Routine,
    locale: Locale,
    rate_wpm: int,
    coaching: Coaching | None = None,
    easier_steps: frozenset[int] = frozenset(),
    welcome_seconds: float | None = None,
) -> Timeline:
    """Plan today's session of `routine`: progression, verbosity and pain questions applied.

    The timeline's `routine` stays the one from the file; only the planned holds are scaled.
    `welcome_seconds` fixes the length the welcome announces (a re-plan keeps the first's).
    """
    coaching = coaching or Coaching()
    planned = scaled_routine(routine, coaching.progression)
    options = plan_options(routine, coaching, easier_steps, welcome_seconds)
    timeline = build_timeline(
        planned, locale, lambda text: estimate_speech_seconds(text, rate_wpm), options
    )
    return Timeline(routine, timeline.segments)

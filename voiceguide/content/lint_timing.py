"""Lint rules about timing: count cues that cannot fit their hold, rep cues too long for their
slot, and any cue cut off by the next in the plan at any verbosity level, rate or progression.

Cue times follow the count semantics in docs/routines.md, which voiceguide.core.timeline implements;
speech length comes from the same estimate the planner uses before real renders exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import pairwise, product

from voiceguide.content.schema import show
from voiceguide.content.yaml_positions import DataPath
from voiceguide.core.coaching import Coaching, Progression, Verbosity, progression_for
from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine, Step
from voiceguide.core.timeline import (
    SLOWEST_WPM,
    cut_off_cues,
    estimate_speech_seconds,
    plan_session,
)

HALFWAY_CLEARANCE_SECONDS = 2.0  # halfway is skipped when this close to another count cue
# Every level is planned and checked at the slowest, the default and the fastest rate, at full
# holds and at a first session's shorter ones.
LINT_RATES = (SLOWEST_WPM, 160, 240)
LINT_PROGRESSIONS = (Progression(), progression_for(0, None))

# (path, message) pairs; the caller locates them in the routine's file.
Finding = tuple[DataPath, str]
SpeechSeconds = Callable[[str], float]


@dataclass(frozen=True)
class _CountCue:
    at_seconds: float
    text: str
    field: str  # the counts field that asked for it


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."


def count_cues(step: Step, locale: Locale) -> list[_CountCue]:
    """The count cues of a hold in time order: remaining-time announcements, final count, halfway."""
    hold = float(step.hold_seconds or 0)
    final, every = step.counts.final_seconds, step.counts.every_seconds
    cues: list[_CountCue] = []
    for k in range(min(final, int(hold) - 1), 0, -1):
        cues.append(_CountCue(hold - k, locale.count(k).capitalize() + ".", "final_seconds"))
    if every:
        for remaining in range(every, int(hold), every):
            if remaining > final:
                text = locale.prompt("remaining", seconds=locale.number(remaining)).capitalize()
                cues.append(_CountCue(hold - remaining, text, "every_seconds"))
    if step.counts.halfway:
        mid = hold / 2
        if all(abs(c.at_seconds - mid) >= HALFWAY_CLEARANCE_SECONDS for c in cues):
            cues.append(_CountCue(mid, locale.prompt("halfway"), "halfway"))
    return sorted(cues, key=lambda c: c.at_seconds)


def _hold_findings(
    base: DataPath, step: Step, locale: Locale, say: SpeechSeconds
) -> Iterator[Finding]:
    hold = float(step.hold_seconds or 0)
    counts = step.counts
    fits = True
    if counts.final_seconds and counts.final_seconds >= hold:
        fits = False
        yield (
            (*base, "counts", "final_seconds"),
            (
                f"a final count of {counts.final_seconds} seconds does not fit in a "
                f"{show(hold)}-second hold; make it shorter than hold_seconds"
            ),
        )
    if counts.every_seconds and counts.every_seconds >= hold:
        fits = False
        yield (
            (*base, "counts", "every_seconds"),
            (
                f"every_seconds ({counts.every_seconds}) must be shorter than the "
                f"{show(hold)}-second hold, or the time left is never announced"
            ),
        )
    if step.breathing and step.breathing.every_seconds >= hold:
        yield (
            (*base, "breathing", "every_seconds"),
            (
                f"every_seconds ({show(step.breathing.every_seconds)}) must be shorter than the "
                f"{show(hold)}-second hold, or no breath cue is ever said"
            ),
        )
    if not fits:
        return
    cues = count_cues(step, locale)
    for first, second in pairwise(cues):
        if second.at_seconds - first.at_seconds < say(first.text):
            # One finding per step: a crowded count usually collides all the way down.
            yield (
                (*base, "counts", second.field),
                (
                    f"count cue '{first.text}' at {show(first.at_seconds)} s is still being said when "
                    f"'{second.text}' is due at {show(second.at_seconds)} s; space the counts further apart"
                ),
            )
            return


def _reps_findings(
    base: DataPath, step: Step, raw: dict[str, object], locale: Locale, say: SpeechSeconds
) -> Iterator[Finding]:
    assert step.reps is not None
    if "counts" in raw:
        yield (*base, "counts"), "counts only apply to holds; this step uses reps"
    if "breathing" in raw:
        yield (*base, "breathing"), "breathing cues only apply to holds; this step uses reps"
    cues = step.reps.cues
    if not cues:
        return
    slot = step.reps.seconds_each / len(cues)
    # The first cue of each rep is led by the rep number: check it with the longest one
    # (the last in English; in Korean "열하나" is longer than "열둘").
    numbers = (locale.count(r).capitalize() + "." for r in range(1, step.reps.count + 1))
    number = max(numbers, key=say)
    for j, cue in enumerate(cues):
        spoken = f"{number} {_sentence(cue)}" if j == 0 else _sentence(cue)
        if say(spoken) > slot:
            yield (
                (*base, "reps", "cues", j),
                (
                    f"cue is too long to say in its {show(round(slot, 2))}-second slot "
                    f"(seconds_each {show(step.reps.seconds_each)} / {len(cues)} cues); "
                    "shorten it or raise seconds_each"
                ),
            )


def _spoken(text: str, rate_wpm: int) -> float:
    return estimate_speech_seconds(text, rate_wpm)


def _plan_findings(routine: Routine, locale: Locale) -> Iterator[Finding]:
    """Cues cut off by the next planned cue, at every verbosity level, rate and progression."""
    reported: set[int] = set()
    for level, rate, progression in product(Verbosity, LINT_RATES, LINT_PROGRESSIONS):
        coaching = Coaching(verbosity=level, progression=progression)
        timeline = plan_session(routine, locale, rate, coaching)
        for cue in cut_off_cues(timeline, partial(_spoken, rate_wpm=rate)):
            step = timeline.segments[cue.segment_index].step_index
            if not 0 <= step < len(routine.steps) or step in reported:
                continue
            reported.add(step)  # one finding per step: the first level and rate that fails
            yield (
                ("steps", step),
                (
                    f"at the {level} level and {rate} wpm, '{cue.text}' is still being said "
                    "when the next cue is due; shorten it or give the step more time"
                ),
            )


def timing_findings(
    routine: Routine,
    raw_steps: list[dict[str, object]],
    locale: Locale,
    say: SpeechSeconds = estimate_speech_seconds,
) -> list[Finding]:
    """Every timing problem in a loaded routine, as (data path, message)."""
    found: list[Finding] = []
    for i, (step, raw) in enumerate(zip(routine.steps, raw_steps, strict=True)):
        base: DataPath = ("steps", i)
        if step.reps is not None:
            found += _reps_findings(base, step, raw, locale, say)
        else:
            found += _hold_findings(base, step, locale, say)
    if not found:
        # Only a routine whose counts fit can be planned meaningfully at every level.
        found += _plan_findings(routine, locale)
    return found

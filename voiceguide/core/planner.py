"""Builds the segments of one routine at one verbosity, rate and set of choices (pure).

Sides are named before their set-up ("Left side first."), rep cues get slots long enough to be
said at the slowest rate, and a step remembered for pain is preceded by a question.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field

from voiceguide.core.coaching import PainNote, Verbosity, pain_notice
from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine, Sides, Step
from voiceguide.core.segments import (
    ASK_WAIT_SECONDS,
    CUE_CLEARANCE_SECONDS,
    GAP_SECONDS,
    SETTLE_SECONDS,
    SLOWEST_WPM,
    SWITCH_SECONDS,
    TAIL_SECONDS,
    Cue,
    Segment,
    SpeechSeconds,
    about,
    breath_slots,
    estimate_speech_seconds,
    sentence,
)


@dataclass(frozen=True)
class PlanOptions:
    """What shapes a plan beyond the routine and the speech rate."""

    verbosity: Verbosity = Verbosity.GUIDED
    easier_steps: frozenset[int] = frozenset()  # steps switched to their easier variant
    ask_about: dict[int, PainNote] = field(default_factory=dict)  # step -> pain remembered
    progression_note: str | None = None  # locale prompt key said in the introduction
    sessions_this_week: int | None = None
    # The length the welcome announces; None: this plan's own. A re-planned session keeps the
    # first plan's, so the welcome's words (pre-rendered) stay the same whatever the rate.
    welcome_seconds: float | None = None


def step_sides(step: Step) -> list[str | None]:
    """The sides a step is done on, in order."""
    return ["left", "right"] if step.sides is Sides.BOTH else [None]


def easier_text(locale: Locale, step: Step) -> str:
    """What the box says when the user switches `step` to its easier variant."""
    assert step.easier
    return locale.prompt("easier_now", text=sentence(step.easier))


def ask_text(locale: Locale, note: PainNote) -> str:
    """The pain-memory notice and its question, said before the exercise."""
    return f"{pain_notice(locale, note)} {locale.prompt('pain_memory_question')}"


class Planner:
    """Builds the segments of one routine; holds the locale and speech-length estimate."""

    def __init__(
        self, routine: Routine, locale: Locale, speech_seconds: SpeechSeconds, options: PlanOptions
    ) -> None:
        self.routine = routine
        self.locale = locale
        self.say = speech_seconds
        self.options = options

    def slow_say(self, text: str) -> float:
        """Spoken length at the slowest rate (or longer, if the estimate in use says so)."""
        return max(self.say(text), estimate_speech_seconds(text, SLOWEST_WPM))

    def sequential(self, texts: list[tuple[str, str]], start: float = 0.0) -> list[Cue]:
        """Cues said one after another, each after the previous has finished."""
        cues, t = [], start
        for text, kind in texts:
            cues.append(Cue(t, text, kind))
            t += self.say(text) + GAP_SECONDS
        return cues

    def end_of(self, cues: list[Cue]) -> float:
        """When the last of `cues` has finished being said."""
        last = max(cues, key=lambda c: c.offset_seconds + self.say(c.text))
        return last.offset_seconds + self.say(last.text)

    def ask(self, index: int, step: Step, note: PainNote) -> Segment:
        text = ask_text(self.locale, note)
        duration = self.say(text) + ASK_WAIT_SECONDS
        return Segment("ask", index, None, duration, (Cue(0.0, text, "ask"),), step.exercise)

    def instruct(self, index: int, step: Step) -> Segment:
        level = self.options.verbosity
        texts = [(sentence(step.exercise), "name")]
        if step.sides is Sides.BOTH:
            first = self.locale.sides["left"]
            texts.append((self.locale.prompt("side_first", side=first), "side"))
        if level is Verbosity.GUIDED:
            texts += [(sentence(s), "setup") for s in step.setup]
        elif level is Verbosity.BRIEF:
            texts += [(sentence(s), "setup") for s in step.setup[:1]]
        # Safety sentences are said at every level: a terse session may drop how to get into
        # a stretch, never when to stop it.
        texts += [(sentence(s), "safety") for s in step.safety]
        if step.easier and index in self.options.easier_steps:
            texts.append((easier_text(self.locale, step), "easier"))
        elif step.easier and level is Verbosity.GUIDED:
            easier = sentence(step.easier)
            easier = easier[:1].lower() + easier[1:]  # it continues the prompt's sentence
            texts.append((self.locale.prompt("easier", text=easier), "easier"))
        cues = self.sequential(texts)
        duration = self.end_of(cues) + SETTLE_SECONDS
        return Segment("instruct", index, None, duration, tuple(cues), step.exercise)

    def start_text(self, key: str, side: str | None, **values: object) -> str:
        # The first side was named before the set-up; the second is named as it starts.
        if side == "right":
            return self.locale.prompt(f"{key}_side", side=self.locale.sides[side], **values)
        return self.locale.prompt(key, **values)

    def hold(self, index: int, step: Step, side: str | None) -> Segment:
        hold = float(step.hold_seconds or 0)
        start_text = self.start_text("hold_start", side)
        cues = [Cue(0.0, start_text, "hold_start")]
        busy_until = self.say(start_text)
        counts = self.count_cues(step, hold, busy_until)
        cues += counts
        if self.options.verbosity is not Verbosity.COUNTS:
            cues += self.breath_cues(step, hold, busy_until, counts)
        release = self.locale.prompt("release")
        cues.append(Cue(hold, release, "release"))
        cues.sort(key=lambda c: c.offset_seconds)
        duration = hold + self.say(release) + TAIL_SECONDS
        return Segment("hold", index, side, duration, tuple(cues), step.exercise)

    def count_cues(self, step: Step, hold: float, busy_until: float) -> list[Cue]:
        counts = step.counts
        cues: list[Cue] = []
        for k in range(min(counts.final_seconds, int(hold) - 1), 0, -1):
            cues.append(Cue(hold - k, self.locale.count(k).capitalize() + ".", "count", True))
        if counts.every_seconds > 0:
            every = counts.every_seconds
            for n in range((int(hold) - 1) // every, 0, -1):
                remaining = n * every
                if remaining <= counts.final_seconds:
                    break
                text = self.locale.prompt("remaining", seconds=self.locale.number(remaining))
                cues.append(Cue(hold - remaining, text.capitalize(), "count", True))
        if counts.halfway:
            mid = hold / 2
            if all(abs(c.offset_seconds - mid) >= 2.0 for c in cues):
                cues.append(Cue(mid, self.locale.prompt("halfway"), "halfway", True))
        # The hold's opening words take precedence over any count that would talk over them,
        # and a count still being said when the next is due gives way to it.
        cues = [c for c in cues if c.offset_seconds >= busy_until + CUE_CLEARANCE_SECONDS]
        cues.sort(key=lambda c: c.offset_seconds)
        kept: list[Cue] = []
        for i, cue in enumerate(cues):
            nxt = cues[i + 1].offset_seconds if i + 1 < len(cues) else hold
            if cue.offset_seconds + self.say(cue.text) <= nxt:
                kept.append(cue)
        return kept

    def breath_cues(
        self, step: Step, hold: float, busy_until: float, counts: list[Cue]
    ) -> list[Cue]:
        if not step.breathing or not step.breathing.cues:
            return []
        # A breath cue at t..end is clear of a taken span a..b when it ends C before a or
        # starts C after b. Spans sorted by start, with the running maximum of b + C, answer
        # "does any span starting before end + C reach past t?" in one bisection.
        taken = sorted(
            [(0.0, busy_until), (hold, hold + 1.0)]
            + [(c.offset_seconds, c.offset_seconds + self.say(c.text)) for c in counts]
        )
        starts = [a for a, _ in taken]
        reach: list[float] = []
        for _, b in taken:
            reach.append(
                max(reach[-1], b + CUE_CLEARANCE_SECONDS) if reach else b + CUE_CLEARANCE_SECONDS
            )
        said_reach = -math.inf  # the breath cues placed so far all start before t
        every = step.breathing.every_seconds
        cues: list[Cue] = []
        n = 0
        # Whole counts of the interval, never a running float sum: a tiny interval cannot stall t.
        for k in range(1, breath_slots(hold, every) + 1):
            t = k * every
            text = sentence(step.breathing.cues[n % len(step.breathing.cues)])
            end = t + self.say(text)
            i = bisect_left(starts, end + CUE_CLEARANCE_SECONDS)
            if (i and reach[i - 1] > t) or said_reach > t:
                continue
            cues.append(Cue(t, text, "breath", True))
            said_reach = max(said_reach, end + CUE_CLEARANCE_SECONDS)
            n += 1
        return cues

    def rep_texts(self, step: Step) -> list[list[str]]:
        """What is said in each rep: its number, led into the first cue (numbers only at COUNTS)."""
        assert step.reps is not None
        reps = step.reps
        cue_texts = [] if self.options.verbosity is Verbosity.COUNTS else list(reps.cues)
        said: list[list[str]] = []
        for r in range(reps.count):
            number = self.locale.count(r + 1).capitalize() + "."
            if not cue_texts:
                said.append([number])
                continue
            said.append(
                [
                    f"{number} {sentence(t)}" if j == 0 else sentence(t)
                    for j, t in enumerate(cue_texts)
                ]
            )
        return said

    def reps(self, index: int, step: Step, side: str | None) -> Segment:
        assert step.reps is not None
        reps = step.reps
        count_word = self.locale.number(reps.count).capitalize()
        start_text = self.start_text("reps_start", side, count=count_word)
        cues = [Cue(0.0, start_text, "reps_start")]
        t0 = self.say(start_text) + GAP_SECONDS
        said = self.rep_texts(step)
        per_rep = len(said[0]) if said else 1
        base = reps.seconds_each / per_rep
        # A slot fits its longest cue said at the slowest rate: the rep grows when a cue needs it.
        slots = [
            max(base, *(self.slow_say(texts[j]) for texts in said)) if said else base
            for j in range(per_rep)
        ]
        rep_seconds = sum(slots)
        for r, texts in enumerate(said):
            t = t0 + r * rep_seconds
            for j, text in enumerate(texts):
                cues.append(Cue(t, text, "rep", True))
                t += slots[j]
        done = self.locale.prompt("reps_done")
        end = t0 + reps.count * rep_seconds
        cues.append(Cue(end, done, "reps_done"))
        duration = end + self.say(done) + TAIL_SECONDS
        return Segment("reps", index, side, duration, tuple(cues), step.exercise)

    def switch(self, index: int, step: Step) -> Segment:
        text = self.locale.prompt("switch_sides")
        duration = self.say(text) + SWITCH_SECONDS
        return Segment("switch", index, None, duration, (Cue(0.0, text, "switch"),), step.exercise)

    def rest(self, index: int, step: Step, upcoming: Step) -> Segment:
        rest_text = self.locale.prompt("rest")
        coming = self.locale.prompt("coming_up", exercise=upcoming.exercise)
        earliest = self.say(rest_text) + GAP_SECONDS
        # "Coming up" lands near the end of the rest so it leads straight into the next step.
        coming_at = max(earliest, step.rest_seconds - self.say(coming) - TAIL_SECONDS)
        cues = (Cue(0.0, rest_text, "rest"), Cue(coming_at, coming, "coming_up"))
        duration = max(step.rest_seconds, coming_at + self.say(coming) + TAIL_SECONDS)
        return Segment("rest", index, None, duration, cues, step.exercise)

    def step_segments(self, index: int, step: Step) -> list[Segment]:
        segments = []
        note = self.options.ask_about.get(index)
        if note is not None:
            segments.append(self.ask(index, step, note))
        segments.append(self.instruct(index, step))
        for n, side in enumerate(step_sides(step)):
            if n:
                segments.append(self.switch(index, step))
            work = self.hold if step.is_hold else self.reps
            segments.append(work(index, step, side))
        steps = self.routine.steps
        if step.rest_seconds > 0 and index + 1 < len(steps):
            segments.append(self.rest(index, step, steps[index + 1]))
        return segments

    def intro(self, body_seconds: float) -> Segment:
        if self.options.welcome_seconds is not None:
            body_seconds = self.options.welcome_seconds
        welcome = self.locale.prompt(
            "welcome", title=self.routine.title, duration=about(self.locale, body_seconds)
        )
        texts = [(welcome, "welcome")]
        if self.routine.intro:  # it carries the routine's safety words, so every level says it
            texts.append((sentence(self.routine.intro), "intro"))
        if self.options.progression_note:
            texts.append((self.locale.prompt(self.options.progression_note), "progression"))
        cues = self.sequential(texts)
        duration = self.end_of(cues) + 1.0
        return Segment("intro", -1, None, duration, tuple(cues))

    def outro(self) -> Segment:
        texts = [(self.locale.prompt("finished", title=self.routine.title), "finished")]
        week = self.options.sessions_this_week
        if week is not None and week >= 1:
            texts.append((week_text(self.locale, week), "progress"))
        cues = self.sequential(texts)
        duration = self.end_of(cues) + TAIL_SECONDS
        return Segment("outro", len(self.routine.steps), None, duration, tuple(cues))


def week_text(locale: Locale, sessions: int) -> str:
    """The closing line about this week's sessions, this one included."""
    if sessions == 1:
        return locale.prompt("week_first")
    return locale.prompt("week_count", count=locale.number(sessions))

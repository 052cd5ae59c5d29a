"""Plan a routine into segments of timed cues, before anything is spoken.

A timeline is a list of segments (intro, instructions, hold, reps, switch, rest, outro).
Each segment holds cues at offsets from its own start, so the session can jump between
segments (skip, go back, repeat) and pause inside one without re-planning anything.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine, Sides, Step

GAP_SECONDS = 0.4  # silence between consecutive instruction sentences
SETTLE_SECONDS = 3.0  # time to get into position after the instructions
SWITCH_SECONDS = 4.0  # time to change sides after the switch cue
TAIL_SECONDS = 0.5  # breathing room after a segment's last cue
CUE_CLEARANCE_SECONDS = 0.5  # a breath cue keeps this far from other cues
# The most cues one step may ask for. Real steps ask for under 60; the bound keeps planning
# (which `list` and `serve` do for every routine) fast whatever a file says.
MAX_CUES_PER_STEP = 200

SpeechSeconds = Callable[[str], float]


def estimate_speech_seconds(text: str, rate_wpm: int = 160) -> float:
    """Rough spoken length of `text` at `rate_wpm`, used until real renders exist."""
    return len(text.split()) * 60.0 / rate_wpm + 0.3


@dataclass(frozen=True)
class Cue:
    """One thing to say, `offset_seconds` after its segment starts."""

    offset_seconds: float
    text: str
    kind: str
    droppable: bool = False  # counts and breath cues are dropped when the loop is late


@dataclass(frozen=True)
class Segment:
    """A stretch of the routine with its own clock."""

    kind: str  # intro | instruct | hold | reps | switch | rest | outro
    step_index: int  # -1 for the intro, len(steps) for the outro
    side: str | None  # "left", "right" or None
    duration_seconds: float
    cues: tuple[Cue, ...]
    exercise: str = ""


@dataclass(frozen=True)
class PlannedCue:
    """A cue placed on the routine's absolute clock."""

    at_seconds: float
    text: str
    kind: str
    segment_index: int


@dataclass(frozen=True)
class Timeline:
    """Every segment of a routine, in order, ready to be played or printed."""

    routine: Routine
    segments: tuple[Segment, ...]

    @property
    def total_seconds(self) -> float:
        """Length of the whole routine when nothing is paused or skipped."""
        return sum(s.duration_seconds for s in self.segments)

    def segment_starts(self) -> list[float]:
        """Absolute start offset of every segment."""
        starts, t = [], 0.0
        for seg in self.segments:
            starts.append(t)
            t += seg.duration_seconds
        return starts

    def cues(self) -> list[PlannedCue]:
        """Every cue with its absolute offset, in playing order."""
        return [
            PlannedCue(start + cue.offset_seconds, cue.text, cue.kind, i)
            for i, (start, seg) in enumerate(zip(self.segment_starts(), self.segments))
            for cue in seg.cues
        ]

    def texts(self) -> set[str]:
        """Every distinct text the timeline speaks (what the phrase cache pre-renders)."""
        return {cue.text for seg in self.segments for cue in seg.cues}

    def first_segment_of_step(self, step_index: int) -> int:
        """Index of the first segment belonging to `step_index`."""
        for i, seg in enumerate(self.segments):
            if seg.step_index == step_index:
                return i
        raise IndexError(step_index)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."


class _Planner:
    """Builds the segments of one routine; holds the locale and speech-length estimate."""

    def __init__(self, routine: Routine, locale: Locale, speech_seconds: SpeechSeconds) -> None:
        self.routine = routine
        self.locale = locale
        self.say = speech_seconds

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

    def instruct(self, index: int, step: Step) -> Segment:
        texts = [(_sentence(step.exercise), "name")]
        texts += [(_sentence(s), "setup") for s in step.setup]
        texts += [(_sentence(s), "safety") for s in step.safety]
        if step.easier:
            easier = _sentence(step.easier)
            easier = easier[:1].lower() + easier[1:]  # it continues the prompt's sentence
            texts.append((self.locale.prompt("easier", text=easier), "easier"))
        cues = self.sequential(texts)
        duration = self.end_of(cues) + SETTLE_SECONDS
        return Segment("instruct", index, None, duration, tuple(cues), step.exercise)

    def hold(self, index: int, step: Step, side: str | None) -> Segment:
        hold = float(step.hold_seconds or 0)
        if side:
            start_text = self.locale.prompt("hold_start_side", side=self.locale.sides[side])
        else:
            start_text = self.locale.prompt("hold_start")
        cues = [Cue(0.0, start_text, "hold_start")]
        busy_until = self.say(start_text)
        counts = self.count_cues(step, hold, busy_until)
        cues += counts
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
            cues.append(Cue(hold - k, self.locale.number(k).capitalize() + ".", "count", True))
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
        # The hold's opening words take precedence over any count that would talk over them.
        return [c for c in cues if c.offset_seconds >= busy_until + CUE_CLEARANCE_SECONDS]

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
            text = step.breathing.cues[n % len(step.breathing.cues)]
            end = t + self.say(text)
            i = bisect_left(starts, end + CUE_CLEARANCE_SECONDS)
            if (i and reach[i - 1] > t) or said_reach > t:
                continue
            cues.append(Cue(t, _sentence(text), "breath", True))
            said_reach = max(said_reach, end + CUE_CLEARANCE_SECONDS)
            n += 1
        return cues

    def reps(self, index: int, step: Step, side: str | None) -> Segment:
        assert step.reps is not None
        reps = step.reps
        count_word = self.locale.number(reps.count).capitalize()
        if side:
            side_word = self.locale.sides[side]
            start_text = self.locale.prompt("reps_start_side", side=side_word, count=count_word)
        else:
            start_text = self.locale.prompt("reps_start", count=count_word)
        cues = [Cue(0.0, start_text, "reps_start")]
        t0 = self.say(start_text) + GAP_SECONDS
        slot = reps.seconds_each / max(1, len(reps.cues))
        for r in range(reps.count):
            number = self.locale.number(r + 1).capitalize() + "."
            if not reps.cues:
                cues.append(Cue(t0 + r * reps.seconds_each, number, "rep", True))
            for j, text in enumerate(reps.cues):
                spoken = f"{number} {_sentence(text)}" if j == 0 else _sentence(text)
                cues.append(Cue(t0 + r * reps.seconds_each + j * slot, spoken, "rep", True))
        done = self.locale.prompt("reps_done")
        end = t0 + reps.count * reps.seconds_each
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
        segments = [self.instruct(index, step)]
        sides: list[str | None] = ["left", "right"] if step.sides is Sides.BOTH else [None]
        for n, side in enumerate(sides):
            if n:
                segments.append(self.switch(index, step))
            work = self.hold if step.is_hold else self.reps
            segments.append(work(index, step, side))
        steps = self.routine.steps
        if step.rest_seconds > 0 and index + 1 < len(steps):
            segments.append(self.rest(index, step, steps[index + 1]))
        return segments

    def intro(self, body_seconds: float) -> Segment:
        welcome = self.locale.prompt(
            "welcome", title=self.routine.title, duration=about(self.locale, body_seconds)
        )
        texts = [(welcome, "welcome")]
        if self.routine.intro:
            texts.append((_sentence(self.routine.intro), "intro"))
        cues = self.sequential(texts)
        duration = self.end_of(cues) + 1.0
        return Segment("intro", -1, None, duration, tuple(cues))

    def outro(self) -> Segment:
        text = self.locale.prompt("finished", title=self.routine.title)
        duration = self.say(text) + TAIL_SECONDS
        return Segment(
            "outro", len(self.routine.steps), None, duration, (Cue(0, text, "finished"),)
        )


def breath_slots(hold_seconds: float, every_seconds: float) -> int:
    """How many k >= 1 have k * every_seconds < hold_seconds: the times a breath cue is tried."""
    if not (every_seconds > 0 and math.isfinite(every_seconds) and math.isfinite(hold_seconds)):
        raise ValueError(f"breath interval must be a finite number > 0, not {every_seconds}")
    if hold_seconds <= every_seconds:
        return 0
    k = math.ceil(hold_seconds / every_seconds) - 1
    # The division rounds; step k onto the exact boundary the products define.
    while k > 0 and k * every_seconds >= hold_seconds:
        k -= 1
    while (k + 1) * every_seconds < hold_seconds:
        k += 1
    return k


def step_cue_bound(step: Step) -> int:
    """The most cues planning `step` can produce (all its segments), counted without planning."""
    sides = 2 if step.sides is Sides.BOTH else 1
    instruct = 1 + len(step.setup) + len(step.safety) + (1 if step.easier else 0)
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


def about(locale: Locale, seconds: float) -> str:
    """A rounded duration for speaking: nearest 5 s under a minute, else nearest half minute."""
    step = 5 if seconds < 60 else 30
    return locale.duration(max(step, round(seconds / step) * step))


def build_timeline(
    routine: Routine, locale: Locale, speech_seconds: SpeechSeconds | None = None
) -> Timeline:
    """Plan every cue of `routine`; `speech_seconds` gives each text's spoken length."""
    for i, step in enumerate(routine.steps):
        # The loader reports this, located in the file; here it only guards other callers.
        if step_cue_bound(step) > MAX_CUES_PER_STEP:
            raise ValueError(f"step {i} asks for more than {MAX_CUES_PER_STEP} cues")
    planner = _Planner(routine, locale, speech_seconds or estimate_speech_seconds)
    body = [seg for i, step in enumerate(routine.steps) for seg in planner.step_segments(i, step)]
    outro = planner.outro()
    intro = planner.intro(sum(s.duration_seconds for s in body) + outro.duration_seconds)
    return Timeline(routine, (intro, *body, outro))


def plan_at_rate(routine: Routine, locale: Locale, rate_wpm: int) -> Timeline:
    """Plan `routine` with every text's length estimated at `rate_wpm`, as the box speaks it."""
    return build_timeline(routine, locale, lambda text: estimate_speech_seconds(text, rate_wpm))

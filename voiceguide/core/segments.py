"""The planned shape of a session: cues inside segments, and the timeline that holds them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from voiceguide.core.locale import Locale
from voiceguide.core.routine import Routine

GAP_SECONDS = 0.4  # silence between consecutive instruction sentences
SETTLE_SECONDS = 3.0  # time to get into position after the instructions
SWITCH_SECONDS = 4.0  # time to change sides after the switch cue
TAIL_SECONDS = 0.5  # breathing room after a segment's last cue
CUE_CLEARANCE_SECONDS = 0.5  # a breath cue keeps this far from other cues
ASK_WAIT_SECONDS = 15.0  # how long a question waits for an answer before the safe default
SLOWEST_WPM = 100  # the slowest rate a session speaks at; rep cues are fitted to it
# The most cues one step may ask for. Real steps ask for under 60; the bound keeps planning
# (which `list` and `serve` do for every routine) fast whatever a file says.
MAX_CUES_PER_STEP = 200

SpeechSeconds = Callable[[str], float]


# espeak-ng paces Hangul by syllable, not by word: measured with the `ko` voice, a syllable
# takes 36/rate seconds, i.e. 0.6 of a word, so a Korean word (one to five syllables, spaces
# between words) counts by its syllables. Other scripts count one per word, as before.
HANGUL_SYLLABLE_WORDS = 0.6


def _word_weight(word: str) -> float:
    syllables = sum(1 for ch in word if "\uac00" <= ch <= "\ud7a3")
    return syllables * HANGUL_SYLLABLE_WORDS if syllables else 1.0


def estimate_speech_seconds(text: str, rate_wpm: int = 160) -> float:
    """Rough spoken length of `text` at `rate_wpm`, used until real renders exist."""
    return sum(_word_weight(w) for w in text.split()) * 60.0 / rate_wpm + 0.3


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

    kind: str  # intro | ask | instruct | hold | reps | switch | rest | outro
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

    routine: Routine  # as loaded from its file (progression scales only the plan)
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


def cut_off_cues(timeline: Timeline, speech_seconds: SpeechSeconds) -> list[PlannedCue]:
    """Cues still being said (by `speech_seconds`) when the next planned cue starts."""
    cues = timeline.cues()
    return [
        a for a, b in pairwise(cues) if a.at_seconds + speech_seconds(a.text) > b.at_seconds + 1e-9
    ]


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


def about(locale: Locale, seconds: float) -> str:
    """A rounded duration for speaking: nearest 5 s under a minute, else nearest half minute."""
    step = 5 if seconds < 60 else 30
    return locale.duration(max(step, round(seconds / step) * step))


def sentence(text: str) -> str:
    """`text` stripped, ending in a full stop unless it already ends a sentence."""
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."

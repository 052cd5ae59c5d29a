"""Plain data describing a stretch routine, as loaded from routines/*.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Sides(str, Enum):
    """Whether a step is done once, or once per side with a spoken switch."""

    NONE = "none"
    BOTH = "both"  # left first, then right


@dataclass(frozen=True)
class Breathing:
    """Breath cues repeated through a hold, in order, every `every_seconds`."""

    every_seconds: float
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Counts:
    """How a hold is counted aloud."""

    final_seconds: int = 0  # count every second for the last N seconds ("five, four, ...")
    every_seconds: int = 0  # announce the remaining time every N seconds
    halfway: bool = False  # say "halfway" at the midpoint


@dataclass(frozen=True)
class Reps:
    """A repeated movement: `count` repetitions of `seconds_each`, cues spread across each rep."""

    count: int
    seconds_each: float
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One exercise of a routine: either a timed hold or a set of reps."""

    exercise: str
    setup: tuple[str, ...]
    hold_seconds: float | None = None
    reps: Reps | None = None
    sides: Sides = Sides.NONE
    rest_seconds: float = 0.0
    breathing: Breathing | None = None
    counts: Counts = field(default_factory=Counts)
    easier: str | None = None
    safety: tuple[str, ...] = ()
    allow_long_hold: bool = False

    @property
    def is_hold(self) -> bool:
        """True for a timed hold, False for reps."""
        return self.hold_seconds is not None


@dataclass(frozen=True)
class Routine:
    """A whole routine: metadata plus ordered steps."""

    id: str
    title: str
    aliases: tuple[str, ...]
    description: str
    level: str
    steps: tuple[Step, ...]
    intro: str | None = None
    source_path: str | None = None

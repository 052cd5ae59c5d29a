"""Plain-data events going into the session and actions coming out of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voiceguide.core.commands import Ending

Device = Literal["microphone", "speaker"]


# ---- events (edges -> session) -------------------------------------------------------------
@dataclass(frozen=True)
class Tick:
    """Time has passed; the session fires whatever cues are due."""


@dataclass(frozen=True)
class CommandHeard:
    """The user asked for a command (typed, or recognised from speech)."""

    command: str
    phrase: str = ""


# The names predate speaker monitoring: `device` says which end of the box's I/O it is. Without
# the microphone "it hurts" cannot be heard; without the speaker no cue can be; either pauses.
@dataclass(frozen=True)
class InputLost:
    """A device the session needs went away (the microphone unless `device` says otherwise)."""

    device: Device = "microphone"


@dataclass(frozen=True)
class InputBack:
    """A lost device is back: the session says so and waits for "resume"."""

    device: Device = "microphone"


Event = Tick | CommandHeard | InputLost | InputBack


# ---- actions (session -> edges) ------------------------------------------------------------
@dataclass(frozen=True)
class Speak:
    """Say `text` now. A new Speak cuts off whatever is still playing: the timed cue wins."""

    text: str
    kind: str  # cue kind, e.g. "setup", "count", "breath", "prompt", "safety"
    cue_id: str = ""


@dataclass(frozen=True)
class CancelSpeech:
    """Silence the speaker at once."""


@dataclass(frozen=True)
class SetVolume:
    """Set the output gain; `volume` is 0..1 where 1 is full scale."""

    volume: float


@dataclass(frozen=True)
class SetRate:
    """Set the speech rate for phrases rendered from now on."""

    rate_wpm: int


@dataclass(frozen=True)
class LogPain:
    """Record a pain report: where in the routine it happened."""

    exercise: str  # "(introduction)" / "(closing words)" outside the steps
    step_index: int | None  # None during the introduction and the closing words
    side: str | None
    seconds_into_hold: float | None  # into the hold or the reps; None when not in one


# How one side of one step went, as LogStep.outcome.
Outcome = Literal["done", "skipped", "easier", "stopped", "pain", "left_out"]


@dataclass(frozen=True)
class LogStep:
    """One side of one step is over: how it went."""

    exercise: str
    step_index: int
    side: str | None
    outcome: str  # one of Outcome
    held_seconds: float  # seconds actually spent in the hold or reps of that side


@dataclass(frozen=True)
class Finish:
    """The session is over, and how."""

    how: Ending
    details: dict[str, object] = field(default_factory=dict)


Action = Speak | CancelSpeech | SetVolume | SetRate | LogPain | LogStep | Finish

"""Plain-data events going into the session and actions coming out of it."""

from __future__ import annotations

from dataclasses import dataclass, field


# ---- events (edges -> session) -------------------------------------------------------------
@dataclass(frozen=True)
class Tick:
    """Time has passed; the session fires whatever cues are due."""


@dataclass(frozen=True)
class CommandHeard:
    """The user asked for a command (typed, or recognised from speech)."""

    command: str
    phrase: str = ""


@dataclass(frozen=True)
class InputLost:
    """The microphone went away: the session pauses, since commands can no longer be heard."""


@dataclass(frozen=True)
class InputBack:
    """The microphone is back: the session says so and waits for "resume"."""


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

    exercise: str
    step_index: int
    side: str | None
    seconds_into_step: float


@dataclass(frozen=True)
class Finish:
    """The session is over. `how` is one of: completed, stopped, pain."""

    how: str
    details: dict[str, object] = field(default_factory=dict)


Action = Speak | CancelSpeech | SetVolume | SetRate | LogPain | Finish

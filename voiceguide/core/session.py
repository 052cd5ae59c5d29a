"""The session engine: a pure state machine fed (event, now) that returns actions.

No threads, no audio and no clock reads happen here. Every deadline is absolute on the
caller's monotonic clock, and each segment's start is chained from the previous segment's
planned end, so timing never drifts however late the caller wakes.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from voiceguide.core.actions import (
    Action,
    CancelSpeech,
    CommandHeard,
    Device,
    Event,
    Finish,
    InputBack,
    InputLost,
    LogPain,
    SetRate,
    SetVolume,
    Speak,
    Tick,
)
from voiceguide.core.coaching import Coaching
from voiceguide.core.commands import Command, Ending, safety_advice
from voiceguide.core.locale import Locale
from voiceguide.core.timeline import Segment, Timeline, about

LATE_TOLERANCE_SECONDS = 1.0  # a droppable cue later than this is skipped, not blurted out
VOLUME_STEP, VOLUME_MIN, VOLUME_MAX = 0.15, 0.2, 1.0
RATE_STEP_WPM, RATE_MIN_WPM, RATE_MAX_WPM = 20, 100, 240
EPSILON = 1e-9


class State(str, Enum):
    """What the session is doing, as a user would describe it."""

    NOT_STARTED = "not started"
    INSTRUCTING = "instructing"
    HOLDING = "holding"
    REPS = "doing reps"
    SWITCHING = "switching sides"
    RESTING = "resting"
    PAUSED = "paused"
    SAFETY_STOPPED = "stopped for safety"
    FINISHED = "finished"


_STATE_OF_SEGMENT = {
    "intro": State.INSTRUCTING,
    "instruct": State.INSTRUCTING,
    "hold": State.HOLDING,
    "reps": State.REPS,
    "switch": State.SWITCHING,
    "rest": State.RESTING,
    "outro": State.INSTRUCTING,
}
# Segments whose words matter more than their clock: after a pause they start over.
_RESTART_ON_RESUME = frozenset({"intro", "instruct", "outro"})
# Prompt key prefix per device: "<prefix>_lost" and "<prefix>_back".
_DEVICE_PROMPT = {"microphone": "mic", "speaker": "speaker"}


class Session:
    """Plays one routine's timeline and reacts to commands."""

    def __init__(
        self,
        timeline: Timeline,
        locale: Locale,
        volume: float = 0.8,
        rate_wpm: int = 160,
        coaching: Coaching | None = None,
    ) -> None:
        self.timeline = timeline
        self.coaching = coaching or Coaching()
        self.locale = locale
        self.volume = volume
        self.rate_wpm = rate_wpm
        self.state = State.NOT_STARTED
        self._segments = timeline.segments
        self._index = 0
        self._segment_start = 0.0  # absolute time of the current segment's offset 0
        self._next_cue = 0
        self._paused_elapsed = 0.0
        self._return_to: int | None = None  # where "repeat" continues after the instructions
        self._missing: list[Device] = []  # devices lost and not yet back, in order of loss
        # Every command the session obeys, and the method that obeys it.
        self._handlers: dict[Command, Callable[[float], list[Action]]] = {
            Command.PAIN: self._on_pain,
            Command.STOP: self._on_stop,
            Command.PAUSE: self._on_pause,
            Command.RESUME: self._on_resume,
            Command.SKIP: self._on_skip,
            Command.PREVIOUS: self._on_previous,
            Command.REPEAT: self._on_repeat,
            Command.TIME_LEFT: self._on_time_left,
            Command.WHATS_NEXT: self._on_whats_next,
            Command.HELP: self._on_help,
            Command.LOUDER: self._on_louder,
            Command.QUIETER: self._on_quieter,
            Command.SLOWER: self._on_slower,
            Command.FASTER: self._on_faster,
        }

    # ---- public API ------------------------------------------------------------------------
    @property
    def segment(self) -> Segment:
        """The segment being played (or paused in)."""
        return self._segments[self._index]

    @property
    def is_over(self) -> bool:
        """True once the session has finished, by completion, stop or pain."""
        return self.state in (State.FINISHED, State.SAFETY_STOPPED)

    @property
    def next_deadline(self) -> float | None:
        """When the caller must send the next Tick; None while paused or over."""
        if self.state in (State.PAUSED, State.NOT_STARTED) or self.is_over:
            return None
        seg = self.segment
        if self._next_cue < len(seg.cues):
            return self._segment_start + seg.cues[self._next_cue].offset_seconds
        return self._segment_start + seg.duration_seconds

    def start(self, now: float) -> list[Action]:
        """Begin the routine at `now`."""
        self._enter(0, now)
        return self._advance(now)

    def handle(self, event: Event, now: float) -> list[Action]:
        """Feed one event; returns what the edges must do."""
        if self.is_over or self.state is State.NOT_STARTED:
            return []
        if isinstance(event, Tick):
            return [] if self.state is State.PAUSED else self._advance(now)
        if isinstance(event, CommandHeard):
            try:
                handler = self._handlers[Command(event.command)]
            except ValueError:
                return []  # not a session command (an idle-mode one, say): nothing to do
            return handler(now)
        if isinstance(event, InputLost):
            return self._on_device_lost(event.device, now)
        if isinstance(event, InputBack):
            return self._on_device_back(event.device)
        return []

    @property
    def missing_devices(self) -> tuple[Device, ...]:
        """Devices reported lost and not yet back."""
        return tuple(self._missing)

    def elapsed_in_segment(self, now: float) -> float:
        """Seconds of the current segment already played (pauses excluded)."""
        if self.state is State.PAUSED:
            return self._paused_elapsed
        return max(0.0, now - self._segment_start)

    def remaining_seconds(self, now: float) -> float:
        """Planned time left in the whole routine from `now`."""
        if self.is_over:
            return 0.0
        current = self.segment.duration_seconds - self.elapsed_in_segment(now)
        later = sum(s.duration_seconds for s in self._segments[self._index + 1 :])
        return max(0.0, current) + later

    # ---- timing ----------------------------------------------------------------------------
    def _enter(self, index: int, start: float) -> None:
        self._index = index
        self._segment_start = start
        self._next_cue = 0
        self.state = _STATE_OF_SEGMENT[self.segment.kind]

    def _advance(self, now: float) -> list[Action]:
        actions: list[Action] = []
        while not self.is_over:
            seg = self.segment
            if self._next_cue < len(seg.cues):
                cue = seg.cues[self._next_cue]
                due = self._segment_start + cue.offset_seconds
                if due > now + EPSILON:
                    break
                self._next_cue += 1
                if not (cue.droppable and now - due > LATE_TOLERANCE_SECONDS):
                    actions.append(Speak(cue.text, cue.kind, f"{self._index}:{self._next_cue - 1}"))
                continue
            end = self._segment_start + seg.duration_seconds
            if end > now + EPSILON:
                break
            actions += self._next_segment(end)
        return actions

    def _next_segment(self, at: float) -> list[Action]:
        if self._return_to is not None and self.segment.kind == "instruct":
            target, self._return_to = self._return_to, None
        else:
            target = self._index + 1
        if target >= len(self._segments):
            self.state = State.FINISHED
            return [Finish(Ending.COMPLETED)]
        self._enter(target, at)
        return []

    def _jump(self, index: int, now: float) -> list[Action]:
        self._return_to = None
        self._enter(index, now)
        return [CancelSpeech(), *self._advance(now)]

    # ---- navigation helpers ----------------------------------------------------------------
    def _current_step(self) -> int:
        """The exercise the user is on; during a rest that is the one just finished."""
        return max(0, min(self.segment.step_index, len(self.timeline.routine.steps) - 1))

    def _step_start(self, step_index: int) -> int:
        if step_index >= len(self.timeline.routine.steps):
            return len(self._segments) - 1  # the outro
        return self.timeline.first_segment_of_step(step_index)

    def _seconds_into_step(self, now: float) -> float:
        step = self.segment.step_index
        earlier = sum(
            s.duration_seconds
            for s in self._segments[: self._index]
            if s.step_index == step and s.kind != "rest"
        )
        return earlier + self.elapsed_in_segment(now)

    # ---- devices ---------------------------------------------------------------------------
    def _on_device_lost(self, device: Device, now: float) -> list[Action]:
        # Without a microphone "it hurts" cannot be heard, and without a speaker no cue can be:
        # either way nothing may carry on. The prompt still reaches the console and the log.
        if device in self._missing:
            return []  # already paused for it; saying it again would add nothing
        self._missing.append(device)
        actions = [] if self.state is State.PAUSED else self._on_pause(now)[:1]
        return [*actions, Speak(self._device_prompt(device, "lost"), "prompt")]

    def _on_device_back(self, device: Device) -> list[Action]:
        if device not in self._missing:
            return []  # lost before this session began (or never): nothing to announce
        self._missing.remove(device)
        if self._missing:
            # "Say resume" would mislead while another device is still gone; say what still is
            # (it may not have been audible when it happened, if the speaker was the one gone).
            return [Speak(self._device_prompt(self._missing[0], "lost"), "prompt")]
        return [Speak(self._device_prompt(device, "back"), "prompt")]

    def _device_prompt(self, device: Device, what: str) -> str:
        return self.locale.prompt(f"{_DEVICE_PROMPT[device]}_{what}")

    # ---- commands --------------------------------------------------------------------------
    def _on_pain(self, now: float) -> list[Action]:
        seg = self.segment
        step = seg.step_index
        exercise = seg.exercise or {"intro": "(introduction)", "outro": "(closing words)"}[seg.kind]
        in_work = seg.kind in ("hold", "reps")
        log = LogPain(
            exercise,
            step if 0 <= step < len(self.timeline.routine.steps) else None,
            seg.side,
            round(self.elapsed_in_segment(now), 3) if in_work else None,
        )
        self.state = State.SAFETY_STOPPED
        return [
            CancelSpeech(),
            Speak(safety_advice(self.locale), "safety"),
            log,
            Finish(Ending.PAIN, {"exercise": exercise}),
        ]

    def _on_stop(self, now: float) -> list[Action]:
        self.state = State.FINISHED
        return [
            CancelSpeech(),
            Speak(self.locale.prompt("goodbye"), "prompt"),
            Finish(Ending.STOPPED),
        ]

    def _on_pause(self, now: float) -> list[Action]:
        if self.state is State.PAUSED:
            return [Speak(self.locale.prompt("paused"), "prompt")]
        self._paused_elapsed = self.elapsed_in_segment(now)
        self.state = State.PAUSED
        return [CancelSpeech(), Speak(self.locale.prompt("paused"), "prompt")]

    def _on_resume(self, now: float) -> list[Action]:
        if self.state is not State.PAUSED:
            return []
        seg = self.segment
        if seg.kind in _RESTART_ON_RESUME:
            self._enter(self._index, now)
            return self._advance(now)
        # Keep exactly the time that was left: the new start is now minus what was played.
        self._segment_start = now - self._paused_elapsed
        self.state = _STATE_OF_SEGMENT[seg.kind]
        return [Speak(self.locale.prompt("resumed"), "prompt"), *self._advance(now)]

    def _on_skip(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind == "outro":
            self.state = State.FINISHED
            return [CancelSpeech(), Finish(Ending.COMPLETED)]
        target = self._step_start(0 if seg.kind == "intro" else seg.step_index + 1)
        return self._jump(target, now)

    def _on_previous(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind == "rest":
            target = seg.step_index  # "go back" after an exercise means: that one again
        elif seg.kind == "outro":
            target = len(self.timeline.routine.steps) - 1
        else:
            target = max(0, seg.step_index - 1)
        return self._jump(self._step_start(target), now)

    def _on_repeat(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind in ("intro", "outro", "instruct"):
            return self._jump(self._index, now)
        if seg.kind == "rest":
            return self._jump(self._step_start(seg.step_index + 1), now)
        actions = self._jump(self._step_start(seg.step_index), now)
        if seg.kind != "switch":
            # After the instructions, carry on with the side the user was on, from its start.
            self._return_to = self._index_of(seg)
        return actions

    def _index_of(self, seg: Segment) -> int:
        return next(i for i, s in enumerate(self._segments) if s is seg)

    def _on_time_left(self, now: float) -> list[Action]:
        total = about(self.locale, self.remaining_seconds(now))
        seg = self.segment
        if seg.kind in ("hold", "reps"):
            work_end = seg.cues[-1].offset_seconds  # the release / relax cue
            left = max(0.0, work_end - self.elapsed_in_segment(now))
            hold = self.locale.duration(left)
            text = self.locale.prompt("time_left_hold", hold=hold, total=total)
        else:
            text = self.locale.prompt("time_left_total", total=total)
        return [Speak(text[:1].upper() + text[1:], "prompt")]

    def _on_whats_next(self, now: float) -> list[Action]:
        seg = self.segment
        steps = self.timeline.routine.steps
        later = self._segments[self._index + 1 :]
        if seg.kind in ("hold", "reps", "switch") and any(
            s.step_index == seg.step_index and s.side == "right" for s in later
        ):
            text = self.locale.prompt("whats_next_side")
        else:
            upcoming = seg.step_index + 1 if seg.kind != "intro" else 0
            if upcoming < len(steps):
                text = self.locale.prompt("whats_next_exercise", exercise=steps[upcoming].exercise)
            else:
                text = self.locale.prompt("whats_next_last")
        return [Speak(text, "prompt")]

    def _on_help(self, now: float) -> list[Action]:
        return [Speak(self.locale.prompt("help"), "prompt")]

    def _on_louder(self, now: float) -> list[Action]:
        return self._change_volume(+VOLUME_STEP, "louder", "loudest")

    def _on_quieter(self, now: float) -> list[Action]:
        return self._change_volume(-VOLUME_STEP, "quieter", "quietest")

    def _change_volume(self, delta: float, done: str, limit: str) -> list[Action]:
        new = round(min(VOLUME_MAX, max(VOLUME_MIN, self.volume + delta)), 3)
        if new == self.volume:
            return [Speak(self.locale.prompt(limit), "prompt")]
        self.volume = new
        return [SetVolume(new), Speak(self.locale.prompt(done), "prompt")]

    def _on_slower(self, now: float) -> list[Action]:
        return self._change_rate(-RATE_STEP_WPM, "slower", "slowest")

    def _on_faster(self, now: float) -> list[Action]:
        return self._change_rate(+RATE_STEP_WPM, "faster", "fastest")

    def _change_rate(self, delta: int, done: str, limit: str) -> list[Action]:
        new = min(RATE_MAX_WPM, max(RATE_MIN_WPM, self.rate_wpm + delta))
        if new == self.rate_wpm:
            return [Speak(self.locale.prompt(limit), "prompt")]
        self.rate_wpm = new
        return [SetRate(new), Speak(self.locale.prompt(done), "prompt")]

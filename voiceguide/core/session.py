"""The session engine: a pure state machine fed (event, now) that returns actions.

SessionEngine (core/session_engine.py) keeps the clock and the plan; this module holds what
each command does. Every side of every step the session reaches or skips past is logged
(LogStep), and the pain-memory question waits for its answer here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

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
from voiceguide.core.coaching import Coaching, Verbosity
from voiceguide.core.commands import Command, Ending, safety_advice
from voiceguide.core.locale import Locale
from voiceguide.core.planner import easier_text
from voiceguide.core.routine import Sides
from voiceguide.core.segments import Segment, Timeline, about
from voiceguide.core.session_engine import (
    EPSILON,
    LATE_TOLERANCE_SECONDS,
    WORDY,
    WORK,
    SessionEngine,
    State,
)

__all__ = ["EPSILON", "LATE_TOLERANCE_SECONDS", "Session", "State"]

VOLUME_STEP, VOLUME_MIN, VOLUME_MAX = 0.15, 0.2, 1.0
RATE_STEP_WPM, RATE_MIN_WPM, RATE_MAX_WPM = 20, 100, 240
# Prompt key prefix per device: "<prefix>_lost" and "<prefix>_back".
_DEVICE_PROMPT = {"microphone": "mic", "speaker": "speaker"}


class Session(SessionEngine):
    """Plays one routine's timeline and reacts to commands."""

    def __init__(
        self,
        timeline: Timeline,
        locale: Locale,
        volume: float = 0.8,
        rate_wpm: int = 160,
        coaching: Coaching | None = None,
    ) -> None:
        super().__init__(timeline, locale, volume, rate_wpm, coaching)
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
            Command.EASIER: self._on_easier,
            Command.OTHER_SIDE: self._on_other_side,
            Command.MORE_DETAIL: self._on_more_detail,
            Command.LESS_TALK: self._on_less_talk,
            Command.LEAVE_OUT: self._on_leave_out,
            Command.KEEP_IT: self._on_keep_it,
        }

    # ---- public API ------------------------------------------------------------------------
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

    # ---- safety ----------------------------------------------------------------------------
    def _on_pain(self, now: float) -> list[Action]:
        seg = self.segment
        step = self._step_of(seg)
        exercise = seg.exercise or {"intro": "(introduction)", "outro": "(closing words)"}[seg.kind]
        into = self._work_seconds(seg, now) if seg.kind in WORK else None
        log = LogPain(exercise, step, self._side_at(seg), into)
        sides = self._current_side_log(now, "pain")
        self.state = State.SAFETY_STOPPED
        return [
            CancelSpeech(),
            Speak(safety_advice(self.locale), "safety"),
            log,
            *sides,
            Finish(Ending.PAIN, {"exercise": exercise}),
        ]

    def _on_stop(self, now: float) -> list[Action]:
        sides = self._current_side_log(now, "stopped")
        self.state = State.FINISHED
        return [
            CancelSpeech(),
            Speak(self.locale.prompt("goodbye"), "prompt"),
            *sides,
            Finish(Ending.STOPPED),
        ]

    # ---- pause -----------------------------------------------------------------------------
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
        if seg.kind in WORDY:
            self._enter(self._index, now)
            return self._advance(now)
        # Keep exactly the time that was left: the new start is now minus what was played.
        self._segment_start = now - self._paused_elapsed
        self._take_segment_state()
        return [self._say(self.locale.prompt("resumed"), now), *self._advance(now)]

    # ---- navigation ------------------------------------------------------------------------
    def _cancel_jump(self, index: int, now: float, logs: Sequence[Action]) -> list[Action]:
        # The logs of what was left come after the first words of where the session went.
        return [CancelSpeech(), *self._jump(index, now), *logs]

    def _on_skip(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind == "outro":
            self.state = State.FINISHED
            return [CancelSpeech(), Finish(Ending.COMPLETED)]
        logs = self._sides_from_here(now, "skipped")
        if seg.kind != "intro":
            self._answered.add(seg.step_index)
        target = self._step_start(0 if seg.kind == "intro" else seg.step_index + 1)
        target, later = self._past_chosen(target)
        return self._cancel_jump(target, now, [*logs, *later])

    def _on_previous(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind == "rest":
            target = seg.step_index  # "go back" after an exercise means: that one again
        elif seg.kind == "outro":
            target = len(self.timeline.routine.steps) - 1
        else:
            target = max(0, seg.step_index - 1)
        return self._cancel_jump(self._step_start(target), now, [])

    def _on_repeat(self, now: float) -> list[Action]:
        seg = self.segment
        if seg.kind in WORDY:
            return self._cancel_jump(self._index, now, [])
        if seg.kind == "rest":
            return self._cancel_jump(self._step_start(seg.step_index + 1), now, [])
        instruct = self._index_of_kind(seg.step_index, "instruct")
        actions = self._cancel_jump(instruct, now, [])
        if seg.kind != "switch":
            # After the instructions, carry on with the side the user was on, from its start.
            self._return_to = self._index_of(seg)
        return actions

    def _index_of(self, seg: Segment) -> int:
        return next(i for i, s in enumerate(self._segments) if s is seg)

    def _index_of_kind(self, step: int, kind: str, side: str | None = None) -> int:
        return next(
            i
            for i, s in enumerate(self._segments)
            if s.step_index == step and s.kind == kind and (side is None or s.side == side)
        )

    # ---- questions -------------------------------------------------------------------------
    def _on_time_left(self, now: float) -> list[Action]:
        total = about(self.locale, self.remaining_seconds(now))
        seg = self.segment
        if seg.kind in WORK:
            work_end = seg.cues[-1].offset_seconds  # the release / relax cue
            left = max(0.0, work_end - self.elapsed_in_segment(now))
            hold = self.locale.duration(left)
            text = self.locale.prompt("time_left_hold", hold=hold, total=total)
        else:
            text = self.locale.prompt("time_left_total", total=total)
        return [self._say(text[:1].upper() + text[1:], now)]

    def _on_whats_next(self, now: float) -> list[Action]:
        seg = self.segment
        steps = self.timeline.routine.steps
        later = self._segments[self._index + 1 :]
        if seg.kind in ("hold", "reps", "switch") and any(
            s.step_index == seg.step_index and s.side == "right" for s in later
        ):
            text = self.locale.prompt("whats_next_side")
        else:
            upcoming = seg.step_index + 1 if seg.kind not in ("intro", "ask") else 0
            if seg.kind == "ask":
                upcoming = seg.step_index
            if upcoming < len(steps):
                text = self.locale.prompt("whats_next_exercise", exercise=steps[upcoming].exercise)
            else:
                text = self.locale.prompt("whats_next_last")
        return [self._say(text, now)]

    def _on_help(self, now: float) -> list[Action]:
        return [self._say(self.locale.prompt("help"), now)]

    # ---- volume and pace -------------------------------------------------------------------
    def _on_louder(self, now: float) -> list[Action]:
        return self._change_volume(+VOLUME_STEP, "louder", "loudest", now)

    def _on_quieter(self, now: float) -> list[Action]:
        return self._change_volume(-VOLUME_STEP, "quieter", "quietest", now)

    def _change_volume(self, delta: float, done: str, limit: str, now: float) -> list[Action]:
        new = round(min(VOLUME_MAX, max(VOLUME_MIN, self.volume + delta)), 3)
        if new == self.volume:
            return [self._say(self.locale.prompt(limit), now)]
        self.volume = new
        return [SetVolume(new), self._say(self.locale.prompt(done), now)]

    def _on_slower(self, now: float) -> list[Action]:
        return self._change_rate(-RATE_STEP_WPM, "slower", "slowest", now)

    def _on_faster(self, now: float) -> list[Action]:
        return self._change_rate(+RATE_STEP_WPM, "faster", "fastest", now)

    def _change_rate(self, delta: int, done: str, limit: str, now: float) -> list[Action]:
        new = min(RATE_MAX_WPM, max(RATE_MIN_WPM, self.rate_wpm + delta))
        if new == self.rate_wpm:
            return [self._say(self.locale.prompt(limit), now)]
        old, self.rate_wpm = self.rate_wpm, new
        answer = self.locale.prompt(done)
        # The rest of the session is planned again at the new rate: words get their time.
        self._replan(now, answer, said_at_wpm=old)
        return [SetRate(new), self._say(answer, now), *self._advance(now)]

    def _on_more_detail(self, now: float) -> list[Action]:
        return self._change_verbosity(
            self.coaching.verbosity.more(), "more_detail", "most_detail", now
        )

    def _on_less_talk(self, now: float) -> list[Action]:
        return self._change_verbosity(
            self.coaching.verbosity.less(), "less_talk", "least_talk", now
        )

    def _change_verbosity(
        self, level: Verbosity | None, done: str, limit: str, now: float
    ) -> list[Action]:
        if level is None:
            return [self._say(self.locale.prompt(limit), now)]
        self.coaching = dataclasses.replace(self.coaching, verbosity=level)
        answer = self.locale.prompt(done)
        self._replan(now, answer)
        return [self._say(answer, now), *self._advance(now)]

    # ---- gentler choices -------------------------------------------------------------------
    def _on_easier(self, now: float) -> list[Action]:
        seg = self.segment
        steps = self.timeline.routine.steps
        # In the welcome or a rest, "easier" is about the exercise coming up.
        step = 0 if seg.kind == "intro" else seg.step_index + (1 if seg.kind == "rest" else 0)
        if not 0 <= step < len(steps):
            return []
        if not steps[step].easier:
            return [self._say(self.locale.prompt("no_easier"), now)]
        if seg.kind == "ask":
            # The answer to "leave it out, gentler, or keep it": the gentler instructions follow,
            # and the same exercise later in the routine is done the gentler way too.
            same = self._same_exercise(step)
            self._answered |= same
            self._easier |= {i for i in same if steps[i].easier}
            self._replan(now, "")
            return [CancelSpeech(), *self._jump(self._index + 1, now)]
        self._easier.add(step)
        answer = easier_text(self.locale, steps[step])
        self._replan(now, answer)
        return [CancelSpeech(), self._say(answer, now, "easier"), *self._advance(now)]

    def _on_other_side(self, now: float) -> list[Action]:
        seg = self.segment
        step = self._step_of(seg)
        if step is None or seg.kind in ("rest", "ask"):
            return []
        if self.timeline.routine.steps[step].sides is not Sides.BOTH:
            return [self._say(self.locale.prompt("one_side"), now)]
        if seg.side == "right":
            return [self._say(self.locale.prompt("last_side"), now)]
        right = self._index_of_kind(
            step, seg.kind if seg.kind in WORK else self._work_kind(step), "right"
        )
        if seg.kind in WORK:
            # Done with this side: the change-over gives time to get into the other.
            logs = [self._log_side(seg, self._work_outcome(seg), self._work_seconds(seg, now))]
            return self._cancel_jump(right - 1, now, logs)
        if seg.kind == "instruct":
            left = self._segments[right - 2]
            logs = [self._log_side(left, "skipped", 0.0)]
            return self._cancel_jump(right, now, logs)
        return self._cancel_jump(right, now, [])  # in the change-over: start the side now

    def _work_kind(self, step: int) -> str:
        return "hold" if self.timeline.routine.steps[step].is_hold else "reps"

    def _on_leave_out(self, now: float) -> list[Action]:
        if self.segment.kind != "ask":
            return self._on_skip(now)  # "leave it out" during an exercise: as skip
        return [CancelSpeech(), *self._leave_out(now), *self._advance(now)]

    def _on_keep_it(self, now: float) -> list[Action]:
        if self.segment.kind != "ask":
            return []
        self._answered |= self._same_exercise(self.segment.step_index)
        answer = self.locale.prompt("kept_in")
        speak = self._say(answer, now)
        self._enter(self._index + 1, now + self._seconds(answer) + 0.4)
        return [CancelSpeech(), speak, *self._advance(now)]

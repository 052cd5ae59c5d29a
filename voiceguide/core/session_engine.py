"""The session's clock and plan: segments played on the caller's clock, re-planned in place.

No threads, no audio and no clock reads happen here. Every deadline is absolute on the
caller's monotonic clock, and each segment's start is chained from the previous segment's
planned end, so timing never drifts however late the caller wakes. A re-plan (new rate,
verbosity, or a step made easier) swaps in a timeline with the same segments, and the
segment being played carries on from the same point in the new plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from voiceguide.core.actions import Action, Finish, LogStep, Speak
from voiceguide.core.coaching import Coaching
from voiceguide.core.commands import Ending
from voiceguide.core.locale import Locale
from voiceguide.core.planner import step_sides
from voiceguide.core.segments import GAP_SECONDS, Cue, Segment, Timeline, estimate_speech_seconds
from voiceguide.core.timeline import plan_session

LATE_TOLERANCE_SECONDS = 1.0  # a droppable cue later than this is skipped, not blurted out
EPSILON = 1e-9


class State(str, Enum):
    """What the session is doing, as a user would describe it."""

    NOT_STARTED = "not started"
    INSTRUCTING = "instructing"
    ASKING = "waiting for an answer"
    HOLDING = "holding"
    REPS = "doing reps"
    SWITCHING = "switching sides"
    RESTING = "resting"
    PAUSED = "paused"
    SAFETY_STOPPED = "stopped for safety"
    FINISHED = "finished"


_STATE_OF_SEGMENT = {
    "intro": State.INSTRUCTING,
    "ask": State.ASKING,
    "instruct": State.INSTRUCTING,
    "hold": State.HOLDING,
    "reps": State.REPS,
    "switch": State.SWITCHING,
    "rest": State.RESTING,
    "outro": State.INSTRUCTING,
}
# Segments whose words matter more than their clock: after a pause or a re-plan they carry
# on from the next sentence rather than from the clock.
WORDY = frozenset({"intro", "ask", "instruct", "outro"})
WORK = frozenset({"hold", "reps"})


def _keys(cues: Iterable[Cue]) -> list[tuple[str, int]]:
    """Each cue as (kind, how many of that kind came before it)."""
    seen: dict[str, int] = {}
    keys = []
    for cue in cues:
        keys.append((cue.kind, seen.get(cue.kind, 0)))
        seen[cue.kind] = seen.get(cue.kind, 0) + 1
    return keys


class SessionEngine:
    """Plays one routine's timeline on the caller's clock; Session adds the commands."""

    def __init__(
        self,
        timeline: Timeline,
        locale: Locale,
        volume: float = 0.8,
        rate_wpm: int = 160,
        coaching: Coaching | None = None,
    ) -> None:
        self.timeline = timeline
        self.locale = locale
        self.volume = volume
        self.rate_wpm = rate_wpm
        self.coaching = coaching or Coaching()
        self.state = State.NOT_STARTED
        self._segments = timeline.segments
        # What the welcome announced: re-plans keep it, so its words stay the pre-rendered ones.
        self._welcome_seconds = sum(s.duration_seconds for s in timeline.segments[1:])
        self._index = 0
        self._segment_start = 0.0  # absolute time of the current segment's offset 0
        self._next_cue = 0
        self._paused_elapsed = 0.0
        self._return_to: int | None = None  # where "repeat" continues after the instructions
        self._easier: set[int] = set()  # steps switched to their easier variant
        self._answered: set[int] = set()  # steps whose pain-memory question has been answered
        self._left_out: set[int] = set()  # later steps left out with an answer about an earlier one
        self._quiet_until = 0.0  # droppable cues due before this give way to a spoken answer
        self._answered_text = ""  # an answer that stands for a cue of the current segment

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
        self._answered_text = ""
        self.state = _STATE_OF_SEGMENT[self.segment.kind]

    def _take_segment_state(self) -> None:
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
                late = now - due > LATE_TOLERANCE_SECONDS
                if cue.text == self._answered_text:
                    continue  # e.g. the easier variant, already said as the answer to "easier"
                if not (cue.droppable and (late or due < self._quiet_until - EPSILON)):
                    actions.append(Speak(cue.text, cue.kind, f"{self._index}:{self._next_cue - 1}"))
                continue
            end = self._segment_start + seg.duration_seconds
            if end > now + EPSILON:
                break
            actions += self._next_segment(end)
        return actions

    def _next_segment(self, at: float) -> list[Action]:
        seg = self.segment
        actions: list[Action] = []
        if seg.kind in WORK:
            actions.append(self._log_side(seg, self._work_outcome(seg), self._work_seconds(seg)))
        if seg.kind == "ask":
            # No answer: the safe default is to leave the exercise out.
            return self._leave_out(at)
        if self._return_to is not None and seg.kind == "instruct":
            target, self._return_to = self._return_to, None
        else:
            target = self._index + 1
        if target >= len(self._segments):
            self.state = State.FINISHED
            return [*actions, Finish(Ending.COMPLETED)]
        target, logs = self._past_chosen(target)
        self._enter(target, at)
        return [*actions, *logs]

    def _past_chosen(self, target: int) -> tuple[int, list[Action]]:
        """Where playing on from `target` really goes: past a question already answered for
        the same exercise, and past a later step left out with it (logged "left_out")."""
        logs: list[Action] = []
        while target < len(self._segments) - 1:
            seg = self._segments[target]
            if seg.kind not in ("ask", "instruct"):
                break
            if seg.step_index in self._left_out:
                step = self.timeline.routine.steps[seg.step_index]
                logs += [
                    LogStep(step.exercise, seg.step_index, side, "left_out", 0.0)
                    for side in step_sides(step)
                ]
                target = self._after_step(seg.step_index)
            elif seg.kind == "ask" and seg.step_index in self._answered:
                target += 1
            else:
                break
        return target, logs

    def _same_exercise(self, step_index: int) -> set[int]:
        """Every step of the routine that is the same exercise as `step_index`."""
        steps = self.timeline.routine.steps
        name = steps[step_index].exercise.strip().lower()
        return {i for i, s in enumerate(steps) if s.exercise.strip().lower() == name}

    def _jump(self, index: int, now: float) -> list[Action]:
        self._return_to = None
        self._enter(index, now)
        return self._advance(now)

    def _say(self, text: str, now: float, kind: str = "prompt") -> Speak:
        """An answer to a command, said now; timed counts give way to it."""
        self._quiet_until = max(self._quiet_until, now + self._seconds(text))
        return Speak(text, kind)

    def _seconds(self, text: str) -> float:
        return estimate_speech_seconds(text, self.rate_wpm)

    # ---- steps and sides -------------------------------------------------------------------
    def _step_of(self, seg: Segment) -> int | None:
        """The step `seg` belongs to, or None for the introduction and the closing words."""
        steps = len(self.timeline.routine.steps)
        return seg.step_index if 0 <= seg.step_index < steps else None

    def _step_start(self, step_index: int) -> int:
        if step_index >= len(self.timeline.routine.steps):
            return len(self._segments) - 1  # the outro
        first = self.timeline.first_segment_of_step(step_index)
        if self._segments[first].kind == "ask" and step_index in self._answered:
            return first + 1  # asked once is enough
        return first

    def _after_step(self, step_index: int) -> int:
        """The first segment after every segment of `step_index` (its rest included)."""
        for i, seg in enumerate(self._segments):
            if seg.step_index > step_index:
                return i
        return len(self._segments) - 1

    def _work_seconds(self, seg: Segment, now: float | None = None) -> float:
        """Seconds of the hold or reps done: up to the release cue, pauses excluded."""
        work_end = seg.cues[-1].offset_seconds
        done = work_end if now is None else min(work_end, self.elapsed_in_segment(now))
        return round(done, 3)

    def _work_outcome(self, seg: Segment) -> str:
        return "easier" if seg.step_index in self._easier else "done"

    def _log_side(self, seg: Segment, outcome: str, held: float) -> LogStep:
        return LogStep(seg.exercise, seg.step_index, seg.side, outcome, held)

    def _current_side_log(self, now: float, outcome: str) -> list[Action]:
        seg = self.segment
        if seg.kind in WORK:
            return [self._log_side(seg, outcome, self._work_seconds(seg, now))]
        step = self._step_of(seg)
        if step is None or seg.kind not in ("instruct", "switch"):
            return []
        # Ended while getting into a side (its set-up, or the change-over to the second side):
        # that side is recorded too, with nothing held. In the change-over the pain, if any,
        # belongs to the side just left, so the side to come counts as stopped.
        sides = step_sides(self.timeline.routine.steps[step])
        side = sides[0] if seg.kind == "instruct" else sides[-1]
        how = outcome if seg.kind == "instruct" else "stopped"
        return [LogStep(seg.exercise, step, side, how, 0.0)]

    def _side_at(self, seg: Segment) -> str | None:
        """The side the user is on: named before the set-up, and the one just left in a switch."""
        if seg.kind not in ("instruct", "switch"):
            return seg.side
        step = self._step_of(seg)
        if step is None:
            return None
        return step_sides(self.timeline.routine.steps[step])[0]

    def _sides_from_here(self, now: float, outcome: str) -> list[Action]:
        """A LogStep with `outcome` for this step's side in progress and each side to come."""
        seg = self.segment
        step = self._step_of(seg)
        if step is None or seg.kind == "rest":
            return []
        sides = step_sides(self.timeline.routine.steps[step])
        if seg.kind in WORK:
            first = sides.index(seg.side)
        elif seg.kind == "switch":
            first = 1
        else:
            first = 0
        logs: list[Action] = []
        for side in sides[first:]:
            held = self._work_seconds(seg, now) if seg.kind in WORK and side == seg.side else 0.0
            logs.append(LogStep(seg.exercise, step, side, outcome, held))
        return logs

    def _leave_out(self, at: float, outcome: str = "left_out") -> list[Action]:
        """Leave the current step out: log its sides, say so, and go on after the pause."""
        step = self.segment.step_index
        same = self._same_exercise(step)
        self._answered |= same
        self._left_out |= {i for i in same if i > step}  # the same exercise later: out too
        logs = self._sides_from_here(at, outcome)
        speak = Speak(self.locale.prompt("left_out"), "prompt")
        # The next step starts once the answer has been said.
        self._return_to = None
        target, later = self._past_chosen(self._after_step(step))
        self._enter(target, at + self._seconds(speak.text) + GAP_SECONDS)
        return [*logs, *later, speak]

    # ---- re-planning -----------------------------------------------------------------------
    def _replan(self, now: float, answer: str, said_at_wpm: int | None = None) -> None:
        """Swap in a plan for the current rate, verbosity and easier steps, in mid-segment.

        `answer` is what the box says about it now; the next words wait for it. The cue it
        cuts off (still being said at `said_at_wpm`) is said again."""
        new = plan_session(
            self.timeline.routine,
            self.locale,
            self.rate_wpm,
            self.coaching,
            frozenset(self._easier),
            self._welcome_seconds,
        )
        if [(s.kind, s.step_index, s.side) for s in new.segments] != [
            (s.kind, s.step_index, s.side) for s in self._segments
        ]:
            return  # not the same shape (never for these changes): keep the plan in use
        old = self.segment
        self.timeline = new
        self._segments = new.segments
        seg = self.segment
        answer_end = now + self._seconds(answer) + GAP_SECONDS
        if seg.kind in WORDY:
            # Carry on after the last sentence already said, once the answer is over.
            spoken = list(old.cues[: self._next_cue])
            if spoken and self.state is not State.PAUSED:
                # The sentence the answer cut off is said again.
                last = spoken[-1]
                rate = said_at_wpm or self.rate_wpm
                ends = last.offset_seconds + estimate_speech_seconds(last.text, rate)
                if self._segment_start + ends > now:
                    spoken.pop()
            # Cues are matched by kind and order ("the second set-up sentence"), not by text:
            # the welcome's spoken length changes with the rate, and levels share sentences.
            said = set(_keys(spoken))
            done = [j for j, key in enumerate(_keys(seg.cues)) if key in said]
            self._next_cue = done[-1] + 1 if done else 0
            if self._next_cue < len(seg.cues):
                resume_at = seg.cues[self._next_cue].offset_seconds
            else:
                last = seg.cues[-1]
                resume_at = last.offset_seconds + estimate_speech_seconds(last.text, self.rate_wpm)
            if self.state is State.PAUSED:
                return  # resuming starts these over
            self._segment_start = answer_end - resume_at
        else:
            # Holds, reps, switches and rests keep their clock: hold lengths stay as they are.
            elapsed = self.elapsed_in_segment(now)
            later = [j for j, c in enumerate(seg.cues) if c.offset_seconds > elapsed + EPSILON]
            self._next_cue = later[0] if later else len(seg.cues)
        self._quiet_until = max(self._quiet_until, answer_end - GAP_SECONDS)
        self._answered_text = answer  # said just now: the plan does not say it again here

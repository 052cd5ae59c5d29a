"""The one loop that owns session state: events in from a queue, actions out to the edges.

Recogniser results, typed commands and timer wake-ups all arrive here, on one thread, so
the session never needs a lock. Edges (speech, history) are small protocols (app.ports), so
the same loop drives the console, the speaker and the tests.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass

from voiceguide.app.clock import Clock
from voiceguide.app.ports import HistorySink, SpeechSink
from voiceguide.core.actions import (
    Action,
    CancelSpeech,
    CommandHeard,
    Finish,
    InputBack,
    InputLost,
    LogPain,
    LogStep,
    SetRate,
    SetVolume,
    Speak,
    Tick,
)
from voiceguide.core.commands import Ending
from voiceguide.core.session import Session

log = logging.getLogger("voiceguide.runner")


def pain_sentence(pain: LogPain) -> str:
    """The pain report as the journal (and the console) reads it: one sentence."""
    if pain.step_index is None:
        where = "the introduction" if pain.exercise == "(introduction)" else "the closing words"
        return f"Pain reported during {where}."
    side = f", {pain.side} side" if pain.side else ""
    held = pain.seconds_into_hold
    when = "" if held is None else f", {held:.0f} s into the hold"
    return f"Pain reported during {pain.exercise} (step {pain.step_index + 1}{side}){when}."


@dataclass(frozen=True)
class Quit:
    """Ask the loop to end the session without speaking (Ctrl-C, SIGTERM)."""

    how: Ending = Ending.INTERRUPTED


class Runner:
    """Runs one session to its end against real time."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        speech: SpeechSink,
        history: HistorySink | None = None,
        events: queue.SimpleQueue[object] | None = None,
        heartbeat: Callable[[], None] | None = None,
        max_wait_seconds: float = 5.0,
    ) -> None:
        self.session = session
        self.clock = clock
        self.speech = speech
        self.history = history
        # SimpleQueue.put is reentrant, so signal handlers may post Quit safely.
        self.events: queue.SimpleQueue[object] = (
            events if events is not None else queue.SimpleQueue()
        )
        self.heartbeat = heartbeat  # called on every wake-up (the systemd watchdog ping)
        self.max_wait_seconds = max_wait_seconds  # wake at least this often, even when paused
        self.how: Ending | None = None
        self._session_id: int | None = None

    def post(self, event: object) -> None:
        """Hand an event to the loop from any thread."""
        self.events.put(event)

    def run(self) -> Ending:
        """Play the session until it ends; returns how it ended."""
        routine = self.session.timeline.routine
        if self.history is not None:
            self._session_id = self.history.start_session(routine.id, routine.title)
        self._dispatch(self.session.start(self.clock.now()))
        while self.how is None:
            deadline = self.session.next_deadline
            timeout = self.max_wait_seconds
            if deadline is not None:
                timeout = min(timeout, self.clock.real_seconds_until(deadline))
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                event = Tick()
            if self.heartbeat is not None:
                self.heartbeat()
            if isinstance(event, Quit):
                self._dispatch([CancelSpeech(), Finish(event.how)])
                break
            if isinstance(event, (Tick, CommandHeard, InputLost, InputBack)):
                self._dispatch(self.session.handle(event, self.clock.now()))
        return self.how or Ending.INTERRUPTED

    def _dispatch(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case Speak(text=text, kind=kind):
                    self.speech.speak(text, kind)
                case CancelSpeech():
                    self.speech.cancel()
                case SetVolume(volume=volume):
                    self.speech.set_volume(volume)
                case SetRate(rate_wpm=rate):
                    self.speech.set_rate(rate)
                case LogPain():
                    log.warning("%s", pain_sentence(action))
                    if self.history is not None:
                        self.history.log_pain(
                            self._session_id, action.exercise, action.step_index,
                            action.side, action.seconds_into_hold,
                        )  # fmt: skip
                case LogStep():
                    if self.history is not None:
                        self.history.log_step(
                            self._session_id, action.exercise, action.step_index,
                            action.side, action.outcome, action.held_seconds,
                        )  # fmt: skip
                case Finish(how=how):
                    self.how = how
                    if self.history is not None:
                        self.history.end_session(self._session_id, how)

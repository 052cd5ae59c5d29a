"""`voiceguide serve`: the long-running mode. Idle listening, then sessions, then idle again."""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
import time
from types import FrameType
from typing import TextIO

from voiceguide.app.clock import ScaledClock
from voiceguide.app.config import Config
from voiceguide.app.notify import ServiceNotifier
from voiceguide.app.plans import coaching_for, plan_routine
from voiceguide.app.ports import Post
from voiceguide.app.runner import Quit
from voiceguide.app.speech_sinks import LogSpeech, TeeSpeech
from voiceguide.app.wiring import (
    idle_commands,
    open_microphone,
    prepare_phrases,
    remember_echo_delay,
    session_runner,
    wait_for_speaker,
)
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import CommandHeard, Speak
from voiceguide.core.commands import Ending
from voiceguide.core.idle import IdleMode, StartRoutine
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.core.routine import Routine
from voiceguide.speech_in.mic import MicInput
from voiceguide.speech_out.speaker import AudioSpeechOut
from voiceguide.store.history import History, default_history_path

log = logging.getLogger("voiceguide.serve")
SPEECH_DRAIN_SECONDS = 60.0  # the pain advice is long; let it finish before going idle


def serve(config: Config) -> int:
    """Run until SIGTERM: wait for "start <routine>", run it, and wait again."""
    notifier = ServiceNotifier()
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        events.put(Quit(Ending.INTERRUPTED))

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    started = time.monotonic()
    locale = load_locale(config.locale)
    routines = load_good_routines(config.routines_folder(), config.locale)
    idle = IdleMode(routines, locale)
    notifier.status("opening the speaker")
    speaker = wait_for_speaker(config, stop)
    if speaker is None:  # SIGTERM while waiting for a speaker
        return 0
    history = History(default_history_path(config.history_db))
    speaker.watch(events.put)  # while idle the events are ignored; a session acts on them
    speech = TeeSpeech(speaker, LogSpeech())
    notifier.status("preparing phrases")
    # Coached as a session started now would be, over all routines at once; each session
    # renders what its own coaching adds (a new pain notice, this week's count) before it starts.
    prepare_phrases(speaker, routines, locale, config.rate_wpm, notifier,
                    coaching=coaching_for(config, None, history))  # fmt: skip
    idle_table = idle_commands(idle, config.listen_settings())  # (warns once about bad names)
    mic = open_microphone(config, locale, events.put, idle_table, speaker)
    in_session = threading.Event()
    read_typed_lines(events.put, in_session, PhraseMatcher(locale))
    try:
        notifier.ready()
        notifier.status("ready: waiting for 'start <routine>'")
        log.info("ready in %.2f s", time.monotonic() - started)
        speech.speak(locale.prompt("ready"))
        while True:
            try:
                event = events.get(timeout=notifier.ping_seconds / 2)
            except queue.Empty:
                event = None
            notifier.watchdog()
            if isinstance(event, Quit):
                break
            if not isinstance(event, CommandHeard):
                continue  # input lost/back and stray ticks matter only inside a session
            for action in idle.handle_text(event.phrase):
                if isinstance(action, Speak):
                    speech.speak(action.text, action.kind)
                elif isinstance(action, StartRoutine):
                    in_session.set()
                    try:
                        how = _run_session(action.routine, config, speech, speaker, mic, events,
                                           history, notifier)  # fmt: skip
                    finally:
                        in_session.clear()
                    if how is Ending.INTERRUPTED:
                        return 0
                    mic.set_commands(idle_table)
                    notifier.status("ready: waiting for 'start <routine>'")
    finally:
        notifier.stopping()
        mic.close()
        remember_echo_delay(config, mic)
        speaker.close()
        history.close()
    return 0


def read_typed_lines(
    post: Post, in_session: threading.Event, matcher: PhraseMatcher, stream: TextIO = sys.stdin
) -> threading.Thread:
    """Typed lines as commands, beside the microphone: while idle as utterances for the idle
    table ("start gentle back"), in a session matched as session commands. Under systemd
    stdin is /dev/null, so the thread ends at once."""

    def loop() -> None:
        for line in stream:
            text = line.strip()
            if not text:
                continue
            if not in_session.is_set():
                post(CommandHeard("", text))  # idle mode reads only the phrase
                continue
            found = matcher.match(text)
            if found is None:
                log.info("not a command: %r", text)
                continue
            post(CommandHeard(found.command, found.phrase))

    thread = threading.Thread(target=loop, name="typed-input", daemon=True)
    thread.start()
    return thread


def _run_session(
    routine: Routine, config: Config, speech: TeeSpeech, speaker: AudioSpeechOut, mic: MicInput,
    events: queue.SimpleQueue[object], history: History, notifier: ServiceNotifier,
) -> Ending:  # fmt: skip
    locale = load_locale(config.locale)
    # Planned at the configured rate, as the phrases were prepared: another rate would give
    # other spoken durations ("three minutes") that are not in the phrase cache.
    coaching = coaching_for(config, routine, history)
    timeline = plan_routine(config, routine, coaching)
    prepare_phrases(speaker, [routine], locale, config.rate_wpm, notifier, coaching=coaching)
    speaker.wait_until_done(timeout=10)  # let "Starting …" finish before the welcome
    mic.set_commands(locale.commands)
    notifier.status(f"running {routine.id}")
    runner = session_runner(timeline, locale, ScaledClock(), speech, history, events=events,
                            volume=speaker.volume, rate_wpm=speaker.rate_wpm,
                            notifier=notifier, coaching=coaching)  # fmt: skip
    speaker.watch(events.put)  # re-posts a loss from idle time, so this session starts paused
    how = runner.run()
    log.info("session of %s ended: %s", routine.id, how)
    deadline = time.monotonic() + SPEECH_DRAIN_SECONDS
    while time.monotonic() < deadline and not speaker.wait_until_done(timeout=1.0):
        notifier.watchdog()
    return how

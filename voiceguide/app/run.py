"""`voiceguide run`: play one routine through the speaker, or in the console."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from voiceguide.app.clock import ScaledClock
from voiceguide.app.config import Config
from voiceguide.app.console import ConsoleSpeech, read_commands
from voiceguide.app.plans import coached_plan, read_history
from voiceguide.app.ports import SpeechSink
from voiceguide.app.runner import Quit
from voiceguide.app.speech_sinks import TeeSpeech
from voiceguide.app.wiring import (
    has_input_device,
    open_microphone,
    open_speaker_or_none,
    prepare_phrases,
    remember_echo_delay,
    session_runner,
)
from voiceguide.content.locales import load_locale
from voiceguide.core.commands import Ending
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.store.history import History, default_history_path

SPEECH_DRAIN_SECONDS = 60.0
ENDINGS = {
    Ending.COMPLETED: "Routine complete.",
    Ending.STOPPED: "Session stopped.",
    Ending.PAIN: "Session ended after a pain report. Please take care.",
    Ending.INTERRUPTED: "Session interrupted.",
}


def run_routine(config: Config, name: str, *, text: bool, speed: float, keep_history: bool) -> int:
    """Run routine `name` to its end; console mode when `text` is set."""
    # The history is read for coaching (pain memory, progression, this week's sessions) even
    # with --no-history, which only keeps this session out of it.
    history = History(default_history_path(config.history_db)) if keep_history else None
    reader = history if history is not None else read_history(config)
    try:
        timeline, coaching = coached_plan(config, name, reader)
    except BaseException:
        if history is not None:
            history.close()
        raise
    finally:
        if reader is not None and reader is not history:
            reader.close()
    locale = load_locale(config.locale)
    speaker = None
    if not text:
        speaker = open_speaker_or_none(config)  # logs why, when it falls back to the console
        if speaker is not None:
            prepare_phrases(speaker, [timeline.routine], locale, config.rate_wpm,
                            coaching=coaching)  # fmt: skip
    clock = ScaledClock(speed)  # made last, so printed offsets start at zero
    console = ConsoleSpeech(clock)
    speech: SpeechSink = console if speaker is None else TeeSpeech(speaker, console)
    runner = session_runner(timeline, locale, clock, speech, history, volume=config.volume,
                            rate_wpm=config.rate_wpm, coaching=coaching)  # fmt: skip
    mic = None
    if speaker is not None:
        speaker.watch(runner.post)  # a lost speaker pauses the session; its return is announced
        if has_input_device(config):
            mic = open_microphone(config, locale, runner.post, locale.commands, speaker)
        else:
            print("voiceguide: no microphone found; type commands instead", file=sys.stderr)

    signals: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        runner.post(Quit(Ending.INTERRUPTED))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if sys.stdin.isatty():
        print("Type a command and press Enter (for example: pause, skip, it hurts, help). "
              "Ctrl-C ends the session.", file=sys.stderr)  # fmt: skip
    read_commands(runner, PhraseMatcher(locale))
    try:
        how = runner.run()
        if speaker is not None:
            speaker.wait_until_done(timeout=SPEECH_DRAIN_SECONDS)  # the last words matter most
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if mic is not None:
            mic.close()
            remember_echo_delay(config, mic)
        if speaker is not None:
            speaker.close()
        if history is not None:
            history.close()
    print(f"voiceguide: {ENDINGS.get(how, how)}", file=sys.stderr)
    # The history is closed by now, so the session is on disk; 130 / 143 tell a service
    # manager or a script that a signal ended it, as a shell would report it.
    return 128 + signals[0] if signals else 0

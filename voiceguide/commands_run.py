"""`voiceguide run`: play one routine through the speaker, or in the console."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from voiceguide.clock import ScaledClock
from voiceguide.commands_routines import timeline_for
from voiceguide.config import Config
from voiceguide.console import ConsoleSpeech, read_commands
from voiceguide.history import History, default_history_path
from voiceguide.locale import load_locale
from voiceguide.phrases import PhraseMatcher
from voiceguide.runner import Quit, Runner, SpeechSink
from voiceguide.session import Session

ENDINGS = {
    "completed": "Routine complete.",
    "stopped": "Session stopped.",
    "pain": "Session ended after a pain report. Please take care.",
    "interrupted": "Session interrupted.",
}


def run_routine(config: Config, name: str, *, text: bool, speed: float, keep_history: bool) -> int:
    """Run routine `name` to its end; console mode when `text` is set."""
    timeline = timeline_for(config, name)
    locale = load_locale(config.locale)
    history = History(default_history_path(config.history_db)) if keep_history else None
    clock = ScaledClock(speed)  # made last, so printed offsets start at zero
    speech: SpeechSink = ConsoleSpeech(clock)
    if not text:
        print("voiceguide: audio output is not available yet; using console mode", file=sys.stderr)
    session = Session(timeline, locale, volume=config.volume, rate_wpm=config.rate_wpm)
    runner = Runner(session, clock, speech, history)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        runner.post(Quit("interrupted"))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if sys.stdin.isatty():
        print("Type a command and press Enter (for example: pause, skip, it hurts, help). "
              "Ctrl-C ends the session.", file=sys.stderr)  # fmt: skip
    read_commands(runner, PhraseMatcher(locale))
    try:
        how = runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if history is not None:
            history.close()
    print(f"voiceguide: {ENDINGS.get(how, how)}", file=sys.stderr)
    return 0

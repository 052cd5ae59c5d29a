"""Console mode: spoken lines are printed with timestamps, commands are typed on stdin."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from voiceguide.app.clock import Clock
from voiceguide.app.runner import Runner
from voiceguide.core.actions import CommandHeard
from voiceguide.core.phrases import PhraseMatcher


def format_offset(seconds: float) -> str:
    """mm:ss.s, the timestamp printed before each spoken line."""
    # Round to tenths first, so 239.97 s reads 04:00.0 rather than 03:60.0.
    tenths = round(max(0.0, seconds) * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest / 10:04.1f}"


class ConsoleSpeech:
    """A SpeechSink that prints each line instead of playing it."""

    def __init__(self, clock: Clock, out: TextIO = sys.stdout) -> None:
        self.clock = clock
        self.out = out
        self._origin = clock.now()
        self._lock = threading.Lock()

    def _print(self, line: str) -> None:
        with self._lock:
            print(f"[{format_offset(self.clock.now() - self._origin)}] {line}", file=self.out)
            self.out.flush()

    def speak(self, text: str, kind: str = "prompt") -> None:
        """Print the line with its session timestamp."""
        self._print(text)

    def cancel(self) -> None:
        """Nothing keeps sounding on a console, so there is nothing to cut."""

    def set_volume(self, volume: float) -> None:
        """Show the new volume, as a speaker would make it audible."""
        self._print(f"(volume {round(volume * 100)}%)")

    def set_rate(self, rate_wpm: int) -> None:
        """Show the new speech rate."""
        self._print(f"(speech rate {rate_wpm} words per minute)")


def read_commands(
    runner: Runner, matcher: PhraseMatcher, stream: TextIO = sys.stdin, err: TextIO = sys.stderr
) -> threading.Thread:
    """Start a daemon thread that turns typed lines into commands for `runner`."""

    def loop() -> None:
        for line in stream:
            if not line.strip():
                continue
            found = matcher.match(line)
            if found is None:
                print(f"(not a command: {line.strip()!r}; type 'help' to hear the options)",
                      file=err, flush=True)  # fmt: skip
                continue
            runner.post(CommandHeard(found.command, found.phrase))
        # End of input (a finished pipe) leaves the routine playing to its end.

    thread = threading.Thread(target=loop, name="console-input", daemon=True)
    thread.start()
    return thread

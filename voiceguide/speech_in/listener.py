"""The streaming path from audio chunks to commands: engine, phrase matcher, rejection, echo
guard and debouncing, shared by live listening, `voiceguide recognize` and the benchmark.

Pain and stop act on partial results, so "it hurts" is obeyed while the person is still
finishing the sentence; every other command waits for the final result. One utterance gives
at most one command: a final result repeating what a partial already triggered is dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.locale import Locale
from voiceguide.core.phrases import PhraseMatch, PhraseMatcher
from voiceguide.speech_in.echo_guard import EchoGuard
from voiceguide.speech_in.engine import Engine, Hypothesis
from voiceguide.speech_in.rejection import Rejection

log = logging.getLogger(__name__)

# Results whose spans start within this long of a command's end belong to the same utterance.
SAME_UTTERANCE_SECONDS = 0.4


@dataclass(frozen=True)
class HeardCommand:
    """A command the listener decided to act on, with where it was in the stream."""

    command: str
    phrase: str
    text: str  # everything the engine heard in that utterance
    start_seconds: float
    end_seconds: float
    confidence: float
    heard_at_seconds: float  # stream time at which the decision was made
    from_partial: bool

    def to_json(self) -> dict[str, object]:
        """The `voiceguide recognize` form of this command."""
        return {
            "command": self.command,
            "phrase": self.phrase,
            "start": round(self.start_seconds, 2),
            "end": round(self.end_seconds, 2),
            "confidence": round(self.confidence, 2),
            "heard_at": round(self.heard_at_seconds, 2),
        }


def grammar_for(commands: Mapping[str, Sequence[str]]) -> list[str]:
    """Every phrase of a command table, once, for an engine's grammar."""
    return list(dict.fromkeys(p for phrases in commands.values() for p in phrases))


class Listener:
    """Turns engine hypotheses into at most one command per utterance."""

    def __init__(
        self,
        engine: Engine,
        locale: Locale,
        commands: Mapping[str, Sequence[str]] | None = None,
        rejection: Rejection | None = None,
        guard: EchoGuard | None = None,
        on_hypothesis: Callable[[Hypothesis], None] | None = None,
    ) -> None:
        self.engine = engine
        table = {k: tuple(v) for k, v in (commands or locale.commands).items()}
        self.matcher = PhraseMatcher(dataclasses.replace(locale, commands=table))
        self.rejection = rejection or Rejection()
        self.guard = guard
        self.on_hypothesis = on_hypothesis
        self._samples = 0
        self._last: HeardCommand | None = None
        self.rejected = 0

    @property
    def stream_seconds(self) -> float:
        """How much audio has been fed."""
        return self._samples / self.engine.sample_rate_hz

    def feed(self, pcm16_mono: bytes) -> list[HeardCommand]:
        """Feed one chunk of 16 kHz mono PCM; returns commands decided in it."""
        self._samples += len(pcm16_mono) // 2
        return self._handle(self.engine.accept(pcm16_mono))

    def flush(self) -> list[HeardCommand]:
        """End of stream: decide on whatever the engine still holds."""
        return self._handle(self.engine.flush())

    def reset(self) -> None:
        """Start a new stream."""
        self.engine.reset()
        self._samples = 0
        self._last = None

    def _handle(self, hypotheses: list[Hypothesis]) -> list[HeardCommand]:
        heard: list[HeardCommand] = []
        for hyp in hypotheses:
            if self.on_hypothesis is not None:
                self.on_hypothesis(hyp)
            command = self._decide(hyp)
            if command is not None:
                heard.append(command)
        return heard

    def _decide(self, hyp: Hypothesis) -> HeardCommand | None:
        match = self.matcher.match(hyp.text)
        if match is None:
            if hyp.is_final and hyp.text:
                log.debug("ignored %r: no command", hyp.text)
            return None
        words_ago = max(0.0, self.stream_seconds - hyp.start_seconds)
        end_ago = max(0.0, self.stream_seconds - hyp.end_seconds)
        guard = self.guard
        over_box = (lambda: guard.over_the_box(words_ago)) if guard is not None else None
        if not self.rejection.accepts(hyp, match, over_box):
            self.rejected += 1
            if hyp.is_final:  # a partial below its threshold is normal while words arrive
                log.debug("ignored %r, %s at %.2f: not sure enough",
                          hyp.text, match.command, hyp.confidence)  # fmt: skip
            return None
        # Repeats first: the guard's second look at a safety command costs real work, and
        # a partial result repeats the same words many times while they are said.
        if self._is_repeat(hyp, match):
            return None
        if self.guard is not None and self.guard.blocks(match, words_ago, end_ago):
            log.debug("ignored %r, %s: the box is saying those words",
                      hyp.text, match.command)  # fmt: skip
            return None
        heard = HeardCommand(
            match.command, match.phrase, hyp.text, hyp.start_seconds, hyp.end_seconds,
            hyp.confidence, self.stream_seconds, not hyp.is_final,
        )  # fmt: skip
        self._last = heard
        return heard

    def _is_repeat(self, hyp: Hypothesis, match: PhraseMatch) -> bool:
        """True if this result re-describes the utterance of the last command."""
        last = self._last
        if last is None or hyp.start_seconds > last.end_seconds + SAME_UTTERANCE_SECONDS:
            return False
        # A safety command overrides a different command heard in the same breath.
        return not (match.command in SAFETY_COMMANDS and last.command not in SAFETY_COMMANDS)


def run_stream(
    listener: Listener,
    pcm16_mono: bytes,
    chunk_seconds: float = 0.03,
    before_chunk: Callable[[float], None] | None = None,
) -> list[HeardCommand]:
    """Feed a whole recording in real-time-sized chunks, as fast as possible."""
    step = 2 * round(chunk_seconds * listener.engine.sample_rate_hz)
    heard: list[HeardCommand] = []
    for offset in range(0, len(pcm16_mono), step):
        if before_chunk is not None:
            before_chunk(listener.stream_seconds)
        heard += listener.feed(pcm16_mono[offset : offset + step])
    return heard + listener.flush()

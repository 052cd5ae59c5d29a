"""The neural command spotter behind the Engine protocol (speech_in.engine).

The spotter (engines/neural/) decides once per utterance which session command, if any, was
said; this adapter hands each decision to the listener as a final Hypothesis whose text is the
command's own first phrase, so the listener's matcher, echo guard and debouncing treat it like
any other engine's result. The spotter's thresholds already decided how sure is sure enough,
so the listener's rejection passes its results through (`NEURAL_THRESHOLDS`).

A near-miss (the head's scores near its thresholds but not over them) gets a second opinion:
the PocketSphinx command grammar decodes that utterance alone (engines/grammar_check.py), and
the spotter decides only if the grammar names the same command (`SECOND_OPINION`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from voiceguide.core.commands import Command
from voiceguide.core.locale import Locale
from voiceguide.errors import UserError
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.engines.neural.head import Head, load_head
from voiceguide.speech_in.engines.neural.spotter import Detection, Spotter, SpotterConfig
from voiceguide.speech_in.rejection import Thresholds

if TYPE_CHECKING:  # (pocketsphinx is imported only when a second opinion is wanted)
    from voiceguide.speech_in.engines.grammar_check import GrammarCheck

log = logging.getLogger("voiceguide.neural")

SAMPLE_RATE_HZ = 16000
# The spotter's own per-utterance thresholds (tuned on validation voices, MODEL_CARD.md) are
# the bar; a second bar on the same scores would only lose commands.
NEURAL_THRESHOLDS = Thresholds(
    final_safety=0.0, final_other=0.0, partial_safety=0.0, partial_other=None, max_extra_words=0,
    final_other_over_box=None, final_start=None,
)  # fmt: skip


@dataclass(frozen=True)
class SecondOpinion:
    """When the spotter asks the command grammar (GrammarCheck), and what it must hear."""

    threshold: float  # the head's mean score over `hops` windows that makes a near-miss
    hops: int
    bar: float  # the grammar's confidence needed for the same command
    safety_bar: float  # ...for pain and stop


# Chosen on the benchmark's train split (docs/benchmarks.md, "A second opinion").
SECOND_OPINION = SecondOpinion(threshold=0.7, hops=2, bar=0.5, safety_bar=0.3)


@cache
def committed_head() -> Head:
    """The head shipped in the package, read once: the factory asks `spots` before building."""
    return load_head()


def head_classes() -> frozenset[str]:
    """The session commands the committed head was trained on."""
    return frozenset(committed_head().classes) - {"none"}


def spots(commands: Mapping[str, Sequence[str]]) -> bool:
    """True for a session's command table (session commands only, pain among them).

    The head hears the commands it was trained on (every Command, as training/texts.py derives
    its classes from the core); a session command added to the core after the last training is
    not heard by voice with this engine until the head is trained again (the NeuralEngine logs
    which). Idle mode's table ("start <routine>") is not a session table and goes to the grammar
    engine.
    """
    session = {c.value for c in Command}
    return Command.PAIN.value in commands and set(commands) <= session


class NeuralEngine:
    """Session commands from the pretrained speech front end and the project's trained head."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        box_talking: Callable[[], bool] | None = None,
        locale: Locale | None = None,
        second_opinion: SecondOpinion | None = SECOND_OPINION,
    ) -> None:
        """`box_talking` (whether the box is speaking now) goes to the spotter's gap rule;
        with a `locale`, near-misses get `second_opinion` from the command grammar."""
        self.check: GrammarCheck | None = None
        config = SpotterConfig()
        try:
            if locale is not None and second_opinion is not None:
                from voiceguide.speech_in.engines.grammar_check import GrammarCheck

                o = second_opinion
                self.check = GrammarCheck(locale, commands, o.bar, o.safety_bar)
                config = SpotterConfig(check_threshold=o.threshold, check_hops=o.hops)
            self.spotter = Spotter(
                committed_head(), config, box_talking=box_talking, check=self.check
            )
        except (ImportError, OSError, ValueError) as exc:
            raise UserError(
                f"the neural speech engine could not load ({exc}); reinstall voiceguide, "
                "or use --engine pocketsphinx",
                2,
            ) from None
        unknown = sorted(set(commands) - head_classes())
        if unknown:
            log.info(
                "the neural head was not trained on: %s (not heard by voice)", ", ".join(unknown)
            )
        # The text each command is reported as: its first phrase, which the matcher maps back.
        self._text = {command: phrases[0] for command, phrases in commands.items() if phrases}

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        """Feed a chunk; get the commands decided in it."""
        return self._hypotheses(self.spotter.accept(pcm16_mono))

    def flush(self) -> list[Hypothesis]:
        """End of stream: decide on what the spotter still holds."""
        return self._hypotheses(self.spotter.flush())

    def reset(self) -> None:
        """Forget the stream so far; times count from zero again."""
        self.spotter.reset()
        if self.check is not None:
            self.check.reset()

    def _hypotheses(self, detections: list[Detection]) -> list[Hypothesis]:
        return [
            Hypothesis(self._text[d.command], True, d.start_seconds, d.end_seconds, d.score)
            for d in detections
            if d.command in self._text
        ]

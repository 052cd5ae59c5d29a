"""Rejection: decide whether a recognised command phrase is sure enough to act on.

The engine's grammar already sends most non-command speech to its garbage path; these rules
catch the rest. Thresholds differ by kind of command: missing "it hurts" is worse than a
stray pain report (which only ends the session early), so safety commands get a lower bar.
Defaults were tuned on the benchmark's train speakers (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.idle import is_start
from voiceguide.core.phrases import PhraseMatch, normalize
from voiceguide.speech_in.engine import Hypothesis

# Words people wrap around a command; they neither help nor hurt a match.
CARRIER_WORDS = frozenset({"please", "okay", "ok", "oh", "now", "hey", "um", "uh", "[unk]"})


@dataclass(frozen=True)
class Thresholds:
    """Minimum confidence to act, by kind of command and result."""

    final_safety: float = 0.3
    final_other: float = 0.95
    # The same for words said while the box talked, with our echo canceller converged and
    # working (EchoGuard.over_the_box): what it leaves of the box's voice lowers the engine's
    # confidence in a true command, and the guard in front answers for the box's own words.
    # None: as final_other. Chosen on the train split (bench.echo_suppress; docs/benchmarks.md).
    final_other_over_box: float | None = 0.8
    partial_safety: float | None = 0.8  # pain and stop may act on a partial this sure
    partial_other: float | None = None  # other commands wait for the final result
    # Idle mode's "start <routine name>": PocketSphinx scores a whole routine name decoded
    # word for word lower than a one-word command (more words, more doubt), and a false start
    # costs less than a false command in a session (the person hears the routine announced
    # and says "stop"). None: as final_other. Chosen on the train split (bench.idle_start).
    final_start: float | None = 0.5
    # Non-safety commands buried in longer talk ("I'll wait for the bus") are not commands.
    max_extra_words: int = 1


DEFAULT_THRESHOLDS = Thresholds()


def extra_words(hypothesis_text: str, match: PhraseMatch) -> int:
    """How many words the hypothesis has besides the phrase and carrier words."""
    words = normalize(hypothesis_text)
    outside = words[: match.start_word] + words[match.end_word :]
    return sum(1 for w in outside if w not in CARRIER_WORDS)


class Rejection:
    """Accepts or rejects a (hypothesis, matched phrase) pair."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        # (DEFAULT_THRESHOLDS is read here, not bound at definition: the train-split sweeps
        # set it in their worker processes.)
        self.thresholds = thresholds or DEFAULT_THRESHOLDS

    def accepts(
        self,
        hypothesis: Hypothesis,
        match: PhraseMatch,
        over_box: Callable[[], bool] | None = None,
    ) -> bool:
        """True if the command should be acted on (`over_box`: were its words said while the
        box talked, with the echo stage working? Asked only when the answer decides)."""
        t = self.thresholds
        safety = match.command in SAFETY_COMMANDS
        if hypothesis.is_final:
            other = t.final_other
            lower = t.final_other_over_box
            if is_start(match.command) and t.final_start is not None:
                other = t.final_start
            # The question walks the echo stage's recent blocks: not asked for every partial
            # and safety result, only for a final that clears the lower bar and not the usual.
            elif (
                not safety
                and lower is not None
                and lower <= hypothesis.confidence < other
                and over_box is not None
                and over_box()
            ):
                other = lower
            needed: float | None = t.final_safety if safety else other
        else:
            needed = t.partial_safety if safety else t.partial_other
        if needed is None or hypothesis.confidence < needed:
            return False
        return safety or extra_words(hypothesis.text, match) <= t.max_extra_words

"""A second opinion for the neural spotter: the command grammar decodes one utterance.

The spotter's head decides alone when it is sure. When its scores come near its thresholds
without reaching them, it asks this check about the utterance it has cut out: the
PocketSphinx command grammar decodes that audio as one utterance, and the spotter decides
only if the grammar names the same command, sure enough. The two models were trained on
different data (real speech for PocketSphinx's acoustic model, the project's synthetic speech
for the head) and miss different voices, so a near-miss both agree on is rarely talk.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np

from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.locale import Locale
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine
from voiceguide.speech_in.listener import grammar_for


class GrammarCheck:
    """Does the command grammar hear `command` in this audio? (the spotter's AudioCheck)."""

    def __init__(
        self,
        locale: Locale,
        commands: Mapping[str, Sequence[str]],
        bar: float,
        safety_bar: float,
    ) -> None:
        """`bar` and `safety_bar`: the grammar's confidence needed, other and safety commands."""
        self._engine = PocketsphinxEngine(grammar_for(commands))
        self._matcher = PhraseMatcher(locale)
        self.bar = bar
        self.safety_bar = safety_bar
        self.asked = 0  # how often the spotter asked, and the CPU it cost (the benchmark's)
        self.cpu_seconds = 0.0

    def reset(self) -> None:
        """A new stream: what the decoder learnt of the last one's microphone is forgotten."""
        self._engine.reset()

    def hears(self, pcm16: np.ndarray) -> tuple[str | None, float]:
        """(command the grammar names in this audio or None, its confidence)."""
        self.asked += 1
        started = time.process_time()
        hypothesis = self._engine.decode_segment(np.asarray(pcm16, np.int16).tobytes())
        self.cpu_seconds += time.process_time() - started
        if hypothesis is None:
            return None, 0.0
        match = self._matcher.match(hypothesis.text)
        return (match.command if match else None), hypothesis.confidence

    def __call__(self, command: str, pcm16: np.ndarray) -> bool:
        """True if the grammar names `command` in this audio with at least its bar."""
        return agrees(command, *self.hears(pcm16), self.bar, self.safety_bar)


def agrees(
    command: str, heard: str | None, confidence: float, bar: float, safety_bar: float
) -> bool:
    """Whether what the grammar heard confirms `command` (safety commands have their own bar)."""
    return heard == command and confidence >= (safety_bar if command in SAFETY_COMMANDS else bar)

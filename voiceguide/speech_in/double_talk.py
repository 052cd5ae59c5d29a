"""Was anyone but the box talking? A second look at the audio under words heard while the box
talked, for when the live echo canceller cannot be trusted to have removed its voice.

Before the canceller has converged (the first seconds the box talks after the listener
starts), the box's own voice gets through nearly whole, and the recogniser now and then takes
it for "ouch" or "that really hurts": all 3 false commands from its own speech in the benchmark
at aeefea4 came in a stream's first 3.4 s. This look answers the question that matters: over
the words' span, was the microphone the box's echo alone?

It runs a fresh canceller of the same kind twice over the last few seconds of microphone and
reference: the first pass lets the filter converge on the room, the second measures how much
of the span it can then remove. The box alone is removed by 20 dB or more; a person talking
over it at its own level leaves most of their voice behind (bench/second_look.py). It costs
about 0.06 s of CPU on the benchmark machine, and runs only for the commands the echo guard
asks about (speech_in.echo_guard).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceguide.speech_in.echo_cancel import EchoCanceller


def removed_db_when_converged(
    mic: np.ndarray,
    reference: np.ndarray,
    span: tuple[int, int],
    make_canceller: Callable[[], EchoCanceller],
) -> float:
    """How many dB a canceller that has already heard this stretch once removes from
    `mic[span]`; `reference` is lined up with `mic` (int16 arrays of the same length)."""
    canceller = make_canceller()
    try:
        frame = canceller.frame
        whole = len(mic) // frame * frame
        mic, reference = mic[:whole], reference[:whole]
        canceller.process(mic, reference)  # converge on the room
        out = canceller.process(mic, reference)
    finally:
        canceller.close()
    start, end = max(0, span[0]), min(whole, span[1])
    if end <= start:
        return 0.0
    before = float(np.sum(np.square(mic[start:end].astype(np.float64))))
    after = float(np.sum(np.square(out[start:end].astype(np.float64))))
    if before <= 0:
        return 0.0
    return float(10 * np.log10(before / max(after, 1.0)))

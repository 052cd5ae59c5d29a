"""A whole recording through the live listening path, as fast as the CPU allows.

`voiceguide recognize` and the benchmark both call `listen_to_recording`: the same chunk size
as the microphone thread, the same echo stage (when the played reference is known) and the
same listener the factory builds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceguide.audio.pcm import PCM16
from voiceguide.speech_in.echo_path import EchoStats, offline_echo_path
from voiceguide.speech_in.listener import HeardCommand, Listener

CHUNK_SECONDS = 0.03  # the microphone thread's block (speech_in.mic.BLOCK_SECONDS)


def listen_to_recording(
    listener: Listener,
    mic_pcm16: bytes,
    reference_pcm16: bytes | None = None,
    chunk_seconds: float = CHUNK_SECONDS,
    before_chunk: Callable[[float], None] | None = None,
) -> tuple[list[HeardCommand], EchoStats | None]:
    """Commands heard in `mic_pcm16`; with `reference_pcm16` (what the speaker played, sample
    for sample on the same clock) the echo stage removes the box's own voice first."""
    mic = np.frombuffer(mic_pcm16, PCM16)
    rate = listener.engine.sample_rate_hz
    step = round(chunk_seconds * rate)
    echo = feeder = None
    if reference_pcm16 is not None:
        echo, feeder = offline_echo_path(np.frombuffer(reference_pcm16, PCM16))
        if listener.guard is not None:  # as live: no non-safety command until it has lined up
            listener.guard.echo = echo
    heard: list[HeardCommand] = []
    try:
        for offset in range(0, len(mic), step):
            block = mic[offset : offset + step]
            if before_chunk is not None:
                before_chunk(listener.stream_seconds)
            if echo is not None and feeder is not None:
                t = offset / rate
                feeder.until(t + chunk_seconds)
                block = echo.process(block, t)
            heard += listener.feed(block.tobytes())
        heard += listener.flush()
    finally:
        if echo is not None:
            echo.close()
            if listener.guard is not None:
                listener.guard.echo = None
    return heard, (echo.stats if echo is not None else None)

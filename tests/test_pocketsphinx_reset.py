"""A new stream is heard the same whatever an earlier stream held (the decoders' feature
extraction starts afresh each time), while one stream's utterances keep adapting."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voiceguide.content.locales import load_locale
from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine
from voiceguide.speech_in.listener import grammar_for

FIXTURES = Path(__file__).parent / "fixtures" / "neural"


def _read(name: str) -> bytes:
    with wave.open(str(FIXTURES / name)) as w:
        return w.readframes(w.getnframes())


def _hear(engine: PocketsphinxEngine, pcm: bytes) -> list[tuple[str, float, float]]:
    engine.reset()
    out = []
    for k in range(0, len(pcm), 960):
        out += engine.accept(pcm[k : k + 960])
    out += engine.flush()
    return [(h.text, round(h.start_seconds, 3), round(h.confidence, 6)) for h in out if h.is_final]


def test_a_new_stream_does_not_depend_on_the_last_one() -> None:
    engine = PocketsphinxEngine(grammar_for(load_locale("en").commands))
    command = _read("pain__it_hurts__kal.wav") + _read("louder__louder__kal.wav")
    first = _hear(engine, command)
    assert first  # (the fixture is heard at all)
    loud = (np.random.default_rng(3).standard_normal(16000 * 4) * 6000).astype(np.int16)
    _hear(engine, _read("none__talk__joe.wav") + loud.tobytes())  # another room, other talk
    assert _hear(engine, command) == first
    # A cut-out segment keeps what the stream learnt: the second opinion's decodes adapt.
    engine.reset()
    before = engine._grammar.get_cmn(False)
    engine.decode_segment(command)
    assert engine._grammar.get_cmn(False) != before

"""The neural engine as the product builds it: through speech_in.factory, on WAV fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceguide.content.catalog import load_good_routines
from voiceguide.content.loader import default_routines_dir
from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode
from voiceguide.errors import UserError
from voiceguide.speech_in.engines.neural_engine import NeuralEngine
from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.recording import listen_to_recording
from voiceguide.speech_in.settings import ListenSettings
from voiceguide.speech_out.synth import read_wav

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neural"
NEURAL = ListenSettings(engine="neural")
EN = load_locale("en")


def test_session_commands_are_heard_by_the_neural_engine_through_the_factory() -> None:
    listener = open_listener(NEURAL, EN, EN.commands)
    assert isinstance(listener.engine, NeuralEngine)
    assert listener.engine.check is not None  # the grammar's second opinion on near-misses
    wavs = sorted(FIXTURES.glob("*.wav"))
    named = [w for w in wavs if not w.stem.startswith(("none", "talk", "room"))]
    assert named, "the neural fixtures are missing"
    for wav in named:
        expected = wav.stem.split("__")[0]
        listener.reset()
        heard, _ = listen_to_recording(listener, read_wav(wav).samples.tobytes())
        assert [h.command for h in heard] == [expected], wav.name


def test_idle_mode_goes_to_the_grammar_engine_so_new_routines_need_no_training() -> None:
    routines = load_good_routines(default_routines_dir())
    table = IdleMode(routines, EN).command_table()
    listener = open_listener(NEURAL, EN, table)
    assert isinstance(listener.engine, PocketsphinxEngine)


def test_the_neural_engine_is_english_only() -> None:
    with pytest.raises(UserError, match="only knows English"):
        open_listener(NEURAL, load_locale("ko"), load_locale("ko").commands)


def test_silence_gives_nothing() -> None:
    listener = open_listener(NEURAL, EN, EN.commands)
    quiet = (np.random.default_rng(0).standard_normal(16000 * 3) * 30).astype(np.int16)
    heard, _ = listen_to_recording(listener, quiet.tobytes())
    assert heard == []


def test_the_committed_head_knows_every_session_command() -> None:
    from voiceguide.core.commands import Command
    from voiceguide.speech_in.engines.neural_engine import head_classes

    assert head_classes() == {c.value for c in Command}


def test_the_spotter_is_told_when_the_box_talks() -> None:
    """The echo guard's `playing_text` also lifts the spotter's gap rule while the box talks."""
    saying: list[str | None] = [None]
    listener = open_listener(NEURAL, EN, EN.commands, playing_text=lambda: saying[0])
    assert isinstance(listener.engine, NeuralEngine)
    box_talking = listener.engine.spotter.box_talking
    assert box_talking is not None and not box_talking()
    saying[0] = "Breathe out slowly."
    assert box_talking()
    assert open_listener(NEURAL, EN, EN.commands).engine.spotter.box_talking is None  # type: ignore[attr-defined]

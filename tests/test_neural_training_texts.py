"""What the head is trained on follows the locale and the core's command table."""

import numpy as np
import pytest

pytest.importorskip("pyroomacoustics")  # training/ imports need the [train] extra's modules

from training.data import Config, speakers
from training.texts import CLASSES, command_phrases, negative_texts, typed_only
from voiceguide.content.locales import load_locale
from voiceguide.core.commands import Command
from voiceguide.speech_in.factory import spoken_commands


def test_classes_are_none_and_every_session_command():
    assert CLASSES == ("none", *(c.value for c in Command))


def test_every_spoken_locale_phrase_is_a_positive_and_no_typed_only_one_is():
    en = load_locale("en")
    phrases = command_phrases()
    trained = {(c, p.lower()) for c, p in phrases}
    for command, spoken in spoken_commands(en, en.commands).items():
        for phrase in spoken:
            assert (command, phrase.lower()) in trained
    assert typed_only() == {"ow", "hurt", "in pain"}
    assert not {p.lower() for _, p in phrases} & typed_only()
    assert "quit" not in {p.lower() for _, p in phrases}
    assert {c for c, _ in phrases} == set(CLASSES[1:])


def test_no_negative_ends_like_a_command():
    for texts in negative_texts(50).values():
        for text in texts:
            words = text.lower().rstrip(".!?").split()
            assert words[-1] not in {"stop", "hurts", "ouch", "ow", "side", "quit", "next"}


def test_validation_is_held_out_by_base_voice():
    voices, val = speakers(Config(n_espeak=16, small_pool=True), np.random.default_rng(1))
    virtual = [v for v in voices if v.base != v]
    assert len(virtual) == 2 * len([v for v in voices if v.base == v])
    assert len({v.name for v in voices}) == len(voices)
    for v in virtual:
        assert (v.name in val) == (v.base.name in val)
    assert val and any(v.name not in val for v in virtual)

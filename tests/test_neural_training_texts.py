"""What the head is trained on follows the locale and the core's command table."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("pyroomacoustics")  # training/ imports need the [train] extra's modules

from training.data import RECIPES, Config, phrases_for, speakers
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


def test_every_speaker_says_every_single_word_phrase():
    cfg = dataclasses.replace(RECIPES["more-voices"], n_espeak=6, small_pool=True)
    voices, _ = speakers(cfg, np.random.default_rng(1))
    phrases = command_phrases()
    single = {p for p in phrases if len(p[1].split()) == 1}
    rng = np.random.default_rng(2)
    for v in voices:
        said = phrases_for(cfg, v, phrases, rng)
        assert single <= set(said)
        if v.program == "espeak-ng" and v.base == v:
            assert len(said) == cfg.espeak_phrases
        elif v.base != v:
            assert len(said) == max(cfg.virtual_phrases, len(single))
        else:  # the few natural voices say everything
            assert len(said) == len(phrases)


def test_the_default_recipe_is_the_committed_heads():
    # Every base voice says every phrase and virtual speakers 25 random ones, as when the
    # committed head was built: `training.build --seed 1` must rebuild that head's data.
    cfg = RECIPES["default"]
    assert (cfg.n_espeak, cfg.espeak_phrases, cfg.phrases_per_voice) == (60, 0, 0)
    assert (cfg.virtual_phrases, cfg.all_single_words, cfg.short_talk_speakers) == (25, False, 2)

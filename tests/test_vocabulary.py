"""Every phrase the box listens for must be in the recogniser's pronunciation dictionary."""

from __future__ import annotations

import pytest

from voiceguide.content.loader import default_routines_dir, load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode
from voiceguide.errors import UserError
from voiceguide.speech_in.engines.pocketsphinx import (
    PocketsphinxEngine,
    grammar_words,
    missing_words,
    missing_words_message,
)
from voiceguide.speech_in.listener import grammar_for


def test_every_english_command_phrase_is_in_the_dictionary() -> None:
    locale = load_locale("en")
    assert missing_words(grammar_for(locale.commands)) == {}


def test_every_idle_phrase_of_the_bundled_routines_is_in_the_dictionary() -> None:
    routines, problems = load_routines(default_routines_dir())
    assert routines and not problems
    table = IdleMode(routines, load_locale("en")).command_table()
    assert missing_words(grammar_for(table)) == {}


def test_phrases_are_split_into_dictionary_words() -> None:
    assert grammar_words("What's next?") == ["what's", "next"]
    assert grammar_words("Wake-up stretch") == ["wake", "up", "stretch"]


def test_missing_words_are_named_with_a_phrase_that_uses_them() -> None:
    missing = missing_words(["start the zorblax flow", "pause", "zorblax now"])
    assert missing == {"zorblax": ["start the zorblax flow", "zorblax now"]}
    message = missing_words_message(missing)
    assert "'zorblax' (in 'start the zorblax flow')" in message
    assert "\n" not in message


def test_the_engine_refuses_unknown_words_in_one_line() -> None:
    with pytest.raises(UserError) as err:
        PocketsphinxEngine(["pause", "start qwertyuiop stretch"])
    assert err.value.exit_code == 2
    assert "qwertyuiop" in str(err.value)


def test_the_engine_can_leave_out_phrases_with_unknown_words() -> None:
    engine = PocketsphinxEngine(["pause", "start qwertyuiop stretch"], on_missing="skip")
    assert engine.grammar_phrases == ("pause",)

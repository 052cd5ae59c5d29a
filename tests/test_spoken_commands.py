"""Typed-only phrases: obeyed when typed, never handed to a speech engine."""

from __future__ import annotations

from voiceguide.content.locales import load_locale
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.speech_in.factory import spoken_commands

LOCALE = load_locale("en")


def test_short_pain_phrases_are_typed_only() -> None:
    spoken = spoken_commands(LOCALE, LOCALE.commands)
    for phrase in ("ow", "hurt", "in pain"):
        assert phrase in LOCALE.commands["pain"]
        assert phrase not in spoken["pain"]
        assert PhraseMatcher(LOCALE).match(phrase) is not None  # typed, it is still pain
    # The longer natural forms stay in what the engine listens for.
    assert {"hurts", "my back hurts", "i'm in pain", "it hurts"} <= set(spoken["pain"])
    assert spoken["stop"] == LOCALE.commands["stop"]


def test_every_typed_only_phrase_is_a_command_phrase_in_every_locale() -> None:
    for language in ("en", "ko"):
        locale = load_locale(language)
        phrases = {p for v in locale.commands.values() for p in v}
        assert locale.typed_only <= phrases

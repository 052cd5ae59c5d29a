"""The matcher hears pain in every natural form, and not its negation."""

from __future__ import annotations

import pytest

from voiceguide.content.locales import load_locale
from voiceguide.core.phrases import PhraseMatcher

EN = PhraseMatcher(load_locale("en"))
KO = PhraseMatcher(load_locale("ko"))


def command(matcher: PhraseMatcher, text: str) -> str | None:
    found = matcher.match(text)
    return found.command if found else None


@pytest.mark.parametrize(
    "text",
    ["my back hurts", "that really hurts", "hurts", "I'm in pain", "ow", "ouch", "It hurts!",
     "No, it hurts", "ow, that's painful", "it's hurting", "really painful", "Ouch. Stop."],
)  # fmt: skip
def test_pain_in_natural_english(text: str) -> None:
    assert command(EN, text) == "pain"


@pytest.mark.parametrize(
    "text",
    ["painting", "no pain now", "it doesn't hurt", "not hurting anymore", "I'm not in pain",
     "it does not really hurt", "that isn't painful", "it stopped hurting"],
)  # fmt: skip
def test_negated_or_unrelated_english_is_not_pain(text: str) -> None:
    assert command(EN, text) is None


@pytest.mark.parametrize("text", ["아파요", "아파", "허리 아파", "아파 요", "너무 아파요"])
def test_pain_in_korean(text: str) -> None:
    assert command(KO, text) == "pain"


@pytest.mark.parametrize("text", ["안 아파요", "이제 안 아파", "아파트"])
def test_negated_or_unrelated_korean_is_not_pain(text: str) -> None:
    assert command(KO, text) is None


def test_pain_still_wins_over_another_command_in_the_same_breath() -> None:
    assert command(EN, "slower, my back hurts") == "pain"


def test_the_lint_matches_strictly_so_the_box_never_says_a_pain_word() -> None:
    assert [m.command for m in EN.find_all("it doesn't hurt", negation=False)] == ["pain"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("easier", "easier"), ("make it easier", "easier"), ("other side", "other_side"),
     ("switch sides", "other_side"), ("next side", "other_side"), ("next", "skip"),
     ("more detail", "more_detail"), ("less talking", "less_talk"),
     ("leave it out", "leave_out"), ("keep it in", "keep_it"), ("keep it light", None),
     ("더 쉽게", None), ("반대쪽", None)],
)  # fmt: skip
def test_gentler_choices_and_verbosity_by_voice(text: str, expected: str | None) -> None:
    assert command(EN, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("더 쉽게", "easier"), ("반대쪽", "other_side"), ("빼 주세요", "leave_out"),
     ("그냥 할게요", "keep_it"), ("자세히", "more_detail"), ("짧게", "less_talk")],
)  # fmt: skip
def test_korean_new_commands(text: str, expected: str) -> None:
    assert command(KO, text) == expected


@pytest.mark.parametrize("language", ["en", "ko"])
def test_help_names_the_real_stop_word_mid_prompt_and_the_guard_mutes_only_that(
    language: str,
) -> None:
    from voiceguide.core.commands import STOP_NAMING_PROMPTS
    from voiceguide.core.phrases import normalize
    from voiceguide.speech_in.echo_guard import EchoGuard

    locale = load_locale(language)
    matcher = PhraseMatcher(locale)
    help_text = locale.prompt("help")
    assert STOP_NAMING_PROMPTS == {"help"}
    stops = [m for m in matcher.find_all(help_text, negation=False) if m.command == "stop"]
    assert stops, "help must tell the user how to stop"
    assert len(normalize(help_text)) - stops[-1].end_word >= 5  # a sentence follows it
    assert not [m for m in matcher.find_all(help_text, negation=False) if m.command == "pain"]
    guard = EchoGuard(lambda: help_text)
    assert guard.blocks(stops[0])
    pain = matcher.match(locale.commands["pain"][0])
    assert pain is not None and not guard.blocks(pain)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("아야", "pain"), ("아야 아야", "pain"), ("공부 해 아야 돼", None), ("[unk] 아야", None)],
)
def test_korean_ouch_counts_only_said_on_its_own(text: str, expected: str | None) -> None:
    """Vosk writes the ending -아야 ("must") as 아야 too; inside longer talk it is not pain."""
    found = PhraseMatcher(load_locale("ko")).match(text)
    assert (found.command if found else None) == expected


def test_the_lint_still_finds_korean_ouch_anywhere_in_what_the_box_says() -> None:
    found = PhraseMatcher(load_locale("ko")).find_all("이제 아야 하고 쉬세요", negation=False)
    assert [m.command for m in found] == ["pain"]

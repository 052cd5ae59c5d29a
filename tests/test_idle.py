"""Idle mode: starting routines by any of their spoken names."""

import dataclasses
from pathlib import Path

import pytest

from voiceguide.content.loader import load_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import Speak
from voiceguide.core.idle import IdleMode, StartRoutine

ROOT = Path(__file__).resolve().parents[1]
ROUTINES, _ = load_routines(ROOT / "voiceguide" / "data" / "routines")
IDLE = IdleMode(ROUTINES, load_locale("en"))


@pytest.mark.parametrize(
    ("heard", "routine_id"),
    [
        ("start morning stretch", "morning-mobility"),
        ("start the morning stretch", "morning-mobility"),
        ("okay begin gentle back please", "gentle-back"),
        ("start quick reset", "quick-reset"),
        ("Start yoga!", "yoga-flow"),
        ("start evening wind down", "evening-wind-down"),
    ],
)
def test_start_by_alias_title_or_id(heard: str, routine_id: str) -> None:
    speak, start = IDLE.handle_text(heard)
    assert isinstance(start, StartRoutine) and start.routine.id == routine_id
    assert speak == Speak(f"Starting {start.routine.title}.", "prompt")


def test_every_alias_of_every_routine_starts_it() -> None:
    for routine in ROUTINES:
        for alias in routine.aliases:
            actions = IDLE.handle_text(f"start {alias}")
            assert actions[-1] == StartRoutine(routine), alias


def test_list_routines_reads_the_titles() -> None:
    (speak,) = IDLE.handle_text("list routines")
    assert speak.text.startswith("I know these routines: ")
    assert all(r.title in speak.text for r in ROUTINES)


def test_unknown_routine_and_chatter() -> None:
    assert IDLE.handle_text("start the car") == [
        Speak("Sorry, I don't know that routine.", "prompt")
    ]
    assert IDLE.handle_text("the weather is nice today") == []
    (help_text,) = IDLE.handle_text("what can I say")
    assert "list routines" in help_text.text


def test_grammar_covers_every_alias() -> None:
    grammar = IDLE.grammar_phrases()
    assert "start morning stretch" in grammar and "list routines" in grammar


def test_a_locale_can_put_the_routine_name_before_the_start_word() -> None:
    """Korean says "<name> 시작": a "{name}" slot in the start phrase places the name."""
    en = load_locale("en")
    locale = dataclasses.replace(
        en, idle_commands={**en.idle_commands, "start": ("{name} 시작", "시작 {name}")}
    )
    idle = IdleMode(ROUTINES, locale)
    quick = next(r for r in ROUTINES if r.id == "quick-reset")
    for heard in ("quick reset 시작", "시작 quick reset"):
        assert idle.handle_text(heard)[-1] == StartRoutine(quick)
    assert "Quick reset 시작" in idle.command_table()["start:quick-reset"]
    assert idle.handle_text("자동차 시작") == [Speak("Sorry, I don't know that routine.", "prompt")]
    assert idle.command_table()["start:quick-reset"][0].endswith(" 시작")

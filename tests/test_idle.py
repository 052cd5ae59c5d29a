"""Idle mode: starting routines by any of their spoken names."""

from pathlib import Path

import pytest

from voiceguide.actions import Speak
from voiceguide.idle import IdleMode, StartRoutine
from voiceguide.locale import load_locale
from voiceguide.routine_loader import load_routines

ROOT = Path(__file__).resolve().parents[1]
ROUTINES, _ = load_routines(ROOT / "routines")
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

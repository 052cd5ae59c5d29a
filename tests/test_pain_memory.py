"""Pain memory and coaching from the history, and the config keys that steer them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.factories import two_step_routine
from voiceguide.app import config as config_module
from voiceguide.app.config import Config, load_config
from voiceguide.app.plans import coaching_for
from voiceguide.content.locales import load_locale
from voiceguide.core.coaching import PainNote, Verbosity, pain_notice, progression_for
from voiceguide.errors import UserError
from voiceguide.store.history import History
from voiceguide.store.pain_memory import recent_pain_notes

NOW = datetime(2025, 3, 12, 18, 0).astimezone()


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC; no user or system config leaks in."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    for name in ("VOICEGUIDE_CONFIG", "VOICEGUIDE_HISTORY", "VOICEGUIDE_ROUTINES"):
        monkeypatch.delenv(name, raising=False)
    yield
    monkeypatch.undo()
    time.tzset()


def history_with_pain(path: Path) -> History:
    history = History(path)
    old = history.start_session("r", "R", started_at=NOW - timedelta(days=20))
    history.log_pain(old, "Pelvic tilt", 1, None, 3.0, at=NOW - timedelta(days=20))
    history.end_session(old, "pain", ended_at=NOW - timedelta(days=20))
    sid = history.start_session("r", "R", started_at=NOW - timedelta(days=3))
    history.log_pain(sid, "Knee to chest", 0, "left", 4.0, at=NOW - timedelta(days=3))
    history.log_pain(sid, "(closing words)", None, None, None, at=NOW - timedelta(days=3))
    history.end_session(sid, "pain", ended_at=NOW - timedelta(days=3))
    last = history.start_session("r", "R", started_at=NOW - timedelta(hours=30))
    history.log_pain(last, "Knee to chest", 0, "left", 9.0, at=NOW - timedelta(hours=30))
    history.log_pain(last, "Cat-cow", 2, None, 9.0, at=NOW - timedelta(hours=30))
    history.end_session(last, "completed", ended_at=NOW - timedelta(hours=29))
    return history


def test_notes_cover_the_routines_exercises_within_the_window(tmp_path: Path) -> None:
    with history_with_pain(tmp_path / "h.db") as history:
        notes = recent_pain_notes(history, ["Knee to chest", "Pelvic tilt"], 14, NOW)
        assert notes == (PainNote("Knee to chest", "left", 1),)  # the latest report's age
        # Pelvic tilt's report is 20 days old: inside a 30-day window, not a 14-day one.
        assert PainNote("Pelvic tilt", None, 20) in recent_pain_notes(
            history, ["Knee to chest", "Pelvic tilt"], 30, NOW
        )
        # Every exercise (as `history` shows them), never the introduction or closing words.
        assert recent_pain_notes(history, None, 14, NOW) == (
            PainNote("Cat-cow", None, 1),
            PainNote("Knee to chest", "left", 1),
        )
        assert recent_pain_notes(history, ["Knee to chest"], 0, NOW) == ()  # 0 turns it off


def test_coaching_from_the_history(tmp_path: Path) -> None:
    routine = two_step_routine()
    with history_with_pain(tmp_path / "h.db") as history:
        coaching = coaching_for(Config(verbosity="brief"), routine, history, NOW)
        assert coaching.verbosity is Verbosity.BRIEF
        assert coaching.pain_notes == (PainNote("Knee to chest", "left", 1),)
        assert coaching.sessions_this_week == 2  # Monday night's, and this one
        assert coaching.progression == progression_for(1, 20.0)
        off = coaching_for(Config(pain_memory_days=0, progression=False), routine, history, NOW)
        assert off.pain_notes == () and off.progression.scale == 1.0
    first = coaching_for(Config(), routine, None, NOW)
    assert first.progression == progression_for(0, None) and first.pain_notes == ()


def test_the_notice_names_the_exercise_and_side() -> None:
    text = pain_notice(load_locale("en"), PainNote("Knee to chest", "left", 1))
    assert "Knee to chest" in text or "knee to chest" in text
    assert "left" in text and text.endswith(".")


# ---- config ---------------------------------------------------------------------------------
@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_PATH", tmp_path / "etc" / "config.yaml")
    return tmp_path


def test_the_coaching_keys_default_and_load(isolated: Path) -> None:
    assert (Config().verbosity, Config().pain_memory_days, Config().progression) == (
        "guided", 14, True,
    )  # fmt: skip
    path = isolated / "c.yaml"
    path.write_text("verbosity: counts\npain_memory_days: 0\nprogression: false\n")
    config = load_config(path)
    assert (config.verbosity, config.pain_memory_days, config.progression) == ("counts", 0, False)
    assert load_config(overrides={"verbosity": "brief"}).verbosity == "brief"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("verbosity: chatty\n", "verbosity must be one of guided, brief, counts, not 'chatty'"),
        ("pain_memory_days: -1\n", "pain_memory_days must be a whole number of days from 0"),
        ("pain_memory_days: 2.5\n", "pain_memory_days must be a whole number of days"),
        ("pain_memory_days: 1000\n", "pain_memory_days must be a whole number of days"),
        ("progression: maybe\n", "progression must be true or false, not 'maybe'"),
        ("progression: no\n", "progression must be true or false, not 'no'"),
    ],
)
def test_bad_coaching_values_name_file_line_and_column(
    isolated: Path, text: str, message: str
) -> None:
    path = isolated / "c.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_config(path)
    column = text.index(":") + 3
    assert str(caught.value).startswith(f"{path}:1:{column}: {message}")


def test_a_bad_verbosity_flag_is_one_line(isolated: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_config(overrides={"verbosity": "loud"})
    assert str(caught.value) == "--verbosity must be one of guided, brief, counts, not 'loud'"
    assert caught.value.exit_code == 2


# ---- phrases are prepared with the coaching ---------------------------------------------------
class PreparingSpeaker:
    """Stands in for AudioSpeechOut.prepare: keeps the texts it is asked to render."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def prepare(self, texts: list[str]) -> None:
        self.texts = texts


def test_prepare_phrases_renders_the_coached_session_first(tmp_path: Path) -> None:
    from voiceguide.app.wiring import prepare_phrases
    from voiceguide.core.session import Session
    from voiceguide.core.timeline import plan_session

    locale = load_locale("en")
    routine = two_step_routine()
    with history_with_pain(tmp_path / "h.db") as history:
        coaching = coaching_for(Config(verbosity="brief"), routine, history, NOW)
    speaker = PreparingSpeaker()
    prepare_phrases(speaker, [routine], locale, 160, coaching=coaching)  # type: ignore[arg-type]
    prepared = set(speaker.texts)
    # Everything the coached session plans to say is ready: the pain question, the start-slowly
    # note, the closing line with this week's count; and every other verbosity level too.
    for verbosity in Verbosity:
        timeline = plan_session(routine, locale, 160, replace(coaching, verbosity=verbosity))
        missing = timeline.texts() - prepared
        assert not missing, (verbosity, sorted(missing)[:3])
    session = Session(plan_session(routine, locale, 160, coaching), locale, coaching=coaching)
    said = {a.text for a in session.start(0.0) if hasattr(a, "text")}
    assert said <= prepared
    assert any("Knee to chest" in text and "left" in text for text in prepared)


# ---- plan: the notice, the verbosity flag ------------------------------------------------------
def plan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICEGUIDE_HISTORY": str(tmp_path / "h.db"),
           "VOICEGUIDE_CONFIG": str(tmp_path / "config.yaml"), "TZ": "UTC"}  # fmt: skip
    (tmp_path / "config.yaml").touch()
    return subprocess.run([sys.executable, "-m", "voiceguide", "plan", "gentle-back", *args],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip


def test_plan_prints_the_pain_notice_and_takes_the_verbosity_flag(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        sid = history.start_session("gentle-back", "Gentle lower back")
        history.log_pain(sid, "Knee to chest", 1, "left", 6.0)
        history.end_session(sid, "pain")
    guided = plan(tmp_path)
    assert guided.returncode == 0, guided.stderr
    lines = guided.stdout.splitlines()
    assert lines[0] == "Last time, Knee to chest was uncomfortable on your left side."
    assert "guided level, starting slowly" in lines[1]
    assert any("We can leave it out today" in line for line in lines)
    counts = plan(tmp_path, "--verbosity", "counts")
    assert counts.returncode == 0 and "counts level" in counts.stdout
    assert len(counts.stdout.splitlines()) < len(lines)  # a counts session says less
    bad = plan(tmp_path, "--verbosity", "loud")
    assert bad.returncode == 2
    assert (
        bad.stderr == "voiceguide: --verbosity must be one of guided, brief, counts, not 'loud'\n"
    )

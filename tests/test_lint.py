"""`voiceguide lint`: exact messages for each rule, folder and locale linting, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.content.lint import LOCALES_DIR, lint_paths, run_lint
from voiceguide.content.loader import routine_files
from voiceguide.content.locales import load_locale
from voiceguide.core.routine import Counts, Step
from voiceguide.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures" / "routines"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
DUPLICATES = FIXTURES / "duplicate-alias"
REPO_ROUTINES = Path(__file__).resolve().parents[1] / "voiceguide" / "data" / "routines"
ECHO = "the box would hear itself and obey"


def _lint(name: str) -> list[str]:
    path = BROKEN / name
    return [str(p).removeprefix(f"{path}:") for p in lint_paths([path], BROKEN)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "typo-key.yaml",
            [
                (
                    "6:5: steps[0]: needs hold_seconds or reps: a step is either a timed hold or "
                    "repetitions"
                ),
                "8:5: steps[0].hold_secs: unknown key 'hold_secs' (did you mean 'hold_seconds'?)",
            ],
        ),
        ("missing-setup.yaml", ["7:5: steps[1]: missing required field 'setup'"]),
        ("hold-and-reps.yaml", ["6:5: steps[0]: use either hold_seconds or reps, not both"]),
        ("negative-rest.yaml", ["7:19: steps[0].rest_seconds: must not be negative (got -10)"]),
        (
            "long-hold.yaml",
            [
                (
                    "8:19: steps[0].hold_seconds: a hold over 300 seconds needs "
                    "'allow_long_hold: true' on the step (got 400)"
                )
            ],
        ),
        (
            "command-in-setup.yaml",
            [
                f"9:9: steps[0].setup[1]: spoken text contains the command phrase 'next' (skip); {ECHO}"
            ],
        ),
        (
            "final-count.yaml",
            [
                (
                    "10:22: steps[0].counts.final_seconds: a final count of 10 seconds does not fit "
                    "in a 10-second hold; make it shorter than hold_seconds"
                )
            ],
        ),
        (
            "every-too-long.yaml",
            [
                (
                    "10:22: steps[0].breathing.every_seconds: every_seconds (20) must be shorter "
                    "than the 20-second hold, or no breath cue is ever said"
                ),
                (
                    "13:22: steps[0].counts.every_seconds: every_seconds (30) must be shorter than "
                    "the 20-second hold, or the time left is never announced"
                ),
            ],
        ),
        (
            "counts-collide.yaml",
            [
                (
                    "10:22: steps[0].counts.final_seconds: count cue 'Six seconds to go.' at 24 s is "
                    "still being said when 'Five.' is due at 25 s; space the counts further apart"
                )
            ],
        ),
        ("malformed.yaml", ["3:41: could not parse YAML: mapping values are not allowed here"]),
        (
            "unknown-use.yaml",
            [
                "6:10: steps[0].use: unknown library exercise 'knee-hugs' (did you mean: knee-hug, knee-to-chest?)"
            ],
        ),
        (
            "id-mismatch.yaml",
            ["1:5: id: 'mismatched-id' must equal the file name without .yaml ('id-mismatch')"],
        ),
    ],
)
def test_rule_exact_message(name: str, expected: list[str]) -> None:
    assert _lint(name) == expected


def test_reps_rules_and_library_text_pulled_in_by_use() -> None:
    path = BROKEN / "reps-timing.yaml"
    library = BROKEN / "library" / "basics.yaml"
    assert [str(p) for p in lint_paths([path], BROKEN)] == [
        # Only the exercise this routine uses is reported from the library file.
        (
            f"{library}:13:13: exercises.cat-stretch.easier: spoken text contains the command "
            f"phrase 'pause' (pause); {ECHO}"
        ),
        (
            f"{path}:11:11: steps[0].reps.cues[0]: cue is too long to say in its 2-second slot "
            "(seconds_each 4 / 2 cues); shorten it or raise seconds_each"
        ),
        f"{path}:14:7: steps[0].counts: counts only apply to holds; this step uses reps",
    ]


def test_duplicate_alias_across_two_files() -> None:
    first, second = DUPLICATES / "first-routine.yaml", DUPLICATES / "second-routine.yaml"
    expected = [
        (
            f"{second}:3:23: aliases[1]: alias 'Back Care!' is also a name of routine "
            f"'first-routine' ({first}:3:11)"
        )
    ]
    assert expected[0] in [str(p) for p in lint_paths(None, DUPLICATES)]  # None: folder + locales
    assert [str(p) for p in lint_paths([DUPLICATES], DUPLICATES)] == expected
    # Linting just the new file still checks it against the folder's other routines ...
    assert [str(p) for p in lint_paths([second], DUPLICATES)] == expected
    # ... and linting the older one reports the clash there, pointing at the newer file.
    assert [str(p) for p in lint_paths([first], DUPLICATES)] == [
        (
            f"{first}:3:11: aliases[0]: alias 'back care' is also a name of routine "
            f"'second-routine' ({second}:3:23)"
        )
    ]


def test_duplicate_id_and_title(tmp_path: Path) -> None:
    original = DUPLICATES / "first-routine.yaml"
    text = original.read_text().replace("[back care, morning stretch]", "[]")
    copy = tmp_path / "first-routine.yaml"
    copy.write_text(text)
    other = tmp_path / "other-routine.yaml"
    other.write_text(text.replace("id: first-routine", "id: other-routine"))
    first, second = (str(p) for p in lint_paths([copy, other], DUPLICATES))
    assert first == f"{copy}:1:5: id: duplicate id 'first-routine' (also at {original}:1:5)"
    # Both copies of 'first-routine' carry the title; which one is named depends on path order.
    assert second in {
        f"{other}:2:8: title: title 'First routine' is also a name of routine 'first-routine' "
        f"({where}:1:5)"
        for where in (copy, original)
    }


def test_timing_from_library_is_reported_at_the_use_line(tmp_path: Path) -> None:
    path = tmp_path / "short-knee-hug.yaml"
    path.write_text(
        "id: short-knee-hug\ntitle: Short knee hug\ndescription: x\nlevel: gentle\nsteps:\n"
        "  - use: knee-hug\n    hold_seconds: 3\n"
    )
    # The library's final_seconds 3 no longer fits once the routine shortens the hold.
    assert [str(p) for p in lint_paths([path], GOOD)] == [
        (
            f"{path}:6:10: steps[0].breathing.every_seconds: every_seconds (8) must be shorter than "
            "the 3-second hold, or no breath cue is ever said (from library exercise 'knee-hug')"
        ),
        (
            f"{path}:6:10: steps[0].counts.final_seconds: a final count of 3 seconds does not fit in "
            "a 3-second hold; make it shorter than hold_seconds (from library exercise 'knee-hug')"
        ),
    ]


def test_good_folder_lints_clean_and_run_lint_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint_paths([GOOD], GOOD) == []
    assert run_lint([GOOD], GOOD) == 0
    assert capsys.readouterr().out == "2 files OK\n"


def test_run_lint_prints_problems_relative_to_cwd_and_a_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    assert run_lint([DUPLICATES], DUPLICATES) == 1
    assert capsys.readouterr().out.splitlines() == [
        (
            "duplicate-alias/second-routine.yaml:3:23: aliases[1]: alias 'Back Care!' is also a "
            "name of routine 'first-routine' (duplicate-alias/first-routine.yaml:3:11)"
        ),
        "1 problem in 1 file",
    ]


def test_run_lint_counts_problems_and_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_lint([BROKEN], BROKEN) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "17 problems in 14 files"


def test_missing_path_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or folder"):
        lint_paths([tmp_path / "nope.yaml"], tmp_path)
    with pytest.raises(UserError, match="routines folder not found"):
        lint_paths(None, tmp_path / "nowhere")


def test_locale_prompts_are_checked_except_those_naming_commands(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    locales.mkdir()
    path = locales / "xx.yaml"
    path.write_text(
        "language: xx\n"
        "commands:\n  skip: [skip, next]\n  pause: [pause, hold on]\n"
        "prompts:\n"
        "  rest: Rest, then {exercise} is next.\n"
        "  paused: Paused. Say pause again to stay paused.\n"
        "  ok: Hold here, and breathe.\n"
        "prompts_naming_commands: [paused, missing]\n"
    )
    assert [str(p) for p in lint_paths([path], GOOD)] == [
        f"{path}:6:9: prompts.rest: spoken text contains the command phrase 'next' (skip); {ECHO}",
        (
            f"{path}:9:35: prompts_naming_commands[1]: prompts_naming_commands lists 'missing', "
            "which is not a prompt"
        ),
    ]


def test_a_prompt_naming_commands_may_still_not_say_a_safety_phrase(tmp_path: Path) -> None:
    # The echo guard protects these prompts, but it never mutes "stop" or "it hurts": the English
    # help prompt once ended "I will end the session straight away" and could end the session.
    (tmp_path / "locales").mkdir()
    path = tmp_path / "locales" / "xx.yaml"
    path.write_text(
        "language: xx\n"
        "commands:\n  stop: [stop, end the session]\n  pain: [it hurts]\n  pause: [pause]\n"
        "prompts:\n"
        "  paused: Say pause to rest. If anything feels wrong I will end the session.\n"
        "  help: Say pause to rest, or stop to end. If it hurts, say so.\n"
        "prompts_naming_commands: [paused, help]\n"
    )
    # Only the help answer may say a stop phrase (the echo guard mutes it while it plays);
    # no prompt may say a pain phrase.
    paused = "prompts.paused: spoken text contains the command phrase 'end the session' (stop)"
    helped = "prompts.help: spoken text contains the command phrase 'it hurts' (pain)"
    expected = [f"{path}:7:11: {paused}; {ECHO}", f"{path}:8:9: {helped}; {ECHO}"]
    assert [str(p) for p in lint_paths([path], GOOD)] == expected


def test_bundled_locale_prompts_lint_clean() -> None:
    paths = sorted(LOCALES_DIR.glob("*.yaml"))
    assert paths
    assert [str(p) for p in lint_paths(paths, REPO_ROUTINES)] == []


def test_count_cues_follow_the_documented_semantics() -> None:
    from voiceguide.content.lint_timing import count_cues

    step = Step("x", ("y",), hold_seconds=30, counts=Counts(5, 10, True))
    cues = [(c.at_seconds, c.text) for c in count_cues(step, load_locale("en"))]
    assert cues == [
        (10, "Twenty seconds to go."),
        (15, "Halfway there."),
        (20, "Ten seconds to go."),
        (25, "Five."),
        (26, "Four."),
        (27, "Three."),
        (28, "Two."),
        (29, "One."),
    ]


@pytest.mark.skipif(not routine_files(REPO_ROUTINES), reason="no routines written yet")
def test_every_shipped_routine_lints_clean() -> None:
    assert [str(p) for p in lint_paths([REPO_ROUTINES], REPO_ROUTINES)] == []


def test_every_level_and_rate_is_planned_and_a_cut_off_cue_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "quick-sides.yaml"
    path.write_text(
        "id: quick-sides\ntitle: Quick sides\ndescription: x\nlevel: gentle\nsteps:\n"
        "  - exercise: Side bend\n    setup: Lean to one side.\n    hold_seconds: 3\n"
        "    sides: both\n"
    )
    # At 160 wpm "Hold here, and breathe easily." fits the 3 s hold; at 100 it does not.
    assert [str(p) for p in lint_paths([path], GOOD)] == [
        (
            f"{path}:6:5: steps[0]: at the guided level and 100 wpm, 'Hold here, and breathe "
            "easily.' is still being said when the next cue is due; shorten it or give the step "
            "more time"
        )
    ]


def test_a_prompt_with_a_glued_on_pain_word_is_refused(tmp_path: Path) -> None:
    (tmp_path / "locales").mkdir()
    path = tmp_path / "locales" / "xx.yaml"
    path.write_text(
        "language: xx\ncommands:\n  pain: [아파]\n  pause: [잠깐]\n"
        "pain_negation:\n  stems: [아파]\n  negators: [안]\n"
        "prompts:\n  rest: 안 아파요? 잠시 쉬세요.\n"
    )
    # Strict: a negation never excuses it, and the ending glued on does not hide it.
    expected = f"{path}:9:9: prompts.rest: spoken text contains the command phrase '아파요' (pain)"
    assert [str(p) for p in lint_paths([path], GOOD)] == [f"{expected}; {ECHO}"]

"""Routine loader: YAML with positions, schema messages, `use:` resolution, dataclasses."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from voiceguide.content.loader import (
    Library,
    Problem,
    default_routines_dir,
    find_routine,
    load_library,
    load_routine_file,
    load_routines,
)
from voiceguide.content.yaml_positions import parse_yaml_text
from voiceguide.core.routine import Breathing, Counts, Reps, Routine, Sides, Step
from voiceguide.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures" / "routines"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
REPO_ROUTINES = Path(__file__).resolve().parents[1] / "voiceguide" / "data" / "routines"
SCHEMA = REPO_ROUTINES / "schema.json"


def _load(path: Path) -> tuple[Routine | None, list[str]]:
    library, problems = load_library(path.parent)
    assert problems == []
    routine, problems = load_routine_file(path, library)
    return routine, [str(p) for p in problems]


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_problem_str_is_path_line_column_field_message() -> None:
    problem = Problem("routines/x.yaml", 12, 5, "steps[2].hold_secs", "unknown key 'hold_secs'")
    assert str(problem) == "routines/x.yaml:12:5: steps[2].hold_secs: unknown key 'hold_secs'"
    assert (
        str(Problem("x.yaml", 3, 7, "", "could not parse YAML"))
        == "x.yaml:3:7: could not parse YAML"
    )


def test_good_routine_with_use_anchor_and_merge_key_loads_into_dataclasses() -> None:
    path = GOOD / "easy-start.yaml"
    routine, problems = _load(path)
    assert problems == []
    calm = Breathing(10.0, ("Breathe in through your nose.", "Breathe out slowly."))
    assert routine == Routine(
        id="easy-start",
        title="Easy start",
        aliases=("easy morning", "gentle start"),
        description="A short test routine, folded over two lines.",
        level="gentle",
        intro="Take your time with this one.",
        source_path=str(path),
        steps=(
            Step(  # from the library, with hold_seconds and breathing overridden
                exercise="Knee hug",
                setup=(
                    "Lie on your back with your knees bent.",
                    "Draw one knee in towards your chest.",
                ),
                hold_seconds=25.0,
                sides=Sides.BOTH,
                rest_seconds=5.0,
                breathing=calm,
                counts=Counts(final_seconds=3),
                safety=("Keep your head on the mat.",),
            ),
            Step(
                exercise="Pelvic rock",
                setup=("Lie on your back and gently rock your pelvis.",),
                reps=Reps(count=6, seconds_each=5.0, cues=("Rock up.", "Rock down.")),
            ),
            Step(  # hold_seconds, rest and counts come from the <<: *hold-base merge key
                exercise="Child's pose",
                setup=("Sit back towards your heels and rest your forehead down.",),
                hold_seconds=30.0,
                rest_seconds=10.0,
                breathing=calm,
                counts=Counts(final_seconds=5, every_seconds=10, halfway=True),
                easier="Put a cushion under your hips.",
            ),
        ),
    )


def test_load_routines_of_a_good_folder() -> None:
    routines, problems = load_routines(GOOD)
    assert problems == []
    assert [r.id for r in routines] == ["easy-start"]


def test_load_routines_skips_broken_files_and_reports_them() -> None:
    routines, problems = load_routines(BROKEN)
    # Files the schema accepts still load; lint-only issues do not stop the service using them.
    assert [r.id for r in routines] == [
        "command-in-setup",
        "counts-collide",
        "every-too-long",
        "final-count",
        "mismatched-id",
        "reps-timing",
    ]
    assert sorted({Path(p.path).name for p in problems}) == [
        "hold-and-reps.yaml",
        "long-hold.yaml",
        "malformed.yaml",
        "missing-setup.yaml",
        "negative-rest.yaml",
        "typo-key.yaml",
        "unknown-use.yaml",
    ]


def test_missing_routines_folder_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    routines, problems = load_routines(tmp_path / "nowhere")
    assert routines == []
    assert [str(p) for p in problems] == [f"{tmp_path / 'nowhere'}:1:1: routines folder not found"]


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
        ("malformed.yaml", ["3:41: could not parse YAML: mapping values are not allowed here"]),
        (
            "unknown-use.yaml",
            ["6:10: steps[0].use: unknown library exercise 'knee-hugs' (did you mean: knee-hug?)"],
        ),
    ],
)
def test_broken_fixture_exact_messages(name: str, expected: list[str]) -> None:
    path = BROKEN / name
    routine, problems = _load(path)
    assert routine is None
    assert problems == [f"{path}:{line}" for line in expected]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "1:1: file is empty"),
        (b"# only a comment\n", "1:1: file is empty"),
        (b"id: caf\xe9\n", "1:8: file is not UTF-8 text (byte 0xe9 cannot be decoded)"),
        (
            b"id: a\n\tsteps: []\n",
            "2:1: could not parse YAML: found character '\\t' that cannot start any token",
        ),
        (
            b"id: !shout a\n",
            "1:5: could not parse YAML: could not determine a constructor for the tag '!shout'",
        ),
        (b"- just\n- a list\n", "1:1: expected a mapping, got a list"),
        (
            b"a: 1\n---\nb: 2\n",
            (
                "2:1: could not parse YAML: expected a single document in the "
                "stream, but found another document"
            ),
        ),
    ],
)
def test_unparseable_files_become_problems(tmp_path: Path, content: bytes, expected: str) -> None:
    path = _write(tmp_path, "odd.yaml", content)
    routine, problems = load_routine_file(path, Library())
    assert routine is None
    assert [str(p) for p in problems] == [f"{path}:{expected}"]


def test_unreadable_path_is_a_problem(tmp_path: Path) -> None:
    routine, problems = load_routine_file(tmp_path, Library())  # a folder, not a file
    assert routine is None
    assert len(problems) == 1 and problems[0].message.startswith("cannot read file:")


def test_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    text = (
        (GOOD / "easy-start.yaml")
        .read_text()
        .replace("level: gentle", "level: gentle\nlevel: moderate")
    )
    path = _write(tmp_path, "easy-start.yaml", text)
    library, _ = load_library(GOOD)
    _, problems = load_routine_file(path, library)
    assert [str(p) for p in problems] == [
        f"{path}:9:1: level: duplicate key 'level' (first on line 8)"
    ]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    parsed = parse_yaml_text("\n".join(lines), "bomb.yaml")
    assert not parsed.parsed
    assert [p.message for p in parsed.problems] == [
        "could not parse YAML: aliases expand it to more than 50,000 values"
    ]


def test_value_from_library_is_reported_at_the_use_line(tmp_path: Path) -> None:
    (tmp_path / "library").mkdir()
    _write(
        tmp_path / "library",
        "long.yaml",
        "exercises:\n  lie-still:\n    exercise: Lie still\n    setup: Lie down.\n"
        "    hold_seconds: 400\n    allow_long_hold: true\n",
    )
    path = _write(
        tmp_path,
        "short.yaml",
        "id: short\ntitle: Short\ndescription: x\nlevel: gentle\nsteps:\n"
        "  - use: lie-still\n    allow_long_hold: false\n",
    )
    library, problems = load_library(tmp_path)
    assert problems == []
    _, problems = load_routine_file(path, library)
    assert [str(p) for p in problems] == [
        (
            f"{path}:6:10: steps[0].hold_seconds: a hold over 300 seconds needs 'allow_long_hold: "
            "true' on the step (got 400) (from library exercise 'lie-still')"
        )
    ]


def test_library_problems_duplicates_and_broken_exercises(tmp_path: Path) -> None:
    (tmp_path / "library").mkdir()
    a = _write(
        tmp_path / "library", "a.yaml", "exercises:\n  hug:\n    exercise: Hug\n    setup: x\n"
    )
    b = _write(
        tmp_path / "library",
        "b.yaml",
        "exercises:\n  hug:\n    exercise: Hug again\n    setup: y\n"
        "  Bad_Key:\n    exercise: B\n    setup: z\n  twist:\n    exercise: T\n",
    )
    library, problems = load_library(tmp_path)
    assert [str(p) for p in problems] == [
        f"{b}:2:3: exercises.hug: library exercise 'hug' is already defined at {a}:2:3",
        (
            f"{b}:5:3: exercises.Bad_Key: key 'Bad_Key' must be lowercase letters, digits and "
            "single hyphens, like 'gentle-back'"
        ),
        f"{b}:9:5: exercises.twist: missing required field 'setup'",
    ]
    assert sorted(library.exercises) == ["hug"]
    assert library.exercises["hug"].fields == {"exercise": "Hug", "setup": "x"}
    assert library.broken == {"Bad_Key": f"{b}:5:3", "twist": f"{b}:8:3"}
    path = _write(
        tmp_path,
        "r.yaml",
        "id: r\ntitle: R\ndescription: x\nlevel: gentle\nsteps:\n  - use: twist\n",
    )
    _, problems = load_routine_file(path, library)
    assert [str(p) for p in problems] == [
        f"{path}:6:10: steps[0].use: library exercise 'twist' has problems of its own (at {b}:8:3)"
    ]


def test_find_routine_matches_id_title_and_alias_ignoring_case_and_punctuation() -> None:
    routines, _ = load_routines(GOOD)
    for name in ("easy-start", "EASY START", "Easy morning!", "gentle start"):
        assert find_routine(name, routines).id == "easy-start"


def test_find_routine_unknown_name_suggests_close_matches() -> None:
    routines, _ = load_routines(GOOD)
    with pytest.raises(UserError) as caught:
        find_routine("easy strat", routines)
    assert str(caught.value) == (
        "unknown routine 'easy strat'; did you mean: easy-start? (voiceguide list shows all)"
    )
    assert caught.value.exit_code == 2


def test_find_routine_lists_no_routine_when_nothing_is_close() -> None:
    # Issue 13: "did you mean" once listed every routine; now only close names, or none.
    routines, _ = load_routines(BROKEN)
    with pytest.raises(UserError) as caught:
        find_routine("yoga", routines)
    assert str(caught.value) == (
        "unknown routine 'yoga'; no routine has a name close to it (voiceguide list shows all)"
    )
    with pytest.raises(UserError, match=r"did you mean: counts-collide\?"):
        find_routine("collide", routines)  # contained in a name, though not close by difflib


def test_default_routines_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEGUIDE_ROUTINES", str(tmp_path))
    assert default_routines_dir() == tmp_path
    monkeypatch.delenv("VOICEGUIDE_ROUTINES")
    assert default_routines_dir() == REPO_ROUTINES


def test_schema_is_valid_and_matches_the_step_dataclass() -> None:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    step_keys = set(schema["$defs"]["step"]["properties"])
    assert step_keys == {f.name for f in dataclasses.fields(Step)} | {"use"}
    assert set(schema["$defs"]["libraryExercise"]["properties"]) == step_keys - {"use"}


def test_editor_schema_accepts_good_files_and_rejects_bad_ones() -> None:
    """Editors validate with the top-level schema (if/then/else picks routine or library)."""
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    for path in [*GOOD.glob("*.yaml"), *GOOD.glob("library/*.yaml")]:
        parsed = parse_yaml_text(path.read_text(), str(path))
        assert list(validator.iter_errors(parsed.data)) == [], path
    for name in ("typo-key.yaml", "hold-and-reps.yaml", "long-hold.yaml", "negative-rest.yaml"):
        data = parse_yaml_text((BROKEN / name).read_text(), name).data
        assert list(validator.iter_errors(data)), name


def test_mangled_files_never_raise(tmp_path: Path) -> None:
    """Random edits of a good file give a routine or problems, never an exception."""
    import random

    original = (GOOD / "easy-start.yaml").read_text()
    pieces = [*":-[]{}&*!|'\"#\n ,0.\t", "use: knee-hug", "hold_seconds: ", "<<: *calm", "~"]
    library, _ = load_library(GOOD)
    rng = random.Random(7)
    path = tmp_path / "easy-start.yaml"
    for _ in range(300):
        text = list(original)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            text[at : at + rng.randint(0, 3)] = [rng.choice(pieces)]
        path.write_text("".join(text))
        routine, problems = load_routine_file(path, library)
        assert (routine is None) == bool(problems)


def test_asking_for_a_broken_routine_names_its_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voiceguide.content.catalog import find_good_routine

    folder = tmp_path / "routines"
    shutil.copytree(GOOD, folder)
    broken = folder / "stiff-back.yaml"
    broken.write_text("id: stiff-back\ntitle: [unclosed\n")
    with pytest.raises(UserError) as caught:
        find_good_routine(folder, "Stiff back")
    assert str(caught.value).startswith(f"routine 'Stiff back' could not be loaded: {broken}:")
    assert capsys.readouterr().err == ""  # the error says it; no warning line as well
    assert find_good_routine(folder, "easy start").id == "easy-start"
    assert "skipping broken routine" in capsys.readouterr().err

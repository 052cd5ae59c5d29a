"""Routines in layers: the package's, /etc's and the user's, by id; `use:` through the layers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from voiceguide.content import catalog
from voiceguide.content.catalog import find_good_routine, load_good_routines, routine_layers
from voiceguide.content.lint import lint_paths
from voiceguide.content.loader import bundled_routines_dir, load_routines
from voiceguide.errors import UserError

PACKAGE = bundled_routines_dir()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real user or system routines folder takes part."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(catalog, "SYSTEM_ROUTINES_DIR", tmp_path / "etc-routines")
    return tmp_path


def _copy_routine(folder: Path, source: str, new_id: str, title: str) -> Path:
    """A package routine copied under a new id and title (its `use:` steps kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (PACKAGE / f"{source}.yaml").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("id:"):
            line = f"id: {new_id}"
        elif line.startswith("title:"):
            line = f"title: {title}"
        elif line.startswith("aliases:"):
            line = f"aliases: [{title.lower()} please]"
        lines.append(line)
    path = folder / f"{new_id}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_routine_copied_into_your_own_folder_uses_the_package_library(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    path = _copy_routine(mine, "quick-reset", "my-reset", "My reset")
    assert "use:" in path.read_text()
    routines = load_good_routines(mine)
    ids = [r.id for r in routines]
    assert "my-reset" in ids and "quick-reset" in ids  # added to the package's, not instead
    assert ids == sorted(ids)
    assert find_good_routine(mine, "my reset").source_path == str(path)
    assert lint_paths([path], mine) == []


def test_your_library_comes_before_the_package_library(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    _copy_routine(mine, "quick-reset", "my-reset", "My reset")
    (mine / "library").mkdir()
    (mine / "library" / "mine.yaml").write_text(
        "exercises:\n  pelvic-tilt:\n    exercise: My own pelvic tilt\n"
        "    setup: Lie on your back.\n    reps: {count: 5, seconds_each: 4}\n",
        encoding="utf-8",
    )
    routines = {r.id: r for r in load_good_routines(mine)}
    assert "My own pelvic tilt" in [s.exercise for s in routines["my-reset"].steps]
    # The package's routines keep the package's library.
    assert "My own pelvic tilt" not in [s.exercise for s in routines["quick-reset"].steps]


def test_an_unknown_exercise_names_every_library_looked_in(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    path = _copy_routine(mine, "quick-reset", "my-reset", "My reset")
    path.write_text(path.read_text().replace("use: pelvic-tilt", "use: handstand"))
    _, problems = load_routines(mine)
    [problem] = problems
    assert "unknown library exercise 'handstand' (not in " in problem.message
    assert str(mine / "library") in problem.message
    assert str(PACKAGE / "library") in problem.message


def test_precedence_is_yours_then_etc_then_the_package(tmp_path: Path) -> None:
    mine, etc = tmp_path / "mine", tmp_path / "etc-routines"
    _copy_routine(etc, "quick-reset", "quick-reset", "Quick reset from etc")
    _copy_routine(etc, "desk-break", "desk-break", "Desk break from etc")
    _copy_routine(mine, "quick-reset", "quick-reset", "Quick reset of mine")
    assert routine_layers(mine) == [mine, etc, PACKAGE]
    titles = {r.id: r.title for r in load_good_routines(mine)}
    assert titles["quick-reset"] == "Quick reset of mine"
    assert titles["desk-break"] == "Desk break from etc"
    assert titles["gentle-back"] == "Gentle lower back"


def test_with_no_folder_configured_the_user_config_folder_is_yours(tmp_path: Path) -> None:
    default = tmp_path / "xdg" / "voiceguide" / "routines"
    assert routine_layers(PACKAGE) == [PACKAGE]  # nothing of the user's yet
    _copy_routine(default, "quick-reset", "quick-reset", "Quick reset of mine")
    assert routine_layers(PACKAGE) == [default, PACKAGE]
    assert find_good_routine(PACKAGE, "quick-reset").title == "Quick reset of mine"


def test_a_configured_folder_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="routines folder .*nowhere does not exist"):
        load_good_routines(tmp_path / "nowhere")


def test_your_broken_copy_of_a_routine_is_the_error_not_the_package_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    path = _copy_routine(mine, "quick-reset", "quick-reset", "Quick reset of mine")
    path.write_text(path.read_text().replace("level: gentle", "level: brutal"))
    with pytest.raises(UserError, match=f"routine 'quick-reset' could not be loaded: {path}:"):
        find_good_routine(mine, "quick-reset")


def test_one_line_per_broken_file_with_a_count_of_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    shutil.copytree(PACKAGE, mine)
    for i in range(6):  # three problems each: two missing fields and an unknown key
        (mine / f"bad-{i}.yaml").write_text(
            f"id: bad-{i}\ntitle: Bad\nlevel: gentle\nsteps: []\nfoo: 1\n", encoding="utf-8"
        )
    routines = load_good_routines(mine)
    assert len(routines) == 6
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 6, lines
    for i, line in enumerate(lines):
        bad = mine / f"bad-{i}.yaml"
        assert line.startswith(f"voiceguide: skipping broken routine: {bad}:1:1: ")
        assert line.endswith(f" more problems; voiceguide lint {bad} shows all)")

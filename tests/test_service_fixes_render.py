"""Issue 13, part 8: `render` refuses a name it will not honour, and checks the folder first."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.cli.main import main
from voiceguide.speech_out import render


@pytest.fixture
def no_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if render starts any work (the speech worker) before refusing."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("render started synthesising before checking its output")

    monkeypatch.setattr(render, "Synthesizer", refuse)


@pytest.mark.usefixtures("no_synthesis")
@pytest.mark.parametrize("name", ["s.mp3", "s.WAV.ogg", "s.flac"])
def test_a_name_that_is_not_wav_is_refused_in_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / name
    assert main(["render", "quick-reset", "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"voiceguide: cannot write {out}: render writes WAV only")
    assert error.count("\n") == 1 and not out.exists()


@pytest.mark.usefixtures("no_synthesis")
def test_a_missing_folder_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no" / "such" / "session.wav"
    assert main(["render", "quick-reset", "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert error == f"voiceguide: cannot write {out}: folder {out.parent} does not exist\n"


@pytest.mark.usefixtures("no_synthesis")
def test_a_folder_as_the_output_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "quick-reset", "-o", str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err


def test_wav_names_with_or_without_the_suffix_are_accepted(tmp_path: Path) -> None:
    for name in ("session.wav", "session.WAV", "session"):
        render.check_output_path(tmp_path / name)

"""CLI rough edges from issue 13: a closed pipe, --speed, and signals during `run`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voiceguide.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    (tmp_path / "config.yaml").touch()
    env = {**os.environ, "VOICEGUIDE_HISTORY": str(tmp_path / "history.db"),
           "VOICEGUIDE_CONFIG": str(tmp_path / "config.yaml")}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=ROOT,
    )  # fmt: skip


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


@pytest.mark.parametrize("argv", [["plan", "gentle-back"], ["list"]])
def test_a_closed_pipe_ends_quietly_in_process(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(argv) == 141
    assert capsys.readouterr().err == ""


def test_a_closed_pipe_during_run_text_ends_quietly(tmp_path: Path) -> None:
    proc = _start(tmp_path, "run", "quick-reset", "--text", "--speed", "20")
    assert proc.stdout is not None and proc.stderr is not None
    assert "Quick reset" in proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=120) in (0, 141)
    err = proc.stderr.read()
    assert "internal error" not in err and "BrokenPipeError" not in err, err


def test_plan_into_head_exits_0_or_141(tmp_path: Path) -> None:
    command = f"{sys.executable} -m voiceguide plan gentle-back | head -1; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(
        ["bash", "-c", command], check=False, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode in (0, 141), proc.stderr
    assert proc.stderr == "" and proc.stdout.startswith("Gentle lower back")


@pytest.mark.parametrize("speed", ["nan", "inf", "-inf", "0", "-2", "fast"])
def test_speed_must_be_a_finite_number_above_zero(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "quick-reset", "--text", f"--speed={speed}"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument --speed:" in err
    assert "finite number greater than zero" in err or "not a number" in err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_run_exits_128_plus_it_after_the_history_is_written(
    tmp_path: Path, signum: int, code: int
) -> None:
    proc = _start(tmp_path, "run", "quick-reset", "--text")
    assert proc.stdout is not None
    assert "Quick reset" in proc.stdout.readline()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Session interrupted." in err
    history = _start(tmp_path, "history")
    out, err = history.communicate(timeout=60)
    assert history.returncode == 0, err
    assert "Quick reset" in out and "interrupted" in out, out

"""`voiceguide serve` in the PulseAudio room: ready, start by voice, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.audio_room import AudioRoom
from tests.test_audio_e2e import ROOT, run_env, write_config

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def start_serve(audio_room: AudioRoom, tmp_path: Path, extra: str = "") -> subprocess.Popen[str]:
    write_config(tmp_path, extra)
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=run_env(audio_room, tmp_path), cwd=ROOT,
    )  # fmt: skip


def wait_for_log(proc: subprocess.Popen[str], fragment: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if fragment in line:
            return line
    raise AssertionError(f"serve never logged {fragment!r}")


def test_serve_gets_ready_says_so_and_stops_promptly_on_sigterm(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    proc = start_serve(audio_room, tmp_path)
    try:
        wait_for_log(proc, "ready in", timeout=240)
        wait_for_log(proc, "say: Ready.", timeout=5)
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert took <= 2.0, f"SIGTERM took {took:.2f} s"


def test_serve_remembers_pain_and_a_typed_answer_leaves_the_exercise_out(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    """serve with typed commands: 'start quick reset', the pain-memory question, 'leave it out'."""
    from tests.test_audio_e2e import Lines, type_command
    from voiceguide.store.history import History

    write_config(tmp_path)
    with History(tmp_path / "history.db") as history:
        earlier = history.start_session("quick-reset", "Quick reset")
        history.log_pain(earlier, "Pelvic tilt", 0, None, 5.0)
        history.end_session(earlier, "pain")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=run_env(audio_room, tmp_path), cwd=ROOT,
    )  # fmt: skip
    lines = Lines(proc)
    try:
        lines.wait_for("ready in", timeout=300)
        type_command(proc, "start quick reset")
        lines.wait_for("say: Last time, Pelvic tilt was uncomfortable.", timeout=90)
        type_command(proc, "leave it out")
        lines.wait_for("say: Okay, we will leave that one out today.", timeout=30)
        lines.wait_for("say: Knee to chest.", timeout=60)
        type_command(proc, "stop")
        lines.wait_for("session of quick-reset ended: stopped", timeout=60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    with History(tmp_path / "history.db", read_only=True) as history:
        latest = history.recent_sessions(1)[0]
        records = history.step_records(latest.id)
    assert latest.how == "stopped"
    assert ("Pelvic tilt", None, "left_out") in [(r.exercise, r.side, r.outcome) for r in records]

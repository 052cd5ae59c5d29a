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


def start_serve(audio_room: AudioRoom, tmp_path: Path) -> subprocess.Popen[str]:
    write_config(tmp_path)
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

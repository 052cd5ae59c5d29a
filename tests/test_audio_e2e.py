"""Real audio end to end: a virtual user speaks into a PulseAudio room during `voiceguide run`.

The box plays into the `box_speaker` null sink and listens to the `room` sink's monitor through
sounddevice → ALSA pulse plugin → PulseAudio, with pocketsphinx recognising. Nothing is faked.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from tests.support.audio_room import AudioRoom, alsa_device, rms_db

ROOT = Path(__file__).resolve().parents[1]
# What the spoken tests' box logs: each hypothesis and why it was ignored, for a failure's
# message (a run of under a minute writes a few dozen lines, far below the pipe's buffer).
DEBUG_LOG = "log_level: debug\n"
pytestmark = [pytest.mark.audio, pytest.mark.slow]


def say_wav(text: str, path: Path) -> Path:
    """A person's voice, different from the box's espeak-ng: flite's slt.

    flite's voices are built from recordings of people, so the bundled PocketSphinx model
    hears them far more reliably than espeak-ng's formant voices (docs/benchmarks.md: clean
    accuracy by speaker). These tests are about the audio path, not the acoustic model, so
    they use the voice the model hears best.
    """
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True)
    return path


class Lines:
    """Reads a process's stdout on a thread, so waiting for a line can time out."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, fragment: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"never saw {fragment!r}; last lines:\n" + "\n".join(self.seen[-12:]))


def write_config(tmp_path: Path, extra: str = "") -> None:
    """tmp_path/config.yaml: speaker and microphone in the room, a private phrase cache.

    Start-slowly is off: these tests are about the audio path, and a first session's extra
    intro line would only add seconds of real time to every one (tests/test_coaching.py and
    tests/test_console_e2e.py cover progression).
    """
    (tmp_path / "config.yaml").write_text(
        f"output_device: {alsa_device('box_speaker')}\n"
        f"input_device: {alsa_device('room.monitor')}\n"
        f"cache_dir: {tmp_path / 'cache'}\n"
        "progression: false\n" + extra
    )


def type_command(proc: subprocess.Popen[str], text: str) -> None:
    """Type one command line into the box's stdin (console commands work beside the mic)."""
    assert proc.stdin is not None
    proc.stdin.write(text + "\n")
    proc.stdin.flush()


def resume_then_report_pain(proc: subprocess.Popen[str], lines: Lines) -> None:
    """Typed "resume" (paused in the instructions, they restart), then "it hurts"."""
    type_command(proc, "resume")
    lines.wait_for("Lie on your back", timeout=10)
    type_command(proc, "it hurts")
    lines.wait_for("Ending the session now.", timeout=15)


def start_run(
    audio_room: AudioRoom,
    tmp_path: Path,
    routine: str,
    stdin: int = subprocess.DEVNULL,
    extra_config: str = "",
) -> subprocess.Popen[str]:
    """`voiceguide run ROUTINE` with its speaker and microphone in the room."""
    write_config(tmp_path, extra_config)
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "run", routine],
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=run_env(audio_room, tmp_path), cwd=ROOT,
    )  # fmt: skip


def run_env(audio_room: AudioRoom, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **audio_room.env(), "VOICEGUIDE_CONFIG": str(tmp_path / "config.yaml"),
            "VOICEGUIDE_HISTORY": str(tmp_path / "history.db")}  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> str:
    """Wait for the run to end; returns its stderr."""
    try:
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    return proc.stderr.read()


def say_until_answered(
    audio_room: AudioRoom, lines: Lines, wav: Path, reply: str, said_at: list[float] | None = None
) -> None:
    """Say `wav` into the room until the box answers with `reply`: once, and again if it did
    not answer within 8 s, as a person would (each time noted in `said_at`). A repeat is
    reported as a warning (single-shot accuracy is the benchmark's figure); no answer after
    two raises AssertionError."""
    for attempt in (1, 2):
        if said_at is not None:
            said_at.append(time.monotonic())
        audio_room.play_into_room(wav)
        try:
            lines.wait_for(reply, timeout=8)
        except AssertionError:
            if attempt == 2:
                raise
            continue
        if attempt > 1:
            warnings.warn(f"the box answered {reply!r} only when {wav.name} was said again",
                          stacklevel=2)  # fmt: skip
        return


def say_until_obeyed(
    audio_room: AudioRoom, proc: subprocess.Popen[str], lines: Lines, wav: Path, reply: str
) -> None:
    """say_until_answered; a second miss kills the box (no 90 s wait for a routine that is
    still talking) and fails with its log."""
    try:
        say_until_answered(audio_room, lines, wav, reply)
    except AssertionError as missed:
        proc.kill()
        assert proc.stderr is not None
        log = proc.stderr.read()[-4000:]
        raise AssertionError(f"{missed}\n--- the box's log ---\n{log}") from None


def test_spoken_pause_then_it_hurts_during_a_run(audio_room: AudioRoom, tmp_path: Path) -> None:
    """A virtual user says "pause" and later "ow, that hurts" into the room during a run."""
    pause = say_wav("pause", tmp_path / "pause.wav")
    hurts = say_wav("ow, that hurts", tmp_path / "hurts.wav")
    speaker = audio_room.record_speaker()
    proc = start_run(audio_room, tmp_path, "quick-reset", extra_config=DEBUG_LOG)
    lines = Lines(proc)
    try:
        lines.wait_for("Pelvic tilt.", timeout=240)  # pre-rendering comes first
        say_until_obeyed(audio_room, proc, lines, pause, "Paused. Say resume when you are ready.")
        time.sleep(3.0)  # let the prompt finish: the box must not hear itself
        say_until_obeyed(audio_room, proc, lines, hurts, "Ending the session now.")
    finally:
        try:
            err = finish(proc)
        finally:  # a recording left running outlives the test and can crash the interpreter
            samples, _ = speaker.stop()
    assert proc.returncode == 0, err
    assert "Session ended after a pain report" in err
    assert rms_db(samples) > -50, "the box's speech should be audible on the speaker sink"
    history = subprocess.run(
        [sys.executable, "-m", "voiceguide", "history"], env=run_env(audio_room, tmp_path),
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "pain" in history.stdout and "Pelvic tilt" in history.stdout


def test_spoken_it_hurts_over_the_box_ends_the_run(audio_room: AudioRoom, tmp_path: Path) -> None:
    """'Ow, that hurts' spoken into the room while the box is talking stops the session."""
    hurts = say_wav("ow, that hurts", tmp_path / "hurts.wav")
    proc = start_run(audio_room, tmp_path, "quick-reset", extra_config=DEBUG_LOG)
    lines = Lines(proc)
    try:
        lines.wait_for("Pelvic tilt.", timeout=240)
        # During "Pelvic tilt." and the list of commands after it: barge-in.
        say_until_obeyed(audio_room, proc, lines, hurts, "Ending the session now.")
    finally:
        err = finish(proc)
    assert proc.returncode == 0, err
    assert "Session ended after a pain report" in err

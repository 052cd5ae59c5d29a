"""Fault injection with real PulseAudio: the speaker disappears mid-session and returns."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio_room import AudioRoom
from tests.test_audio_e2e import Lines, finish, resume_then_report_pain, start_run, type_command

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SPEAKER = "box_speaker"
PARKING = "speaker_unplugged"  # where PulseAudio moves the box's orphaned playback stream
LOST_LINE = "I can't reach the speaker. Pausing until it is back."
BACK_LINE = "Speaker is back. Say resume to continue."
IDLE_CPU_SECONDS = 0.5  # over 2 s of wall time; a busy retry loop would burn about 2 s


def _pull_out_the_speaker(room: AudioRoom) -> None:
    """Remove the box's speaker sink, as unplugging a USB speaker removes its device.

    PulseAudio moves an orphaned playback stream to the default sink, which would hide the loss
    (a real unplug under ALSA ends the stream instead). So the default sink is made a
    suspended one first: the stream moves there and is never asked for audio again.
    """
    if room.sink_module(PARKING) is None:
        room._pactl("load-module", "module-null-sink", f"sink_name={PARKING}", "rate=48000")
    room._pactl("set-default-sink", PARKING)
    room._pactl("suspend-sink", PARKING, "1")
    module = room.sink_module(SPEAKER)
    assert module is not None, "the box's speaker sink is not loaded"
    room._pactl("unload-module", module)


def _plug_the_speaker_back(room: AudioRoom, keepers: list[str]) -> None:
    """Load the speaker sink again under the same name, and give the room back its keepers."""
    if room.sink_module(SPEAKER) is None:
        room._pactl("load-module", "module-null-sink", f"sink_name={SPEAKER}", "rate=48000",
                    f"sink_properties=device.description={SPEAKER}")  # fmt: skip
    room._pactl("set-default-sink", SPEAKER)
    for keeper in keepers:  # they keep the sink rendering in short blocks for later tests
        room._pactl("move-source-output", keeper, f"{SPEAKER}.monitor", check=False)


def _keep_monitors_live(room: AudioRoom) -> list[subprocess.Popen[bytes]]:
    """Put a low-latency reader on every monitor that lost the room's own one.

    Another fault test may have replaced a sink without moving its keeper back; an idle null
    sink then delivers audio in blocks of up to 2 s, which the box takes for a lost microphone.
    """
    readers = []
    for sink in (SPEAKER, "room"):
        monitor = room.source_index(f"{sink}.monitor")
        if monitor is None or any(f[1] == monitor for f in room.pactl_rows("source-outputs")):
            continue
        readers.append(subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--latency-msec=20", "--raw"],
            env={**os.environ, **room.env()}, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        ))  # fmt: skip
    return readers


@pytest.fixture
def room(audio_room: AudioRoom) -> Iterator[AudioRoom]:
    """The shared room with live monitors, put back as it was even if a test fails half-way."""
    readers = _keep_monitors_live(audio_room)
    keepers = audio_room.monitor_keepers(SPEAKER)
    yield audio_room
    _plug_the_speaker_back(audio_room, keepers)
    module = audio_room.sink_module(PARKING)
    if module is not None:
        audio_room._pactl("unload-module", module, check=False)
    for reader in readers:
        reader.terminate()
        reader.wait(timeout=5)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_speaker_unplugged_mid_session_pauses_and_comes_back(
    room: AudioRoom, tmp_path: Path
) -> None:
    proc = start_run(room, tmp_path, "quick-reset", stdin=subprocess.PIPE)
    lines = Lines(proc)
    recording = None
    try:
        lines.wait_for("Pelvic tilt.", timeout=240)
        keepers = room.monitor_keepers(SPEAKER)
        _pull_out_the_speaker(room)
        lines.wait_for(LOST_LINE, timeout=15)  # still printed: the console tee carries on
        cpu_before = _cpu_seconds(proc.pid)
        time.sleep(2.0)  # reconnect attempts fail meanwhile: no crash, no busy loop
        idle_cpu = _cpu_seconds(proc.pid) - cpu_before
        assert proc.poll() is None
        assert idle_cpu < IDLE_CPU_SECONDS, f"{idle_cpu:.2f} s of CPU in 2 s while paused"
        _plug_the_speaker_back(room, keepers)
        recording = room.record_speaker()
        lines.wait_for(BACK_LINE, timeout=30)
        back_at = time.monotonic()
        # Typed, so this test is about the device, not recognition.
        resume_then_report_pain(proc, lines)
    finally:
        err = finish(proc)
        samples, _ = recording.stop() if recording is not None else (np.zeros(0), 0.0)
    assert proc.returncode == 0, err
    assert err.count("speaker lost") == 1, err
    assert "speaker is back" in err
    assert "Session ended after a pain report" in err

    # The box really plays again: its own speech reaches the reloaded sink after the "back" line.
    loud = np.nonzero(np.abs(samples) > 0.05)[0]
    assert len(loud) > 0, "nothing was played on the speaker after it came back"
    assert recording is not None
    assert recording.time_of(loud)[-1] > back_at, "no audio played after the 'back' line"

    with sqlite3.connect(tmp_path / "history.db") as db:
        sessions = db.execute("SELECT id, routine_id, how FROM sessions").fetchall()
        assert [(s[1], s[2]) for s in sessions] == [("quick-reset", "pain")]
        pains = db.execute("SELECT exercise FROM pain_events WHERE session_id = ?",
                           (sessions[0][0],)).fetchall()  # fmt: skip
    assert pains == [("Pelvic tilt",)]


def test_speaker_missing_at_start_falls_back_to_the_console(
    room: AudioRoom, tmp_path: Path
) -> None:
    _pull_out_the_speaker(room)
    proc = start_run(room, tmp_path, "quick-reset", stdin=subprocess.PIPE)
    lines = Lines(proc)
    try:
        lines.wait_for("Pelvic tilt.", timeout=60)
        type_command(proc, "it hurts")
        lines.wait_for("Ending the session now.", timeout=15)
    finally:
        err = finish(proc)
    assert proc.returncode == 0, err
    assert err.count("no speaker:") == 1, err
    assert "using console mode" in err

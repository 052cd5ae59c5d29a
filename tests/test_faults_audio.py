"""Fault injection with real PulseAudio: the microphone disappears mid-session and returns."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.audio_room import AudioRoom
from tests.test_audio_e2e import Lines, finish, resume_then_report_pain, start_run

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def _pull_out_the_mic(room: AudioRoom) -> None:
    """Remove the room's source, as unplugging a USB microphone removes its device.

    PulseAudio moves an orphaned recording stream to the default source, which would hide the
    loss (a real unplug under ALSA ends the stream instead). So the default source is made a
    suspended, silent one first: the stream moves there and stops delivering audio.
    """
    room._pactl("load-module", "module-null-sink", "sink_name=unplugged", "rate=48000")
    room._pactl("set-default-source", "unplugged.monitor")
    room._pactl("suspend-sink", "unplugged", "1")
    module = room.sink_module("room")
    assert module is not None, "the room sink is not loaded"
    room._pactl("unload-module", module)


def _put_the_room_back(room: AudioRoom, keepers: list[str]) -> None:
    """Room sink loaded, default source and keepers restored, parking sink gone: later tests
    need a room monitor that delivers audio in short blocks, as before this test."""
    if room.sink_module("room") is None:
        room._pactl("load-module", "module-null-sink", "sink_name=room", "rate=48000")
    room._pactl("set-default-source", "room.monitor", check=False)
    for keeper in keepers:
        room._pactl("move-source-output", keeper, "room.monitor", check=False)
    parking = room.sink_module("unplugged")
    if parking is not None:
        room._pactl("unload-module", parking, check=False)


def test_microphone_unplugged_mid_session_pauses_and_comes_back(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    keepers = audio_room.monitor_keepers("room")
    proc = start_run(audio_room, tmp_path, "quick-reset", stdin=subprocess.PIPE)
    lines = Lines(proc)
    try:
        lines.wait_for("Pelvic tilt.", timeout=240)
        _pull_out_the_mic(audio_room)
        lines.wait_for("I can't hear the microphone. Pausing until it is back.", 15)
        time.sleep(2.0)  # a few reconnect attempts fail meanwhile: no crash, no busy loop
        assert proc.poll() is None
        audio_room._pactl("load-module", "module-null-sink", "sink_name=room", "rate=48000")
        lines.wait_for("Microphone is back. Say resume to continue.", 30)
        # Typed, so this test is about the device, not recognition.
        resume_then_report_pain(proc, lines)
    finally:
        err = finish(proc)
        _put_the_room_back(audio_room, keepers)
    assert proc.returncode == 0, err
    assert "microphone lost" in err and "microphone is back" in err

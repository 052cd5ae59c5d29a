"""Fault injection with real PulseAudio: the microphone disappears mid-session and returns."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from audio_room import AudioRoom
from test_audio_e2e import Lines, finish, start_run
from test_faults_speaker import _short, _source_index

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def _room_module(room: AudioRoom) -> str:
    for line in room._pactl("list", "short", "modules").stdout.splitlines():
        fields = line.split("\t")
        if len(fields) > 2 and "sink_name=room " in fields[2] + " ":
            return fields[0]
    raise AssertionError("the room sink is not loaded")


def _pull_out_the_mic(room: AudioRoom) -> None:
    """Remove the room's source, as unplugging a USB microphone removes its device.

    PulseAudio moves an orphaned recording stream to the default source, which would hide the
    loss (a real unplug under ALSA ends the stream instead). So the default source is made a
    suspended, silent one first: the stream moves there and stops delivering audio.
    """
    room._pactl("load-module", "module-null-sink", "sink_name=unplugged", "rate=48000")
    room._pactl("set-default-source", "unplugged.monitor")
    room._pactl("suspend-sink", "unplugged", "1")
    room._pactl("unload-module", _room_module(room))


def _room_keepers(room: AudioRoom) -> list[str]:
    """The room's permanent recorders on the room monitor (see AudioRoom._start_keepers)."""
    monitor = _source_index(room, "room.monitor")
    return [f[0] for f in _short(room, "source-outputs") if len(f) > 1 and f[1] == monitor]


def _put_the_room_back(room: AudioRoom, keepers: list[str]) -> None:
    """Room sink loaded, default source and keepers restored, parking sink gone: later tests
    need a room monitor that delivers audio in short blocks, as before this test."""
    try:
        _room_module(room)
    except AssertionError:
        room._pactl("load-module", "module-null-sink", "sink_name=room", "rate=48000")
    room._pactl("set-default-source", "room.monitor", check=False)
    for keeper in keepers:
        room._pactl("move-source-output", keeper, "room.monitor", check=False)
    for fields in _short(room, "modules"):
        if len(fields) > 2 and "sink_name=unplugged " in fields[2] + " ":
            room._pactl("unload-module", fields[0], check=False)


def test_microphone_unplugged_mid_session_pauses_and_comes_back(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    keepers = _room_keepers(audio_room)
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
        assert proc.stdin is not None  # typed, so this test is about the device, not recognition
        proc.stdin.write("resume\n")
        proc.stdin.flush()
        lines.wait_for("Lie on your back", timeout=10)  # paused in the instructions: they restart
        proc.stdin.write("it hurts\n")
        proc.stdin.flush()
        lines.wait_for("Ending the session now.", timeout=15)
    finally:
        err = finish(proc)
        _put_the_room_back(audio_room, keepers)
    assert proc.returncode == 0, err
    assert "microphone lost" in err and "microphone is back" in err

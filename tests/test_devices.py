"""Device listing and choice, `voiceguide devices`, and `say` with and without a speaker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio_room import AudioRoom
from voiceguide.audio.devices import AudioDevice, candidate_rates, choose_output_device
from voiceguide.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def _run_cli(args: list[str], env: dict[str, str], cache: Path) -> subprocess.CompletedProcess[str]:
    config = cache / "config.yaml"
    config.write_text(f"cache_dir: {cache}\n")
    full_env = dict(env, VOICEGUIDE_CONFIG=str(config))
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        env=full_env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env_without_audio(tmp_path: Path) -> dict[str, str]:
    """An environment where PulseAudio is unreachable and will not be auto-started."""
    client_conf = tmp_path / "client.conf"
    client_conf.write_text("autospawn = no\n")
    env = {k: v for k, v in os.environ.items() if k not in ("ALSA_CONFIG_PATH", "PULSE_SERVER")}
    env.update(PULSE_SERVER="unix:/nonexistent/voiceguide", PULSE_CLIENTCONFIG=str(client_conf))
    return env


def test_candidate_rates_try_configured_then_native_then_common() -> None:
    device = AudioDevice(3, "USB Audio", "ALSA", 1, 2, 44100)
    assert candidate_rates(device, 22050) == [22050, 44100, 48000, 32000, 16000]
    assert candidate_rates(device, None)[:2] == [44100, 48000]


def test_say_without_any_output_device_is_a_one_line_error(tmp_path: Path) -> None:
    env = _env_without_audio(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", "import sounddevice as sd; print(len(sd.query_devices()))"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if probe.stdout.strip() != "0":
        pytest.skip("this machine has sound hardware PortAudio can open without PulseAudio")
    result = _run_cli(["say", "hello"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "voiceguide: no audio output device found (is a speaker connected?)"
    )
    devices = _run_cli(["devices"], env, tmp_path)
    assert devices.returncode == 1
    assert "no audio devices found" in devices.stderr


@pytest.mark.audio
def test_choose_output_by_name_index_or_default(audio_room: AudioRoom) -> None:
    exact = choose_output_device("vg_box_speaker")
    assert exact.name == "vg_box_speaker"  # exact name wins over longer names containing it
    assert choose_output_device("SPEAKER_44K").name == "vg_box_speaker_44k"
    assert choose_output_device(exact.index) == exact
    assert choose_output_device(str(exact.index)) == exact
    assert choose_output_device(None).max_output_channels > 0
    with pytest.raises(UserError) as err:
        choose_output_device("usb headset")
    message = str(err.value)
    assert message.startswith("no audio output device matches 'usb headset' (available: ")
    assert "'vg_room'" in message and "\n" not in message
    with pytest.raises(UserError, match="no audio output device with index 999"):
        choose_output_device(999)


@pytest.mark.audio
def test_devices_command_lists_rates(audio_room: AudioRoom, tmp_path: Path) -> None:
    result = _run_cli(["devices"], dict(os.environ), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("outputs:")
    line = next(
        x for x in result.stdout.splitlines() if x.strip().endswith("]") and "vg_room " in x
    )
    assert "native 44100 Hz" in line and "accepts 48000, 44100" in line
    assert "inputs:" in result.stdout


@pytest.mark.audio
def test_say_speaks_through_the_chosen_device(audio_room: AudioRoom, tmp_path: Path) -> None:
    recording = audio_room.record_speaker()
    time.sleep(0.2)
    result = _run_cli(
        ["--output-device", "vg_box_speaker", "say", "hello", "there"], dict(os.environ), tmp_path
    )
    time.sleep(0.2)
    samples, _ = recording.stop()
    assert result.returncode == 0, result.stderr
    assert np.abs(samples).max() > 0.05

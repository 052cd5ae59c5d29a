"""Player's output-loss handling against a scripted PortAudio stand-in (no sound server needed).

The real-device path is covered by tests/test_faults_speaker.py; here each way a device can die
(callbacks stop, the stream goes inactive, opening fails) is forced on cue, with short timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

from voiceguide.audio.devices import AudioDevice, NoOutputDevice
from voiceguide.speech_out import player as playback
from voiceguide.speech_out.player import Player

DEVICE = AudioDevice(0, "fake speaker", "ALSA", 0, 2, 48000)
BLOCK_FRAMES = 240  # 5 ms at 48 kHz


class FakePortAudioError(Exception):
    """Stands in for sounddevice.PortAudioError."""


class FakeCallbackAbort(Exception):
    """Stands in for sounddevice.CallbackAbort."""


class FakeDevice:
    """A speaker that can be unplugged; opens, callbacks and aborts are counted."""

    def __init__(self) -> None:
        self.present = True
        self.opens = 0
        self.failed_opens = 0
        self.streams: list[FakeStream] = []


class FakeStream:
    """Calls its callback every 5 ms from a thread while the device is present."""

    latency = 0.02

    def __init__(self, fake: FakeDevice, **kwargs: object) -> None:
        if not fake.present:
            fake.failed_opens += 1
            raise FakePortAudioError("Unanticipated host error")
        fake.opens += 1
        fake.streams.append(self)
        self.device = fake
        self.channels = int(kwargs["channels"])  # type: ignore[call-overload]
        self.callback = kwargs["callback"]
        self.active = False
        self.frozen = False  # a removed PulseAudio sink: the stream stays "active", silent
        self.closed = False
        self.heard: list[np.ndarray] = []
        self._halt = threading.Event()

    def start(self) -> None:
        self.active = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        status = SimpleNamespace(output_underflow=False)
        while not self._halt.wait(0.005):
            if self.frozen or not self.device.present:
                continue
            out = np.zeros((BLOCK_FRAMES, self.channels), np.float32)
            try:
                self.callback(out, BLOCK_FRAMES, None, status)  # type: ignore[operator]
            except FakeCallbackAbort:
                self.active = False
                return
            self.heard.append(out[:, 0].copy())

    def stop(self) -> None:
        self._halt.set()
        self.active = False

    abort = stop

    def close(self) -> None:
        self.stop()
        self.closed = True


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> FakeDevice:
    fake = FakeDevice()
    module = SimpleNamespace(
        OutputStream=lambda **kw: FakeStream(fake, **kw),
        PortAudioError=FakePortAudioError,
        CallbackAbort=FakeCallbackAbort,
    )
    monkeypatch.setattr(playback, "import_sounddevice", lambda: module)
    monkeypatch.setattr(playback, "STALL_SECONDS", 0.4)
    monkeypatch.setattr(playback, "WATCH_SECONDS", 0.05)
    monkeypatch.setattr(playback, "RETRY_FIRST_SECONDS", 0.1)
    monkeypatch.setattr(playback, "RETRY_MAX_SECONDS", 0.8)
    return fake


class Events:
    """Collects the player's callbacks, so a test can wait for one."""

    def __init__(self) -> None:
        self.lost: list[str] = []
        self.back = 0
        self.finished: list[tuple[str, bool]] = []
        self._changed = threading.Condition()

    def on_lost(self, why: str) -> None:
        with self._changed:
            self.lost.append(why)
            self._changed.notify_all()

    def on_back(self) -> None:
        with self._changed:
            self.back += 1
            self._changed.notify_all()

    def on_finished(self, text: str, completed: bool) -> None:
        with self._changed:
            self.finished.append((text, completed))
            self._changed.notify_all()

    def wait(self, predicate: object, timeout: float = 5.0) -> None:
        with self._changed:
            assert self._changed.wait_for(predicate, timeout), "timed out"  # type: ignore[arg-type]


@pytest.fixture
def player(device: FakeDevice) -> Iterator[tuple[Player, Events]]:
    events = Events()
    player = Player(DEVICE, preferred_rate_hz=48000, on_finished=events.on_finished,
                    on_lost=events.on_lost, on_back=events.on_back)  # fmt: skip
    yield player, events
    player.close()


def _tone(seconds: float) -> np.ndarray:
    return np.full(round(48000 * seconds), 8000, np.int16)


def test_a_frozen_stream_is_reported_once_and_reopened_with_back_off(
    device: FakeDevice, player: tuple[Player, Events]
) -> None:
    speaker, events = player
    speaker.play(_tone(10), "long phrase")
    time.sleep(0.1)
    device.present = False
    device.streams[-1].frozen = True
    events.wait(lambda: events.lost)
    assert "asked for no audio" in events.lost[0]
    assert speaker.lost and speaker.playing_text() is None
    events.wait(lambda: ("long phrase", False) in events.finished)  # cut, not left hanging

    # While gone: play() neither blocks nor raises, and nothing waits on it.
    started = time.monotonic()
    speaker.play(_tone(1), "said while gone")
    assert time.monotonic() - started < 0.05
    assert speaker.wait_idle(1.0)
    assert ("said while gone", False) in events.finished

    # Back-off: 0.1, 0.2, 0.4, 0.8, 0.8 s... so about five attempts in two seconds, not hundreds.
    time.sleep(2.0)
    assert 3 <= device.failed_opens <= 7
    assert events.lost == [events.lost[0]]  # reported once, however many attempts fail

    device.present = True
    events.wait(lambda: events.back == 1)
    assert not speaker.lost
    speaker.play(_tone(0.05), "after")
    events.wait(lambda: ("after", True) in events.finished)
    heard = np.concatenate(device.streams[-1].heard)
    assert np.abs(heard).max() > 0.2  # the new stream really carries the phrase


def test_a_stream_the_driver_ended_counts_as_lost_at_once(
    device: FakeDevice, player: tuple[Player, Events]
) -> None:
    speaker, events = player
    time.sleep(0.05)
    dead = device.streams[-1]
    dead.stop()  # what PortAudio's ALSA thread does on ENODEV: the stream is no longer active
    started = time.monotonic()
    events.wait(lambda: events.lost)
    assert "stopped" in events.lost[0]
    assert time.monotonic() - started < playback.STALL_SECONDS  # did not need the stall timer
    events.wait(lambda: events.back == 1)  # the device itself is still there: reopened
    assert dead.closed and not speaker.lost


def test_an_abandoned_stream_that_wakes_up_cannot_play(
    device: FakeDevice, player: tuple[Player, Events]
) -> None:
    _, events = player
    old = device.streams[-1]
    old.frozen = True
    events.wait(lambda: events.back == 1)  # the device never left: the reopen succeeds at once
    out = np.zeros((BLOCK_FRAMES, 2), np.float32)
    with pytest.raises(FakeCallbackAbort):
        old.callback(out, BLOCK_FRAMES, None, SimpleNamespace(output_underflow=False))


def test_close_while_lost_returns_promptly(device: FakeDevice) -> None:
    events = Events()
    speaker = Player(DEVICE, on_lost=events.on_lost)
    device.present = False
    device.streams[-1].frozen = True
    events.wait(lambda: events.lost)
    started = time.monotonic()
    speaker.close()
    assert time.monotonic() - started < 1.0


def test_no_device_at_start_is_no_output_device(device: FakeDevice) -> None:
    device.present = False
    with pytest.raises(NoOutputDevice, match="could not be opened"):
        Player(DEVICE)

"""Supervision of the recognition thread: a crashing recogniser is rebuilt, never left dead.

The microphone stream and the engine are stand-ins here (tests/test_faults_workers.py does the
same with real PulseAudio and pocketsphinx): these tests are about what MicInput does when the
recogniser raises.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from voiceguide.app.config import Config
from voiceguide.content.locales import load_locale
from voiceguide.core.actions import CommandHeard
from voiceguide.core.locale import Locale
from voiceguide.speech_in import factory
from voiceguide.speech_in import mic as mic_input
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.mic import MicInput

BLOCK = np.zeros(480, dtype=np.float32)  # 30 ms at 16 kHz


class FakeStream:
    """Delivers silent blocks to MicInput's queue every 10 ms until closed, like PortAudio."""

    def __init__(self, mic: MicInput) -> None:
        self._closed = threading.Event()
        self._mic = mic
        threading.Thread(target=self._deliver, daemon=True).start()

    def _deliver(self) -> None:
        while not self._closed.wait(0.01):
            self._mic._callback(BLOCK[:, None], len(BLOCK), None, None)

    def close(self) -> None:
        self._closed.set()


class Engine:
    """A recogniser that runs a per-instance behaviour on each accept()."""

    sample_rate_hz = 16000

    def __init__(self, on_accept: Callable[[int], list[Hypothesis]]) -> None:
        self.on_accept = on_accept
        self.calls = 0

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        self.calls += 1
        return self.on_accept(self.calls)

    def flush(self) -> list[Hypothesis]:
        return []

    def reset(self) -> None:
        self.calls = 0


def crash_on_third(calls: int) -> list[Hypothesis]:
    if calls == 3:
        raise RuntimeError("decoder state corrupted")
    return []


def hears_it_hurts(calls: int) -> list[Hypothesis]:
    if calls == 5:
        return [Hypothesis("it hurts", True, 0.0, 0.6, 0.95)]
    return []


def always_crash(calls: int) -> list[Hypothesis]:
    raise RuntimeError("broken model")


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mic_input, "RECOGNISER_RETRY_FIRST_SECONDS", 0.1)
    monkeypatch.setattr(mic_input, "RECOGNISER_RETRY_MAX_SECONDS", 0.4)
    monkeypatch.setattr(MicInput, "_open_stream", lambda self: (FakeStream(self), 16000))


def install_engines(
    monkeypatch: pytest.MonkeyPatch, behaviours: list[Callable[[int], list[Hypothesis]] | None]
) -> list[Engine]:
    """Each create_engine call takes the next behaviour (None: creation fails); the last repeats."""
    made: list[Engine] = []

    def create_engine(name: str, locale: Locale, grammar: list[str], model: Path | None) -> Engine:
        behaviour = behaviours[min(len(made), len(behaviours) - 1)]
        if behaviour is None:
            made.append(Engine(always_crash))  # counted, so the next call moves on
            raise RuntimeError("the engine could not load its model")
        made.append(Engine(behaviour))
        return made[-1]

    monkeypatch.setattr(factory, "create_engine", create_engine)
    return made


@pytest.fixture
def mic_events() -> Iterator[tuple[list[MicInput], queue.Queue[object]]]:
    events: queue.Queue[object] = queue.Queue()
    mics: list[MicInput] = []
    yield mics, events
    for mic in mics:
        mic.close()


def start_mic(mics: list[MicInput], events: queue.Queue[object]) -> MicInput:
    locale = load_locale("en")
    mic = MicInput(Config().listen_settings(), locale, events.put, locale.commands)
    mics.append(mic)
    return mic


def wait_for_command(events: queue.Queue[object], timeout: float = 5.0) -> CommandHeard:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=left)
        except queue.Empty:
            break
        if isinstance(event, CommandHeard):
            return event
    raise AssertionError("no command was posted")


@pytest.mark.usefixtures("fast_backoff")
def test_a_crashed_recogniser_is_rebuilt_and_hears_again(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mic_events: tuple[list[MicInput], queue.Queue[object]],
) -> None:
    engines = install_engines(monkeypatch, [crash_on_third, hears_it_hurts])
    caplog.set_level(logging.INFO, logger="voiceguide.mic")
    mic = start_mic(*mic_events)
    heard = wait_for_command(mic_events[1])
    assert heard.command == "pain"
    assert len(engines) == 2 and mic.recogniser_restarts == 1
    assert mic._thread.is_alive()
    crashes = [r for r in caplog.records if "speech recognition crashed" in r.getMessage()]
    assert len(crashes) == 1
    assert "RuntimeError: decoder state corrupted" in crashes[0].getMessage()
    assert crashes[0].exc_info, "the first crash carries its traceback"
    assert any(r.getMessage() == "speech recognition restarted" for r in caplog.records)


@pytest.mark.usefixtures("fast_backoff")
def test_a_recogniser_that_always_crashes_restarts_at_a_capped_rate(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mic_events: tuple[list[MicInput], queue.Queue[object]],
) -> None:
    install_engines(monkeypatch, [always_crash])
    caplog.set_level(logging.INFO, logger="voiceguide.mic")
    mic = start_mic(*mic_events)
    time.sleep(1.5)
    restarts = mic.recogniser_restarts
    # Back-off 0.1, 0.2, 0.4, 0.4, ... s: about 5 restarts in 1.5 s, not thousands.
    assert 3 <= restarts <= 7, restarts
    assert mic._thread.is_alive()
    crashes = [r for r in caplog.records if "speech recognition crashed" in r.getMessage()]
    assert len(crashes) == restarts
    assert sum(bool(r.exc_info) for r in crashes) == 1, "one traceback, then one line each"
    delays = [float(r.getMessage().rsplit(" in ", 1)[1].removesuffix(" s")) for r in crashes]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.4]


@pytest.mark.usefixtures("fast_backoff")
def test_an_engine_that_cannot_be_rebuilt_is_retried_until_it_can(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mic_events: tuple[list[MicInput], queue.Queue[object]],
) -> None:
    engines = install_engines(monkeypatch, [crash_on_third, None, None, hears_it_hurts])
    caplog.set_level(logging.INFO, logger="voiceguide.mic")
    mic = start_mic(*mic_events)
    assert wait_for_command(mic_events[1]).command == "pain"
    assert len(engines) == 4 and mic.recogniser_restarts == 3
    messages = [r.getMessage() for r in caplog.records if "crashed" in r.getMessage()]
    assert sum("could not load its model" in m for m in messages) == 2


@pytest.mark.usefixtures("fast_backoff")
def test_a_restarted_recogniser_keeps_the_current_command_table(
    monkeypatch: pytest.MonkeyPatch, mic_events: tuple[list[MicInput], queue.Queue[object]]
) -> None:
    grammars: list[list[str]] = []
    engines = install_engines(monkeypatch, [hears_it_hurts, crash_on_third, hears_it_hurts])
    create = factory.create_engine

    def recording(name: str, locale: Locale, grammar: list[str], model: Path | None) -> Engine:
        grammars.append(grammar)
        return create(name, locale, grammar, model)

    monkeypatch.setattr(factory, "create_engine", recording)
    mic = start_mic(*mic_events)
    mic.set_commands({"pain": ["it hurts"], "stop": ["stop"]})
    assert wait_for_command(mic_events[1]).command == "pain"
    assert len(engines) == 3
    assert grammars[-1] == ["it hurts", "stop"]

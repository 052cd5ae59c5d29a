"""Real espeak-ng synthesis in a worker process, and its recovery when the worker hangs or dies."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from voiceguide.speech_out.synth import SynthesisError, Synthesizer, VoiceSettings

PHRASE = "Hold here, and breathe easily."


@pytest.fixture
def synth() -> Iterator[Synthesizer]:
    with Synthesizer(timeout_s=2.0, retries=2) as s:
        yield s


def test_renders_audible_speech_of_plausible_length(synth: Synthesizer) -> None:
    pcm = synth.render(PHRASE, VoiceSettings())
    assert pcm.sample_rate_hz == 22050
    assert 0.8 < pcm.duration_seconds < 5.0
    level = np.sqrt(np.mean((pcm.samples / 32768.0) ** 2))
    assert level > 0.02  # clearly not silence


def test_speech_rate_changes_duration(synth: Synthesizer) -> None:
    slow = synth.render(PHRASE, VoiceSettings(rate_wpm=110)).duration_seconds
    fast = synth.render(PHRASE, VoiceSettings(rate_wpm=260)).duration_seconds
    assert slow > fast * 1.6


def test_voice_names_resolve_and_unknown_voice_is_one_line_error(synth: Synthesizer) -> None:
    us = synth.render("tomato", VoiceSettings(voice="en-us"))
    gb = synth.render("tomato", VoiceSettings(voice="en-gb-x-rp"))
    assert len(us.samples) != len(gb.samples) or not np.array_equal(us.samples, gb.samples)
    with pytest.raises(SynthesisError) as err:
        synth.render("hello", VoiceSettings(voice="en-nowhere"))
    message = str(err.value)
    assert "unknown espeak-ng voice 'en-nowhere'" in message
    assert "en-us" in message and "\n" not in message


def test_engine_version_names_both_parts(synth: Synthesizer) -> None:
    assert synth.engine_version.startswith("pyttsx3-")
    assert "/espeak-ng-" in synth.engine_version


def test_killed_worker_is_replaced(synth: Synthesizer, caplog: pytest.LogCaptureFixture) -> None:
    synth.render("one", VoiceSettings())
    first = synth.worker_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    with caplog.at_level(logging.ERROR, logger="voiceguide.speech_out.synth"):
        pcm = synth.render("two", VoiceSettings())
    assert pcm.duration_seconds > 0.2
    assert synth.worker_pid not in (None, first)
    assert synth.restarts >= 1
    assert any("speech worker" in r.message for r in caplog.records)


def test_hung_worker_is_killed_and_the_phrase_retried(caplog: pytest.LogCaptureFixture) -> None:
    with Synthesizer(timeout_s=0.5, retries=1) as synth:
        synth.render("one", VoiceSettings())
        hung = synth.worker_pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)  # a worker that never answers, like pyttsx3 #126
        with caplog.at_level(logging.ERROR, logger="voiceguide.speech_out.synth"):
            pcm = synth.render("two", VoiceSettings())
        assert pcm.duration_seconds > 0.2
        assert synth.worker_pid != hung
        assert any("hung" in r.message for r in caplog.records)
        with pytest.raises(ProcessLookupError):
            os.kill(hung, 0)  # the hung worker was killed and reaped, not left behind


def test_worker_that_never_starts_gives_up_with_an_error() -> None:
    never = (sys.executable, "-c", "import time; time.sleep(60)")
    with (
        Synthesizer(startup_timeout_s=0.3, retries=1, worker_command=never) as synth,
        pytest.raises(SynthesisError, match="did not start"),
    ):
        synth.render("hello", VoiceSettings())

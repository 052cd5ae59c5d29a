"""Listening while talking, in the PulseAudio room: the box's own speech comes back into its
microphone, and a person talks over it at the same level (0 dB under the box's voice).

The box runs `voiceguide run` with its speaker in the room; module-loopback carries the speaker
back into the room sink the microphone records, with a delay, as a real room would. The echo
canceller in the microphone path (speech_in.echo_path) must remove enough of it that every
spoken command is obeyed and nothing the box says is taken for one.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio_room import AudioRoom
from tests.test_audio_e2e import (
    DEBUG_LOG,
    Lines,
    finish,
    say_until_answered,
    say_wav,
    start_run,
    type_command,
)

pytestmark = [
    pytest.mark.audio,
    pytest.mark.slow,
    # It costs 90 s of real time and depends on how busy the machine is (each ALSA recovery
    # moves the echo), so it runs only when asked: VOICEGUIDE_ROOM_ECHO=1 pytest ... On
    # 2026-12-02 it passed 6 of 6 runs, 5 of them with a phrase said twice (docs/benchmarks.md).
    pytest.mark.skipif(
        not os.environ.get("VOICEGUIDE_ROOM_ECHO"),
        reason="the room echo test (issue 10) runs with VOICEGUIDE_ROOM_ECHO=1",
    ),
]

ECHO_DB = -6.0  # the speaker heard in the room 6 dB below what it plays: a box on the floor
ECHO_LATENCY_MS = 60  # and late, by the sound server's buffers and the air


def _active_rms(samples: np.ndarray) -> float:
    """RMS of the 20 ms windows that carry speech (above -50 dBFS)."""
    n = len(samples) // 320 * 320
    frames = samples[:n].reshape(-1, 320).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = rms[rms > 10 ** (-50 / 20)]
    return float(np.sqrt(np.mean(loud**2))) if loud.size else 0.0


def _scaled(wav_path: Path, target_rms: float, out: Path) -> Path:
    """A copy of `wav_path` whose speech has RMS `target_rms` (full scale 1)."""
    with wave.open(str(wav_path)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    samples = np.frombuffer(frames, "<i2").astype(np.float64) / 32768
    samples *= target_rms / max(_active_rms(samples), 1e-9)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out


class Heard:
    """Reads the run's log on a thread and keeps each command the microphone acted on, with
    the monotonic time it was read (typed commands are not logged here)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.commands: list[tuple[float, str]] = []
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r"heard (['\"]).*?\1 -> (\w+)", line)
            if found:
                self.commands.append((time.monotonic(), found.group(2)))


def test_commands_said_over_the_box_are_obeyed_and_its_own_words_are_not(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    audio_room.set_echo(ECHO_DB, latency_ms=ECHO_LATENCY_MS)
    proc = start_run(audio_room, tmp_path, "quick-reset", stdin=subprocess.PIPE,
                     extra_config=DEBUG_LOG)  # fmt: skip
    lines, heard = Lines(proc), Heard(proc)
    said_at: list[float] = []
    try:
        _run_the_session(audio_room, proc, lines, tmp_path, said_at)
    except AssertionError as missed:  # with what the box heard and ignored, at debug level
        raise AssertionError(f"{missed}\n--- the box's log ---\n" + "\n".join(heard.lines[-80:]))
    finally:
        audio_room.set_echo(None)
        finish(proc)
    _check_what_was_obeyed(heard, said_at, proc.returncode)


def _run_the_session(
    audio_room: AudioRoom, proc: subprocess.Popen[str], lines: Lines, tmp_path: Path,
    said_at: list[float],
) -> None:  # fmt: skip
    """The person's part: three commands said at the echo's level while the box talks."""
    lines.wait_for("Quick reset.", timeout=240)  # pre-rendering comes first
    room = audio_room.record_room()
    time.sleep(3.0)  # the box talking, heard back in the room
    echo, _ = room.stop()
    echo_rms = _active_rms(echo)
    assert echo_rms > 10 ** (-45 / 20), "the box's voice should come back into the room"
    say = {
        text: _scaled(say_wav(text, tmp_path / f"{i}.wav"), echo_rms, tmp_path / f"{i}s.wav")
        for i, text in enumerate(("pause", "what's next", "it hurts"))
    }
    lines.wait_for("Lie on your back", timeout=60)  # the set-up: the box is talking
    say_until_answered(audio_room, lines, say["pause"], "Paused. Say resume", said_at)
    time.sleep(3.0)
    type_command(proc, "resume")
    lines.wait_for("Lie on your back", timeout=15)  # the set-up starts over: talking again
    say_until_answered(audio_room, lines, say["what's next"], "After this:", said_at)
    lines.wait_for("One. Flatten your back.", timeout=60)  # the reps, counted aloud
    say_until_answered(audio_room, lines, say["it hurts"], "Ending the session now.", said_at)


def _check_what_was_obeyed(heard: Heard, said_at: list[float], returncode: int | None) -> None:
    """Each command obeyed followed the person's words; the canceller's figures are logged."""
    log = "\n".join(heard.lines)
    assert returncode == 0, log
    obeyed = [command for _, command in heard.commands]
    assert {"pause", "whats_next", "pain"} <= set(obeyed), log
    # Whatever the box acted on followed something the person said, once per utterance: never
    # its own words.
    own = [(t, c) for t, c in heard.commands if not any(0 <= t - s <= 3.0 for s in said_at)]
    assert not own, log
    assert len(heard.commands) <= len(said_at), log
    stats = re.search(
        r"echo canceller: delay (\d+) ms, ([\d.-]+) dB removed over (\d+) s .*\((\d+) dB by the filter",
        log,
    )
    assert stats, log
    delay_ms, removed_db = int(stats.group(1)), float(stats.group(2))
    filter_db = int(stats.group(4))
    glitches = re.search(r"; (\d+) audio glitches", log)
    after = [(c, round(t - max(s for s in said_at if s <= t), 2)) for t, c in heard.commands
             if any(s <= t for s in said_at)]  # fmt: skip
    print(f"echo canceller in the room: delay {delay_ms} ms, {removed_db:.1f} dB removed "
          f"({filter_db} dB by the filter from the median loud block; "
          f"{glitches.group(1) if glitches else '?'} audio glitches); "
          f"heard {after} (command, seconds after the utterance began)")  # fmt: skip
    # Over all blocks the person's own words (left in on purpose) keep the figure low; the
    # median block is the box alone.
    assert removed_db >= 6.0, log
    assert filter_db >= 20, log

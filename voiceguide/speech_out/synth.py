"""Text-to-speech rendering in a killable worker process, guarded by a watchdog."""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from voiceguide.errors import UserError

log = logging.getLogger(__name__)

DEFAULT_WORKER_COMMAND = (sys.executable, "-m", "voiceguide.speech_out.synth_worker")


class SynthesisError(UserError):
    """Speech could not be rendered, even after restarting the worker."""


@dataclass(frozen=True)
class VoiceSettings:
    """How a phrase is spoken; part of every phrase-cache key."""

    voice: str = "en-us"
    rate_wpm: int = 160
    pitch: int = 50


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit speech audio."""

    samples: np.ndarray  # int16, shape (n,)
    sample_rate_hz: int

    @property
    def duration_seconds(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / self.sample_rate_hz


def read_wav(path: Path) -> Pcm:
    """Read a mono 16-bit WAV file."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        frames = wav.readframes(wav.getnframes())
        samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
        if wav.getnchannels() > 1:
            samples = samples.reshape(-1, wav.getnchannels())[:, 0].copy()
        return Pcm(samples, wav.getframerate())


class _Worker:
    """One running worker process and its line-based protocol pipe."""

    def __init__(self, command: Sequence[str], startup_timeout_s: float) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C goes to us; we stop the worker
        )
        self._buffer = b""
        try:
            hello = self.read_reply(startup_timeout_s)
        except (TimeoutError, EOFError, OSError, ValueError):
            self.kill()
            raise
        if not hello.get("ready"):
            self.kill()
            hint = str(hello.get("hint", " (is espeak-ng installed?)"))
            raise SynthesisError(
                "speech synthesis is unavailable: "
                f"{hello.get('error', 'worker failed to start')}{hint}"
            )
        self.engine_version = str(hello["engine_version"])

    def send(self, request: dict[str, object]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()

    def read_reply(self, timeout_s: float) -> dict[str, object]:
        """Read one reply line, or raise TimeoutError / EOFError; the watchdog lives here."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass  # the pipe to a killed process may already be broken

    def close(self) -> None:
        """Ask politely (close stdin), then kill if it does not exit promptly."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class Synthesizer:
    """Render text to WAV through a worker process that is restarted when it hangs or dies."""

    def __init__(
        self,
        timeout_s: float = 10.0,
        retries: int = 2,
        startup_timeout_s: float = 15.0,
        worker_command: Sequence[str] = DEFAULT_WORKER_COMMAND,
    ) -> None:
        self.timeout_s = timeout_s
        self.retries = retries
        self.startup_timeout_s = startup_timeout_s
        self.worker_command = tuple(worker_command)
        self._worker: _Worker | None = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._engine_version: str | None = None
        self.restarts = 0

    @property
    def engine_version(self) -> str:
        """Engine name and versions, e.g. 'pyttsx3-2.99/espeak-ng-1.51' (starts the worker)."""
        if self._engine_version is None:
            # Remembered after the first answer so cache lookups never wait for a busy worker.
            with self._lock:
                self._engine_version = self._ensure_worker().engine_version
        return self._engine_version

    @property
    def worker_pid(self) -> int | None:
        """Process id of the current worker, if one is running."""
        worker = self._worker
        return worker.process.pid if worker is not None else None

    def _ensure_worker(self) -> _Worker:
        """Return a live worker, starting one (with retries) if needed."""
        if self._worker is not None and self._worker.process.poll() is not None:
            log.error("speech worker exited (code %s); restarting", self._worker.process.poll())
            self._discard_worker()
        attempts = 1 + self.retries
        for attempt in range(attempts):
            if self._worker is not None:
                break
            try:
                self._worker = _Worker(self.worker_command, self.startup_timeout_s)
            except (TimeoutError, EOFError, OSError, ValueError) as exc:
                log.error(
                    "speech worker failed to start (%s), attempt %d of %d",
                    type(exc).__name__,
                    attempt + 1,
                    attempts,
                )
                self.restarts += 1
        if self._worker is None:
            raise SynthesisError("speech synthesis is unavailable: the speech worker did not start")
        return self._worker

    def render_to_file(self, text: str, settings: VoiceSettings, path: Path) -> None:
        """Render `text` to a WAV file at `path`; raise SynthesisError if every attempt fails."""
        last_problem = "no attempt made"
        with self._lock:
            for _attempt in range(1 + self.retries):
                worker = self._ensure_worker()
                self._next_id += 1
                request = {
                    "id": self._next_id,
                    "text": text,
                    "voice": settings.voice,
                    "rate_wpm": settings.rate_wpm,
                    "pitch": settings.pitch,
                    "path": str(path),
                }
                try:
                    worker.send(request)
                    reply = worker.read_reply(self.timeout_s)
                except TimeoutError:
                    last_problem = f"synthesis took longer than {self.timeout_s:g} s"
                    log.error("speech worker hung on %r; killing it and retrying", text[:60])
                    self._discard_worker()
                    continue
                except (EOFError, OSError, ValueError):
                    last_problem = "the speech worker died"
                    log.error("speech worker died while rendering %r; retrying", text[:60])
                    self._discard_worker()
                    continue
                if reply.get("id") != request["id"]:
                    last_problem = "the speech worker answered out of turn"
                    self._discard_worker()
                    continue
                if not reply.get("ok"):
                    # The engine itself refused (e.g. unknown voice): retrying will not help.
                    raise SynthesisError(f"speech synthesis failed: {reply.get('error')}")
                return
        raise SynthesisError(f"speech synthesis failed: {last_problem}")

    def render(self, text: str, settings: VoiceSettings) -> Pcm:
        """Render `text` and return its audio."""
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            path = Path(tmp) / "phrase.wav"
            self.render_to_file(text, settings, path)
            return read_wav(path)

    def _discard_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
            self.restarts += 1

    def close(self) -> None:
        """Stop the worker process."""
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

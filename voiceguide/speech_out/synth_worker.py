"""Speech synthesis worker process: renders text to WAV files with espeak-ng through pyttsx3.

Run as `python -m voiceguide.speech_out.synth_worker`. It reads one JSON request per line on stdin and
answers one JSON line per request on its protocol pipe (the original stdout). The engine lives
only in this process so that the parent (voiceguide.speech_out.synth) can kill and restart it if it hangs.

We use pyttsx3's espeak-ng binding and collect the driver's audio buffers ourselves instead of
calling `save_to_file` + `runAndWait`: that loop cannot be interrupted (pyttsx3 #126), and with
pyttsx3 2.99 it also dropped the first utterance and ignored rate changes once voices had been
listed, so files came out wrong.

That binding is private (`pyttsx3.drivers._espeak`), so pyproject.toml pins pyttsx3 exactly
(PYTTSX3_PIN) and `load_binding` refuses, in one line, a pyttsx3 whose binding moved or lost
a function we call, rather than failing later in the middle of a phrase.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import wave
from typing import Any, TextIO

# espeak's "synchronous" mode: Synth() returns only after every buffer reached our callback.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_BUFFER_MS = 200
PYTTSX3_PIN = "2.99"  # the pyttsx3 whose private espeak binding this worker was written for
# Everything this worker takes from that binding.
_BINDING_NAMES = (
    "Initialize", "SetSynthCallback", "Info", "ListVoices", "SetVoiceByName", "SetParameter",
    "Synth", "Synchronize", "RATE", "PITCH", "VOLUME", "CHARS_UTF8",
)  # fmt: skip


class BindingMissing(RuntimeError):
    """pyttsx3's espeak-ng binding is not where, or not what, this worker expects."""


def _pyttsx3_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "(not installed)"


def load_binding() -> Any:
    """pyttsx3's espeak-ng binding module, or BindingMissing with a one-line reason."""
    fix = f"voiceguide needs pyttsx3=={PYTTSX3_PIN}: pip install 'pyttsx3=={PYTTSX3_PIN}'"
    try:
        from pyttsx3.drivers import _espeak
    except ImportError as exc:
        raise BindingMissing(
            f"pyttsx3 {_pyttsx3_version()} has no espeak-ng binding at "
            f"pyttsx3.drivers._espeak ({exc}); {fix}"
        ) from None
    missing = [name for name in _BINDING_NAMES if not hasattr(_espeak, name)]
    if missing:
        raise BindingMissing(
            f"pyttsx3 {_pyttsx3_version()}'s espeak-ng binding lacks {', '.join(missing)}; {fix}"
        )
    return _espeak


class Engine:
    """espeak-ng, loaded through pyttsx3's binding, rendering into memory."""

    def __init__(self) -> None:
        _espeak = load_binding()
        self._espeak = _espeak
        self.sample_rate_hz = _espeak.Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS)
        if self.sample_rate_hz <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        self._chunks: list[bytes] = []
        # The binding keeps the ctypes wrapper alive in a module global, as it must.
        _espeak.SetSynthCallback(self._on_audio)
        self._voice_ids = self._list_voice_ids()
        self._voices: dict[str, str] = {}

    def version(self) -> str:
        """Engine name and versions, used in phrase-cache keys."""
        from importlib.metadata import version

        espeak_version = self._espeak.Info(None)
        if isinstance(espeak_version, bytes):
            espeak_version = espeak_version.decode("ascii", "replace")
        return f"pyttsx3-{version('pyttsx3')}/espeak-ng-{espeak_version}"

    def _list_voice_ids(self) -> list[tuple[str, str]]:
        # Copy the strings now: the structs point into memory espeak may reuse.
        return [
            (v.identifier.decode("utf-8", "replace").lower(), v.name.decode("utf-8", "replace"))
            for v in self._espeak.ListVoices(None)
        ]

    def resolve_voice(self, wanted: str) -> str:
        """Map a voice name such as 'en-us' to an espeak-ng voice id such as 'gmw/en-us'."""
        if wanted in self._voices:
            return self._voices[wanted]
        key = wanted.lower()
        # espeak-ng silently falls back to a default voice for unknown names, so match ourselves.
        for match in (
            lambda ident, name: ident == key,
            lambda ident, name: ident.rsplit("/", 1)[-1] == key,
            lambda ident, name: name.lower() == key,
        ):
            for ident, name in self._voice_ids:
                if match(ident, name):
                    self._voices[wanted] = ident
                    return ident
        short = sorted({i.rsplit("/", 1)[-1] for i, _ in self._voice_ids})
        similar = [s for s in short if s[:2] == key[:2]]
        hint = f" (similar: {', '.join(similar[:12])})" if similar else ""
        raise ValueError(f"unknown espeak-ng voice '{wanted}'{hint}")

    def _on_audio(self, wav: Any, num_samples: int, events: Any) -> int:
        if num_samples > 0:
            self._chunks.append(ctypes.string_at(wav, num_samples * 2))
        return 0  # 0 = keep going

    def render(self, text: str, voice: str, rate_wpm: int, pitch: int) -> bytes:
        """Return 16-bit mono PCM for `text`."""
        es = self._espeak
        if es.SetVoiceByName(self.resolve_voice(voice).encode("utf-8")) != 0:
            raise RuntimeError(f"espeak-ng could not load voice '{voice}'")
        # Set after the voice: loading a voice resets the speech parameters.
        es.SetParameter(es.RATE, int(rate_wpm), 0)
        es.SetParameter(es.PITCH, int(pitch), 0)
        es.SetParameter(es.VOLUME, 100, 0)
        self._chunks = []
        result = es.Synth(text.encode("utf-8"), flags=es.CHARS_UTF8)
        es.Synchronize()
        if result != 0:
            raise RuntimeError(f"espeak-ng synthesis failed (code {result})")
        return b"".join(self._chunks)


def _handle(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    pcm = engine.render(
        request["text"], request["voice"], int(request["rate_wpm"]), int(request["pitch"])
    )
    if not pcm:
        raise RuntimeError("the engine produced no audio")
    with wave.open(request["path"], "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(engine.sample_rate_hz)
        wav.writeframes(pcm)
    return {"id": request["id"], "ok": True, "frames": len(pcm) // 2}


def serve(requests: TextIO, replies: TextIO) -> int:
    """Answer render requests until stdin closes."""
    try:
        engine = Engine()
        hello: dict[str, Any] = {
            "ready": True,
            "engine_version": engine.version(),
            "sample_rate_hz": engine.sample_rate_hz,
        }
    except BindingMissing as exc:  # espeak-ng may be fine: say what is wrong instead
        hello = {"ready": False, "error": str(exc), "hint": ""}
    except Exception as exc:  # noqa: BLE001 - any failure here means no synthesis at all
        hello = {"ready": False, "error": f"{type(exc).__name__}: {exc}"}
    replies.write(json.dumps(hello) + "\n")
    replies.flush()
    if not hello["ready"]:
        return 1
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = _handle(engine, request)
        except Exception as exc:  # noqa: BLE001 - report it and keep serving; the parent decides
            reply = {"id": request.get("id"), "ok": False, "error": str(exc)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


def main() -> int:
    """Entry point: keep the protocol on the original stdout, send stray prints to stderr."""
    protocol_fd = os.dup(sys.stdout.fileno())
    # Libraries may print to stdout; point fd 1 at stderr so nothing corrupts the replies.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with os.fdopen(protocol_fd, "w", encoding="utf-8") as replies:
        return serve(sys.stdin, replies)


if __name__ == "__main__":
    raise SystemExit(main())

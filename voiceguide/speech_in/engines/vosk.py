"""Vosk adapter: grammar-restricted command recognition, with a vocabulary check up front.

Vosk only logs a warning and silently drops grammar words its model does not know, which
can turn "end session" into "end". So every grammar word is looked up in the model first,
and missing ones are reported in one line. The vosk package is imported only here.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from voiceguide.core.locale import Locale
from voiceguide.errors import UserError
from voiceguide.speech_in.engine import Hypothesis

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16000
# Kaldi verbosity: -1 hides its chatty LOG lines but keeps warnings and errors, which we
# capture during loading and pass on through logging (see _capture_stderr).
VOSK_LOG_LEVEL = -1
# Models name their "unknown word" differently: [unk] in the English small models, <UNK> in
# the Korean one. Whichever the model knows becomes the grammar's garbage word.
UNKNOWN_WORDS = ("[unk]", "<UNK>", "<unk>")
UNKNOWN_TEXT = "[unk]"
# Vosk scores no partial result, so a partial's confidence is how long its text has stayed
# the same: 0 when it first appears, 1 once it has held for this long. Early partials of a
# grammar decoder flit between phrases; one that holds is one the decoder has settled on.
SETTLE_SECONDS = 0.15

OnMissing = Literal["error", "skip"]

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


@contextmanager
def _capture_stderr() -> Iterator[list[str]]:
    """Collect what native code writes to file descriptor 2 while the block runs.

    Kaldi logs through C++ std::cerr, which Python's sys.stderr cannot intercept. Only
    used around model loading and grammar compilation, which are short and happen before
    the audio threads start.
    """
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


def _relay(lines: list[str]) -> None:
    """Pass captured Kaldi lines on: warnings and errors to logging, anything else back out."""
    for line in lines:
        if line.startswith("WARNING"):
            log.warning("vosk: %s", line)
        elif line.startswith("ERROR"):
            log.error("vosk: %s", line)
        elif line.startswith(("LOG", "VLOG")):
            log.debug("vosk: %s", line)
        elif line:
            print(line, file=sys.stderr)


def _kaldi_error(lines: list[str]) -> str | None:
    """The message of the last ERROR line, without Kaldi's 'ERROR (VoskAPI:...) ' prefix."""
    errors = [line for line in lines if line.startswith("ERROR")]
    if not errors:
        return None
    message = errors[-1]
    return message.split(") ", 1)[1] if ") " in message else message


def check_model_dir(path: Path) -> None:
    """Raise a UserError unless `path` is a Vosk model whose graph accepts a grammar."""
    if not path.is_dir():
        raise UserError(f"Vosk model folder {path} does not exist", 2)
    if not (path / "am" / "final.mdl").is_file():
        raise UserError(f"{path} is not a Vosk model folder (no am/final.mdl)", 2)
    graph = path / "graph"
    if not (graph / "HCLr.fst").is_file() or not (graph / "Gr.fst").is_file():
        # Big models compile their vocabulary into one fixed graph (HCLG.fst); Vosk then
        # ignores the grammar and transcribes everything, which is not what we listen for.
        raise UserError(
            f"the Vosk model in {path} cannot be limited to command phrases (it has no "
            "graph/HCLr.fst and graph/Gr.fst); use a small model such as "
            "vosk-model-small-en-us-0.15",
            2,
        )


def load_model(path: Path) -> Any:
    """Load a Vosk model once per process; a broken model is a one-line UserError."""
    key = Path(path).resolve()
    with _models_lock:
        if key in _models:
            return _models[key]
        check_model_dir(key)
        import vosk

        vosk.SetLogLevel(VOSK_LOG_LEVEL)
        with _capture_stderr() as lines:
            try:
                model = vosk.Model(str(key))
            except Exception:  # noqa: BLE001 (vosk raises a bare Exception; its log says why)
                model = None
        if model is None:
            reason = _kaldi_error(lines) or "vosk could not read it"
            raise UserError(f"cannot load the Vosk model in {key}: {reason}")
        _relay(lines)
        _models[key] = model
        return model


def _phrase_words(phrase: str) -> list[str]:
    return phrase.lower().split()


def _word_lookup(model: Any, path: Path) -> Callable[[str], bool] | None:
    """A 'does the model know this word' test, or None if the model gives no way to tell."""
    find = getattr(model, "vosk_model_find_word", None)
    if find is not None:
        return lambda word: find(word) >= 0
    words_txt = path / "graph" / "words.txt"
    if words_txt.is_file():
        with words_txt.open(encoding="utf-8") as f:
            known = {line.split(maxsplit=1)[0] for line in f if line.strip()}
        return known.__contains__
    return None


def _missing(known: Callable[[str], bool], phrases: Sequence[str]) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for phrase in phrases:
        for word in dict.fromkeys(_phrase_words(phrase)):
            if not known(word):
                missing.setdefault(word, []).append(phrase)
    return missing


def find_missing_words(model: Any, path: Path, phrases: Sequence[str]) -> dict[str, list[str]]:
    """Words of `phrases` the model does not know, each with the phrases that use it."""
    known = _word_lookup(model, path)
    if known is None:
        log.warning("cannot check grammar words against the Vosk model in %s", path)
        return {}
    return _missing(known, phrases)


def missing_words_message(path: Path, missing: dict[str, list[str]]) -> str:
    """One line naming every missing word and a phrase that uses it."""
    listed = ", ".join(f"'{word}' (in '{phrases[0]}')" for word, phrases in missing.items())
    return (
        f"the Vosk model in {path} does not know {len(missing)} command word(s): {listed}; "
        "Vosk would silently drop them, so change these phrases or use another model"
    )


def _anything(word: str) -> bool:
    return True


class VoskEngine:
    """Recognises only the given phrases (plus an unknown-word path) with a Vosk model."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(
        self,
        model_path: Path,
        grammar_phrases: Sequence[str],
        filler_phrases: Sequence[str] = (),
        on_missing: OnMissing = "error",
    ) -> None:
        self.model_path = Path(model_path)
        self._model = load_model(self.model_path)
        known = _word_lookup(self._model, self.model_path)
        if known is None:
            log.warning("cannot check grammar words against the Vosk model in %s", model_path)
            known = _anything
        phrases = list(dict.fromkeys(p.strip().lower() for p in grammar_phrases if p.strip()))
        missing = _missing(known, phrases)
        if missing:
            message = missing_words_message(self.model_path, missing)
            if on_missing == "error":
                raise UserError(message, 2)
            log.warning("%s (those phrases are left out)", message)
            dropped = {p for ps in missing.values() for p in ps}
            phrases = [p for p in phrases if p not in dropped]
        if not phrases:
            raise UserError("no command phrases left for the Vosk grammar", 2)
        self.grammar_phrases: tuple[str, ...] = tuple(phrases)
        self.command_words = frozenset(w for p in phrases for w in _phrase_words(p))

        # Fillers are optional, so unknown ones are simply left out, and a filler that is
        # also a command phrase stays a command.
        fillers = [f.strip().lower() for f in filler_phrases if f.strip()]
        unknown_fillers = _missing(known, fillers)
        fillers = [f for f in dict.fromkeys(fillers) if f not in phrases]
        fillers = [f for f in fillers if not set(_phrase_words(f)) & unknown_fillers.keys()]
        self.unknown_word = next((w for w in UNKNOWN_WORDS if known(w)), None)
        grammar = [*phrases, *fillers, *([self.unknown_word] if self.unknown_word else [])]
        self._grammar_json = json.dumps(grammar, ensure_ascii=False)
        self._recognizer = self._make_recognizer()
        self._fed_samples = 0
        self._forget_utterance()

    def _forget_utterance(self) -> None:
        self._partial = ""  # the current partial text, and when it first appeared
        self._partial_since_seconds = 0.0
        self._partial_sent = -1.0  # confidence of the last partial returned for that text
        self._utterance_seen_seconds: float | None = None  # first partial of the utterance

    def _make_recognizer(self) -> Any:
        import vosk

        with _capture_stderr() as lines:
            recognizer = vosk.KaldiRecognizer(
                self._model, float(SAMPLE_RATE_HZ), self._grammar_json
            )
        _relay(lines)
        recognizer.SetWords(True)
        # SetPartialWords(True) would give partial word times, but with vosk 0.3.45 it
        # leaves the partial text empty, and partials are what pain and stop act on.
        return recognizer

    @property
    def _fed_seconds(self) -> float:
        return self._fed_samples / SAMPLE_RATE_HZ

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        """Feed 16 kHz mono 16-bit PCM; returns a final result or a new partial, if any."""
        self._fed_samples += len(pcm16_mono) // 2
        if self._recognizer.AcceptWaveform(bytes(pcm16_mono)):
            return self._final(self._recognizer.Result())
        text = self._show(json.loads(self._recognizer.PartialResult()).get("partial", "").split())
        now = self._fed_seconds
        if not text:
            self._partial = ""
            return []
        if self._utterance_seen_seconds is None:
            self._utterance_seen_seconds = now
        if text != self._partial:
            self._partial, self._partial_since_seconds, self._partial_sent = text, now, -1.0
        confidence = min(1.0, (now - self._partial_since_seconds) / SETTLE_SECONDS)
        if confidence == self._partial_sent:
            return []
        self._partial_sent = confidence
        # Without word times for partials, the span runs from when the utterance was first
        # heard (a little after its real start) to the audio fed so far.
        return [Hypothesis(text, False, self._utterance_seen_seconds, now, confidence)]

    def flush(self) -> list[Hypothesis]:
        """End of stream: the final result for any audio still being decoded."""
        return self._final(self._recognizer.FinalResult())

    def reset(self) -> None:
        """Start a new stream: drop any utterance in progress; times count from zero again."""
        # A fresh recogniser (about a millisecond with a command grammar) rather than Reset():
        # Vosk's word times keep counting across Reset(), and a new stream starts at zero.
        self._recognizer = self._make_recognizer()
        self._fed_samples = 0
        self._forget_utterance()

    def _show(self, words: list[str]) -> str:
        return " ".join(UNKNOWN_TEXT if w == self.unknown_word else w for w in words)

    def _final(self, result_json: str) -> list[Hypothesis]:
        utterance_seen = self._utterance_seen_seconds
        self._forget_utterance()
        result = json.loads(result_json)
        words: list[dict[str, Any]] = result.get("result", [])
        text = self._show([w["word"] for w in words] or result.get("text", "").split())
        if not text:
            return []
        # Times and confidence come from the command words, not from the fillers or
        # [unk] around them: the weakest command word decides how sure we are.
        scored = [w for w in words if w["word"] in self.command_words]
        span = scored or words
        if span:
            start, end = float(span[0]["start"]), float(span[-1]["end"])
        else:
            start = utterance_seen if utterance_seen is not None else self._fed_seconds
            end = self._fed_seconds
        confidence = min(float(w["conf"]) for w in scored) if scored else 0.0
        return [Hypothesis(text, True, start, end, max(0.0, min(1.0, confidence)))]


def create_vosk_engine(
    locale: Locale,
    grammar_phrases: Sequence[str],
    model_path: Path | None = None,
    on_missing: OnMissing = "error",
) -> VoskEngine:
    """A VoskEngine for `locale`, with its fillers; no model_path means the installed default.

    The default is the first installed model for the locale's language in
    models/manifest.yaml, in the default places; speech_in.factory passes the model that the
    settings name.
    """
    if model_path is None:
        from voiceguide.speech_in.models.locate import resolve_vosk_model
        from voiceguide.speech_in.settings import ModelSettings

        model_path = resolve_vosk_model(ModelSettings(), locale.language)
    return VoskEngine(
        model_path,
        grammar_phrases,
        filler_phrases=locale.asr_fillers,
        on_missing=on_missing,
    )

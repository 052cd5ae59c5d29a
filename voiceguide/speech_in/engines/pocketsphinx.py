"""PocketSphinx adapter: a command grammar checked against a free phone loop, per utterance.

Two decoders run side by side on the same speech:

- the *grammar* decoder may only hear silence, noise fillers and one command phrase (with a
  polite carrier word such as "please" around it), so it always names some command;
- the *phone-loop* decoder hears any sequence of phones, so it explains any speech well.

The difference of their path scores per frame is a log-likelihood ratio: close to zero when
the sound really is the command, far below zero for other talk forced into a command. It
becomes the hypothesis confidence, and the listener's rejection thresholds act on it.

Utterances are cut by PocketSphinx's voice-activity detector with a short hangover, and
only speech is decoded; an utterance longer than any command is not decoded past that point
(it is talk, not a command), which keeps the cost of a television low. The pocketsphinx
package is imported only here and in pocketsphinx_grammar (the model's files); the grammar
itself is built there, and the tuning knobs are in pocketsphinx_settings.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.audio.pcm import SPEECH_RATE_HZ
from voiceguide.errors import UserError
from voiceguide.speech_in.denoise import Denoiser, SteadyNoiseGate
from voiceguide.speech_in.endpoint import NoiseFloorVad
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.engines.pocketsphinx_grammar import (
    CARRIERS_AFTER,
    CARRIERS_BEFORE,
    command_graph,
    grammar_words,
    missing_words,
    missing_words_message,
    model_paths,
    read_dictionary,
)
from voiceguide.speech_in.engines.pocketsphinx_settings import DEFAULT_SETTINGS, SphinxSettings

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = SPEECH_RATE_HZ
FRAME_SAMPLES = 160  # 10 ms: the VAD's frame and the decoder's frame rate
FRAMES_PER_SECOND = 100
LOG_BASE = 1.0001  # PocketSphinx's integer log base


def _log(value: float) -> float:
    """PocketSphinx's Python scores are exp()'d integers in log base 1.0001; undo that."""
    return math.log(value) / math.log(LOG_BASE) if value > 0 else -math.inf


class _NoReference:
    """Stands in for the phone-loop decoder when it is switched off: a path score of 0."""

    class _Hyp:
        score = 1.0

    def start_utt(self) -> None: ...
    def end_utt(self) -> None: ...
    def process_raw(self, pcm: bytes) -> None: ...
    def reinit_feat(self) -> None: ...
    def hyp(self) -> object:
        return self._Hyp()


class PocketsphinxEngine:
    """Streaming command recogniser on PocketSphinx with the bundled en-us model."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(
        self,
        grammar_phrases: Sequence[str],
        settings: SphinxSettings = DEFAULT_SETTINGS,
        model_dir: Path | None = None,
        on_missing: str = "error",
    ) -> None:
        from pocketsphinx import Config, Decoder, Vad

        self.settings = settings
        hmm, dictionary, phone_lm = model_paths(model_dir)
        phrases = list(dict.fromkeys(" ".join(grammar_words(p)) for p in grammar_phrases))
        phrases = [p for p in phrases if p]
        missing = missing_words(phrases, dictionary)
        if missing:
            if on_missing == "error":
                raise UserError(missing_words_message(missing), 2)
            log.warning("%s (those phrases are left out)", missing_words_message(missing))
            phrases = [p for p in phrases if not set(p.split()) & missing.keys()]
        if not phrases:
            raise UserError("no command phrases to listen for", 2)
        self.grammar_phrases = tuple(phrases)
        self._phrase_set = frozenset(phrases)
        words = {w for p in phrases for w in p.split()} | {*CARRIERS_BEFORE, *CARRIERS_AFTER}
        prons = read_dictionary(dictionary, frozenset(words))
        with tempfile.TemporaryDirectory(prefix="voiceguide-sphinx-") as folder:
            dict_path = Path(folder) / "words.dict"
            dict_path.write_text(
                "".join(
                    f"{w}{'' if i == 0 else f'({i + 1})'} {pron}\n"
                    for w in sorted(prons)
                    for i, pron in enumerate(prons[w])
                )
            )
            # Both decoders score every senone, so both normalise each frame by the same best
            # score and their path scores can be compared; insertion penalties are off, so
            # the ratio is about sound, not about how many words or phones were used.
            # FATAL: the grammar search reports every utterance that ends mid-phrase ("Final
            # result does not match the grammar") as an ERROR line, which in a service's
            # journal reads like a fault; real set-up failures raise in Python anyway.
            common = dict(  # noqa: C408 - reads as the decoder's keyword options
                hmm=str(hmm), lm=None, loglevel="FATAL", compallsen=True, dither=True, seed=1,
                lw=settings.language_weight, wip=1.0, pip=1.0, ds=settings.frame_skip,
                topn=settings.topn, beam=settings.beam, pbeam=settings.beam,
                wbeam=settings.word_beam, cmninit=settings.cmn_init,
            )  # fmt: skip
            self._grammar: Any = Decoder(Config(dict=str(dict_path), fsgusefiller=False, **common))
            self._phones: Any = (
                Decoder(Config(allphone=str(phone_lm), **common))
                if settings.phone_loop
                else _NoReference()
            )
        start, final, transitions = command_graph([p.split() for p in phrases], settings)
        fsg = self._grammar.create_fsg("commands", start, final, transitions)
        self._grammar.add_fsg("commands", fsg)
        self._grammar.activate_search("commands")
        self._vad = Vad(settings.vad_mode, SAMPLE_RATE_HZ, FRAME_SAMPLES / SAMPLE_RATE_HZ)
        self._hangover = round(settings.hangover_seconds * FRAMES_PER_SECOND)
        self._partial_pause = round(settings.partial_pause_seconds * FRAMES_PER_SECOND)
        self._window = round(settings.window_seconds * FRAMES_PER_SECOND)
        self._in_utt = self._decoding = False
        self._denoiser: Denoiser | None = None
        self._can_denoise = settings.denoise_steady_noise
        self.reset()

    # ---- stream handling ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the stream: drop any utterance in progress; times count from zero."""
        self._forget()
        # Feature extraction starts afresh: the cepstral mean, which each utterance moves
        # towards what the microphone hears, from `settings.cmn_init` again, and the dither's
        # random numbers from their seed. What a stream is heard as then never depends on what an
        # earlier one held (carried over, the benchmark's figures moved by a point between
        # two runs of the same corpus, as streams met other streams first).
        self._grammar.reinit_feat()
        self._phones.reinit_feat()

    def _forget(self) -> None:
        """Drop the utterance in progress and the stream's state, keeping the learnt mean."""
        if self._decoding:
            self._grammar.end_utt()
            self._phones.end_utt()
        s = self.settings
        self._floor_vad = NoiseFloorVad(
            s.vad_margin_db, s.vad_min_dbfs, floor_percentile=s.vad_floor_percentile
        )
        self._pending = b""
        self._gate = SteadyNoiseGate()
        self._denoising = False
        if self._denoiser is not None:
            self._denoiser.close()
            self._denoiser = None
        if self._can_denoise:
            try:
                self._denoiser = Denoiser(FRAME_SAMPLES, SAMPLE_RATE_HZ)
            except RuntimeError as exc:
                log.info("noise suppression is off: %s", exc)
                self._can_denoise = False
        self._frame_index = 0  # frames seen so far
        self._in_utt = False
        self._decoding = False  # False once an utterance is too long to be a command
        self._utt_start = 0  # stream frame of the current window's first decoded frame
        self._silence_run = 0
        self._preroll: deque[bytes] = deque(
            maxlen=max(1, round(self.settings.preroll_seconds * FRAMES_PER_SECOND))
        )
        self._onset: deque[bool] = deque(maxlen=self.settings.onset_window_frames)
        self._scores: list[tuple[int, float]] = []  # (window frame, grammar - phones score)
        self._speech: list[bool] = []  # VAD decision of every frame of the current window
        self._last_partial = ""

    def accept(self, pcm16_mono: bytes) -> list[Hypothesis]:
        """Feed 16 kHz mono 16-bit PCM; returns new partial and final results."""
        data = self._pending + bytes(pcm16_mono)
        usable = len(data) - len(data) % (2 * FRAME_SAMPLES)
        self._pending = data[usable:]
        samples = np.frombuffer(data[:usable], np.int16).reshape(-1, FRAME_SAMPLES)
        levels = self._floor_vad.levels(samples)  # of the raw input: the gate judges the room
        if self._denoiser is not None and len(samples):
            noisy = self._gate.update(levels)
            if not self._in_utt:  # never switch signals in the middle of an utterance
                if noisy != self._denoising:
                    log.debug("steady noise: denoiser %s", "on" if noisy else "off")
                self._denoising = noisy
            if self._gate.warming:  # its noise estimate adapts only while it runs
                cleaned = self._denoiser.process(samples)
                if self._denoising:
                    samples = cleaned
                    data = samples.tobytes() + data[usable:]
                    levels = self._floor_vad.levels(samples)
        loud = self._floor_vad.decide_levels(levels)
        results: list[Hypothesis] = []
        batch: list[bytes] = []
        for k, offset in enumerate(range(0, usable, 2 * FRAME_SAMPLES)):
            frame = data[offset : offset + 2 * FRAME_SAMPLES]
            speech = bool(loud[k]) and self._vad.is_speech(frame)
            self._speech.append(speech)
            if not self._decoding and len(self._speech) > 1000:
                del self._speech[:-500]  # between utterances only the last few are needed
            self._frame_index += 1
            if not self._in_utt:
                self._preroll.append(frame)
                self._onset.append(speech)
                if sum(self._onset) >= self.settings.onset_frames:
                    self._start_utterance(list(self._preroll))
                continue
            if self._decoding:
                batch.append(frame)
            self._silence_run = 0 if speech else self._silence_run + 1
            if self._silence_run >= self._hangover:
                self._process(batch)
                batch = []
                if self._decoding:
                    results += self._end_window()
                self._in_utt = self._decoding = False
            elif self._decoding and self._frame_index - self._utt_start >= self._window:
                # Longer than any command: talk. Decide on what was said so far (a safety
                # phrase may be in it) and stop decoding until the talk pauses.
                self._process(batch)
                batch = []
                results += self._end_window()
                self._decoding = False
        if batch and self._decoding:
            self._process(batch)
            if self._silence_run >= self._partial_pause:
                results += self._partial()
        return results

    def flush(self) -> list[Hypothesis]:
        """End of stream: the final result of any utterance in progress."""
        self._pending = b""
        decoding = self._decoding
        self._in_utt = self._decoding = False
        return self._end_window() if decoding else []

    def decode_segment(self, pcm16_mono: bytes) -> Hypothesis | None:
        """The grammar's final result for this audio decoded as one utterance, or None.

        For a second opinion on a stretch another engine has already cut out: no voice
        activity detection or denoising decides where the utterance is. The stream in
        progress is forgotten, and times count from the segment's start; the cepstral mean
        learnt from earlier segments is kept (the same microphone) until `reset`.
        """
        self._forget()
        usable = len(pcm16_mono) - len(pcm16_mono) % (2 * FRAME_SAMPLES)
        frames = [
            pcm16_mono[k : k + 2 * FRAME_SAMPLES] for k in range(0, usable, 2 * FRAME_SAMPLES)
        ]
        if not frames:
            return None
        self._start_utterance([])
        # The confidence measures the command against free phones across its own frames,
        # sampled after every 30 ms as in a stream, and counts the speech around it.
        for k in range(0, len(frames), 3):
            batch = frames[k : k + 3]
            self._speech += [self._vad.is_speech(f) for f in batch]
            self._process(batch)
        results = self._end_window()
        self._in_utt = self._decoding = False
        return results[0] if results else None

    def _process(self, frames: list[bytes]) -> None:
        if not frames:
            return
        pcm = b"".join(frames)
        self._grammar.process_raw(pcm)
        self._phones.process_raw(pcm)
        grammar, phones = self._grammar.hyp(), self._phones.hyp()
        if grammar is not None and phones is not None:
            diff = _log(grammar.score) - _log(phones.score)
            if math.isfinite(diff):
                self._scores.append((self._grammar.n_frames(), diff))

    def _start_utterance(self, frames: list[bytes]) -> None:
        self._grammar.start_utt()
        self._phones.start_utt()
        self._in_utt = self._decoding = True
        self._utt_start = self._frame_index - len(frames)
        self._silence_run = 0
        self._scores = [(0, 0.0)]
        self._speech = self._speech[-len(frames) :] if frames else []
        self._process(frames)
        self._preroll.clear()
        self._onset.clear()
        self._last_partial = ""

    def _end_window(self) -> list[Hypothesis]:
        self._grammar.end_utt()
        self._phones.end_utt()
        return self._result(final=True)

    def _partial(self) -> list[Hypothesis]:
        hyp = self._result(final=False)
        if not hyp:
            return []
        key = f"{hyp[0].text}|{hyp[0].confidence:.2f}"
        if key == self._last_partial:
            return []
        self._last_partial = key
        return hyp

    def _span_llr(self, first: int, last: int, total: float | None) -> float:
        """Log-likelihood ratio per frame over frames [first, last] of the window.

        The running score difference is sampled after every chunk; its growth across the
        command's frames compares the command with free phones there, not over the
        surrounding talk or silence, which may be much longer.
        """
        frames = np.array([f for f, _ in self._scores], np.float64)
        diffs = np.array([d for _, d in self._scores], np.float64)
        if total is not None:
            frames = np.append(frames, self._grammar.n_frames())
            diffs = np.append(diffs, total)
        before = float(np.interp(first, frames, diffs))
        after = float(np.interp(last + 1, frames, diffs))
        return (after - before) / max(1, last + 1 - first)

    def _result(self, final: bool) -> list[Hypothesis]:
        grammar, phones = self._grammar.hyp(), self._phones.hyp()
        if grammar is None or phones is None or not grammar.hypstr:
            return []
        words = [s for s in self._grammar.seg() or () if not s.word.startswith(("<", "["))]
        if not words:
            return []
        first, last = words[0].start_frame, words[-1].end_frame
        total = _log(grammar.score) - _log(phones.score) if final else None
        llr = self._span_llr(first, last, total)
        margin = 15  # frames of a command's own onset and tail the VAD may put outside it
        outside = self._speech[: max(0, first - margin)] + self._speech[last + margin :]
        other_speech = sum(outside) / FRAMES_PER_SECOND
        s = self.settings
        odds = (llr - s.llr_center) / s.llr_scale - s.isolation_penalty * other_speech
        confidence = 1.0 / (1.0 + math.exp(-odds))
        start = (self._utt_start + words[0].start_frame) / FRAMES_PER_SECOND
        end = (self._utt_start + words[-1].end_frame + 1) / FRAMES_PER_SECOND
        text = " ".join(w.word.split("(", 1)[0] for w in words)
        if final and self._strip_carriers(text) not in self._phrase_set:
            # The search could not finish the grammar (cut off mid-phrase): no result.
            return []
        return [Hypothesis(text, final, start, end, confidence)]

    @staticmethod
    def _strip_carriers(text: str) -> str:
        words = text.split()
        while words and words[0] in CARRIERS_BEFORE:
            words = words[1:]
        while words and words[-1] in CARRIERS_AFTER:
            words = words[:-1]
        return " ".join(words)

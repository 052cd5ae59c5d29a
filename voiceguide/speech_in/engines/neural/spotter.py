"""Streaming command spotter: front end -> head every 80 ms -> one decision per utterance.

The head is trained so that a command's class wins in the windows that end 60-600 ms after the
command has ended with no more speech after it; talk that goes on after a command word, or a
command word inside a sentence, is "none". So a decision does not wait for a silence that
babble never gives: the first confident run of windows decides, and the spotter then stays
quiet until the scores fall back (one decision per utterance). Pain and stop fire on a single
confident window; the others need ``confirm_hops`` windows in a row. A small energy tracker
gives the utterance's start and end, and applies the long-talk rule: after several seconds of
unbroken speech only a safety command (pain, stop) or a very confident one is accepted, and
the gap rule: a command is decided only once the tracker has heard a short gap with no speech
after it (talk that runs on past a command word is talk), unless it hears no speech at all
(loud babble) or the box itself is talking (its echo residue would look like more talk).
A near-miss, a run of windows over ``check_threshold`` that never makes the head's own rule,
is handed once to a ``check`` (the grammar's second opinion, engines/grammar_check.py) with
the utterance's audio, and the check decides it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from .frontend import EMB_SPAN_SAMPLES, RATE_HZ, STEP_SAMPLES, FrontEnd, embedding_end_seconds
from .head import HEAD_FILE, Head, load_head, predict

SAFETY = ("pain", "stop")
# The energy tracker's noise floor never goes under this (dB of int16 power per 10 ms frame):
# about -67 dBFS, under the self-noise of any microphone (the corpora's quietest is ~22 dB).
MIN_FLOOR_DB = 20.0


@dataclass(frozen=True)
class Detection:
    """One decided command."""

    command: str
    score: float  # 0..1, mean head probability over the deciding windows
    start_seconds: float  # stream time of the utterance's start (energy estimate)
    end_seconds: float  # stream time of its end (energy estimate)
    is_final: bool  # always True: one decision per utterance, never revised
    decided_at: float  # stream time when the decision was made (audio consumed so far)


@dataclass(frozen=True)
class SpotterConfig:
    """Decision thresholds, tuned by training.tune_rule on the benchmark's train split."""

    threshold: float = 0.95  # mean probability over the confirming windows
    class_thresholds: dict[str, float] = field(default_factory=dict)
    confirm_hops: int = 3
    early_threshold: float = 0.98  # pain/stop: one window this confident decides
    release: float = 0.35  # scores must fall below this before the next decision...
    release_hops: int = 2  # ...for this many windows
    refractory_seconds: float = 0.8
    long_talk_seconds: float = 5.0
    long_talk_threshold: float = 0.9
    # A command is decided only once the energy tracker has heard this long without speech
    # after it: talk that runs on past a command word ("the news at six o'clock") is talk.
    # Safety commands have their own wait, for their latency goal. 0 turns it off.
    gap_seconds: float = 0.08
    gap_safety_seconds: float = 0.08
    # The second opinion (the Spotter's `check`): a run of `check_hops` windows whose mean
    # reaches `check_threshold` but not the thresholds above is handed to the check, once per
    # run, and decided by it. None: the head alone decides.
    check_threshold: float | None = None
    check_hops: int = 2


# A second opinion on a near-miss: (command, window index) -> is it that command?
WindowCheck = Callable[[str, int], bool]
# The same, streaming: (command, the utterance's audio, int16) -> is it that command?
AudioCheck = Callable[[str, np.ndarray], bool]
# The audio handed to the check: the utterance (energy tracker) with this much either side,
# and never more than the spotter keeps.
CHECK_BEFORE_SECONDS = 0.3
CHECK_AFTER_SECONDS = 0.3
AUDIO_SECONDS = 6.0


def decide_sequence(
    probs: np.ndarray,
    classes: tuple[str, ...],
    config: SpotterConfig,
    gaps: np.ndarray | None = None,
    unbroken: np.ndarray | None = None,
    box: np.ndarray | None = None,
    check: WindowCheck | None = None,
) -> list[tuple[int, int, float]]:
    """Pure decision rule over a (n, classes) score sequence: [(window index, class, score)].

    What the streaming class works out from its energy tracker and the box, per window:
    `gaps`, seconds without speech before its end (none: always quiet); `unbroken`, seconds
    of unbroken speech before the talk it ends (for the long-talk rule); `box`, whether the
    box was talking (the gap rule is lifted then); `check`, the second opinion. It applies
    the same rule one window at a time.
    """
    state = _DecisionState()
    out = []
    for j, p in enumerate(probs):
        gap = math.inf if gaps is None or (box is not None and box[j]) else float(gaps[j])
        talk = bool(
            unbroken is not None
            and _may_be_long_talk(p, classes)
            and unbroken[j] > config.long_talk_seconds
        )
        asks = None if check is None else partial(_ask_at, check, j)
        hit = state.step(j, p, classes, config, long_talk=talk, gap=gap, check=asks)
        if hit is not None:
            out.append((j, *hit))
    return out


def _ask_at(check: WindowCheck, index: int, command: str) -> bool:
    return check(command, index)


def _talk_may_go_on(cfg: SpotterConfig, safety: bool, gap: float) -> bool:
    """The gap rule: too little quiet after the words to decide on them yet."""
    return gap < (cfg.gap_safety_seconds if safety else cfg.gap_seconds)


def _may_be_long_talk(p: np.ndarray, classes: tuple[str, ...]) -> bool:
    """Whether the long-talk rule could apply to this window (no need to measure the talk)."""
    return classes[int(np.argmax(p[1:])) + 1] not in SAFETY and float(p.max()) > 0.3


class _DecisionState:
    def __init__(self) -> None:
        self.run: list[np.ndarray] = []
        self.near: list[np.ndarray] = []  # the run at the second opinion's lower threshold
        self.checked = False  # the second opinion was asked about this run already
        self.fired_at: int | None = None
        self.quiet = 0

    def step(self, j: int, p: np.ndarray, classes: tuple[str, ...], cfg: SpotterConfig,
             long_talk: bool, gap: float,
             check: Callable[[str], bool] | None = None) -> tuple[int, float] | None:  # fmt: skip
        """One window; `gap` is how long no speech has been heard before its end."""
        top = int(np.argmax(p[1:])) + 1
        score = float(p[top])
        if self.fired_at is not None:  # wait for the utterance to be over
            self.quiet = self.quiet + 1 if score < cfg.release else 0
            hops = cfg.refractory_seconds / (STEP_SAMPLES / RATE_HZ)
            if self.quiet >= cfg.release_hops and j - self.fired_at >= hops:
                self.fired_at = None
                self.run = []
                self.near = []
                self.checked = False
            return None
        name = classes[top]
        thr = cfg.class_thresholds.get(name, cfg.threshold)
        if long_talk and name not in SAFETY:
            thr = max(thr, cfg.long_talk_threshold)
        lower = cfg.check_threshold if check is not None else None
        if lower is not None and score >= lower and not (long_talk and name not in SAFETY):
            self.near.append(p)
        elif self.near:  # the near run is over: a last chance if it was never asked about
            ended, self.near, self.run = self.near, [], []
            if self.checked:
                self.checked = False
                return None
            # (the scores have fallen, so the head itself says the words are over: no gap)
            hit = self._second_opinion(j, classes, cfg, math.inf, check, ended)
            self.checked = False  # the next run is a new utterance
            return hit
        if score < min(thr, cfg.early_threshold):
            self.run = []
            return self._second_opinion(j, classes, cfg, gap, check, self.near)
        self.run.append(p)
        mean = np.mean(self.run[-cfg.confirm_hops :], axis=0)
        cls = int(np.argmax(mean[1:])) + 1
        safety = classes[cls] in SAFETY
        early = safety and score >= cfg.early_threshold and cls == top
        if _talk_may_go_on(cfg, safety, gap):
            return None  # keep the run and look again at the next window
        if early or (len(self.run) >= cfg.confirm_hops and mean[cls] >= thr):
            return self._fire(j, cls, float(p[cls] if early else mean[cls]))
        # (While the head's own run goes on it decides: no check is asked, for it costs CPU
        # and time. A near-miss is asked about once its scores fall under the head's bar.)
        return None

    def _second_opinion(self, j: int, classes: tuple[str, ...], cfg: SpotterConfig, gap: float,
                        check: Callable[[str], bool] | None,
                        near: list[np.ndarray]) -> tuple[int, float] | None:  # fmt: skip
        """A run under the head's own thresholds but over the check's: ask, once per run."""
        if check is None or self.checked or len(near) < cfg.check_hops:
            return None
        mean = np.mean(near[-cfg.check_hops :], axis=0)
        cls = int(np.argmax(mean[1:])) + 1
        assert cfg.check_threshold is not None  # (check is only passed on with a threshold)
        if mean[cls] < cfg.check_threshold:
            return None
        if _talk_may_go_on(cfg, classes[cls] in SAFETY, gap):
            return None  # ask about the whole utterance, once the talk has stopped
        self.checked = True
        return self._fire(j, cls, float(mean[cls])) if check(classes[cls]) else None

    def _fire(self, j: int, cls: int, score: float) -> tuple[int, float]:
        self.fired_at = j
        self.quiet = 0
        return cls, score


class Spotter:
    """Feed 16 kHz mono int16 audio; get Detections as they are decided."""

    def __init__(self, head: Head | Path | str | None = None, config: SpotterConfig | None = None,
                 frontend: FrontEnd | None = None,
                 box_talking: Callable[[], bool] | None = None,
                 check: AudioCheck | None = None) -> None:  # fmt: skip
        """`box_talking` says whether the box is speaking now; the gap rule is lifted then.
        `check` is the second opinion on a near-miss (used with `config.check_threshold`)."""
        self.head = head if isinstance(head, Head) else load_head(head or HEAD_FILE)
        self.box_talking = box_talking
        self.config = config or SpotterConfig()
        self.frontend = frontend or FrontEnd()
        self.check = check if self.config.check_threshold is not None else None
        self._silence = self._silence_embedding()
        # How far back the head's input reaches from a window's end.
        self._seen = ((self.head.frames - 1) * STEP_SAMPLES + EMB_SPAN_SAMPLES) / RATE_HZ
        c = self.config
        lower = () if self.check is None or c.check_threshold is None else (c.check_threshold,)
        self._near = min(c.threshold, c.early_threshold, *c.class_thresholds.values(), *lower)
        self.reset()

    def _silence_embedding(self) -> np.ndarray:
        rng = np.random.default_rng(0)
        quiet = (rng.standard_normal(RATE_HZ) * 10 ** (-66 / 20)).astype(np.float32)
        return self.frontend.embed_clip(quiet)[-1]

    def reset(self) -> None:
        """Start a new stream at time 0."""
        self.frontend.reset()
        self._history = deque([self._silence] * self.head.frames, maxlen=self.head.frames)
        self._state = _DecisionState()
        self._energy: list[float] = []  # dB per 10 ms frame
        self._pending = np.zeros(0, np.int16)
        self._floor: deque[float] = deque(maxlen=300)
        self._audio: deque[np.ndarray] = deque()  # the last AUDIO_SECONDS, for the check
        self._audio_samples = 0
        self.scores: list[np.ndarray] = []  # per window, for diagnostics (bounded)

    @property
    def seconds(self) -> float:
        """Stream time consumed so far."""
        return self.frontend.samples_seen / RATE_HZ

    def _track_energy(self, chunk: np.ndarray) -> None:
        x = np.concatenate([self._pending, chunk])
        n = len(x) // 160
        if n:
            frames = x[: n * 160].astype(np.float32).reshape(n, 160)
            db = 10 * np.log10((frames**2).mean(axis=1) + 1.0)
            self._energy.extend(db.tolist())
            self._floor.extend(db.tolist())
        self._pending = x[n * 160 :]
        if len(self._energy) > 3000:  # keep 30 s
            self._energy = self._energy[-3000:]
        # (times are computed from the end of the list, so trimming the front is safe)

    def _segment(self, until: float) -> tuple[float, float, float]:
        """(start, end, length of unbroken speech) of the talk ending before `until`."""
        speech, last = self._speech_track(until)
        total = len(speech)
        now = self.seconds
        idx = np.flatnonzero(speech[:last])
        t0 = now - total / 100
        # No speech heard, or none the head can still see (its windows span `_seen` seconds):
        # what it scores is under the tracker's bar (loud babble, the box's residue). Then the
        # words are taken to be the last second, not talk the tracker heard long before.
        if len(idx) == 0 or t0 + (idx[-1] + 1) / 100 < until - self._seen:
            return max(0.0, until - 1.0), until, 0.0
        end_i = idx[-1]
        # utterance start: go back while gaps are shorter than 300 ms, at most 2.5 s
        start_i, gap = end_i, 0
        k = end_i
        while k > 0 and end_i - k < 250:
            k -= 1
            gap = 0 if speech[k] else gap + 1
            if gap > 30:
                break
            if speech[k]:
                start_i = k
        # unbroken talk: same walk without the 2.5 s cap (gaps under 300 ms)
        seg_i, gap, k = start_i, 0, start_i
        while k > 0:
            k -= 1
            gap = 0 if speech[k] else gap + 1
            if gap > 30:
                break
            if speech[k]:
                seg_i = k
        return t0 + start_i / 100, t0 + (end_i + 1) / 100, (start_i - seg_i) / 100

    def _speech_track(self, until: float) -> tuple[np.ndarray, int]:
        """Which 10 ms steps of the energy track are speech, and the index of `until` in it."""
        energy = np.array(self._energy)
        last = min(len(energy), len(energy) - round((self.seconds - until) * 100))
        return energy > self._floor_db() + 9.0, last

    def _floor_db(self) -> float:
        floor = float(np.percentile(np.array(self._floor), 10)) if self._floor else 0.0
        # Digital silence (padding, a muted input) would put the floor at 0 dB and make the
        # faintest hiss count as speech, so that the talk would never seem to stop.
        return max(floor, MIN_FLOOR_DB)

    def _gap(self, until: float) -> float:
        """Seconds without speech before `until`; infinite when the tracker finds no speech.

        (In loud babble the tracker cannot tell a command from the noise floor; the head
        decides there, so "no speech found" must not hold a decision back.)
        """
        track, last = self._speech_track(until)
        speech = np.flatnonzero(track[: max(0, last)])
        return (last - 1 - speech[-1]) / 100 if len(speech) else math.inf

    def accept(self, pcm16: bytes | np.ndarray) -> list[Detection]:
        """Feed audio (any length); returns the commands decided with it."""
        chunk = (
            np.frombuffer(pcm16, np.int16)
            if isinstance(pcm16, bytes)
            else np.asarray(pcm16, np.int16)
        )
        out = []
        self._track_energy(chunk)
        if self.check is not None:
            self._keep_audio(chunk)
        for index, emb in self.frontend.accept(chunk):
            self._history.append(emb)
            p = predict(self.head, np.stack(self._history))[0]
            self.scores.append(p)
            if len(self.scores) > 1000:
                del self.scores[:500]
            w = embedding_end_seconds(index)
            self._observe(index, w, p)
            classes = self.head.classes
            # The segment walk is worked out once, and only where it is needed.
            segment = self._segment(w) if _may_be_long_talk(p, classes) else None
            long_talk = segment is not None and segment[2] > self.config.long_talk_seconds
            # (only worked out when a decision could be near: it walks the energy track) While
            # the box talks, what the echo canceller leaves of its voice goes on after the
            # person's words, so the energy cannot tell whether they have stopped.
            near = p[1:].max() >= self._near
            box = self.box_talking is not None and self.box_talking()
            gap = self._gap(w) if near and not box else math.inf
            ask = None if self.check is None else partial(self._ask, w)
            hit = self._state.step(index, p, classes, self.config, long_talk, gap, ask)
            if hit is not None:
                start, end, _ = segment if segment is not None else self._segment(w)
                out.append(Detection(classes[hit[0]], hit[1], start, end, True, self.seconds))
        return out

    def _keep_audio(self, chunk: np.ndarray) -> None:
        self._audio.append(chunk.copy())
        self._audio_samples += len(chunk)
        while self._audio_samples - len(self._audio[0]) >= AUDIO_SECONDS * RATE_HZ:
            self._audio_samples -= len(self._audio.popleft())

    def _ask(self, window_end: float, command: str) -> bool:
        """The second opinion on the utterance that ends before `window_end`."""
        assert self.check is not None  # (only asked for with a check)
        start, end, _ = self._segment(window_end)
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        first = self.seconds - len(audio) / RATE_HZ  # stream time of the buffer's first sample
        lo = max(0, round((start - CHECK_BEFORE_SECONDS - first) * RATE_HZ))
        hi = round((min(end + CHECK_AFTER_SECONDS, self.seconds) - first) * RATE_HZ)
        return self.check(command, audio[lo:hi])

    def _observe(self, index: int, window_end: float, probs: np.ndarray) -> None:
        """Called with each window's scores before it is decided (a hook for training tools)."""

    def flush(self) -> list[Detection]:
        """End of input: pad with 0.6 s of near-silence so a final command gets decided."""
        rng = np.random.default_rng(1)
        pad = (rng.standard_normal(int(0.6 * RATE_HZ)) * 16).astype(np.int16)
        return self.accept(pad)

"""The microphone's echo stage: line up what the speaker played with what the mic heard, and
subtract it, before any recogniser sees the audio.

Live, the speaker's tap fills a ReferenceBuffer on the monotonic clock and the capture thread
passes each 16 kHz block with its capture time; offline (`voiceguide recognize --reference`,
the benchmark) `OfflineReference` plays a file into the same buffer on a clock of its own. Both
then run this one class, so what the benchmark measures is what the box runs.

Timestamps on both sides carry unknown latency (the sound server's buffers, the USB mic), so
the delay between a sample leaving the speaker and its echo reaching the mic is *estimated*
from the signals themselves (GCC-PHAT cross-correlation over the last 1.5 s, whenever the box
is talking) and tracked as a running median. The canceller's adaptive filter then only has
to absorb the room's own reverberation.

When the box has been silent for longer than the delay plus the filter's memory (0.2 s), the
stage is a pass-through:
it costs nothing, and the person's voice reaches the recogniser untouched. Until the
canceller's linear filter has been seen removing the box's voice (`echo_heard`), only its
output goes on; the residual suppressor joins after. A mic that does not hear the speaker then
gets next to nothing taken from the person's words.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voiceguide.audio.pcm import PCM16, SPEECH_RATE_HZ, pcm16_to_float
from voiceguide.speech_in.double_talk import removed_db_when_converged
from voiceguide.speech_in.echo_cancel import EchoCanceller, ReferenceBuffer

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.01  # the canceller's frame; blocks are cut to whole frames
FILTER_SECONDS = 0.2  # the adaptive filter's memory: reverberation up to this long is removed
MAX_DELAY_SECONDS = 0.5  # the largest playback-to-capture delay the estimator looks for
ESTIMATE_EVERY_SECONDS = 0.5  # while the delay is not yet known
SETTLED_EVERY_SECONDS = 5.0  # once the last estimates agree: it only drifts, if at all
SETTLED_SPREAD_SECONDS = 0.002
ESTIMATE_WINDOW_SECONDS = 1.0
FIRST_ESTIMATE_SECONDS = 0.8  # the first estimate needs only this much history: be quick
PEAK_RATIO = 6.0  # a correlation peak this many times the mean counts as a delay estimate
ESTIMATES_KEPT = 7  # the running median over the last estimates
# speexdsp's filter needs a couple of seconds of the box talking to converge once lined up:
# until then the echo guard takes non-safety commands heard over the box for its own voice (4
# of the benchmark's 5 false commands from its own speech came in a stream's first 3 s).
CONVERGE_SECONDS = 2.0
# With no delay estimate after this much of the box talking, its echo is too weak to find.
NO_ECHO_SECONDS = 3.0
RECENT_SECONDS = 1.0  # a command decided this soon after the box spoke may be its echo
ALIGN_MARGIN_SECONDS = 0.0025  # the echo may come this much after its aligned reference
ACTIVE_LEVEL = 1e-4  # reference RMS (full scale 1) above which the box counts as talking
# Residual-echo attenuation with the box alone / while the person talks over it. -60/-25 or
# -60/-40 dB cost 10 of 122 commands said over 0 dB echo and removed no more echo. While the
# person talks the suppressor mostly takes their words: on the train split, commands over 0 dB
# echo went 61.6% / 63.5% / 65.6% / 66.6% at -15 (libspeexdsp's default) / -6 / -3 / 0 dB
# (clean 69.9%), with no false command in 38 min of the box alone down to -3 and one at 0
# (docs/benchmarks.md).
ECHO_SUPPRESS_DB = -40
ECHO_SUPPRESS_ACTIVE_DB = -3
# A command heard while the filter cannot be trusted is looked at again over the last few
# seconds (speech_in.double_talk); removing this much of its span means the box talked alone.
RECHECK_SECONDS = 5.0
# A person at the box's level left at most 6.7 dB behind on the train split, the box alone at
# least 22 (bench/second_look.py); 15 dB keeps room for someone quieter than the box's echo.
BOX_ALONE_DB = 15.0
# Lately (the upper quartile of the last 10 s of the box talking, in 30 ms blocks) removing less
# than this counts as cancelling poorly. It never fires in the PulseAudio room: the quartile is
# 63-90 dB there, and 41-52 dB by the linear filter alone. The room's residue that gets heard as
# words comes in short bursts (start-up, the output running dry), which no 10 s quartile sees;
# the 10-13 dB "removed" over all blocks there is the person's voice, which is left in
# (docs/speech-input.md).
LATELY_BLOCKS = 333
LATELY_MIN_ENERGY = 480 * 100.0**2  # a 30 ms block above about -50 dBFS
POOR_REMOVAL_DB = 15.0
LOOK_AGAIN_SECONDS = 0.3  # words that grew by less than this since the last look keep its verdict
# The residual suppressor joins the linear filter only once the filter is seen removing
# something: the upper quartile of its last loud blocks with the box talking at least this
# many dB. With no echo in the microphone (a headset, a room test with no loopback) GCC-PHAT
# still finds chance peaks between the box's voice and the person's, and the suppressor (with
# its denoiser) then took 1.5-1.9 dB from the person's words said over the box
# (docs/speech-input.md); a filter that removes nothing has found no echo to suppress.
ECHO_HEARD_DB = 6.0
ECHO_HEARD_BLOCKS = 10  # loud blocks (0.3 s) before the quartile counts
HEARD_WINDOW_BLOCKS = 20


@dataclass
class EchoStats:
    """What the echo stage did so far, for the log, `doctor` and the benchmark."""

    delay_seconds: float = 0.0  # the tracked playback-to-capture delay
    delay_estimates: int = 0  # how many correlation peaks were strong enough to count
    glitches: int = 0  # audio glitches after which the filter had to converge again
    echo_heard_at: float | None = None  # seconds of audio processed when the filter proved an echo
    active_seconds: float = 0.0  # audio that went through the canceller (the box talking)
    passed_seconds: float = 0.0  # audio passed through untouched (the box silent)
    energy_in: float = 0.0  # mic energy while the canceller ran
    energy_out: float = 0.0  # the same after cancellation
    cpu_seconds: float = 0.0  # process time spent in this stage
    # Each second look at a command's words: their span on this stage's clock (seconds of
    # audio processed) and the dB a filter converged on the last seconds removed from it.
    second_looks: list[tuple[float, float, float]] = field(default_factory=list)
    # The same for each time the echo guard asked what the live stage itself removed from a
    # command's words (removed_over; for choosing echo_guard.SUSPECT_REMOVED_DB).
    filter_looks: list[tuple[float, float, float]] = field(default_factory=list)
    # Loud 30 ms blocks with the box talking, counted by the whole dB the linear filter alone
    # removed from each (0-120). Unlike removed_db, a person talking over the box for a few
    # seconds does not drag this down: their voice is most of the energy left in removed_db.
    filter_blocks: list[int] = field(default_factory=lambda: [0] * 121)

    @property
    def removed_db(self) -> float:
        """Echo return loss enhancement: how much quieter the mic got while the box talked."""
        if self.energy_out <= 0 or self.energy_in <= 0:
            return 0.0
        return float(10 * np.log10(self.energy_in / self.energy_out))

    @property
    def filter_median_db(self) -> float:
        """What the linear filter removed from the median loud block (0 before any)."""
        total = sum(self.filter_blocks)
        if not total:
            return 0.0
        return float(np.searchsorted(np.cumsum(self.filter_blocks), total / 2))


def gcc_phat_delay(mic: np.ndarray, ref: np.ndarray, max_lag: int) -> tuple[int, float] | None:
    """Lag (samples, mic after ref) of the strongest GCC-PHAT peak in [0, max_lag], and its
    height over the mean of that range; None when either signal is silent."""
    n = len(mic) + len(ref)
    size = 1 << (n - 1).bit_length()
    cross = np.fft.rfft(mic, size) * np.conj(np.fft.rfft(ref, size))
    magnitude = np.abs(cross)
    if not np.any(magnitude > 0):
        return None
    corr = np.fft.irfft(cross / np.maximum(magnitude, 1e-12), size)[: max_lag + 1]
    corr = np.abs(corr)
    peak = int(np.argmax(corr))
    mean = float(np.mean(corr)) or 1e-12
    return peak, float(corr[peak]) / mean


class EchoPath:
    """Echo-cancelled int16 microphone blocks out, the same length as in."""

    def __init__(
        self,
        reference: ReferenceBuffer,
        canceller: EchoCanceller | None = None,
        sample_rate_hz: int = SPEECH_RATE_HZ,
        initial_delay_seconds: float = 0.0,
        glitches: Callable[[], int] | None = None,
    ) -> None:
        self.reference = reference
        # How many audio glitches (a capture overrun, a dropped block, the speaker running
        # dry) there have been: each may move the echo against its reference by a few ms.
        self._glitches = glitches
        self._glitches_seen = glitches() if glitches is not None else 0
        self.sample_rate_hz = sample_rate_hz
        self.canceller = canceller or self._make_canceller()
        # A delay measured before (the same devices, an earlier session) lines the signals up
        # from the first word; it is re-estimated as soon as the box talks.
        self.stats = EchoStats(
            delay_seconds=max(0.0, min(MAX_DELAY_SECONDS, initial_delay_seconds))
        )
        self._frame = self.canceller.frame
        self._pending = np.zeros(0, PCM16)  # mic samples not yet a whole frame
        self._pending_start = 0.0  # capture time of _pending[0]
        self._active = False
        self._last_sound = -1e9  # capture time at which the reference was last audible
        # The same on this stage's own clock (audio processed so far), which the listener's
        # "the words began N seconds ago" maps onto however each side counts time.
        self._processed = 0.0
        self._last_sound_p = -1e9
        self._converged_at: float | None = None
        # The delay tracker looks at the last this many samples of `_recent`.
        self._history_max = round((ESTIMATE_WINDOW_SECONDS + MAX_DELAY_SECONDS) * sample_rate_hz)
        self._since_estimate = 0.0
        self._estimates: deque[float] = deque(maxlen=ESTIMATES_KEPT)
        self._converged_seconds = 0.0  # box speech cancelled since the delay was first measured
        # The last RECHECK_SECONDS of raw microphone and reference blocks (at capture time),
        # for second_look and, their last 1.5 s, for the delay tracker.
        self._recent: deque[tuple[np.ndarray, np.ndarray]] = deque()
        self._recent_len = 0
        self._recent_max = round(RECHECK_SECONDS * sample_rate_hz)
        self._last_look: tuple[float, float, bool | None] | None = None  # (start, end, box alone)
        # Energy in, out of the linear filter, and out of the suppressor, over the canceller's
        # last blocks with the box talking.
        self._lately: deque[tuple[float, float, float]] = deque(maxlen=LATELY_BLOCKS)
        # What the linear filter removed from the last loud blocks, until an echo is heard.
        self._heard_blocks: deque[float] = deque(maxlen=HEARD_WINDOW_BLOCKS)
        # (start, end on this stage's clock, energy in, energy out) of the last RECHECK_SECONDS
        # of blocks, for removed_over: how much of some words' span the live stage removed.
        self._removal: deque[tuple[float, float, float, float]] = deque()

    @property
    def echo_heard(self) -> bool:
        """True once the canceller's filter has been seen removing the box's voice from the
        microphone; until then the stage gives the linear filter's output, unsuppressed."""
        return self.stats.echo_heard_at is not None

    @property
    def lined_up(self) -> bool:
        """True once this stage has measured the delay itself (not only remembered it) and
        then cancelled long enough for its filter to converge."""
        return self._converged_at is not None

    def unsettled(self, seconds_ago: float = 0.0) -> bool:
        """True if `seconds_ago` the filter had not yet converged and the box had talked within
        a second of then: what the microphone heard may have been mostly the box's own voice."""
        then = self._processed - seconds_ago
        converged = self._converged_at is not None and then >= self._converged_at
        return not converged and then - self._last_sound_p <= RECENT_SECONDS

    def talked_within(self, seconds: float) -> bool:
        """True if the reference was audible in the last `seconds` of processed audio, or
        so shortly before that its echo could still be ringing (the filter's length)."""
        return self._processed - self._last_sound_p <= seconds + FILTER_SECONDS

    def removed_over(self, start_ago: float, end_ago: float) -> float | None:
        """How many dB this stage's own filter, converged by then, removed from the microphone
        from `start_ago` to `end_ago` seconds back (0 where the box was silent); None when it
        cannot tell (not converged then, the words not kept)."""
        if start_ago <= end_ago or not self._removal or self.unsettled(start_ago):
            return None
        start, end = self._processed - start_ago, self._processed - end_ago
        if start < self._removal[0][0]:
            return None
        held = [(i, o) for s0, s1, i, o in self._removal if s1 > start and s0 < end]
        energy_in = sum(i for i, _ in held)
        out = max(sum(o for _, o in held), 1.0)
        removed = float(10 * np.log10(energy_in / out)) if energy_in > 0 else 0.0
        self.stats.filter_looks.append((start, end, removed))
        return removed

    def second_look(self, start_ago: float, end_ago: float) -> bool | None:
        """Was the microphone the box's echo alone from `start_ago` to `end_ago` seconds back?
        Looked at again with a filter converged on the last seconds (for words heard while
        this stage's own filter cannot be trusted): True if so, False if something else was
        heard over it, None when it cannot tell (no delay to line up, the words not kept)."""
        if start_ago <= end_ago:
            return None
        start, end = self._processed - start_ago, self._processed - end_ago
        if start - self._last_sound_p > RECENT_SECONDS:
            return False  # the box had been silent for a while: not its voice
        last = self._last_look
        if (
            last is not None
            and abs(last[0] - start) < LOOK_AGAIN_SECONDS
            and end < last[1] + LOOK_AGAIN_SECONDS
        ):
            return last[2]  # the same words, barely longer: partial results repeat them
        started = time.process_time()
        try:
            alone = self._look_again(start_ago, end_ago)
        finally:
            self.stats.cpu_seconds += time.process_time() - started
        self._last_look = (start, end, alone)
        return alone

    def _look_again(self, start_ago: float, end_ago: float) -> bool | None:
        rate = self.sample_rate_hz
        if self._recent_len < max(round(start_ago * rate), round(FIRST_ESTIMATE_SECONDS * rate)):
            return None  # the words began before what is kept, or too little to learn from
        mic = np.concatenate([m for m, _ in self._recent])
        raw_ref = np.concatenate([r for _, r in self._recent])
        span = (len(mic) - round(start_ago * rate), len(mic) - round(end_ago * rate))
        # Its own estimate over the whole window (more signal than the tracker's 1.5 s); the
        # tracked delay when the box said too little in it for a clear peak.
        found = gcc_phat_delay(mic.astype(np.float32), raw_ref.astype(np.float32),
                               round(MAX_DELAY_SECONDS * rate))  # fmt: skip
        if found is not None and found[1] >= PEAK_RATIO:
            delay = found[0] / rate
        elif self.stats.delay_estimates:
            delay = self.stats.delay_seconds
        else:
            return None
        shift = max(0, round((delay - ALIGN_MARGIN_SECONDS) * rate))
        ref = np.concatenate([np.zeros(shift, PCM16), raw_ref[: len(raw_ref) - shift]])
        heard = ref[span[0] : span[1]].astype(np.float64) / 32768.0
        if not len(heard) or float(np.sqrt(np.mean(np.square(heard)))) <= ACTIVE_LEVEL:
            return False  # the box was silent over those words: they were not its voice
        removed = removed_db_when_converged(mic, ref, span, self._make_canceller)
        now = self._processed
        self.stats.second_looks.append((now - start_ago, now - end_ago, removed))
        log.debug("second look at %.1f-%.1f s ago (delay %.0f ms, %.1f s kept): %.1f dB removed",
                  start_ago, end_ago, delay * 1000, len(mic) / rate, removed)  # fmt: skip
        if span[0] < round(FIRST_ESTIMATE_SECONDS * rate) and removed < BOX_ALONE_DB:
            # Little to learn the room from before the words: the filter may not have
            # converged even on the second pass (the box alone gave 13 dB once), so a low
            # figure does not prove that someone else talked.
            return None
        return removed >= BOX_ALONE_DB

    def _make_canceller(self) -> EchoCanceller:
        return EchoCanceller(
            self.sample_rate_hz, frame_seconds=FRAME_SECONDS, filter_seconds=FILTER_SECONDS,
            echo_suppress_db=ECHO_SUPPRESS_DB, echo_suppress_active_db=ECHO_SUPPRESS_ACTIVE_DB,
        )  # fmt: skip

    @property
    def cancelling_poorly(self) -> bool:
        """True once the canceller has converged but lately (the upper quartile of its last
        blocks with the box talking) removes less than POOR_REMOVAL_DB of the box's voice: a
        real room with drifting clocks, a player running dry. Its residue may then be loud
        enough to be taken for words."""
        if self._converged_at is None or len(self._lately) < LATELY_BLOCKS // 2:
            return False
        # Blocks where the person talked over the box show little removed, however well the
        # filter works; the upper quartile is the box alone unless they talked 3/4 of the time.
        # One array operation over the blocks, not a log10 call for each of up to 333 of them.
        energies = np.array(self._lately)  # columns: in, out of the filter, out of the stage
        removed = 10 * np.log10(energies[:, 0] / np.maximum(energies[:, 2], 1.0))
        lately = float(np.percentile(removed, 75))
        if log.isEnabledFor(logging.DEBUG):  # the filter's own figure is for the log only
            linear = 10 * np.log10(energies[:, 0] / np.maximum(energies[:, 1], 1.0))
            log.debug(
                "echo removed lately: %.1f dB with the suppressor, %.1f dB by the filter alone "
                "(upper quartiles of %d blocks)", lately, float(np.percentile(linear, 75)),
                len(removed),
            )  # fmt: skip
        return lately < POOR_REMOVAL_DB

    @property
    def delay_seconds(self) -> float:
        """The tracked delay between playback and capture."""
        return self.stats.delay_seconds

    def process(self, mic: np.ndarray, start_monotonic: float) -> np.ndarray:
        """Cancel the echo in one block of int16 mic samples captured from `start_monotonic`."""
        started = time.process_time()
        try:
            return self._process(np.asarray(mic, PCM16), start_monotonic)
        finally:
            self.stats.cpu_seconds += time.process_time() - started

    def _after_glitch(self) -> None:
        """An audio glitch may have moved the echo against its reference (the PulseAudio room
        showed 12-16 ms at each ALSA recovery): the filter is not trusted until it has
        converged again, and the delay is measured afresh instead of waiting for the running
        median to swing. Until then the echo guard treats words over the box as at start-up."""
        if self._converged_at is not None or self._estimates:
            log.info("audio glitch: the echo canceller re-learns the delay (commands over the "
                     "box get a second look until it has)")  # fmt: skip
        self.stats.glitches += 1
        self._converged_at = None
        self._converged_seconds = 0.0
        self._estimates.clear()
        self._since_estimate = ESTIMATE_EVERY_SECONDS  # look at the next block with the box
        # The kept history is left alone, though it straddles the jump: a second look finds
        # its own delay over it, and with less to learn from it converges less well (10 dB
        # on the box alone from 1.6 s in the room, so its voice was taken for someone's).
        self._last_look = None

    def _process(self, mic: np.ndarray, start: float) -> np.ndarray:
        if self._glitches is not None:
            seen = self._glitches()
            if seen != self._glitches_seen:
                self._glitches_seen = seen
                self._after_glitch()
        if not len(self._pending):
            self._pending_start = start
        block = np.concatenate([self._pending, mic]) if len(self._pending) else mic
        block_start = self._pending_start
        whole = len(block) // self._frame * self._frame
        self._pending = block[whole:]
        self._pending_start = block_start + whole / self.sample_rate_hz
        block = block[:whole]
        if not whole:
            # Keep the stream's length: what waits for a whole frame comes out next time, so
            # this block gives nothing yet; the caller's next block carries it.
            return block
        seconds = whole / self.sample_rate_hz
        raw_ref = self.reference.take(block_start + self.reference.lead_seconds, whole)
        audible = float(np.sqrt(np.mean(np.square(raw_ref / 32768.0)))) > ACTIVE_LEVEL
        end = block_start + seconds
        self._processed += seconds
        if audible:
            self._last_sound = end
            self._last_sound_p = self._processed
        self._remember(block, raw_ref, seconds)
        # The echo outlasts the sound by the delay plus the room's reverberation.
        hangover = self.stats.delay_seconds + FILTER_SECONDS
        active = end - self._last_sound <= hangover
        if active != self._active:
            log.debug("echo canceller %s", "on: the box is talking" if active else "idle")
            self._active = active
        if not active:
            self.stats.passed_seconds += seconds
            energy = float(np.sum(np.square(block.astype(np.float64))))
            self._note_removal(seconds, energy, energy)
            return block
        # The reference leads its echo by just ALIGN_MARGIN_SECONDS: speexdsp's filter converges
        # badly on a bulk delay (20 dB removed when aligned, 1.4 dB with 50 ms to spare).
        lead = self.reference.lead_seconds
        shift = self.stats.delay_seconds - ALIGN_MARGIN_SECONDS
        ref = self.reference.take(block_start - shift + lead, whole)
        # The canceller runs even before an echo is heard, so its filter is converged by then.
        out = self.canceller.process(block, ref)
        self.stats.active_seconds += seconds
        if self.stats.delay_estimates:
            self._converged_seconds += seconds
            if self._converged_at is None and self._converged_seconds >= CONVERGE_SECONDS:
                self._converged_at = self._processed
        elif self._converged_at is None and self.stats.active_seconds >= NO_ECHO_SECONDS:
            # The box has talked this long and no echo of it stands out in the microphone (a
            # headset, a mic that does not hear the speaker): there is nothing to wait for.
            log.info("no echo of the speaker found in the microphone; nothing to cancel yet")
            self._converged_at = self._processed
        energy_in = float(np.sum(np.square(block.astype(np.float64))))
        loud = energy_in > LATELY_MIN_ENERGY  # not the quiet ends of the box's phrases
        linear = self.canceller.linear_energy
        if loud:
            by_filter = 10 * np.log10(energy_in / max(linear, 1.0))
            self.stats.filter_blocks[int(min(120, max(0, by_filter)))] += 1
            if not self.echo_heard:
                self._listen_for_echo(by_filter)
        if self.echo_heard:
            energy_out = float(np.sum(np.square(out.astype(np.float64))))
            if loud:
                self._lately.append((energy_in, linear, energy_out))
        else:
            # The linear filter alone: it subtracts what it has learnt of the echo (from the
            # first frame, for a delay inside its 0.2 s), and it leaves a voice with no echo
            # under it as it came. The residual suppressor and its denoiser are what cost a
            # person's words when there is no echo to suppress.
            out = self.canceller.linear_output
            energy_out = linear  # the canceller measured that output already
        self.stats.energy_in += energy_in
        self.stats.energy_out += energy_out
        self._note_removal(seconds, energy_in, energy_out)
        return out

    def _note_removal(self, seconds: float, energy_in: float, energy_out: float) -> None:
        """Keep the last block's energies for removed_over (the last RECHECK_SECONDS)."""
        self._removal.append((self._processed - seconds, self._processed, energy_in, energy_out))
        while self._removal[0][1] < self._processed - RECHECK_SECONDS:
            self._removal.popleft()

    def _listen_for_echo(self, by_filter_db: float) -> None:
        """Latch `echo_heard` once the filter removes ECHO_HEARD_DB from its loud blocks."""
        self._heard_blocks.append(by_filter_db)
        if len(self._heard_blocks) < ECHO_HEARD_BLOCKS:
            return
        if float(np.percentile(self._heard_blocks, 75)) >= ECHO_HEARD_DB:
            self.stats.echo_heard_at = self._processed
            log.info("echo of the speaker heard in the microphone: suppressing its residue too")

    def _tail(self, samples: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The fewest last blocks of `_recent` holding at least `samples` (all if fewer)."""
        mic: list[np.ndarray] = []
        ref: list[np.ndarray] = []
        total = 0
        for m, r in reversed(self._recent):
            if total >= samples:
                break
            mic.append(m)
            ref.append(r)
            total += len(m)
        return mic[::-1], ref[::-1]

    def _remember(self, mic: np.ndarray, raw_ref: np.ndarray, seconds: float) -> None:
        """Keep the last seconds of both signals and re-estimate the delay now and then."""
        self._recent.append((mic, raw_ref))
        self._recent_len += len(mic)
        while self._recent_len - len(self._recent[0][0]) >= self._recent_max:
            self._recent_len -= len(self._recent.popleft()[0])
        self._since_estimate += seconds
        settled = len(self._estimates) == ESTIMATES_KEPT and (
            max(self._estimates) - min(self._estimates) <= SETTLED_SPREAD_SECONDS
        )
        every = SETTLED_EVERY_SECONDS if settled else ESTIMATE_EVERY_SECONDS
        enough = (
            self._history_max
            if self._estimates
            else round(FIRST_ESTIMATE_SECONDS * self.sample_rate_hz)
        )
        # (_recent keeps more than the tracker's window, so its length is the window's until full)
        if self._since_estimate < every or self._recent_len < enough:
            return
        self._since_estimate = 0.0
        mic_tail, ref_tail = self._tail(self._history_max)
        ref = np.concatenate(ref_tail).astype(np.float32)
        if float(np.sqrt(np.mean(np.square(ref / 32768.0)))) <= ACTIVE_LEVEL:
            return  # the box was silent: nothing to line up
        mic_all = np.concatenate(mic_tail).astype(np.float32)
        found = gcc_phat_delay(mic_all, ref, round(MAX_DELAY_SECONDS * self.sample_rate_hz))
        log.debug("echo delay estimate: %s", None if found is None else
                  f"{found[0] / self.sample_rate_hz * 1000:.1f} ms, peak {found[1]:.1f}")  # fmt: skip
        if found is None or found[1] < PEAK_RATIO:
            return
        self._estimates.append(found[0] / self.sample_rate_hz)
        self.stats.delay_estimates += 1
        delay = statistics.median(self._estimates)
        if abs(delay - self.stats.delay_seconds) > 0.005:
            log.info("echo delay now %.0f ms", delay * 1000)
        self.stats.delay_seconds = delay

    def close(self) -> None:
        """Free the canceller's native state and the reference's resamplers."""
        self.canceller.close()
        self.reference.close()


@dataclass(frozen=True)
class _Block:
    """A stretch of reference audio as the player's tap hands it over."""

    frames: np.ndarray
    sample_rate_hz: int
    start_monotonic: float


class OfflineReference:
    """Plays a recorded reference (what the speaker played) into a ReferenceBuffer, block by
    block ahead of the microphone, as the player's tap does live."""

    def __init__(
        self,
        reference: ReferenceBuffer,
        samples: np.ndarray,
        sample_rate_hz: int = SPEECH_RATE_HZ,
        ahead_seconds: float = 0.1,
    ) -> None:
        self.reference = reference
        self.samples = np.asarray(samples, np.float32)  # floats in -1..1
        self.sample_rate_hz = sample_rate_hz
        self.ahead = round(ahead_seconds * sample_rate_hz)
        self._fed = 0

    def until(self, stream_seconds: float) -> None:
        """Hand over the reference up to a little past `stream_seconds` of the stream."""
        upto = min(len(self.samples), round(stream_seconds * self.sample_rate_hz) + self.ahead)
        if upto > self._fed:
            self.reference.add(
                _Block(self.samples[self._fed : upto], self.sample_rate_hz,
                       self._fed / self.sample_rate_hz)
            )  # fmt: skip
            self._fed = upto


def offline_echo_path(reference_pcm16: np.ndarray) -> tuple[EchoPath, OfflineReference]:
    """The product's echo stage for a recording with its played reference (stream clock = 0).

    The reference need not be as long as the recording: past its end the speaker was silent
    (`ReferenceBuffer.take` gives zeros where nothing played), and what lies past the
    recording's end is never asked for."""
    buffer = ReferenceBuffer()
    path = EchoPath(buffer)
    return path, OfflineReference(buffer, pcm16_to_float(np.asarray(reference_pcm16, PCM16)))


def feed_recording(
    path: EchoPath, feeder: OfflineReference, mic_pcm16: np.ndarray, block_samples: int
) -> np.ndarray:
    """A recording through `path` in blocks, as the microphone thread feeds it (the reference
    handed over just ahead of each block); returns what the stage leaves. `path` stays open."""
    rate = path.sample_rate_hz
    out = [np.zeros(0, PCM16)]
    for offset in range(0, len(mic_pcm16), block_samples):
        t = offset / rate
        feeder.until(t + block_samples / rate)
        out.append(path.process(mic_pcm16[offset : offset + block_samples], t))
    return np.concatenate(out)

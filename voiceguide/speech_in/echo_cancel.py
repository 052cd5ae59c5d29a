"""Echo layer 2: subtract the box's own speech from the microphone, with the played audio as
the reference (libspeexdsp's adaptive echo canceller, through ctypes).

Why libspeexdsp and not the PulseAudio/PipeWire echo-cancel module: the module only exists
where a sound server runs (not on a bare ALSA Pi), it must be loaded and routed by hand, and
it cannot be measured in the benchmark. libspeexdsp is a small Debian package (libspeexdsp1)
already pulled in by PulseAudio, and here it sees exactly the samples the player sent.

If the library is missing, `load_speexdsp()` returns None and callers go without (the echo
guard and the linted texts still protect against the box's own voice).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from functools import cache
from typing import Any

import numpy as np

from voiceguide.audio.pcm import SPEECH_RATE_HZ, float_to_pcm16
from voiceguide.errors import UserError

log = logging.getLogger(__name__)

SPEEX_ECHO_SET_SAMPLING_RATE = 24
SPEEX_PREPROCESS_SET_DENOISE = 0
SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
SPEEX_PREPROCESS_SET_ECHO_STATE = 24


@cache
def load_speexdsp() -> Any | None:
    """The libspeexdsp shared library, or None if it is not installed."""
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        log.info("libspeexdsp not found; echo cancellation is off")
        return None
    vp = ctypes.c_void_p
    lib.speex_echo_state_init.restype = vp
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.argtypes = [vp]
    # Sample buffers go in as addresses (c_void_p): a frame is passed as an offset into a
    # block's array, with no ctypes pointer object made per frame.
    lib.speex_echo_cancellation.argtypes = [vp, vp, vp, vp]
    lib.speex_echo_ctl.argtypes = [vp, ctypes.c_int, vp]
    lib.speex_preprocess_state_init.restype = vp
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_destroy.argtypes = [vp]
    lib.speex_preprocess_ctl.argtypes = [vp, ctypes.c_int, vp]
    lib.speex_preprocess_run.argtypes = [vp, vp]
    return lib


def _int_ref(value: int) -> ctypes.c_void_p:
    return ctypes.cast(ctypes.pointer(ctypes.c_int(value)), ctypes.c_void_p)


class EchoCanceller:
    """Removes the reference (what the speaker played) from the microphone signal.

    Feed equal-length int16 arrays of microphone and reference, sample-aligned as well as
    the caller can; the adaptive filter absorbs the room's delay and reverberation up to
    `filter_seconds`. Audio is processed in whole frames; any remainder waits for the next
    call, so the output may lag the input by less than one frame.
    """

    def __init__(
        self,
        sample_rate_hz: int = SPEECH_RATE_HZ,
        frame_seconds: float = 0.01,
        filter_seconds: float = 0.2,
        suppress_residual: bool = True,
        noise_suppress_db: int = -3,
        echo_suppress_db: int = -40,
        echo_suppress_active_db: int = -15,
    ) -> None:
        lib = load_speexdsp()
        if lib is None:
            raise UserError(
                "echo cancellation needs libspeexdsp (sudo apt-get install libspeexdsp1)", 2
            )
        self._lib = lib
        self.frame = round(sample_rate_hz * frame_seconds)
        self._echo = lib.speex_echo_state_init(self.frame, round(sample_rate_hz * filter_seconds))
        lib.speex_echo_ctl(self._echo, SPEEX_ECHO_SET_SAMPLING_RATE, _int_ref(sample_rate_hz))
        self._pre = None
        if suppress_residual:
            # The preprocessor removes what the linear filter leaves behind (it misadapts for
            # a while whenever the person talks over the box). Its echo suppression works
            # through the denoiser's gains, so the denoiser must be on, but it is held to a
            # few dB: stronger noise suppression smears the spectra the recogniser relies on.
            self._pre = lib.speex_preprocess_state_init(self.frame, sample_rate_hz)
            lib.speex_preprocess_ctl(self._pre, SPEEX_PREPROCESS_SET_ECHO_STATE, self._echo)
            lib.speex_preprocess_ctl(self._pre, SPEEX_PREPROCESS_SET_DENOISE, _int_ref(1))
            lib.speex_preprocess_ctl(
                self._pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, _int_ref(noise_suppress_db)
            )
            # Residual echo: how far it is pushed down with the box alone, and while the person
            # talks over it (less, so their voice survives).
            lib.speex_preprocess_ctl(
                self._pre, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, _int_ref(echo_suppress_db)
            )
            lib.speex_preprocess_ctl(
                self._pre,
                SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE,
                _int_ref(echo_suppress_active_db),
            )
        self._mic = np.zeros(0, np.int16)
        self._ref = np.zeros(0, np.int16)
        # Energy of the linear filter's output in the last process() call, before the residual
        # suppressor: how well the filter itself models the room. The suppressor's output is no
        # measure of that, since it silences echo-only frames whatever the filter left.
        self.linear_energy = 0.0
        # The linear filter's output of the last process() call (what `linear_energy` measures),
        # for a caller that wants the echo subtracted but the voice left as it came.
        self.linear_output = np.zeros(0, np.int16)
        self._lock = threading.Lock()

    def process(self, mic: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Echo-free microphone samples (int16) for the whole frames available so far."""
        if len(mic) != len(reference):
            raise ValueError("microphone and reference chunks must have the same length")
        with self._lock:
            self._mic = np.concatenate([self._mic, mic.astype(np.int16, copy=False)])
            self._ref = np.concatenate([self._ref, reference.astype(np.int16, copy=False)])
            frames = len(self._mic) // self.frame
            n = frames * self.frame
            mic_block = np.ascontiguousarray(self._mic[:n])
            ref_block = np.ascontiguousarray(self._ref[:n])
            out = np.empty(n, np.int16)
            linear_out = np.empty(n, np.int16)
            mic_at, ref_at = mic_block.ctypes.data, ref_block.ctypes.data
            out_at, linear_at = out.ctypes.data, linear_out.ctypes.data
            step = self.frame * 2  # bytes per frame of int16
            for k in range(frames):
                offset = k * step
                self._lib.speex_echo_cancellation(
                    self._echo, mic_at + offset, ref_at + offset, linear_at + offset
                )
                if self._pre is not None:
                    ctypes.memmove(out_at + offset, linear_at + offset, step)
                    self._lib.speex_preprocess_run(self._pre, out_at + offset)
            if self._pre is None:
                out[:] = linear_out
            self._mic = self._mic[frames * self.frame :]
            self._ref = self._ref[frames * self.frame :]
            self.linear_energy = float(np.dot(linear_out.astype(np.float64), linear_out))
            self.linear_output = linear_out
            return out

    def close(self) -> None:
        """Free the native state."""
        with self._lock:
            if self._pre is not None:
                self._lib.speex_preprocess_state_destroy(self._pre)
                self._pre = None
            if self._echo is not None:
                self._lib.speex_echo_state_destroy(self._echo)
                self._echo = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown: nothing left to tell
            pass


class ReferenceBuffer:
    """What the speaker played, on the monotonic clock, resampled to the recogniser's rate.

    The player's tap adds every block it sends (silence too) with the time it leaves the
    speaker; the capture thread takes the stretch matching each microphone block. The
    reference is taken `lead_seconds` early, so that timestamp errors of that size still
    leave the echo *after* its reference, which is all the adaptive filter needs.
    """

    def __init__(
        self,
        sample_rate_hz: int = SPEECH_RATE_HZ,
        keep_seconds: float = 2.0,
        lead_seconds: float = 0.05,
        resync_seconds: float = 0.2,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.lead_seconds = lead_seconds
        self._keep = round(keep_seconds * sample_rate_hz)
        self._samples = np.zeros(0, np.float32)
        self._start: float | None = None  # monotonic time of _samples[0]
        self._end: int | None = None  # index just after the last block added
        self._resync = round(resync_seconds * sample_rate_hz)
        self._resamplers: dict[int, Any] = {}
        self._closed = False
        self._lock = threading.Lock()

    def add(self, block: Any) -> None:
        """Tap callback: `block` is a voiceguide.speech_out.player.PlayedBlock."""
        import soxr

        if self._closed:
            return  # the speaker may tap a block or two after the microphone has closed

        rate = int(block.sample_rate_hz)
        if rate != self.sample_rate_hz:
            stream = self._resamplers.get(rate)
            if stream is None:
                stream = soxr.ResampleStream(rate, self.sample_rate_hz, 1, dtype="float32")
                self._resamplers[rate] = stream
            frames = stream.resample_chunk(np.asarray(block.frames, np.float32))
        else:
            frames = np.asarray(block.frames, np.float32)
        with self._lock:
            if self._start is None:
                self._start = float(block.start_monotonic)
            offset = round((block.start_monotonic - self._start) * self.sample_rate_hz)
            # Blocks follow each other sample for sample. Their timestamps jitter by several
            # milliseconds, and following them would tear the reference apart for the
            # canceller; the slow drift between the sound card's clock and the microphone's
            # is left to the echo stage's delay tracking. Only a real gap (an underrun, a
            # reopened stream) moves a block onto its own timestamp.
            if self._end is not None and abs(offset - self._end) <= self._resync:
                offset = self._end
            elif self._end is not None:
                log.debug("reference moved by %.0f ms",
                          (offset - self._end) / self.sample_rate_hz * 1000)  # fmt: skip
            end = max(len(self._samples), offset + len(frames))
            if end > len(self._samples):
                self._samples = np.concatenate(
                    [self._samples, np.zeros(end - len(self._samples), np.float32)]
                )
            if offset >= 0:
                self._samples[offset : offset + len(frames)] = frames
            self._end = offset + len(frames)
            excess = len(self._samples) - self._keep
            if excess > 0:
                self._samples = self._samples[excess:]
                self._start += excess / self.sample_rate_hz
                self._end -= excess

    def close(self) -> None:
        """Drop the resamplers: a native object alive at exit makes nanobind print a warning."""
        with self._lock:
            self._closed = True
            self._resamplers.clear()

    def take(self, start_monotonic: float, n: int) -> np.ndarray:
        """int16 reference for `n` samples from `start_monotonic` (zeros where none played)."""
        out = np.zeros(n, np.float32)
        with self._lock:
            if self._start is not None:
                first = round(
                    (start_monotonic - self.lead_seconds - self._start) * self.sample_rate_hz
                )
                lo, hi = max(0, first), min(len(self._samples), first + n)
                if hi > lo:
                    out[lo - first : hi - first] = self._samples[lo:hi]
        return float_to_pcm16(out)

"""Audio devices: list them, choose one by name or index, and find a sample rate it accepts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

from voiceguide.errors import UserError

log = logging.getLogger(__name__)

Direction = Literal["input", "output"]
COMMON_RATES_HZ = (48000, 44100, 32000, 22050, 16000)


class NoOutputDevice(UserError):
    """There is no audio output device at all, so speech can only go to the console."""


class NoInputDevice(UserError):
    """There is no audio input device at all."""


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device, as the user sees it in `voiceguide devices`."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate_hz: int
    is_default_input: bool = False
    is_default_output: bool = False

    def channels(self, direction: Direction) -> int:
        """Maximum channel count in one direction."""
        return self.max_input_channels if direction == "input" else self.max_output_channels


_alsa: tuple[Any, Any] | None = None  # (libasound, our handler), kept alive while in use


def _route_alsa_messages_to_log() -> None:
    """Send alsa-lib's messages (e.g. "underrun occurred") to our log instead of stderr.

    alsa-lib prints straight to stderr, which would scribble over the console a user is
    watching; we count underruns ourselves, so the messages are kept at debug level. Called
    after every PortAudio (re)initialisation, which may install a handler of its own.
    """
    global _alsa
    if _alsa is None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("asound")
        if name is None:
            return
        # The real handler is variadic (file, line, function, err, fmt, ...); the fixed part
        # is enough for a log line, and the extra arguments are simply not read.
        handler_type = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )

        def handler(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
            # The message's own arguments are not readable here, so name where it came from.
            where = (function or b"?").decode(errors="replace")
            message = (fmt or b"").decode(errors="replace")
            log.debug("alsa-lib %s(): %r, error %d", where, message, err)

        _alsa = (ctypes.CDLL(name), handler_type(handler))
    library, handler = _alsa
    library.snd_lib_error_set_handler(handler)


def import_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a one-line error."""
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio2 is not installed
        raise NoOutputDevice(f"audio is unavailable: {exc} (install libportaudio2)") from exc
    _route_alsa_messages_to_log()
    return sounddevice


def refresh_devices() -> None:
    """Re-scan devices (PortAudio only enumerates at start-up); no stream may be open."""
    sd = import_sounddevice()
    sd._terminate()
    sd._initialize()
    _route_alsa_messages_to_log()


def list_devices() -> list[AudioDevice]:
    """All devices PortAudio can open, inputs and outputs."""
    sd = import_sounddevice()
    default_in, default_out = sd.default.device
    apis = sd.query_hostapis()
    found = []
    for info in sd.query_devices():
        index = int(info["index"])
        found.append(
            AudioDevice(
                index=index,
                name=str(info["name"]),
                host_api=str(apis[info["hostapi"]]["name"]),
                max_input_channels=int(info["max_input_channels"]),
                max_output_channels=int(info["max_output_channels"]),
                default_sample_rate_hz=round(info["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return found


def _describe(devices: Iterable[AudioDevice]) -> str:
    listed = ", ".join(f"{d.index} '{d.name}'" for d in devices)
    return listed or "none"


def choose_device(spec: str | int | None, direction: Direction) -> AudioDevice:
    """Pick a device by index, by (case-insensitive) name substring, or the system default."""
    usable = [d for d in list_devices() if d.channels(direction) > 0]
    if not usable:
        if direction == "output":
            raise NoOutputDevice("no audio output device found (is a speaker connected?)")
        raise NoInputDevice("no audio input device found (is a microphone connected?)")
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        defaults = [
            d
            for d in usable
            if (d.is_default_output if direction == "output" else d.is_default_input)
        ]
        return defaults[0] if defaults else usable[0]
    if isinstance(spec, int) or spec.strip().isdigit():
        wanted = int(spec)
        for device in usable:
            if device.index == wanted:
                return device
        raise UserError(
            f"no audio {direction} device with index {wanted} (available: {_describe(usable)})"
        )
    needle = spec.strip().lower()
    exact = [d for d in usable if d.name.lower() == needle]
    partial = [d for d in usable if needle in d.name.lower()]
    if exact or partial:
        chosen = (exact or partial)[0]
        if not exact and len(partial) > 1:
            log.info("'%s' matches %s; using %s", spec, _describe(partial), chosen.name)
        return chosen
    raise UserError(
        f"no audio {direction} device matches '{spec}' (available: {_describe(usable)})"
    )


def choose_output_device(spec: str | int | None) -> AudioDevice:
    """The output device named by `spec` (index, name substring, or None for the default)."""
    return choose_device(spec, "output")


def choose_input_device(spec: str | int | None) -> AudioDevice:
    """The input device named by `spec` (index, name substring, or None for the default)."""
    return choose_device(spec, "input")


def candidate_rates(device: AudioDevice, preferred_hz: int | None) -> list[int]:
    """Rates to try, best first: the configured one, the device's own, then common ones."""
    rates: list[int] = []
    for rate in (preferred_hz, device.default_sample_rate_hz, *COMMON_RATES_HZ):
        if rate and rate not in rates:
            rates.append(int(rate))
    return rates


def supported_rates(
    device: AudioDevice, direction: Direction, rates: Iterable[int] = COMMON_RATES_HZ
) -> list[int]:
    """Which of `rates` the device accepts for mono (or its minimum channel count) audio."""
    sd = import_sounddevice()
    check = sd.check_output_settings if direction == "output" else sd.check_input_settings
    accepted = []
    for rate in rates:
        try:
            check(device=device.index, channels=1, dtype="float32", samplerate=rate)
        except sd.PortAudioError:
            continue
        accepted.append(rate)
    return accepted


def resample(samples: np.ndarray, from_rate_hz: int, to_rate_hz: int) -> np.ndarray:
    """Resample mono audio with soxr (same dtype out as in)."""
    if from_rate_hz == to_rate_hz or len(samples) == 0:
        return samples
    import soxr

    return soxr.resample(samples, from_rate_hz, to_rate_hz)


def format_device_table(
    devices: list[AudioDevice], rates: dict[tuple[Direction, int], list[int]]
) -> str:
    """Text table for `voiceguide devices`: direction, index, name, native and accepted rates."""
    lines = []
    directions: tuple[Direction, ...] = ("output", "input")
    for direction in directions:
        lines.append(f"{direction}s:")
        chosen = [d for d in devices if d.channels(direction) > 0]
        if not chosen:
            lines.append("  (none)")
        for d in chosen:
            default = d.is_default_output if direction == "output" else d.is_default_input
            accepted = ", ".join(str(r) for r in rates.get((direction, d.index), [])) or "?"
            lines.append(
                f"  {'*' if default else ' '}{d.index:>3}  {d.name}  [{d.host_api}, "
                f"{d.channels(direction)} ch, native {d.default_sample_rate_hz} Hz, "
                f"accepts {accepted}]"
            )
    lines.append("(* = default; choose with output_device / input_device by index or name part)")
    return "\n".join(lines)

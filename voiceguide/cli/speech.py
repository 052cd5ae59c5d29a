"""CLI wiring for `say`, `render` and `devices`: parse, call the speech modules, print results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from voiceguide.app.config import Config
from voiceguide.errors import UserError

SAY_TIMEOUT_SECONDS = 120.0


def _voice_flags(parser: argparse.ArgumentParser) -> None:
    """Accept the voice settings after the subcommand too; SUPPRESS keeps the global values."""
    keep = argparse.SUPPRESS
    parser.add_argument("--voice", metavar="NAME", default=keep, help="espeak-ng voice, e.g. en-us")
    parser.add_argument("--rate-wpm", type=int, metavar="N", default=keep, help="speech rate")
    parser.add_argument("--volume", type=float, metavar="0..1", default=keep)
    parser.add_argument("--output-device", metavar="NAME|INDEX", default=keep)


def _sample_rate(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of Hz: {text!r}") from None
    if not 8000 <= value <= 192000:
        raise argparse.ArgumentTypeError("must be from 8000 to 192000 Hz")
    return value


def add_subcommands(subparsers: Any) -> None:
    """Add `say`, `render` and `devices` to the main parser's subcommands."""
    p = subparsers.add_parser("say", help="speak a sentence through the speaker")
    p.add_argument("text", nargs="+", help="what to say")
    _voice_flags(p)
    p.set_defaults(func=cmd_say)

    p = subparsers.add_parser("render", help="write a whole guided session to one WAV file")
    p.add_argument("routine", help="routine id, title or spoken alias")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.wav")
    p.add_argument("--rate", type=_sample_rate, default=22050, metavar="HZ",
                   help="sample rate of the file (default 22050)")  # fmt: skip
    p.add_argument("--voice", metavar="NAME", default=argparse.SUPPRESS)
    p.add_argument("--rate-wpm", type=int, metavar="N", default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_render)

    p = subparsers.add_parser("devices", help="list audio inputs and outputs with their rates")
    p.set_defaults(func=cmd_devices)


def cmd_say(args: argparse.Namespace, config: Config) -> int:
    """Speak the text and wait until it has been heard."""
    from voiceguide.speech_out.speaker import open_speaker

    text = " ".join(args.text).strip()
    if not text:
        raise UserError("nothing to say", 2)
    speech = open_speaker(config.speaker_settings())
    try:
        # Rendered (or found in the phrase cache) first, as a routine's cues are, so it plays
        # on time instead of being synthesised late inside speak().
        speech.prepare([text], progress=False)
        speech.speak(text)
        if not speech.wait_until_done(SAY_TIMEOUT_SECONDS):
            raise UserError("speech did not finish within two minutes")
    finally:
        speech.close()
    return 0


def cmd_render(args: argparse.Namespace, config: Config) -> int:
    """Write the routine's whole session as a WAV file."""
    from voiceguide.app.plans import timeline_for
    from voiceguide.speech_out.render import check_output_path, render_to_file

    check_output_path(args.output)
    timeline = timeline_for(config, args.routine)  # planned exactly as `voiceguide plan` shows
    result = render_to_file(timeline, config.speaker_settings(), args.output, args.rate)
    minutes, seconds = divmod(result.seconds, 60)
    note = f", {result.cut_short} cut short by the next cue" if result.cut_short else ""
    print(f"wrote {result.path}: {int(minutes)}:{seconds:06.3f} at {args.rate} Hz, "
          f"{result.cues} cues{note}")  # fmt: skip
    return 0


def cmd_devices(args: argparse.Namespace, config: Config) -> int:
    """List every audio device with its native rate and the common rates it accepts."""
    from voiceguide.audio.devices import (
        COMMON_RATES_HZ,
        format_device_table,
        list_devices,
        supported_rates,
    )

    devices = list_devices()
    if not devices:
        print("no audio devices found (is a speaker or microphone connected?)", file=sys.stderr)
        return 1
    rates = {}
    for device in devices:
        for direction in ("output", "input"):
            if device.channels(direction) > 0:
                rates[(direction, device.index)] = supported_rates(
                    device, direction, COMMON_RATES_HZ
                )
    print(format_device_table(devices, rates))  # type: ignore[arg-type]
    return 0

"""`voiceguide recognize` (WAV files → JSON commands) and `voiceguide listen` (live mic check)."""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from voiceguide.app.config import Config
from voiceguide.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceguide.cli.wav_files import BadRecording, read_wav_16k
from voiceguide.content.locales import load_locale
from voiceguide.errors import UserError
from voiceguide.speech_in.settings import ENGINES

if TYPE_CHECKING:
    from voiceguide.speech_in.mic import MicInput


def _mono(channels: list[bytes]) -> bytes:
    """All channels mixed down, as a microphone hears them."""
    if len(channels) == 1:
        return channels[0]
    mixed = sum(pcm16_to_float(c) for c in channels) / len(channels)
    return float_to_pcm16(np.asarray(mixed)).tobytes()


def _reference(args: argparse.Namespace) -> bytes | None:
    """What the speaker played (--reference), read once; a bad one stops before any work."""
    if not args.reference:
        return None
    try:
        return _mono(read_wav_16k(args.reference))
    except BadRecording as exc:
        raise UserError(f"{args.reference}: {exc}", 2) from None


def _mic_and_reference(
    path: Path, args: argparse.Namespace, reference: bytes | None
) -> tuple[bytes, bytes | None]:
    """The microphone signal of `path`, and what the speaker played, if the user gave it."""
    channels = read_wav_16k(path)
    if args.stereo_reference:
        if len(channels) != 2:
            raise BadRecording(f"has {len(channels)} channel(s); --stereo-reference needs 2 "
                               "(microphone left, played audio right)")  # fmt: skip
        return channels[0], channels[1]
    return _mono(channels), reference


def cmd_recognize(args: argparse.Namespace, config: Config) -> int:
    """Print one JSON object per file with the commands heard, through the live path."""
    from voiceguide.speech_in.factory import open_listener
    from voiceguide.speech_in.recording import listen_to_recording

    if args.reference and len(args.files) != 1:
        raise UserError("--reference goes with exactly one recording (the one it was played "
                        "into); for several, use stereo files and --stereo-reference", 2)  # fmt: skip
    language = args.recognize_locale or config.locale
    if args.recognize_engine:
        config = _with_engine(config, args.recognize_engine)
    locale = load_locale(language)
    commands: Mapping[str, Sequence[str]] = locale.commands
    if args.idle:  # what serve listens for between sessions: the same table serve uses
        from voiceguide.app.wiring import idle_commands
        from voiceguide.content.catalog import load_good_routines
        from voiceguide.core.idle import IdleMode

        routines = load_good_routines(config.routines_folder(), language)
        commands = idle_commands(IdleMode(routines, locale), config.listen_settings())
    played = _reference(args)
    listener = open_listener(config.listen_settings(), locale, commands)
    bad = 0
    for path in args.files:
        try:
            mic, reference = _mic_and_reference(path, args, played)
        except BadRecording as exc:
            # Said, and the rest still processed; the exit status reports it at the end.
            bad += 1
            print(f"voiceguide: {path}: {exc}", file=sys.stderr, flush=True)
            print(json.dumps({"file": str(path), "error": str(exc)}, ensure_ascii=False))
            continue
        listener.reset()
        heard, echo = listen_to_recording(listener, mic, reference)
        found = [
            {key: value for key, value in h.to_json().items() if key != "heard_at"} for h in heard
        ]
        record: dict[str, object] = {"file": str(path), "commands": found}
        if echo is not None:
            record["echo"] = {"delay_ms": round(echo.delay_seconds * 1000, 1),
                              "removed_db": round(echo.removed_db, 1),
                              "filter_median_db": echo.filter_median_db,
                              "echo_heard": echo.echo_heard_at is not None}  # fmt: skip
        print(json.dumps(record, ensure_ascii=False))
    return 2 if bad else 0


def _with_engine(config: Config, engine: str) -> Config:
    import dataclasses

    return dataclasses.replace(config, engine=engine)


def cmd_listen(args: argparse.Namespace, config: Config) -> int:
    """Show live hypotheses and the input level, for setting up a microphone.

    Ends with a one-line error (exit 1) when there is no such microphone or it gives no audio,
    and with 130 on Ctrl-C, as other commands interrupted by SIGINT do.
    """
    from voiceguide.audio.devices import choose_input_device
    from voiceguide.core.actions import CommandHeard, InputLost
    from voiceguide.speech_in.mic import MicInput

    # Python turns SIGINT into KeyboardInterrupt only when SIGINT was at its default as the
    # process started; one started with it ignored (from a script's background job, nohup, a
    # CI runner) would never end on Ctrl-C. serve and run install their own handlers alike.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # A session waits for a lost microphone to come back; this set-up tool says what is wrong
    # instead, starting with a device that is not there at all.
    device = choose_input_device(config.listen_settings().input_device)
    locale = load_locale(config.locale)
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    mic = MicInput(config.listen_settings(), locale, events.put, locale.commands, show_levels=True)
    try:
        # Inside the try: a Ctrl-C right after this line must still close the microphone,
        # or its audio thread would keep the process alive.
        print(f"listening on {device.name}; say a command (Ctrl-C to end)", file=sys.stderr)
        while True:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(event, CommandHeard):
                print(f"{time.strftime('%H:%M:%S')} command: {event.command} ({event.phrase!r})")
            elif isinstance(event, InputLost):
                raise UserError(
                    f"no audio from the microphone {device.name}: check that it is plugged in "
                    "and not used by another program, then run voiceguide listen again"
                )
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while the microphone closes ends listen at once.
        signal.signal(signal.SIGINT, _end_at_once)
        # Bounded: CI saw a Ctrl-C left waiting while the sound server closed the stream. The
        # flush is in there too: a pipe nobody reads (the level meter on stderr) cannot hold it.
        closer = threading.Thread(
            target=_close_and_flush, args=(mic,), name="voiceguide-mic-close", daemon=True
        )
        closer.start()
        closer.join(timeout=5)
    # Only Ctrl-C gets here (the loop never ends by itself). listen holds nothing to save, so a
    # close still stuck in the audio library, or in its exit handler, must not keep it waiting.
    os._exit(130)


def _close_and_flush(mic: MicInput) -> None:
    mic.close()
    sys.stdout.flush()
    sys.stderr.flush()


def _end_at_once(signum: int, frame: FrameType | None) -> NoReturn:
    os._exit(130)


def add_subcommands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `recognize` and `listen`."""
    p = sub.add_parser("recognize", help="print the commands heard in WAV files, as JSON lines")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE.wav")
    p.add_argument("--engine", dest="recognize_engine", choices=list(ENGINES))
    p.add_argument("--locale", dest="recognize_locale", metavar="LANG")
    p.add_argument(
        "--idle", action="store_true", help="listen for idle phrases (start <routine>, list ...)"
    )
    echo = p.add_mutually_exclusive_group()
    echo.add_argument("--reference", type=Path, metavar="PLAYED.wav",
                      help="what the speaker played meanwhile: its echo is cancelled first")  # fmt: skip
    echo.add_argument("--stereo-reference", action="store_true",
                      help="each file is stereo: microphone left, played audio right")  # fmt: skip
    p.set_defaults(func=cmd_recognize)
    p = sub.add_parser("listen", help="show live hypotheses and input level (mic set-up)")
    p.set_defaults(func=cmd_listen)

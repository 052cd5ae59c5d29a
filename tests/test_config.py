"""Config loading: search order, precedence, validation and one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from voiceguide.app import config as config_module
from voiceguide.app.config import (
    CONFIG_SCHEMA,
    KEYS,
    Config,
    config_search_paths,
    dump_config,
    find_config_file,
    load_config,
)
from voiceguide.errors import UserError


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real user or system config, and no voiceguide env vars, leak into a test."""
    for name in ("VOICEGUIDE_CONFIG", "VOICEGUIDE_HISTORY", "VOICEGUIDE_ROUTINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_PATH", tmp_path / "etc" / "config.yaml")
    return tmp_path


def write(path: Path, text: str) -> Path:
    """Write `text` to `path`, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None = None, overrides: dict[str, object] | None = None) -> str:
    """The one-line UserError message load_config raises."""
    with pytest.raises(UserError) as caught:
        load_config(path, overrides)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.exit_code != 0
    return message


# ---- defaults and the schema ---------------------------------------------------------------
def test_defaults_without_any_file(isolated: Path) -> None:
    config = load_config()
    assert config == Config()
    assert config.locale == "en" and config.voice is None and config.engine == "pocketsphinx"
    assert config.voice_settings().voice == "en-us"  # the en locale file's voice
    assert (config.rate_wpm, config.pitch, config.volume) == (160, 50, 0.8)
    assert config.history_db is None and config.routines_dir is None
    assert config.cache_dir == isolated / "xdg-cache" / "voiceguide"


def test_schema_is_valid_and_covers_every_field() -> None:
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)
    assert set(CONFIG_SCHEMA["properties"]) == set(KEYS)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_gives_defaults(isolated: Path, text: str) -> None:
    assert load_config(write(isolated / "c.yaml", text)) == Config()


def test_empty_value_keeps_the_default(isolated: Path) -> None:
    config = load_config(write(isolated / "c.yaml", "voice:\nhistory_db: ~\n"))
    assert config.voice is None and config.history_db is None


def test_every_key_from_a_file(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(isolated / "home"))
    path = write(
        isolated / "conf" / "config.yaml",
        """\
locale: en
routines_dir: my-routines        # relative: next to this file
history_db: ~/voiceguide/history.db
cache_dir: /var/cache/voiceguide
models_dir: ../models
voice: en-gb
rate_wpm: 140
pitch: 40
volume: 1
output_device: USB
input_device: 2
output_rate_hz: 48000
engine: vosk
vosk_model: vosk-model-small-en-us-0.15
log_level: debug
""",
    )
    config = load_config(path)
    assert config == Config(
        locale="en",
        routines_dir=isolated / "conf" / "my-routines",
        history_db=isolated / "home" / "voiceguide" / "history.db",
        cache_dir=Path("/var/cache/voiceguide"),
        models_dir=isolated / "conf" / ".." / "models",
        voice="en-gb",
        rate_wpm=140,
        pitch=40,
        volume=1.0,
        output_device="USB",
        input_device=2,
        output_rate_hz=48000,
        engine="vosk",
        vosk_model="vosk-model-small-en-us-0.15",
        log_level="debug",
    )
    assert isinstance(config.volume, float)


def test_dump_round_trips(isolated: Path) -> None:
    config = Config(voice="en-gb", output_device=3, history_db=isolated / "h.db", volume=0.5)
    assert load_config(write(isolated / "dumped.yaml", dump_config(config))) == config


# ---- search order --------------------------------------------------------------------------
def test_search_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = isolated / "xdg-config" / "voiceguide" / "config.yaml"
    system = config_module.SYSTEM_CONFIG_PATH
    assert config_search_paths() == [user, system]
    assert find_config_file() is None

    write(system, "voice: system\n")
    assert load_config().voice == "system"
    write(user, "voice: user\n")
    assert load_config().voice == "user"  # the user's file wins over /etc
    monkeypatch.setenv("VOICEGUIDE_CONFIG", str(write(isolated / "env.yaml", "voice: env\n")))
    assert load_config().voice == "env"
    explicit = write(isolated / "explicit.yaml", "voice: explicit\n")
    assert load_config(explicit).voice == "explicit"
    assert find_config_file(explicit) == explicit


def test_files_are_not_merged(isolated: Path) -> None:
    write(config_module.SYSTEM_CONFIG_PATH, "pitch: 10\n")
    write(isolated / "xdg-config" / "voiceguide" / "config.yaml", "voice: en-gb\n")
    config = load_config()
    assert (config.voice, config.pitch) == ("en-gb", 50)  # first file found is the only one read


def test_missing_explicit_file(isolated: Path) -> None:
    missing = isolated / "nope.yaml"
    assert error_of(missing) == f"config file {missing} does not exist"


def test_missing_file_named_by_env(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = isolated / "typo.yaml"
    monkeypatch.setenv("VOICEGUIDE_CONFIG", str(missing))
    assert error_of() == f"config file {missing} (from $VOICEGUIDE_CONFIG) does not exist"


# ---- precedence ----------------------------------------------------------------------------
def test_overrides_beat_the_file_and_none_is_ignored(isolated: Path) -> None:
    path = write(isolated / "c.yaml", "voice: en-gb\nrate_wpm: 140\n")
    config = load_config(path, {"voice": "en-us+f3", "rate_wpm": None, "volume": 0.3})
    assert (config.voice, config.rate_wpm, config.volume) == ("en-us+f3", 140, 0.3)


def test_override_paths_and_devices(isolated: Path) -> None:
    config = load_config(
        overrides={"history_db": "rel/h.db", "output_device": "3", "input_device": "USB Mic"}
    )
    assert config.history_db == Path("rel/h.db")  # relative to where the command runs
    assert config.output_device == 3  # argparse hands over "3"; digits mean a device index
    assert config.input_device == "USB Mic"


def test_env_paths_sit_between_file_and_flags(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(isolated / "c.yaml", "history_db: /from/file.db\nroutines_dir: /from/file\n")
    monkeypatch.setenv("VOICEGUIDE_HISTORY", "/from/env.db")
    monkeypatch.setenv("VOICEGUIDE_ROUTINES", "/from/env")
    config = load_config(path)
    assert (config.history_db, config.routines_dir) == (Path("/from/env.db"), Path("/from/env"))
    config = load_config(path, {"history_db": Path("/from/flag.db")})
    assert config.history_db == Path("/from/flag.db")


def test_unknown_override_key_is_a_bug() -> None:
    with pytest.raises(ValueError):
        load_config(overrides={"voise": "x"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"volume": 2.0}, "--volume must be a number from 0 to 1, not 2.0"),
        ({"rate_wpm": 20}, "--rate-wpm must be a whole number of words per minute from 80 to 400"),
        ({"engine": "whisper"}, "--engine must be neural, pocketsphinx or vosk, not 'whisper'"),
        ({"locale": "xx"}, "--locale must be one of en, ko, not 'xx'"),
    ],
)
def test_bad_override_values(overrides: dict[str, object], message: str) -> None:
    assert error_of(overrides=overrides).startswith(message)


# ---- errors in the file --------------------------------------------------------------------
def test_unknown_key_suggests_the_closest(isolated: Path) -> None:
    path = write(isolated / "config.yaml", "locale: en\nrate_wpm: 150\nvoise: en-gb\n")
    assert error_of(path) == f"{path}:3:1: unknown key 'voise' (did you mean 'voice'?)"


def test_unknown_key_without_a_close_match_lists_keys(isolated: Path) -> None:
    path = write(isolated / "config.yaml", "zzz: 1\n")
    message = error_of(path)
    assert message.startswith(f"{path}:1:1: unknown key 'zzz' (known keys: locale, routines_dir,")


def test_yaml_boolean_key_is_reported_as_written(isolated: Path) -> None:
    path = write(isolated / "config.yaml", "voice: en\non: true\n")
    assert error_of(path).startswith(f"{path}:2:1: unknown key 'on'")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("volume: 1.5\n", 1, "volume must be a number from 0 to 1, not 1.5"),
        ("volume: loud\n", 1, "volume must be a number from 0 to 1, not 'loud'"),
        ("voice: x\nrate_wpm: 500\n", 2, "rate_wpm must be a whole number of words per minute"),
        ("rate_wpm: 150.5\n", 1, "rate_wpm must be a whole number"),
        ("rate_wpm: true\n", 1, "rate_wpm must be a whole number"),
        ("pitch: 100\n", 1, "pitch must be a whole number from 0 to 99, not 100"),
        ("engine: whisper\n", 1, "engine must be neural, pocketsphinx or vosk, not 'whisper'"),
        ("log_level: loud\n", 1, "log_level must be one of debug, info, warning, error"),
        ("output_rate_hz: 100\n", 1, "output_rate_hz must be a sample rate in Hz"),
        ("output_device: -1\n", 1, "output_device must be part of a device name, or a device"),
        ("output_device: [1, 2]\n", 1, "output_device must be part of a device name"),
        ("voice: ''\n", 1, "voice must be an espeak-ng voice name, not ''"),
        ("history_db: 3\n", 1, "history_db must be a file path, not 3"),
        ("locale: fr\n", 1, "locale must be one of en, ko, not 'fr'"),
        # Several problems: the first by line is reported.
        ("pitch: 1000\nvolume: 7\n", 1, "pitch must be"),
        ("volume: 7\npitch: 1000\n", 1, "volume must be"),
    ],
)
def test_bad_values(isolated: Path, text: str, line: int, message: str) -> None:
    path = write(isolated / "config.yaml", text)
    # The value's own line and column: 'key: ' puts it len(key) + 3 columns in.
    column = text.splitlines()[line - 1].index(":") + 3
    assert error_of(path).startswith(f"{path}:{line}:{column}: {message}")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("voice: en\nrate_wpm: [150\npitch: 3\n", 3),
        ("voice: en\n  pitch: 3\n", 2),
        ("voice: 'unclosed\n", 2),
        ("voice: en\n\tpitch: 3\n", 2),
        ("a: 1\n---\nb: 2\n", 2),
    ],
)
def test_malformed_yaml_names_the_line(isolated: Path, text: str, line: int) -> None:
    path = write(isolated / "config.yaml", text)
    assert re.match(rf"{re.escape(str(path))}:{line}:\d+: could not parse YAML: ", error_of(path))


def test_duplicate_key(isolated: Path) -> None:
    path = write(isolated / "config.yaml", "voice: a\npitch: 3\nvoice: b\n")
    assert error_of(path) == f"{path}:3:1: voice: duplicate key 'voice' (first on line 1)"


@pytest.mark.parametrize("text", ["- voice\n- pitch\n", "just a sentence\n", "42\n"])
def test_top_level_must_be_a_mapping(isolated: Path, text: str) -> None:
    path = write(isolated / "config.yaml", text)
    assert error_of(path) == f"{path}:1:1: expected 'key: value' lines at the top level"


def test_not_utf8(isolated: Path) -> None:
    path = isolated / "config.yaml"
    path.write_bytes(b"voice: \xff\xfe\n")
    assert error_of(path) == f"{path}:1:8: file is not UTF-8 text (byte 0xff cannot be decoded)"


def test_a_directory_is_not_a_config_file(isolated: Path) -> None:
    (isolated / "dir.yaml").mkdir()
    assert (
        error_of(isolated / "dir.yaml")
        == f"config file {isolated / 'dir.yaml'} is not a regular file"
    )


# ---- docs stay in step with the code -------------------------------------------------------
DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_docs_list_every_key() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for key in KEYS:
        assert f"| `{key}` |" in text, key


def test_docs_example_is_a_valid_config(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(isolated))
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load_config(write(isolated / "example.yaml", example))
    assert config.voice == "en-gb" and config.history_db == isolated / "voiceguide" / "history.db"

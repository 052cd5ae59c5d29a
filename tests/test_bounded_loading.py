"""One bounded, exact YAML loader for routines, the library, locales and the config (issue 13)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceguide.app.config import load_config
from voiceguide.content.bounded_read import MAX_FILE_BYTES
from voiceguide.content.loader import Library, load_routine_file, load_routines
from voiceguide.content.yaml_core12 import using_libyaml
from voiceguide.content.yaml_positions import parse_yaml_file, parse_yaml_text
from voiceguide.errors import UserError

REPO_ROUTINES = Path(__file__).resolve().parents[1] / "voiceguide" / "data" / "routines"
LOCATED = re.compile(r"^\S+:\d+:\d+: ")
ROUTINE = """\
id: odd
title: Odd
description: x
level: gentle
steps:
  - exercise: Lie still
    setup: Lie down.
    hold_seconds: {hold}
    sides: {sides}
"""


def _routine(tmp_path: Path, hold: str = "20", sides: str = "none") -> Path:
    path = tmp_path / "odd.yaml"
    path.write_text(ROUTINE.format(hold=hold, sides=sides), encoding="utf-8")
    return path


def _voiceguide(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        check=False, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


# ---- routine files: kind and size --------------------------------------------------------
@pytest.fixture
def routines_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "routines"
    shutil.copytree(REPO_ROUTINES, folder)
    return folder


def test_a_fifo_named_yaml_is_refused_without_being_opened(routines_copy: Path) -> None:
    os.mkfifo(routines_copy / "x.yaml")
    started = time.monotonic()
    routines, problems = load_routines(routines_copy)
    assert time.monotonic() - started < 30
    assert len(routines) == 6
    assert [str(p) for p in problems] == [
        f"{routines_copy / 'x.yaml'}:1:1: cannot read file: it is a FIFO, not a regular file"
    ]
    proc = _voiceguide("--routines-dir", str(routines_copy), "list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("x.yaml") == 1 and "gentle-back" in proc.stdout


def test_a_symlink_to_dev_zero_is_refused_from_its_stat(routines_copy: Path) -> None:
    (routines_copy / "zero.yaml").symlink_to("/dev/zero")
    _, problems = load_routines(routines_copy)
    assert [p.message for p in problems] == [
        "cannot read file: it is a character device, not a regular file"
    ]


def test_a_10_mb_routine_is_refused_by_its_size_quickly(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("id: big\n" + "# padding\n" * 1_000_000, encoding="utf-8")
    started = time.monotonic()
    routine, problems = load_routine_file(path, Library())
    assert time.monotonic() - started < 5
    assert routine is None
    size_kib = round(path.stat().st_size / 1024)
    assert [str(p) for p in problems] == [
        f"{path}:1:1: file is too large ({size_kib} KiB; the limit is 256 KiB)"
    ]


def test_a_file_just_under_the_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: 1\n" + "#" * (MAX_FILE_BYTES - 10) + "\n", encoding="utf-8")
    assert parse_yaml_file(path).data == {"a": 1}


def test_a_folder_is_not_read(tmp_path: Path) -> None:
    problems = parse_yaml_file(tmp_path).problems
    assert [p.message for p in problems] == ["cannot read file: it is a folder, not a regular file"]


# ---- YAML 1.2 values ---------------------------------------------------------------------
def test_the_c_loader_is_used_where_pyyaml_has_it() -> None:
    import yaml

    assert using_libyaml() == bool(getattr(yaml, "__with_libyaml__", False))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("010", 10),
        ("0o10", 8),
        ("0x1f", 31),
        ("1e3", 1000.0),
        ("-1.5e-1", -0.15),
        ("1:30", "1:30"),
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("True", True),
        ("false", False),
        ("~", None),
        ("2001-01-01", "2001-01-01"),
        ("'010'", "010"),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    parsed = parse_yaml_text(f"a: {text}\n", "x.yaml")
    assert parsed.problems == []
    assert parsed.data == {"a": value} and type(parsed.data["a"]) is type(value)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".inf", "-.inf", "+.INF", "1e999"])
def test_nan_and_infinity_are_refused_where_written(text: str) -> None:
    parsed = parse_yaml_text(f"id: x\nhold_seconds: {text}\n", "x.yaml")
    assert [str(p) for p in parsed.problems] == [
        f"x.yaml:2:15: hold_seconds: {text} is not a finite number; write a number such as 0.5"
    ]


def test_a_huge_whole_number_is_refused_not_converted() -> None:
    parsed = parse_yaml_text("a: " + "9" * 5000 + "\n", "x.yaml")
    assert [p.message for p in parsed.problems] == [f"{'9' * 24}... is too large a number"]


def test_octal_looking_hold_is_ten_seconds(tmp_path: Path) -> None:
    routine, problems = load_routine_file(_routine(tmp_path, hold="010"), Library())
    assert problems == [] and routine is not None
    assert routine.steps[0].hold_seconds == 10.0


def test_sexagesimal_hold_is_refused_as_text(tmp_path: Path) -> None:
    path = _routine(tmp_path, hold="1:30")
    _, problems = load_routine_file(path, Library())
    assert [str(p) for p in problems] == [
        f"{path}:8:19: steps[0].hold_seconds: expected a number, got text ('1:30')"
    ]


def test_sides_no_is_refused_not_read_as_false(tmp_path: Path) -> None:
    path = _routine(tmp_path, sides="no")
    _, problems = load_routine_file(path, Library())
    assert [str(p) for p in problems] == [
        f"{path}:9:12: steps[0].sides: must be one of: none, both (got 'no')"
    ]


def test_exponent_hold_is_a_number(tmp_path: Path) -> None:
    routine, problems = load_routine_file(_routine(tmp_path, hold="2e1"), Library())
    assert problems == [] and routine is not None and routine.steps[0].hold_seconds == 20.0


@pytest.mark.skipif(not using_libyaml(), reason="the pure-Python scanner refuses tabs in text")
def test_a_tab_inside_a_title_is_valid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(ROUTINE.format(hold=20, sides="none").replace("Odd", "Quick\treset"))
    routine, problems = load_routine_file(path, Library())
    assert problems == [] and routine is not None
    assert routine.title == "Quick reset"  # text is folded to single spaces


def test_shipped_files_read_the_same_as_before() -> None:
    import yaml

    files = [*REPO_ROUTINES.glob("*.yaml"), *REPO_ROUTINES.glob("library/*.yaml")]
    files += (Path(__file__).resolve().parents[1] / "voiceguide" / "locales").glob("*.yaml")
    for path in files:
        assert parse_yaml_file(path).data == yaml.safe_load(path.read_text()), path


# ---- depth and aliases -------------------------------------------------------------------
def test_deep_block_nesting_is_one_located_line() -> None:
    text = "voice:\n" + "".join("  " * i + "- \n" for i in range(1, 300))
    parsed = parse_yaml_text(text, "x.yaml")
    assert [str(p) for p in parsed.problems] == [
        "x.yaml:65:129: could not parse YAML: values are nested more than 64 deep"
    ]


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ("{", "}"), ("{a: ", "}")])
def test_deep_flow_nesting_is_one_located_line_quickly(opener: str, closer: str) -> None:
    started = time.monotonic()
    parsed = parse_yaml_text("voice: " + opener * 5000 + closer * 5000 + "\n", "x.yaml")
    # The pure-Python scanner, asked for its wording, is quadratic in flow depth: bounded too.
    assert time.monotonic() - started < 5
    assert len(parsed.problems) == 1
    assert LOCATED.match(str(parsed.problems[0]))
    assert parsed.problems[0].message.endswith("values are nested more than 64 deep")


def test_a_long_merge_chain_is_refused_not_a_recursion_error() -> None:
    lines = ["a0: &a0 {k: 1}"] + [f"a{i}: &a{i} {{<<: *a{i - 1}}}" for i in range(1, 2000)]
    parsed = parse_yaml_text("\n".join(lines), "x.yaml")
    assert len(parsed.problems) == 1 and "nested more than 64 deep" in parsed.problems[0].message


# ---- the config --------------------------------------------------------------------------
@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import voiceguide.app.config as config_module

    for name in ("VOICEGUIDE_CONFIG", "VOICEGUIDE_HISTORY", "VOICEGUIDE_ROUTINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_PATH", tmp_path / "etc" / "config.yaml")
    return tmp_path


def _config_error(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        load_config(path)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "\n" not in message and LOCATED.match(message), message
    return message


def test_config_volume_nan_is_refused(isolated: Path) -> None:
    path = isolated / "config.yaml"
    path.write_text("voice: en-us\nvolume: .nan\n")
    assert _config_error(path) == (
        f"{path}:2:9: volume: .nan is not a finite number; write a number such as 0.5"
    )


def test_config_yes_no_booleans_are_refused(isolated: Path) -> None:
    path = isolated / "config.yaml"
    path.write_text("echo_cancel: no\n")
    assert _config_error(path) == f"{path}:1:14: echo_cancel must be true or false, not 'no'"


def test_config_5000_deep_voice_is_one_line_exit_2(isolated: Path) -> None:
    path = isolated / "config.yaml"
    for opener, closer in (("{a: ", "}"), ("[", "]")):
        path.write_text("voice: " + opener * 5000 + closer * 5000 + "\n")
        assert "nested more than 64 deep" in _config_error(path)
    proc = _voiceguide("--config", str(path), "list")
    assert proc.returncode == 2 and "RecursionError" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"voice: \xff\n", ":1:8: file is not UTF-8 text (byte 0xff cannot be decoded)"),
        (b"voice: a\x07\n", ":1:9: could not parse YAML: unacceptable character #x0007"),
        (b"- voice\n", ":1:1: expected 'key: value' lines at the top level"),
        (b"voice: a\nvoice: b\n", ":2:1: voice: duplicate key 'voice' (first on line 1)"),
        (b"voice: [a\n", ":2:1: could not parse YAML: "),
        (b"a: 1\n" + b"#" * MAX_FILE_BYTES, ":1:1: file is too large (256 KiB; the limit"),
    ],
)
def test_every_config_rejection_carries_line_and_column(
    isolated: Path, content: bytes, expected: str
) -> None:
    path = isolated / "config.yaml"
    path.write_bytes(content)
    assert _config_error(path).startswith(f"{path}{expected}")


def test_config_fifo_is_refused_without_blocking(isolated: Path) -> None:
    fifo = isolated / "config.yaml"
    os.mkfifo(fifo)
    proc = _voiceguide("--config", str(fifo), "list", timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"voiceguide: config file {fifo} is not a regular file"


@pytest.mark.parametrize(
    "value", ["{a: " * 60 + "1" + "}" * 60, "[" + ", ".join(["word"] * 500) + "]", "x" * 5000]
)
def test_a_long_or_nested_config_value_is_shown_on_one_short_line(
    isolated: Path, value: str
) -> None:
    # Found by the fuzz test: the value was dumped back as YAML over many lines.
    path = isolated / "config.yaml"
    path.write_text(f"voice: {value}\n")
    message = _config_error(path) if not value.startswith("x") else None
    if message is None:
        path.write_text(f"rate_wpm: {value}\n")
        message = _config_error(path)
    assert len(message) < len(str(path)) + 160, message

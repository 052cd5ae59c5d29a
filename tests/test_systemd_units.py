"""The systemd units pass `systemd-analyze verify` and the system unit's exposure is at most 2.0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voiceguide.app.config import CONFIG_ENV, HISTORY_ENV, SYSTEM_CONFIG_PATH

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_UNIT = ROOT / "systemd" / "voiceguide.service"
USER_UNIT = ROOT / "systemd" / "voiceguide-user.service"
INSTALLER = ROOT / "scripts" / "install-pi.sh"
INSTALLED_COMMAND = "/opt/voiceguide/venv/bin/voiceguide"
MAX_EXPOSURE = 2.0

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)"
)


def unit_settings(path: Path) -> dict[tuple[str, str], list[str]]:
    """(section, key) -> every value given for it, in order (systemd allows repeats)."""
    settings: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def existing_command() -> str:
    """An executable that exists here, to stand in for the installed voiceguide command."""
    candidate = Path(sys.executable).parent / "voiceguide"
    return str(candidate) if candidate.exists() else sys.executable


def analyze(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


@needs_analyze
def test_system_unit_verifies_clean(tmp_path: Path) -> None:
    # verify insists that ExecStart exists, and /opt/voiceguide is only there once installed:
    # check a copy (same file name) whose command points at this checkout's voiceguide.
    text = SYSTEM_UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED_COMMAND} " in text
    copy = tmp_path / SYSTEM_UNIT.name
    copy.write_text(
        text.replace(f"ExecStart={INSTALLED_COMMAND}", f"ExecStart={existing_command()}")
    )
    result = analyze("verify", str(copy))
    # Unknown keys and other mistakes are only warnings (exit status 0), so stderr must be empty.
    assert (result.returncode, result.stderr.strip()) == (0, "")


@needs_analyze
def test_user_unit_verifies_clean(tmp_path: Path) -> None:
    # The user unit runs %h/.local/bin/voiceguide: give verify a home where that exists, and the
    # runtime directory a user manager needs.
    (tmp_path / ".local" / "bin").mkdir(parents=True)
    (tmp_path / ".local" / "bin" / "voiceguide").symlink_to(existing_command())
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(runtime)}
    result = analyze("--user", "verify", str(USER_UNIT), env=env)
    assert (result.returncode, result.stderr.strip()) == (0, "")


@needs_analyze
def test_system_unit_exposure_is_at_most_two() -> None:
    result = analyze("security", "--offline=true", str(SYSTEM_UNIT))
    assert result.returncode == 0, result.stderr
    match = re.search(r"Overall exposure level for voiceguide\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout
    exposure = float(match.group(1))
    assert exposure <= MAX_EXPOSURE, result.stdout


def test_system_unit_has_the_required_settings() -> None:
    unit = unit_settings(SYSTEM_UNIT)
    service = {key: values for (section, key), values in unit.items() if section == "Service"}
    assert unit[("Unit", "StartLimitBurst")] and unit[("Unit", "StartLimitIntervalSec")]
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["ExecStart"] == [f"{INSTALLED_COMMAND} serve"]
    assert service["WatchdogSec"] and service["Restart"] == ["on-failure"]
    assert service["User"] == ["voiceguide"] and service["SupplementaryGroups"] == ["audio"]
    for key in ("StateDirectory", "CacheDirectory", "ConfigurationDirectory"):
        assert service[key] == ["voiceguide"]
    assert service["CapabilityBoundingSet"] == [""] and service["AmbientCapabilities"] == [""]
    assert service["RestrictAddressFamilies"] == ["AF_UNIX"]
    assert service["DevicePolicy"] == ["closed"]
    assert service["DeviceAllow"] == ["char-alsa rw"]
    assert service["SystemCallFilter"][0] == "@system-service"
    assert unit[("Install", "WantedBy")] == ["multi-user.target"]


def test_system_unit_points_voiceguide_at_the_service_directories() -> None:
    environment = dict(
        value.split("=", 1) for value in unit_settings(SYSTEM_UNIT)[("Service", "Environment")]
    )
    assert environment[CONFIG_ENV] == str(SYSTEM_CONFIG_PATH)
    assert environment[HISTORY_ENV] == "/var/lib/voiceguide/history.db"
    # The installer puts the venv where ExecStart looks for it.
    assert "VENV_DIR=$PREFIX_DIR/venv" in INSTALLER.read_text(encoding="utf-8")
    assert "PREFIX_DIR=/opt/voiceguide\n" in INSTALLER.read_text(encoding="utf-8")


@pytest.mark.parametrize("unit", [SYSTEM_UNIT, USER_UNIT], ids=lambda path: path.name)
def test_a_config_error_is_not_restarted(unit: Path, tmp_path: Path) -> None:
    # The CLI exits 2 for a usage or config error; systemd must not restart it in a loop.
    service = {key: v for (section, key), v in unit_settings(unit).items() if section == "Service"}
    assert service["RestartPreventExitStatus"] == ["2"]
    bad = tmp_path / "config.yaml"
    bad.write_text("volume: loud\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--config", str(bad), "serve"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("voiceguide: ") and result.stderr.count("\n") == 1


def test_user_unit_is_a_session_service() -> None:
    unit = unit_settings(USER_UNIT)
    assert unit[("Service", "Type")] == ["notify"]
    assert unit[("Service", "ExecStart")] == ["%h/.local/bin/voiceguide serve"]
    assert "pipewire-pulse.socket" in unit[("Unit", "After")][0]
    assert unit[("Install", "WantedBy")] == ["default.target"]

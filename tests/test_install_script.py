"""scripts/install-pi.sh: the --dry-run plan, and the real file layout inside a throwaway --root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from voiceguide.app.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install-pi.sh"
SETUP = ROOT / "scripts" / "setup.sh"
UNIT = ROOT / "systemd" / "voiceguide.service"
CONSTRAINTS = ROOT / "constraints" / "pi.txt"
# Packages scripts/setup.sh installs only for the tests and the unit checks.
TEST_ONLY_PACKAGES = {"pulseaudio", "pulseaudio-utils", "flite", "sox", "libsox-fmt-all", "systemd"}
NOBODY = 65534


def run(
    *args: str, as_uid: int | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = ["bash", str(SCRIPT), *args]
    if as_uid is not None:
        command = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups", *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )


def nobody_can_run_the_script() -> bool:
    """Whether we are root and can drop to nobody, who can read the script (a checkout under
    /root is closed to other users)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return False
    probe = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run([*probe, "test", "-r", str(SCRIPT)], check=False).returncode == 0


def install(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run("--root", str(root), "--skip-venv", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path under root: file contents, link targets, or "dir"."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[key] = "dir"
        else:
            found[key] = path.read_bytes()
    return found


def apt_list(script: Path) -> list[str]:
    """The APT_PACKAGES array of a shell script, as bash itself reads it."""
    program = f"""eval "$(sed -n '/^APT_PACKAGES=(/,/^)/p' {script})"; printf '%s\\n' \
"${{APT_PACKAGES[@]}}" """
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_packages_are_the_runtime_part_of_setup() -> None:
    runtime = [pkg for pkg in apt_list(SETUP) if pkg not in TEST_ONLY_PACKAGES]
    assert apt_list(SCRIPT) == runtime


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path: Path) -> None:
    result = run("--dry-run", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Every action is only shown: nothing ran ("+ ..." lines are actions carried out).
    assert not [line for line in lines if line.startswith("+ ")]
    plan = "\n".join(lines)
    for expected in (
        "apt-get install -y --no-install-recommends python3 ",
        (
            "useradd --system --user-group --no-create-home --home-dir /var/lib/voiceguide "
            "--shell /usr/sbin/nologin --groups audio"
        ),
        f"python3 -m venv {tmp_path}/opt/voiceguide/venv",
        (
            f"{tmp_path}/opt/voiceguide/venv/bin/python -m pip install --quiet -c {CONSTRAINTS} "
            "--no-build-isolation --upgrade /tmp/"
        ),
        f"install -D -m 0644 {UNIT} {tmp_path}/etc/systemd/system/voiceguide.service",
        f"write the default settings to {tmp_path}/etc/voiceguide/config.yaml",
        f"install -d -m 0700 {tmp_path}/var/lib/voiceguide",
        f"systemctl --root={tmp_path} enable voiceguide.service",
        "systemctl restart voiceguide.service",
        "dry run: nothing was changed",
    ):
        assert expected in plan
    assert list(tmp_path.iterdir()) == []


def test_dry_run_on_this_system_only_shows_actions() -> None:
    # Without --root the plan is worked out against this machine; still nothing may run.
    result = run("--dry-run", as_uid=NOBODY if nobody_can_run_the_script() else None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith(("[dry-run] ", "install-pi: ")) for line in lines), lines
    assert any("/etc/systemd/system/voiceguide.service" in line for line in lines)


def test_install_into_root_lays_out_every_file(tmp_path: Path) -> None:
    install(tmp_path)
    unit = tmp_path / "etc/systemd/system/voiceguide.service"
    assert unit.read_bytes() == UNIT.read_bytes()
    config_path = tmp_path / "etc/voiceguide/config.yaml"
    config = load_config(config_path)  # the default config is valid as written
    assert config.history_db == Path("/var/lib/voiceguide/history.db")
    assert config.cache_dir == Path("/var/cache/voiceguide")
    for data_dir in ("var/lib/voiceguide", "var/cache/voiceguide"):
        assert (tmp_path / data_dir).is_dir()
        assert (tmp_path / data_dir).stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "etc/modules-load.d/voiceguide.conf").read_text().splitlines()[-1] == "snd"
    assert (tmp_path / "opt/voiceguide/share/doc/raspberry-pi.md").is_file()
    if shutil.which("systemctl"):
        wants = tmp_path / "etc/systemd/system/multi-user.target.wants/voiceguide.service"
        assert os.readlink(wants) == "/etc/systemd/system/voiceguide.service"


def test_second_run_changes_nothing_and_keeps_the_config(tmp_path: Path) -> None:
    install(tmp_path)
    config = tmp_path / "etc/voiceguide/config.yaml"
    config.write_text("voice: en-gb\n")
    before = tree(tmp_path)
    result = install(tmp_path)
    assert tree(tmp_path) == before
    assert config.read_text() == "voice: en-gb\n"
    assert "/etc/voiceguide/config.yaml: kept" in result.stdout
    assert "/etc/systemd/system/voiceguide.service: up to date" in result.stdout


def test_uninstall_keeps_history_and_purge_deletes_it(tmp_path: Path) -> None:
    install(tmp_path)
    history = tmp_path / "var/lib/voiceguide/history.db"
    history.write_bytes(b"finished sessions")

    result = run("--root", str(tmp_path), "--uninstall")
    assert result.returncode == 0, result.stderr
    assert history.read_bytes() == b"finished sessions"
    assert (tmp_path / "etc/voiceguide/config.yaml").is_file()
    for gone in (
        "etc/systemd/system/voiceguide.service",
        "etc/systemd/system/multi-user.target.wants/voiceguide.service",
        "etc/modules-load.d/voiceguide.conf",
        "opt/voiceguide",
        "var/cache/voiceguide",
    ):
        assert not (tmp_path / gone).exists(), gone
    assert "userdel voiceguide" in result.stdout
    assert "kept /etc/voiceguide (settings) and /var/lib/voiceguide" in result.stdout

    result = run("--root", str(tmp_path), "--purge")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var/lib/voiceguide").exists()
    assert not (tmp_path / "etc/voiceguide").exists()


def test_refuses_to_run_without_root() -> None:
    if not nobody_can_run_the_script():
        pytest.skip("needs root, setpriv, and a checkout that other users can read")
    result = run(as_uid=NOBODY)
    assert result.returncode == 1
    assert result.stderr.startswith("install-pi: error: must run as root")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["--root", "/", "--dry-run"], "--root / is the running system"),
        (["--root"], "--root needs a directory"),
    ],
)
def test_bad_arguments_get_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


# ---- exact versions, from a constraints file kept in the repo --------------------------------
def _pins() -> dict[str, str]:
    """constraints/pi.txt as {canonical name: version}; every line must be an exact pin."""
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version and not any(c in version for c in "<>=!~*,; "), line
        pins[canonicalize_name(name)] = version
    return pins


def test_every_runtime_dependency_is_pinned_exactly_and_satisfies_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec.split("#")[0])
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in {CONSTRAINTS.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (spec, pins[name])
    # No test, training or other optional tool rides along to a user's Pi.
    tools = {
        canonicalize_name(Requirement(spec).name)
        for specs in project["optional-dependencies"].values()
        for spec in specs
    }
    runtime = {
        canonicalize_name(Requirement(s.split("#")[0]).name) for s in project["dependencies"]
    }
    assert not (tools - runtime) & set(pins), (tools - runtime) & set(pins)


def test_every_pip_run_uses_the_constraints(tmp_path: Path) -> None:
    result = run("--dry-run", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    pip_runs = [line for line in result.stdout.splitlines() if " -m pip install " in line]
    assert len(pip_runs) == 2, pip_runs
    for line in pip_runs:
        assert f" -c {CONSTRAINTS} " in line, line
    assert "--upgrade pip setuptools" in pip_runs[0]


def test_a_32_bit_userland_is_refused_in_one_line(tmp_path: Path) -> None:
    # 32-bit Raspberry Pi OS on a Pi 4: a 64-bit kernel (uname -m: aarch64), a 32-bit userland.
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool, answer in (("getconf", "32"), ("uname", "aarch64")):
        (fake / tool).write_text(f"#!/bin/sh\necho {answer}\n")
        (fake / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    result = run("--dry-run", "--root", str(tmp_path / "root"), env=env)
    assert result.returncode == 1
    expected = (
        "install-pi: error: voiceguide needs a 64-bit OS (Raspberry Pi OS 64-bit); this one has "
        "a 32-bit userland on aarch64, and numpy, soxr, pocketsphinx and PyYAML have no 32-bit "
        "ARM wheels (see docs/raspberry-pi.md)"
    )
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""  # refused before anything, even a dry-run step

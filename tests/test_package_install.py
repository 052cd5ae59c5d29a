"""The built wheel carries its routines, schema, library and model manifest, and works from a
`pip install --prefix` somewhere else, run from another folder (no checkout in sight)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


installed_before: dict[str, list[str]] = {}


def _own_installs() -> list[str]:
    """The voiceguide dist-info folders of this interpreter's own site-packages."""
    import site

    return sorted(
        str(p) for folder in site.getsitepackages() for p in Path(folder).glob("voiceguide-*-info")
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wheel built from a copy of the package, installed with --prefix into a temp folder."""
    installed_before["voiceguide"] = _own_installs()
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    source.mkdir()
    # A copy, so the build leaves no build/ or egg-info in the checkout.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "voiceguide", source / "voiceguide", ignore=shutil.ignore_patterns("__pycache__")
    )
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    _pip("wheel", "--no-deps", *isolation, "-w", str(base / "dist"), str(source), cwd=base)
    [wheel] = (base / "dist").glob("voiceguide-*.whl")
    prefix = base / "prefix"
    # --ignore-installed: without it pip uninstalls the venv's own (editable) voiceguide first.
    _pip(
        "install", "--no-deps", "--ignore-installed", "--prefix", str(prefix), str(wheel), cwd=base
    )
    [site] = prefix.glob("lib/python3*/site-packages")
    elsewhere = base / "elsewhere"
    (elsewhere / "home").mkdir(parents=True)
    return {"wheel": wheel, "prefix": prefix, "site": site, "cwd": elsewhere}


def _voiceguide(installed: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, with only the prefix's voiceguide importable."""
    home = installed["cwd"] / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEGUIDE_")}
    env.update(
        PYTHONPATH=str(installed["site"]),  # ahead of the venv's editable checkout
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
    )
    return subprocess.run(
        [str(installed["prefix"] / "bin" / "voiceguide"), *args],
        cwd=installed["cwd"], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_venvs_own_install_is_left_alone(installed: dict[str, Path]) -> None:
    assert _own_installs() == installed_before["voiceguide"]


def test_the_wheel_carries_the_data_inside_the_package(installed: dict[str, Path]) -> None:
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for expected in (
        "voiceguide/data/routines/quick-reset.yaml",
        "voiceguide/data/routines/schema.json",
        "voiceguide/data/routines/library/exercises.yaml",
        "voiceguide/data/models/manifest.yaml",
        "voiceguide/locales/en.yaml",
    ):
        assert expected in names
    assert not [n for n in names if ".data/data/" in n]  # no share/ files beside the package


def test_list_and_run_work_from_the_prefix_in_another_folder(installed: dict[str, Path]) -> None:
    where = _voiceguide(installed, "--debug", "list")
    assert where.returncode == 0, where.stderr
    assert "quick-reset" in where.stdout and "gentle-back" in where.stdout
    # The package answering is the installed one, not the checkout.
    probe = subprocess.run(
        [sys.executable, "-c", "import voiceguide.content.loader as l; print(l.bundled_routines_dir())"],
        cwd=installed["cwd"], env={**os.environ, "PYTHONPATH": str(installed["site"])},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(probe.stdout.strip()).is_relative_to(installed["site"])
    run = _voiceguide(installed, "run", "quick-reset", "--text", "--speed", "1000", "--no-history")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "Quick reset" in run.stdout
    models = _voiceguide(installed, "models", "list")
    assert models.returncode == 0, models.stderr
    assert "vosk-model-small-en-us-0.15" in models.stdout


def test_your_own_folder_adds_to_the_installed_routines(installed: dict[str, Path]) -> None:
    mine = installed["cwd"] / "home" / ".config" / "voiceguide" / "routines"
    mine.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "voiceguide" / "data" / "routines" / "quick-reset.yaml").read_text()
    lines = [
        "id: my-reset" if line.startswith("id:")
        else "title: My reset" if line.startswith("title:")
        else "aliases: [my reset]" if line.startswith("aliases:")
        else line
        for line in text.splitlines()
    ]  # fmt: skip
    (mine / "my-reset.yaml").write_text("\n".join(lines) + "\n")  # its use: steps need a library
    try:
        listed = _voiceguide(installed, "list")
        assert listed.returncode == 0, listed.stderr
        assert listed.stderr == ""
        ids = [line.split()[0] for line in listed.stdout.splitlines()]
        assert "my-reset" in ids and "quick-reset" in ids
    finally:
        shutil.rmtree(mine)

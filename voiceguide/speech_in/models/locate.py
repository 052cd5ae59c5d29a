"""Where speech models live: install folders, a checkout's models/, and Python packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from voiceguide.errors import UserError
from voiceguide.speech_in.settings import ModelSettings

log = logging.getLogger(__name__)
from voiceguide.speech_in.models.manifest import (
    _REPO_MODELS,
    MODEL_MARKERS,
    RECORD_NAME,
    Manifest,
    ModelEntry,
    load_manifest,
)
from voiceguide.speech_in.models.packaged import check_package_model


# ---- where models live -----------------------------------------------------------------------
def install_dir(models: ModelSettings) -> Path:
    """The folder `models install` writes to: `models_dir`, else the user's data folder."""
    if models.models_dir is not None:
        return Path(models.models_dir)
    return Path(platformdirs.user_data_dir("voiceguide")) / "models"


def search_dirs(models: ModelSettings) -> list[Path]:
    """Folders searched for installed models: the install folder, then a checkout's models/."""
    dirs = [install_dir(models)]
    if models.models_dir is None and (_REPO_MODELS / "README.md").is_file():
        dirs.append(_REPO_MODELS)
    return dirs


def is_model_dir(path: Path) -> bool:
    """Whether `path` looks like a Vosk model folder."""
    return all((path / marker).is_file() for marker in MODEL_MARKERS)


def package_model_dir(entry: ModelEntry) -> Path | None:
    """The model folder inside the entry's Python package, if that package is installed."""
    if not entry.python_package:
        return None
    try:
        spec = importlib.util.find_spec(entry.python_package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / entry.package_path
    return path if is_model_dir(path) else None


def installed_path(entry: ModelEntry, models: ModelSettings) -> Path | None:
    """Where the entry's model is usable from: a models folder first, then its package."""
    for folder in search_dirs(models):
        if is_model_dir(folder / entry.name):
            return folder / entry.name
    return package_model_dir(entry)


def find_model_for_language(
    language: str, models: ModelSettings, manifest: Manifest | None = None
) -> Path | None:
    """The first installed Vosk model for `language` in manifest order, or None."""
    manifest = manifest or load_manifest()
    for entry in manifest.for_language(language):
        path = installed_path(entry, models)
        if path is not None:
            return _checked(entry, path)
    return None


def _checked(entry: ModelEntry, path: Path) -> Path:
    """`path`, once a model that comes from a Python package matches the manifest."""
    if entry.python_package and path == package_model_dir(entry):
        check_package_model(entry, path)
    return path


def resolve_vosk_model(
    models: ModelSettings, language: str, manifest: Manifest | None = None
) -> Path:
    """The Vosk model folder to use: config `vosk_model` (a name or a folder), else by language."""
    choice = models.vosk_model
    if choice:
        candidate = Path(choice).expanduser()
        if candidate.is_dir():
            if not is_model_dir(candidate):
                raise UserError(f"{candidate} is not a Vosk model folder (no am/ or conf/)", 2)
            return candidate
        if os.sep in choice or choice.startswith("."):
            raise UserError(f"vosk model folder {candidate} does not exist", 2)
        manifest = manifest or load_manifest()
        entry = manifest.get(choice)
        path = installed_path(entry, models)
        if path is None:
            raise UserError(
                f"vosk model {entry.name} is not installed; run: voiceguide models install "
                f"{entry.name}"
            )
        return _checked(entry, path)
    manifest = manifest or load_manifest()
    path = find_model_for_language(language, models, manifest)
    if path is not None:
        return path
    candidates = manifest.for_language(language)
    if not candidates:
        raise UserError(
            f"no Vosk model is known for locale '{language}'; use --engine pocketsphinx"
        )
    raise UserError(
        f"no Vosk model for locale '{language}' is installed; run: voiceguide models install "
        f"{candidates[0].name} (or use --engine pocketsphinx)"
    )


def model_files(folder: Path) -> Iterator[str]:
    """Every file of a model folder (relative, POSIX paths), but our own install record."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != RECORD_NAME:
            yield path.relative_to(folder).as_posix()

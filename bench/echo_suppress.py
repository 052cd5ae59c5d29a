"""Sweep the echo stage's settings on the train split: commands over the box's echo against
the box alone.

    .venv/bin/python -m bench.echo_suppress --active=-15,-6,-3,0
    .venv/bin/python -m bench.echo_suppress --vary FRAME_SECONDS=0.01,0.02
    .venv/bin/python -m bench.echo_suppress --vary final_other_over_box=0.95,0.8

Each setting decodes the split's echo streams (and, with --clean, its clean ones), the box's
own-speech streams and its room talk over the box through the product bench's `decode_stream`
(the product's factory, echo stage and listener), with one of `speech_in.echo_path`'s
constants or one field of the listener's rejection thresholds set in each worker (`--active`
is short for `--vary ECHO_SUPPRESS_ACTIVE_DB=...`), and prints one JSON line per setting. It
refuses the test split: the setting is chosen here, and the test split only reports it
(docs/benchmarks.md).
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
# Streams where any command is a false one: the box alone, and room talk over the box.
BOX_ALONE_KINDS = ("own_speech", "room_talk_over_box")


def _set_constants(values: dict[str, float]) -> None:
    """Worker initializer: the setting under test, read when each echo stage (a constant of
    speech_in.echo_path) or each listener's rejection (a field of its Thresholds) is made."""
    import dataclasses

    from voiceguide.speech_in import echo_path, rejection

    for name, value in values.items():
        if hasattr(echo_path, name):
            setattr(echo_path, name, type(getattr(echo_path, name))(value))
        elif name in {f.name for f in dataclasses.fields(rejection.Thresholds)}:
            changed = {name: value}
            rejection.DEFAULT_THRESHOLDS = dataclasses.replace(
                rejection.DEFAULT_THRESHOLDS, **changed
            )
        else:
            raise SystemExit(f"voiceguide: no echo-stage constant or threshold {name}")


def run_setting(
    manifest: list[dict], folder: Path, values: dict[str, float], workers: int
) -> dict[str, Any]:
    """One setting over `manifest`'s streams: accuracy, pain, false commands, echo CPU."""
    started = time.perf_counter()
    raw = asr_bench.decode_all(
        manifest, folder, "pocketsphinx", workers, raw_own_speech=False,
        initializer=_set_constants, initargs=(values,),
    )  # fmt: skip
    scored = asr_bench.score(manifest, {(r["name"], r["live"]): r["events"] for r in raw})
    # Per second of streams the stage ran on (clean ones have no reference).
    audio = sum(r["audio_seconds"] for r in raw if r["echo"]) or 1.0
    return {
        "raw": raw,
        "setting": values,
        "accuracy": scored["accuracy"],
        "pain": scored["pain"],
        "own_speech": scored["false"]["own_speech"],
        "room_talk_over_box": scored["false"]["room_talk_over_box"],
        "echo_cpu_per_second": sum(r["echo"]["cpu_seconds"] for r in raw if r["echo"]) / audio,
        "minutes": (time.perf_counter() - started) / 60,
    }


def _settings(args: argparse.Namespace) -> list[dict[str, float]]:
    """Each setting to try: the swept constant's value, with --alone's always."""
    name, values = "ECHO_SUPPRESS_ACTIVE_DB", args.active
    if args.vary:
        name, values = args.vary.split("=", 1)
    return [{"ECHO_SUPPRESS_DB": args.alone, name: float(v)} for v in values.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="train")
    parser.add_argument("--active", default="-3", help="dB while the person talks")
    parser.add_argument("--alone", type=int, default=-40, help="dB with the box alone")
    parser.add_argument(
        "--vary", help="NAME=V1,V2,...: a speech_in.echo_path constant or a Thresholds field"
    )
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
    wanted = [e for e in manifest
              if e["condition"] in ECHO_CONDITIONS or e["kind"] in BOX_ALONE_KINDS]  # fmt: skip
    clean = [e for e in manifest if e["condition"] == "clean"]
    for i, values in enumerate(_settings(args)):
        streams = wanted + (clean if args.clean and i == 0 else [])
        result = run_setting(streams, folder, values, args.workers)
        raw = result.pop("raw")
        print(json.dumps(result), flush=True)
        if args.json:
            path = args.json.with_name(f"{args.json.stem}-{i}{args.json.suffix}")
            path.write_text(json.dumps({"manifest": streams, "result": result, "raw": raw}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

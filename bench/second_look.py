"""How the second look at safety commands (speech_in.double_talk) separates the box's own voice
from a person talking over it, to choose `echo_path.BOX_ALONE_DB` on the train split.

    .venv/bin/python -m bench.second_look --split train --reuse   # (the corpus of bench.asr_bench)
    .venv/bin/python -m bench.second_look --split train --reuse --suspects --engine neural

With `--suspects` it chooses `echo_guard.SUSPECT_REMOVED_DB` instead: every stream with the box
talking, whole, with the engine given, and for every command the echo guard asked about once
the canceller worked, what the live stage had removed from its words (nothing is dropped on
that figure while it runs).

Every stream with the box talking (commands over 0 and -6 dB echo, the box's own speech) goes
through the product's path (`open_listener`, `listen_to_recording`) for its first seconds, the
only time the second look runs, with the bar set out of reach so that every look is recorded
and nothing is dropped. Each look is labelled by what was really said over its span: a
person's command, or the box alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench import corpus
from bench.asr_bench import CHUNK_SECONDS, _playing_at
from voiceguide.content.locales import load_locale
from voiceguide.speech_in import echo_guard, echo_path
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.recording import listen_to_recording
from voiceguide.speech_in.settings import ListenSettings
from voiceguide.speech_out.synth import read_wav

FIRST_SECONDS = 8.0  # well past convergence (about 3 s of the box talking)


def _looks(job: tuple[str, dict, bool, str | None]) -> list[dict[str, Any]]:
    """Worker: one stream's first seconds; every second look with its truth (with an engine:
    the whole stream, and every figure the guard asked of the live stage)."""
    folder, entry, all_along, engine = job
    echo_path.BOX_ALONE_DB = float("inf")  # look, record, never drop
    echo_guard.SUSPECT_REMOVED_DB = float("inf")
    seconds = FIRST_SECONDS
    if all_along:  # a filter that never counts as converged: every safety command gets a look
        echo_path.CONVERGE_SECONDS = float("inf")
    if all_along or engine:
        seconds = entry["seconds"]
    clock = [0.0]
    locale = load_locale("en")
    settings = ListenSettings(engine=engine) if engine else ListenSettings()
    listener = open_listener(
        settings, locale, locale.commands, playing_text=_playing_at(entry["played"], clock)
    )
    n = round(seconds * corpus.RATE_HZ)
    mic = read_wav(Path(folder) / f"{entry['name']}.wav").samples[:n]
    ref = read_wav(Path(folder) / f"{entry['name']}.ref.wav").samples[:n]

    def tick(now: float) -> None:
        clock[0] = now

    _, stats = listen_to_recording(listener, mic.tobytes(), ref.tobytes(), CHUNK_SECONDS, tick)
    assert stats is not None
    people = [u for u in entry["utterances"] if u["command"] is not None]
    found = []
    for start, end, removed in stats.filter_looks if engine else stats.second_looks:
        over = [
            u for u in people
            if min(end, u["end_seconds"]) - max(start, u["start_seconds"]) > 0.5 * (end - start)
        ]  # fmt: skip
        found.append({
            "stream": entry["name"], "condition": entry["condition"], "start": start, "end": end,
            "removed_db": removed, "person": over[0]["text"] if over else None,
        })  # fmt: skip
    return found


def main() -> int:
    """Print the removed-dB distribution of both kinds of look, and the margin of each bar."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "train"], default="train")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated corpus")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--all-along", action="store_true",
        help="look at every safety command over the box, not only before convergence",
    )  # fmt: skip
    parser.add_argument(
        "--suspects",
        action="store_true",
        help="the live stage's figure for every command (SUSPECT_REMOVED_DB)",
    )
    parser.add_argument("--engine", default="pocketsphinx", help="with --suspects")
    args = parser.parse_args()
    folder = corpus.OUT_DIR / args.split
    if not (args.reuse and (folder / "manifest.json").is_file()):
        corpus.save(corpus.build(args.split, False), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    engine = args.engine if args.suspects else None
    jobs = [(str(folder), e, args.all_along, engine) for e in manifest if e["played"]]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        looks = [look for found in pool.map(_looks, jobs, chunksize=1) for look in found]
    person = np.array([x["removed_db"] for x in looks if x["person"]])
    alone = np.array([x["removed_db"] for x in looks if not x["person"]])
    kind = "figures asked of the live stage" if engine else "second looks"
    print(f"{len(jobs)} streams, {len(looks)} {kind}: {len(person)} over a person's "
          f"command, {len(alone)} over the box alone")  # fmt: skip
    for name, values in (("person", person), ("box alone", alone)):
        if len(values):
            q = np.percentile(values, [0, 5, 25, 50, 75, 95, 100])
            print(f"  {name:9}: " + " ".join(f"{v:5.1f}" for v in q) + "  (min 5 25 50 75 95 max)")
    for bar in (6, 7, 8, 9, 10, 12, 14, 16, 18, 20):
        what = "looked at" if engine else "dropped"  # (a suspect is looked at, then dropped)
        print(f"  bar {bar:2} dB: person {what} {int(np.sum(person >= bar))}, "
              f"box alone {what} {int(np.sum(alone >= bar))} of {len(alone)}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(looks, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

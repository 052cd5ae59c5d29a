"""Tune the spotter's decision rule on the benchmark's *train* split (the training voices).

    .venv/bin/python -m training.tune_rule record --corpus bench/out/asr/train --out F.npz
    .venv/bin/python -m training.tune_rule sweep F.npz [--top 20]

`record` runs the product's front end and head over every stream once (streams the box talks
over first go through the product's echo stage, `training.augment.after_echo_canceller`) and
keeps, per 80 ms window, the head's scores, what the spotter's energy tracker says about the
talk (its start, end, length of unbroken speech and the gap after it) and whether the box was
talking (the corpus's played spans). `sweep` then replays the spotter's own rule
(`spotter.decide_sequence`, with the long-talk and gap rules) for a grid of `SpotterConfig`s in
seconds instead of hours, and scores each the way training.evaluate does. (`_record` runs the
product's `Spotter` and notes each window through its `_observe` hook.)
Only the train split may be swept: the test split is for reporting, through bench.asr_bench.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

from training.evaluate import load_saved, score

_STREAMS: list = []


def _record(i: int) -> tuple[int, dict[str, np.ndarray]]:
    from bench.asr_bench import _playing_at
    from training.augment import after_echo_canceller
    from voiceguide.speech_in.engines.neural.spotter import Spotter
    from voiceguide.speech_in.recording import CHUNK_SECONDS

    s = _STREAMS[i]
    clock = [0.0]
    playing = _playing_at(s.played, clock)  # what the benchmark tells the echo guard
    rows = []

    class Recorder(Spotter):
        """The product's spotter, noting what it knows at each window before deciding."""

        def _observe(self, index: int, window_end: float, probs: np.ndarray) -> None:
            start, end, unbroken = self._segment(window_end)
            clock[0] = self.seconds
            box = playing() is not None
            rows.append((index, self.seconds, start, end, unbroken, self._gap(window_end), box,
                         *probs))  # fmt: skip

    block = round(CHUNK_SECONDS * 16000)  # the microphone thread's blocks, as the bench feeds
    audio = s.audio if s.reference is None else after_echo_canceller(s.audio, s.reference, block)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    spotter = Recorder()
    for k in range(0, len(pcm), 1600):
        spotter.accept(pcm[k : k + 1600])
    spotter.flush()
    a = np.array(rows, np.float64)
    return i, {"index": a[:, 0].astype(int), "at": a[:, 1], "start": a[:, 2], "end": a[:, 3],
               "unbroken": a[:, 4], "gap": a[:, 5], "box": a[:, 6].astype(bool),
               "probs": a[:, 7:].astype(np.float32)}  # fmt: skip


def record(corpus: Path, out: Path, workers: int) -> None:
    """Score every stream of the split once and save the per-window record."""
    from voiceguide.speech_in.engines.neural.head import load_head

    _STREAMS[:] = load_saved(corpus)
    manifest = json.loads((corpus / "manifest.json").read_text())
    for s, entry in zip(_STREAMS, manifest, strict=True):
        # load_saved keeps neither what the box played nor when: the echo streams need both
        s.played = entry["played"]
        ref = corpus / f"{s.name}.ref.wav"
        if ref.is_file():
            from voiceguide.speech_out.synth import read_wav

            s.reference = read_wav(ref).samples.astype(np.float32) / 32768
    arrays: dict[str, np.ndarray] = {}
    with mp.get_context("fork").Pool(workers) as pool:
        for n, (i, rec) in enumerate(pool.imap_unordered(_record, range(len(_STREAMS)))):
            for key, value in rec.items():
                arrays[f"{i}.{key}"] = value
            print(f"\r{n + 1}/{len(_STREAMS)}", end="", flush=True)
    print()
    arrays["classes"] = np.array(load_head().classes)
    np.savez_compressed(out, corpus=str(corpus), **arrays)


def replay(rec: dict[str, np.ndarray], n: int, classes: tuple[str, ...], config) -> dict:
    """The spotter's decisions for every stream under `config`, in training.evaluate's form."""
    from voiceguide.speech_in.engines.neural.spotter import decide_sequence

    results: dict[int, list[dict]] = {}
    for i in range(n):
        at, start, end = rec[f"{i}.at"], rec[f"{i}.start"], rec[f"{i}.end"]
        hits = decide_sequence(rec[f"{i}.probs"], classes, config, rec[f"{i}.gap"],
                               rec[f"{i}.unbroken"], rec[f"{i}.box"])  # fmt: skip
        events = [{"command": classes[c], "score": score, "start_seconds": float(start[j]),
                   "end_seconds": float(end[j]), "heard_at_seconds": float(at[j])}
                  for j, c, score in hits]  # fmt: skip
        results[i] = events
    return results


GRID = {
    "threshold": (0.9, 0.95, 0.97),
    "confirm_hops": (2, 3, 4),
    "early_threshold": (0.95, 0.98, 0.99),
    "gap_seconds": (0.0, 0.08, 0.15),
    "gap_safety_seconds": (0.0, 0.08),
}


def objective(f: dict) -> float:
    """Points of mean accuracy and of clean pain recall, less one per false command an hour
    (room talk and own speech), and two more per false pain an hour: a false pain ends the
    session."""
    room, own = f["false_per_hour"]["room_talk"], f["false_per_hour"]["own_speech"]
    pain = f["false_pain_per_hour"]["room_talk"] + f["false_pain_per_hour"]["own_speech"]
    return 100 * (f["mean_accuracy"] + f["pain"].get("clean", 0.0)) - room - own - 2 * pain


def sweep(path: Path, top: int) -> None:
    """Replay every config of GRID and print the best by `objective`."""
    from voiceguide.speech_in.engines.neural.spotter import SpotterConfig

    rec = dict(np.load(path))
    streams = load_saved(Path(str(rec["corpus"])))
    classes = tuple(str(c) for c in rec["classes"])
    rows = []
    keys = list(GRID)
    for values in itertools.product(*GRID.values()):
        changes = dict(zip(keys, values, strict=True))
        f = score(streams, replay(rec, len(streams), classes, SpotterConfig(**changes)))
        rows.append((objective(f), f, changes))
    rows.sort(key=lambda r: -r[0])
    for value, f, changes in rows[:top]:
        acc = f["accuracy"]
        print(f"{value:6.1f} mean={f['mean_accuracy']:.3f} clean={acc['clean']:.3f} "
              f"babble10={acc.get('babble_10dB', 0):.3f} echo0={acc.get('echo_0dB', 0):.3f} "
              f"pain={f['pain'].get('clean', 0):.3f} "
              f"room={f['false_counts']['room_talk']} ({f['false_per_hour']['room_talk']:.1f}/h, "
              f"pain {f['false_pain_per_hour']['room_talk']:.1f}/h) "
              f"own={f['false_counts']['own_speech']} p95={f['latency_p95_ms']:.0f} ms "
              f"{json.dumps(changes)}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """record | sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("record")
    r.add_argument("--corpus", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--workers", type=int, default=2)
    s = sub.add_parser("sweep")
    s.add_argument("record", type=Path)
    s.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if args.what == "record":
        if "test" in args.corpus.name:
            parser.error("tune on the train split; the test split is for reporting only")
        record(args.corpus, args.out, args.workers)
    else:
        sweep(args.record, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

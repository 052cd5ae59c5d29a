"""Tune the neural spotter's second opinion (the command grammar) on the benchmark's train split.

    .venv/bin/python -m training.tune_rule record --corpus bench/out/asr/train --out REC.npz
    .venv/bin/python -m training.tune_check REC.npz --json OUT.json   # about 30 min on 2 cores

For every stream of the record, and every setting of GRID (when the spotter asks: the head's
mean score over how many windows; what the grammar must say: its confidence for other and
for safety commands), `spotter.decide_sequence` replays the spotter's rule with a check that
decodes the utterance the streaming spotter would hand over (its energy tracker's start and
end, `CHECK_BEFORE_SECONDS` / `CHECK_AFTER_SECONDS` either side, never past the decision)
with the product's `GrammarCheck`. Echo streams are decoded after the product's echo stage, as
the record was. Decodes are cached per window, so a setting costs only the windows it asks
about that no other setting asked about. Scored like training.tune_rule (its `objective`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import sys
from pathlib import Path
from typing import Any

import numpy as np

from training.evaluate import load_saved, score
from training.tune_rule import objective

GRID = list(itertools.product((0.5, 0.7, 0.85), (1, 2, 3), (0.0, 0.5, 0.8, 0.95), (0.3, 0.8, 0.95)))
_SHARED: dict[str, Any] = {}


def _stream(i: int) -> tuple[int, dict, dict]:
    from training.augment import after_echo_canceller
    from voiceguide.content.locales import load_locale
    from voiceguide.speech_in.engines.grammar_check import GrammarCheck, agrees
    from voiceguide.speech_in.engines.neural import spotter as sp
    from voiceguide.speech_in.factory import spoken_commands
    from voiceguide.speech_in.recording import CHUNK_SECONDS

    if "check" not in _SHARED:
        en = load_locale("en")
        _SHARED["check"] = GrammarCheck(en, spoken_commands(en, en.commands), 0.0, 0.0)
    grammar = _SHARED["check"]
    rec, classes, s = _SHARED["rec"], _SHARED["classes"], _SHARED["streams"][i]
    audio = s.audio
    if s.reference is not None:
        audio = after_echo_canceller(s.audio, s.reference, round(CHUNK_SECONDS * 16000))
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    start, end, at = rec[f"{i}.start"], rec[f"{i}.end"], rec[f"{i}.at"]
    heard: dict[int, tuple[str | None, float]] = {}

    def hears(j: int) -> tuple[str | None, float]:
        if j not in heard:
            lo = max(0, round((start[j] - sp.CHECK_BEFORE_SECONDS) * 16000))
            hi = round(min(end[j] + sp.CHECK_AFTER_SECONDS, at[j]) * 16000)
            heard[j] = grammar.hears(pcm[lo:hi])
        return heard[j]

    def events(hits: list[tuple[int, int, float]]) -> list[dict]:
        return [{"command": classes[c], "score": v, "start_seconds": float(start[j]),
                 "end_seconds": float(end[j]), "heard_at_seconds": float(at[j])}
                for j, c, v in hits]  # fmt: skip

    args = (rec[f"{i}.probs"], classes)
    kw = {"gaps": rec[f"{i}.gap"], "unbroken": rec[f"{i}.unbroken"], "box": rec[f"{i}.box"]}
    out = {"head alone": events(sp.decide_sequence(*args, sp.SpotterConfig(), **kw))}
    asked: dict[str, int] = {}
    for threshold, hops, bar, safety_bar in GRID:
        key = f"{threshold}/{hops}/{bar}/{safety_bar}"
        asked[key] = 0

        def check(command: str, j: int, key: str = key, bar: float = bar,
                  safety_bar: float = safety_bar) -> bool:  # fmt: skip
            asked[key] += 1
            return agrees(command, *hears(j), bar, safety_bar)

        config = sp.SpotterConfig(check_threshold=threshold, check_hops=hops)
        out[key] = events(sp.decide_sequence(*args, config, **kw, check=check))
    return i, out, asked


def sweep(record: Path, workers: int) -> list[tuple[str, dict, dict]]:
    """(setting, figures, checks asked per kind of stream) for every setting, best first."""
    from voiceguide.speech_out.synth import read_wav

    rec = dict(np.load(record))
    corpus = Path(str(rec["corpus"]))
    streams = load_saved(corpus)
    for s in streams:  # load_saved keeps no reference: the echo streams need it
        ref = corpus / f"{s.name}.ref.wav"
        s.reference = read_wav(ref).samples.astype(np.float32) / 32768 if ref.is_file() else None
    _SHARED.update(rec=rec, streams=streams, classes=tuple(str(c) for c in rec["classes"]))
    results: dict[str, dict[int, list[dict]]] = {}
    asked: dict[str, dict[str, int]] = {}
    with mp.get_context("fork").Pool(workers) as pool:
        for n, (i, out, counts) in enumerate(pool.imap_unordered(_stream, range(len(streams)))):
            for key, found in out.items():
                results.setdefault(key, {})[i] = found
            for key, count in counts.items():
                kinds = asked.setdefault(key, {})
                kinds[streams[i].kind] = kinds.get(streams[i].kind, 0) + count
            print(f"\r{n + 1}/{len(streams)}", end="", flush=True)
    print()
    rows = [(key, score(streams, found), asked.get(key, {})) for key, found in results.items()]
    return sorted(rows, key=lambda row: -objective(row[1]))


def main(argv: list[str] | None = None) -> int:
    """Sweep GRID on a train-split record and print the best settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if "test" in str(np.load(args.record)["corpus"]):
        parser.error("tune on the train split; the test split is for reporting only")
    rows = sweep(args.record, args.workers)
    if args.json:
        args.json.write_text(json.dumps([list(row) for row in rows]))
    shown = rows[: args.top] + [row for row in rows if row[0] == "head alone"]
    for key, f, asked in shown:
        fc, acc = f["false_counts"], f["accuracy"]
        print(f"{objective(f):6.1f} mean={f['mean_accuracy']:.3f} clean={acc['clean']:.3f} "
              f"babble10={acc.get('babble_10dB', 0):.3f} pain={f['pain'].get('clean', 0):.3f}"
              f"/{f['pain'].get('echo_0dB', 0):.3f} room={fc['room_talk']} "
              f"over_box={fc['room_talk_over_box']} own={fc['own_speech']} "
              f"p95={f['latency_p95_ms']:.0f} ms asked={asked} {key}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

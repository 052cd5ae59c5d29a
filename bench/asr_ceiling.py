"""Ceiling of the PocketSphinx command grammar: each command utterance cut out and decoded alone.

The streaming benchmark (bench/asr_bench.py) measures the whole path: segmentation,
decoding, rejection. This one removes segmentation and rejection: every command utterance
of the corpus is cut out with a margin, optionally denoised as the engine would, and
decoded in one go by the grammar decoder. Its accuracy is what the grammar and the bundled
acoustic model can do on that audio at best, whatever the rest of the engine does.

    .venv/bin/python -m bench.asr_ceiling [--split test] [--conditions clean,white_10dB] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from bench import corpus
from voiceguide.content.locales import load_locale
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.speech_in.denoise import Denoiser
from voiceguide.speech_in.engines.pocketsphinx import FRAME_SAMPLES, PocketsphinxEngine
from voiceguide.speech_in.listener import grammar_for
from voiceguide.speech_out.synth import read_wav

MARGIN_SECONDS = 0.4


def _denoised(pcm: np.ndarray) -> np.ndarray:
    frames = pcm[: len(pcm) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    return Denoiser().process(frames).reshape(-1)


def main() -> int:
    """Print accuracy per condition of the grammar decoder on cut-out command utterances."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "train"], default="test")
    parser.add_argument("--conditions", help="comma-separated (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="utterances per condition (0: all)")
    parser.add_argument("--denoise", action="store_true", help="denoise each stream first")
    args = parser.parse_args()
    folder = corpus.OUT_DIR / args.split
    if not (folder / "manifest.json").is_file():
        print(f"no corpus in {folder}; run .venv/bin/python -m bench.asr_bench first")
        return 2
    manifest = json.loads((folder / "manifest.json").read_text())
    locale = load_locale("en")
    matcher = PhraseMatcher(locale)
    decoder = PocketsphinxEngine(grammar_for(locale.commands))._grammar
    wanted = args.conditions.split(",") if args.conditions else None
    totals: dict[str, list[int]] = {}
    started = time.process_time()
    for entry in manifest:
        condition = entry["condition"]
        if entry["kind"] != "commands" or (wanted and condition not in wanted):
            continue
        counts = totals.setdefault(condition, [0, 0])
        if args.limit and counts[0] >= args.limit:
            continue
        pcm = read_wav(folder / f"{entry['name']}.wav").samples
        if args.denoise:
            pcm = _denoised(pcm)
        utterances = entry["utterances"]
        utterances = json.loads(utterances) if isinstance(utterances, str) else utterances
        for u in utterances:
            if u["command"] is None or (args.limit and counts[0] >= args.limit):
                continue
            lo = max(0, round((u["start_seconds"] - MARGIN_SECONDS) * corpus.RATE_HZ))
            hi = round((u["end_seconds"] + MARGIN_SECONDS) * corpus.RATE_HZ)
            decoder.start_utt()
            decoder.process_raw(pcm[lo:hi].tobytes(), full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            match = matcher.match(hyp.hypstr) if hyp is not None and hyp.hypstr else None
            counts[0] += 1
            counts[1] += int(match is not None and match.command == u["command"])
    print(f"grammar decoder on cut-out utterances ({args.split} split"
          f"{', denoised' if args.denoise else ''}):")  # fmt: skip
    for condition, (n, correct) in totals.items():
        print(f"  {condition:12s} {correct / n:6.1%}  (n={n})")
    print(f"CPU {time.process_time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

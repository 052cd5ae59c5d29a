"""The cepstral mean PocketSphinx streams start from (`SphinxSettings.cmn_init`), from the train
split: every third command stream (no echo) is decoded by a fresh engine starting from the
model's own mean (40,3,-1,0...), and the median of the means its live CMN has reached by the
stream's end is printed.

    .venv/bin/python -m bench.cmn_init   # (needs `python -m bench.corpus --split train` first)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from bench import corpus

MODEL_MEAN = "40,3,-1,0,0,0,0,0,0,0,0,0,0"  # the bundled en-us model's cmninit


def _final_mean(wav: str) -> list[float]:
    """Worker: one stream through a fresh engine; its grammar decoder's mean at the end."""
    from voiceguide.content.locales import load_locale
    from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine, SphinxSettings
    from voiceguide.speech_in.listener import grammar_for
    from voiceguide.speech_out.synth import read_wav

    settings = dataclasses.replace(SphinxSettings(), cmn_init=MODEL_MEAN)
    engine = PocketsphinxEngine(grammar_for(load_locale("en").commands), settings)
    pcm = read_wav(Path(wav)).samples.tobytes()
    for k in range(0, len(pcm), 960):
        engine.accept(pcm[k : k + 960])
    engine.flush()
    return [float(v) for v in engine._grammar.get_cmn(False).split(",")]


def main() -> int:
    """Print the median (and spread) of the streams' final cepstral means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["train"], default="train")
    args = parser.parse_args()
    folder = corpus.OUT_DIR / args.split
    manifest = json.loads((folder / "manifest.json").read_text())
    streams = [e["name"] for e in manifest
               if e["kind"] == "commands" and not e["condition"].startswith("echo")][::3]  # fmt: skip
    with ProcessPoolExecutor(2) as pool:
        means = np.array(list(pool.map(_final_mean, [str(folder / f"{n}.wav") for n in streams])))
    print(f"{len(streams)} streams")
    print("median:", ",".join(f"{v:.1f}" for v in np.median(means, axis=0)))
    print("spread (std):", ",".join(f"{v:.1f}" for v in means.std(axis=0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

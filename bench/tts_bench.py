"""Benchmark: pre-rendering every routine's phrases, cold and warm, and how long speech really is.

    .venv/bin/python -m bench.tts_bench [--json out.json]

For each bundled routine: render its timeline texts plus the fixed prompts into an empty phrase
cache (cold), then prepare again (warm: every phrase should be a cache hit). It also compares
espeak-ng's real phrase lengths with the planner's estimate, and counts cues whose speech would
still be sounding when the next cue is due (those get cut off).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.figures import emit
from voiceguide.app.config import Config
from voiceguide.app.plans import timeline_for
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.locales import load_locale
from voiceguide.core.speech_texts import session_texts
from voiceguide.core.timeline import estimate_speech_seconds
from voiceguide.speech_out.phrase_cache import PhraseCache
from voiceguide.speech_out.synth import Synthesizer


def bench_routine(config: Config, routine_id: str, cache_dir: Path) -> dict[str, object]:
    """Cold and warm prepare for one routine, plus speech-length checks."""
    timeline = timeline_for(config, routine_id)
    texts = session_texts([timeline.routine], load_locale(config.locale), config.rate_wpm)
    settings = config.voice_settings()
    started = time.monotonic()
    with Synthesizer() as synth:
        synth.engine_version  # noqa: B018 - start the worker before timing the renders
        worker_start = time.monotonic() - started
        cache = PhraseCache(cache_dir, synth)
        cold = cache.prepare(texts, settings, progress=False)
        warm = cache.prepare(texts, settings, progress=False)
        durations = {t: cache.load(t, settings).duration_seconds for t in timeline.texts()}
    cues = timeline.cues()
    ratios = [durations[c.text] / estimate_speech_seconds(c.text, config.rate_wpm) for c in cues]
    overruns = sum(
        1
        for cue, nxt in itertools.pairwise(cues)
        if cue.at_seconds + durations[cue.text] > nxt.at_seconds + 0.01
    )
    return {
        "routine": routine_id,
        "phrases": cold.phrases,
        "worker_start_ms": round(worker_start * 1000, 1),
        "cold_seconds": round(cold.seconds, 3),
        "cold_ms_per_phrase": round(cold.seconds / max(1, cold.rendered) * 1000, 2),
        "warm_seconds": round(warm.seconds, 3),
        "warm_hit_rate": round(warm.hit_rate, 3),
        "speech_vs_estimate_median": round(float(np.median(ratios)), 2),
        "cues": len(cues),
        "cues_running_into_next": overruns,
    }


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    config = Config()
    rows = []
    for routine in load_good_routines(config.routines_folder()):
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-bench-") as tmp:
            rows.append(bench_routine(config, routine.id, Path(tmp)))
    return emit(rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())

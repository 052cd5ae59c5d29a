"""Benchmark: how fast playback starts and stops, measured in a PulseAudio null sink's monitor.

    .venv/bin/python -m bench.cancel_latency [--trials 30] [--latency low] [--block-ms 20]

A steady tone is played through voiceguide's Player into the `box_speaker` null sink while the
sink's monitor is recorded. For each trial we note the monotonic time of play() and of cancel()
and find, in the recording, when the tone became audible and when it fell silent.

The recording's timestamps come from the recorder's own sample count, anchored at the
least-delayed callback; that anchor can only be late (a sample arrives after it was captured),
so every figure here is an upper bound that includes the recorder's transport delay.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import emit
from tests.support.audio_room import AudioRoom, envelope
from voiceguide.audio.devices import choose_output_device
from voiceguide.speech_out.player import Player

THRESHOLD = 0.02
WINDOW_SECONDS = 0.001


def _latency_arg(text: str) -> float | str:
    return text if text in ("low", "high") else float(text)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100)."""
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def measure(trials: int, latency: float | str, block_ms: float, seed: int) -> dict[str, object]:
    """Run the trials and return figures in milliseconds."""
    rng = random.Random(seed)
    room = AudioRoom()
    try:
        player = Player(
            choose_output_device("vg_box_speaker"), latency=latency, block_seconds=block_ms / 1000
        )
        opened = time.monotonic()
        rate = player.sample_rate_hz
        tone = (np.sin(2 * np.pi * 440 * np.arange(rate * 3) / rate) * 16000).astype(np.int16)
        time.sleep(3.0)  # let the stream settle and the sample clock anchor refine
        recording = room.record_speaker()
        time.sleep(0.3)
        marks = []
        for _ in range(trials):
            requested = time.monotonic()
            player.play(tone, "tone")
            time.sleep(rng.uniform(0.4, 0.8))
            cancelled = time.monotonic()
            player.cancel()
            time.sleep(0.35)
            marks.append((requested, cancelled))
        samples, start = recording.stop()
        underflows = player.underflows
        callbacks_per_second = player.callbacks / (time.monotonic() - opened)
        lead_ms = player.lead_seconds * 1000
        reported_ms = player.output_latency_seconds * 1000
        player.close()
    finally:
        room.close()
    env = envelope(samples, 48000, WINDOW_SECONDS)
    times = start + np.arange(len(env)) * WINDOW_SECONDS
    onsets, cancels = [], []
    for requested, cancelled in marks:
        window = (times > requested - 0.05) & (times < cancelled + 0.3)
        loud = np.nonzero(window & (env > THRESHOLD))[0]
        if len(loud) == 0:
            continue
        onsets.append((times[loud[0]] - requested) * 1000)
        cancels.append((times[loud[-1]] + WINDOW_SECONDS - cancelled) * 1000)

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "median_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "max_ms": round(max(values), 1) if values else float("nan"),
        }

    return {
        "trials": trials,
        "measured": len(cancels),
        "latency_setting": latency,
        "block_ms": block_ms,
        "stream_reported_output_latency_ms": round(reported_ms, 1),
        "schedule_lead_ms": round(lead_ms, 1),
        "underflows": underflows,
        "callbacks_per_second": round(callbacks_per_second),
        "play_to_sound": summary(onsets),
        "cancel_to_silence": summary(cancels),
    }


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--latency", type=_latency_arg, default=0.08)
    parser.add_argument("--block-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = measure(args.trials, args.latency, args.block_ms, args.seed)
    return emit(figures, args.json)


if __name__ == "__main__":
    raise SystemExit(main())

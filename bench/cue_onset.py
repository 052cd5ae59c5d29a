"""Benchmark: are cues heard on time? A real-time routine through PulseAudio, recorded and timed.

    .venv/bin/python -m bench.cue_onset [--routine evening-wind-down] [--driver runner]
                                        [--limit-seconds N] [--json out.json]

The routine is played in real time into the `box_speaker` null sink of a private PulseAudio
server (tests/support/audio_room.py) while the sink's monitor is recorded. `--driver runner` drives the
real Session + Runner (the loop `voiceguide run` uses) with voiceguide's AudioSpeechOut;
`--driver simple` calls speak() from a plain absolute-deadline scheduler.

For every cue that starts after silence we find its onset in the recording and compare it with
the cue's planned time plus the phrase's own leading silence. What remains is a constant
(pipeline latency: schedule lead + device buffer + recorder transport) plus the error we care
about. The constant is removed by taking errors relative to the median; drift is the slope of
the raw offsets over the run, so a constant latency cannot hide it and cannot fake it either.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import emit
from tests.support.audio_room import AudioRoom, envelope
from voiceguide.app.config import Config
from voiceguide.app.plans import timeline_for
from voiceguide.speech_out.speaker import AudioSpeechOut

RECORD_RATE = 16000
WINDOW_SECONDS = 0.001
THRESHOLD = 0.01


class TimedSpeech:
    """Wraps AudioSpeechOut and notes when each speak() call happened."""

    def __init__(self, speech: AudioSpeechOut) -> None:
        self.speech = speech
        self.calls: list[tuple[float, str]] = []

    def speak(self, text: str, kind: str = "prompt") -> None:
        self.calls.append((time.monotonic(), text))
        self.speech.speak(text, kind)

    def cancel(self) -> None:
        self.speech.cancel()

    def set_volume(self, volume: float) -> None:
        self.speech.set_volume(volume)

    def set_rate(self, rate_wpm: int) -> None:
        self.speech.set_rate(rate_wpm)


def _run_runner(config: Config, routine: str, speech: TimedSpeech, limit: float | None) -> float:
    """Play the routine with the real Session and Runner; returns the clock origin."""
    from voiceguide.app.clock import ScaledClock
    from voiceguide.app.runner import Quit
    from voiceguide.app.wiring import session_runner
    from voiceguide.content.locales import load_locale
    from voiceguide.core.commands import Ending

    timeline = timeline_for(config, routine)
    clock = ScaledClock(1.0)
    origin = time.monotonic() - clock.now()
    runner = session_runner(timeline, load_locale(config.locale), clock, speech, None,
                            volume=config.volume, rate_wpm=config.rate_wpm)  # fmt: skip
    if limit is not None:
        threading.Timer(limit, lambda: runner.post(Quit(Ending.STOPPED))).start()
    runner.run()
    return origin


def _run_simple(cues: list[tuple[float, str]], speech: TimedSpeech, limit: float | None) -> float:
    """Call speak() at absolute deadlines on the monotonic clock (never chained sleeps)."""
    origin = time.monotonic() + 0.5
    for at, text in cues:
        if limit is not None and at > limit:
            break
        delay = origin + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        speech.speak(text)
    time.sleep(3.0)
    return origin


def _leading_silence(speech: AudioSpeechOut, text: str) -> float:
    """Seconds before the phrase itself first crosses the threshold (at the current volume)."""
    samples = speech._load(text, speech.settings)
    assert samples is not None
    rate = speech.sample_rate_hz
    env = envelope(samples.astype(np.float32) / 32768 * speech.volume, rate, WINDOW_SECONDS)
    loud = np.nonzero(env > THRESHOLD)[0]
    return float(loud[0]) * WINDOW_SECONDS if len(loud) else 0.0


def _recorder_offsets(arrivals: list[tuple[float, int]], started: float) -> list[list[float]]:
    """Per 30 s: least-delayed arrival minus sample count, relative to the first window.

    A drifting line here would mean the recording's sample clock and time.monotonic() disagree.
    """
    implied = np.array([t - n / RECORD_RATE for t, n in arrivals])
    times = np.array([t for t, _ in arrivals])
    rows, base = [], None
    for t0 in np.arange(times[0], times[-1], 30.0):
        window = implied[(times >= t0) & (times < t0 + 30.0)]
        if len(window):
            base = window.min() if base is None else base
            rows.append(
                [round(float(t0 - started), 1), round(float(window.min() - base) * 1000, 2)]
            )
    return rows


def _stats(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {
        "p50_ms": round(float(np.percentile(values, 50)) * 1000, 2),
        "p95_ms": round(float(np.percentile(values, 95)) * 1000, 2),
        "max_ms": round(float(np.max(values)) * 1000, 2),
    }


def measure(routine: str, driver: str, limit: float | None) -> dict[str, object]:
    """Play, record and time the routine; returns the figures."""
    room = AudioRoom()
    cache = Path(os.environ.get("VOICEGUIDE_BENCH_CACHE", "/tmp/voiceguide-bench-cache"))
    config = Config(output_device="vg_box_speaker", cache_dir=cache)
    try:
        timeline = timeline_for(config, routine)
        cues = [(c.at_seconds, c.text) for c in timeline.cues()]
        speech = AudioSpeechOut(config.speaker_settings())
        speech.prepare(timeline.texts(), progress=False)
        time.sleep(2.0)  # let the output stream's sample clock settle
        timed = TimedSpeech(speech)
        recording = room.record_speaker(RECORD_RATE)
        anchors: list[tuple[float, float | None]] = []
        sampling = threading.Event()

        def sample_anchor() -> None:
            while not sampling.wait(5.0):
                anchors.append((time.monotonic(), speech.player.anchor))

        threading.Thread(target=sample_anchor, daemon=True).start()
        time.sleep(0.5)
        started = time.monotonic()
        if driver == "runner":
            origin = _run_runner(config, routine, timed, limit)
        else:
            origin = _run_simple(cues, timed, limit)
        speech.wait_until_done(30)
        time.sleep(0.5)
        sampling.set()
        arrivals = list(recording._arrivals)
        samples, _ = recording.stop()
        wall = time.monotonic() - started
        leading = {text: _leading_silence(speech, text) for _, text in cues}
        late_starts, underflows = speech.player.late_starts, speech.player.underflows
        lead_ms = speech.player.lead_seconds * 1000
        buffer_ms = speech.player.output_latency_seconds * 1000
        speech.close()
    finally:
        room.close()

    env = envelope(samples, RECORD_RATE, WINDOW_SECONDS)
    per_window = round(RECORD_RATE * WINDOW_SECONDS)
    env_times = recording.time_of(np.arange(len(env)) * per_window)
    calls = iter(timed.calls)
    planned, raw, lateness = [], [], []
    skipped_busy = 0
    pending = next(calls, None)
    for index, (at, text) in enumerate(cues):
        while pending is not None and pending[1] != text:
            pending = next(calls, None)  # a dropped cue: the session skipped it when late
        if pending is None:
            break
        called, _ = pending
        pending = next(calls, None)
        due = origin + at
        lateness.append(called - due)
        next_due = origin + cues[index + 1][0] if index + 1 < len(cues) else due + 5.0
        first, calm_end, last = np.searchsorted(
            env_times, [due - 0.15, due + 0.02, min(next_due, due + 1.5)]
        )
        if first == 0 or last >= len(env):
            continue
        if env[first:calm_end].max() > THRESHOLD:
            skipped_busy += 1  # the previous phrase is still sounding: no clean onset to time
            continue
        loud = np.nonzero(env[calm_end:last] > THRESHOLD)[0]
        if len(loud) == 0:
            continue
        onset = float(env_times[calm_end + loud[0]])
        planned.append(at)
        raw.append(onset - due - leading[text])
    details = {
        "cues": [[round(p, 3), round(r * 1000, 2)] for p, r in zip(planned, raw, strict=True)],
        "player_anchor_ms": [
            [round(t - started, 1), round((a - anchors[0][1]) * 1000, 2)]
            for t, a in anchors
            if a is not None and anchors[0][1] is not None
        ],
        "recorder_offset_ms": _recorder_offsets(arrivals, started),
    }
    raw_arr = np.asarray(raw)
    planned_arr = np.asarray(planned)
    constant = float(np.median(raw_arr)) if len(raw_arr) else float("nan")
    errors = np.abs(raw_arr - constant)
    from_first = np.abs(raw_arr - raw_arr[0]) if len(raw_arr) else raw_arr
    slope = float(np.polyfit(planned_arr, raw_arr, 1)[0]) if len(raw_arr) > 2 else float("nan")
    first_minute = raw_arr[planned_arr < planned_arr[0] + 60] if len(raw_arr) else raw_arr
    last_minute = raw_arr[planned_arr > planned_arr[-1] - 60] if len(raw_arr) else raw_arr
    return {
        "routine": routine,
        "driver": driver,
        "run_seconds": round(wall, 1),
        "cues_planned": len(cues),
        "speak_calls": len(timed.calls),
        "cues_timed": len(raw_arr),
        "cues_skipped_previous_still_sounding": skipped_busy,
        "pipeline_latency_ms": round(constant * 1000, 1),
        "schedule_lead_ms": round(lead_ms, 1),
        "device_buffer_ms": round(buffer_ms, 1),
        "onset_error_vs_median": _stats(errors),
        "onset_error_vs_first_cue": _stats(from_first),
        "drift_ms_per_10_min": round(slope * 600 * 1000, 2),
        "first_vs_last_minute_ms": round(
            (float(np.median(last_minute)) - float(np.median(first_minute))) * 1000, 2
        )
        if len(raw_arr)
        else None,
        "speak_call_lateness": _stats(np.asarray(lateness)),
        "late_starts": late_starts,
        "underflows": underflows,
        "details": details,
    }


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routine", default="evening-wind-down")
    parser.add_argument("--driver", choices=["runner", "simple"], default="runner")
    parser.add_argument("--limit-seconds", type=float, help="stop after this long (quick checks)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = measure(args.routine, args.driver, args.limit_seconds)
    return emit(figures, args.json)


if __name__ == "__main__":
    raise SystemExit(main())

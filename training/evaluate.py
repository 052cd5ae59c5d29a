"""Held-out figures of the head + spotter on the benchmark's *test* split (unseen voices).

    .venv/bin/python -m training.evaluate [--quick] [--head PATH] [--json OUT]

Streams come from bench.corpus.build("test", quick): voices and room talk that training never
saw. Scoring follows bench/asr_bench.py: a detection belongs to the utterance it overlaps most
(within 0.5 s); an utterance is right when exactly its command was detected; false detections
are counted per hour of speech in the room-talk and own-speech streams. The raw microphone
signal is fed (no echo canceller), which is the hardest case for echo. Report only: thresholds
are tuned on the training voices' validation split by training.build, never here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench.asr_bench import assign_events  # scored exactly as the benchmark scores

_STREAMS: list = []
_ARGS: dict = {}


def _run(i: int) -> tuple[int, list[dict], float]:
    from voiceguide.speech_in.engines.neural.spotter import Spotter

    spotter = _ARGS.get("spotter")
    if spotter is None:
        spotter = Spotter(_ARGS["head"], _ARGS.get("config"))
        _ARGS["spotter"] = spotter
    s = _STREAMS[i]
    pcm = (np.clip(s.audio, -1, 1) * 32767).astype(np.int16)
    spotter.reset()
    events = []
    t0 = time.process_time()
    for k in range(0, len(pcm), 1600):
        events += spotter.accept(pcm[k : k + 1600].tobytes())
    events += spotter.flush()
    cpu = time.process_time() - t0
    out = [{"command": d.command, "score": d.score, "start_seconds": d.start_seconds,
            "end_seconds": d.end_seconds, "heard_at_seconds": d.decided_at} for d in events]  # fmt: skip
    return i, out, cpu


def score(streams: list, results: dict[int, list[dict]]) -> dict:
    """Per-condition accuracy, pain recall, false detections per speech hour, latency."""
    cond: dict[str, list[int]] = {}
    pain: dict[str, list[int]] = {}
    lat: list[float] = []
    lat_safety: list[float] = []
    confusions: dict[str, int] = {}
    # (room talk over the box: a television on during a session, in the corpus since 22c1606)
    false = {"room_talk": [0, 0.0, 0], "room_talk_over_box": [0, 0.0, 0], "own_speech": [0, 0.0, 0]}
    for i, s in enumerate(streams):
        utts = [u.__dict__ for u in s.utterances]
        events = results[i]
        if s.kind == "commands":
            by_utt, _strays = assign_events(events, utts)
            for j, u in enumerate(utts):
                got = {e["command"] for e in by_utt.get(j, [])}
                ok = got == {u["command"]}
                cond.setdefault(s.condition, []).append(int(ok))
                if u["command"] == "pain":
                    pain.setdefault(s.condition, []).append(int(ok))
                if ok:
                    t = min(e["heard_at_seconds"] for e in by_utt[j]) - u["end_seconds"]
                    (lat_safety if u["command"] in ("pain", "stop") else lat).append(t)
                for g in got - {u["command"]}:
                    key = f"{u['command']}->{g}"
                    confusions[key] = confusions.get(key, 0) + 1
                if not got:
                    key = f"{u['command']}->(missed)"
                    confusions[key] = confusions.get(key, 0) + 1
            continue
        hours = sum(u["end_seconds"] - u["start_seconds"] for u in utts) / 3600
        false[s.kind][0] += len(events)
        false[s.kind][1] += hours
        false[s.kind][2] += sum(e["command"] == "pain" for e in events)
    acc = {k: sum(v) / len(v) for k, v in cond.items()}
    all_lat = lat + lat_safety

    def pct(v: list[float], q: float) -> float:
        return float(np.percentile(v, q) * 1000) if v else float("nan")

    return {
        "accuracy": acc, "n": {k: len(v) for k, v in cond.items()},
        "mean_accuracy": statistics.mean(acc.values()), "worst_condition": min(acc.values()),
        "pain": {k: sum(v) / len(v) for k, v in pain.items()},
        "false_per_hour": {k: v[0] / v[1] if v[1] else float("nan") for k, v in false.items()},
        "false_pain_per_hour": {k: v[2] / v[1] if v[1] else float("nan") for k, v in false.items()},
        "false_counts": {k: v[0] for k, v in false.items()},
        "speech_hours": {k: v[1] for k, v in false.items()},
        "latency_p50_ms": pct(all_lat, 50), "latency_p95_ms": pct(all_lat, 95),
        "latency_safety_p95_ms": pct(lat_safety, 95), "latency_other_p95_ms": pct(lat, 95),
        "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:25]),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Build the test split, run the spotter on every stream, print the figures."""
    from bench import corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--head", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--confirm-hops", type=int, default=None)
    parser.add_argument("--early-threshold", type=float, default=None)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="read the test split saved by bench.corpus (bench/out/asr/test) "
                        "instead of building it again")  # fmt: skip
    args = parser.parse_args(argv)
    t0 = time.time()
    _STREAMS[:] = load_saved(args.corpus) if args.corpus else corpus.build("test", args.quick)
    _ARGS["head"] = args.head
    from voiceguide.speech_in.engines.neural.spotter import SpotterConfig

    changes = {"threshold": args.threshold, "confirm_hops": args.confirm_hops,
               "early_threshold": args.early_threshold}  # fmt: skip
    config = dataclasses.replace(
        SpotterConfig(), **{k: v for k, v in changes.items() if v is not None}
    )
    _ARGS["config"] = config
    audio_seconds = sum(s.seconds for s in _STREAMS)
    print(f"{len(_STREAMS)} streams, {audio_seconds / 3600:.2f} h built in {time.time() - t0:.0f} s",
          flush=True)  # fmt: skip
    results: dict[int, list[dict]] = {}
    cpu = 0.0
    with mp.get_context("fork").Pool(args.workers) as pool:
        for i, events, c in pool.imap_unordered(_run, range(len(_STREAMS))):
            results[i] = events
            cpu += c
    figures = score(_STREAMS, results)
    figures["cpu_seconds_per_audio_second"] = cpu / audio_seconds
    figures["audio_hours"] = audio_seconds / 3600
    figures["quick"] = args.quick
    figures["config"] = dataclasses.asdict(config)
    figures["rss_mb_max_worker"] = _rss_probe(args.head)
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


def load_saved(folder: Path) -> list:
    """The streams bench.corpus.save wrote (the same split, without building it again)."""
    from bench.corpus import Stream, Utterance
    from voiceguide.speech_out.synth import read_wav

    streams = []
    for e in json.loads((folder / "manifest.json").read_text()):
        audio = read_wav(folder / f"{e['name']}.wav").samples.astype(np.float32) / 32768
        utts = [Utterance(**u) for u in e["utterances"]]
        streams.append(Stream(e["name"], e["kind"], e["condition"], audio, utts))
    return streams


def _rss_probe(head: Path | None) -> float:
    """Peak RSS (MB, VmHWM) of a fresh process that listens to one minute of audio.

    (ru_maxrss would carry the parent's high-water mark over fork and exec.)
    """
    import subprocess

    code = (
        "import numpy as np\n"
        "from voiceguide.speech_in.engines.neural.spotter import Spotter\n"
        f"s = Spotter({str(head)!r} if {head is not None} else None)\n"
        "x = (np.random.default_rng(0).standard_normal(16000 * 60) * 3000).astype(np.int16)\n"
        "for k in range(0, len(x), 1600): s.accept(x[k:k+1600].tobytes())\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())

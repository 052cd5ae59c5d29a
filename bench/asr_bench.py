"""Speech-input benchmark: accuracy, false commands, latency and cost of the streaming path.

    .venv/bin/python -m bench.asr_bench --quick          # CI-sized subset, about 2 minutes
    .venv/bin/python -m bench.asr_bench                  # full test split, about 10 minutes
    .venv/bin/python -m bench.asr_bench --split train --tune   # sweep rejection thresholds

The corpus comes from bench/corpus.py (fixed seed; test speakers only, unless --split train).
Every stream goes through voiceguide.asr.listener.run_stream, the same path as
`voiceguide recognize` and live listening, in 30 ms chunks. Echo streams are cleaned by the
echo canceller with the played audio as reference and checked by the echo guard, as live.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench import corpus
from voiceguide.content.locales import load_locale
from voiceguide.speech_in.echo_guard import EchoGuard
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.listener import HeardCommand, Listener, grammar_for
from voiceguide.speech_in.recording import listen_to_recording
from voiceguide.speech_in.rejection import Rejection, Thresholds
from voiceguide.speech_in.settings import ENGINES, ListenSettings
from voiceguide.speech_out.synth import read_wav

CHUNK_SECONDS = 0.03
ASSIGN_MARGIN_SECONDS = 0.5
GUARD_TAIL_SECONDS = 0.15  # as voiceguide.playback.TAIL_SECONDS
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
DOC_START, DOC_END = "<!-- asr-bench:start -->", "<!-- asr-bench:end -->"

GOALS = {
    "mean_accuracy": (">=", 0.95),
    "worst_condition": (">=", 0.90),
    "pain_clean": (">=", 0.98),
    "pain_echo_0dB": (">=", 0.90),
    "false_per_hour_room_talk": ("<=", 1.0),
    "false_per_hour_own_speech": ("<=", 0.1),
    "latency_p95_ms": ("<=", 300.0),
    "cpu_seconds_per_audio_second": ("<=", 0.05),
    "peak_rss_mb": ("<=", 150.0),
    # Listening while talking (issue 10): the product's echo stage.
    "echo_0dB_points_below_clean": ("<=", 5.0),
    "canceller_cpu_seconds_per_audio_second": ("<=", 0.01),
}


# ---- worker side ------------------------------------------------------------------------------
_listener: Any = None
_played: list[list[Any]] = []  # (start, end, text) the box said in the current stream
_clock = [0.0]  # stream time of the chunk being fed
_load_seconds = 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's,
    as Linux keeps it across the exec that starts a spawned worker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Recorder:
    """Wraps an engine and remembers every hypothesis with the chunk it came out of."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.sample_rate_hz = engine.sample_rate_hz
        self.chunk = 0
        self.log: list[tuple[int, Hypothesis]] = []

    def accept(self, pcm: bytes) -> list[Hypothesis]:
        out = self.engine.accept(pcm)
        self.log += [(self.chunk, h) for h in out]
        self.chunk += 1
        return out

    def flush(self) -> list[Hypothesis]:
        out = self.engine.flush()
        self.log += [(self.chunk, h) for h in out]
        return out

    def reset(self) -> None:
        self.engine.reset()
        self.chunk = 0
        self.log = []


class _Replay:
    """Plays recorded hypotheses back chunk by chunk, for sweeping thresholds without decoding."""

    sample_rate_hz = 16000

    def __init__(self, log: list[tuple[int, Hypothesis]]) -> None:
        self.by_chunk: dict[int, list[Hypothesis]] = {}
        for chunk, hyp in log:
            self.by_chunk.setdefault(chunk, []).append(hyp)
        self.chunk = 0

    def accept(self, pcm: bytes) -> list[Hypothesis]:
        self.chunk += 1
        return self.by_chunk.get(self.chunk - 1, [])

    def flush(self) -> list[Hypothesis]:
        return self.by_chunk.get(self.chunk, [])

    def reset(self) -> None:
        self.chunk = 0


def _playing_at(played: list[list[Any]], clock: list[float]) -> Any:
    def playing_text() -> str | None:
        now = clock[0]
        for start, end, text in played:
            if start <= now <= end + GUARD_TAIL_SECONDS:
                return text
        return None

    return playing_text


def _tick(now: float) -> None:
    _clock[0] = now
    _chunk_cpu.append(time.process_time())


_chunk_cpu: list[float] = []  # CPU clock at the start of each chunk of the current stream


def processing_delays(chunk_starts: list[float], end: float, chunk_seconds: float) -> list[float]:
    """How late each chunk's processing ends after the chunk has been heard, live.

    A chunk arrives every `chunk_seconds`; each takes the CPU the offline run measured (the
    difference of successive `chunk_starts`, the last up to `end`). One thread processes them
    in turn, as the microphone thread does, so a slow one (a second opinion's decode) delays
    the chunks queued behind it.
    """
    delays, done = [], 0.0
    for k, started in enumerate(chunk_starts):
        cost = (chunk_starts[k + 1] if k + 1 < len(chunk_starts) else end) - started
        arrived = (k + 1) * chunk_seconds
        done = max(done, arrived) + cost
        delays.append(done - arrived)
    return delays


def _playing_now() -> str | None:
    return _playing_at(_played, _clock)()


def decode_stream(job: tuple[str, str, str, bool, dict, dict]) -> dict[str, Any]:
    """Worker: run one stream through the streaming path; returns events and costs."""
    global _listener, _load_seconds
    folder, name, engine_name, live, entry, overrides = job
    if _listener is None:
        locale = load_locale("en")
        started = time.perf_counter()
        # The product's factory builds the listener (engine, rejection, echo guard); the
        # recorder only taps the hypotheses so that --tune can replay them.
        settings = ListenSettings(engine=engine_name)
        _listener = open_listener(settings, locale, locale.commands, playing_text=_playing_now)
        if overrides:  # experiments: other engine settings (--set key=value)
            from voiceguide.speech_in.engines.pocketsphinx import PocketsphinxEngine, SphinxSettings

            tried = dataclasses.replace(SphinxSettings(), **overrides)
            _listener.engine = PocketsphinxEngine(grammar_for(locale.commands), tried)
        _listener.engine = _Recorder(_listener.engine)
        _load_seconds = time.perf_counter() - started
    mic = read_wav(Path(folder) / f"{name}.wav").samples
    ref_path = Path(folder) / f"{name}.ref.wav"
    # Live streams with the box talking go through the product's echo stage with what the
    # speaker played, exactly as `voiceguide recognize --reference` does; the same stream is
    # also decoded raw (live=False) to show what the stage buys.
    reference = read_wav(ref_path).samples.tobytes() if live and ref_path.is_file() else None
    recorder = _listener.engine
    _listener.reset()
    # The echo guard sees what the box was saying at each moment of this stream (live only).
    _played[:] = entry["played"] if live else []
    guard = _listener.guard
    dropped = guard.dropped if guard is not None else 0
    check = getattr(recorder.engine, "check", None)  # the neural engine's second opinion
    asked, check_cpu = (check.asked, check.cpu_seconds) if check is not None else (0, 0.0)
    cpu = time.process_time()
    _chunk_cpu.clear()
    events, echo = listen_to_recording(
        _listener, mic.tobytes(), reference, CHUNK_SECONDS, before_chunk=_tick
    )
    delays = processing_delays(_chunk_cpu, time.process_time(), CHUNK_SECONDS)
    cpu = time.process_time() - cpu
    heard = [dataclasses.asdict(e) for e in events]
    for e in heard:  # the chunk a command came out of, and how late its processing ended
        k = min(len(delays) - 1, max(0, round(e["heard_at_seconds"] / CHUNK_SECONDS) - 1))
        e["processed_at_seconds"] = e["heard_at_seconds"] + (delays[k] if delays else 0.0)
    return {
        "name": name,
        "live": live,
        "events": heard,
        "log": [(c, dataclasses.asdict(h)) for c, h in recorder.log],
        "chunks": recorder.chunk,
        "cpu_seconds": cpu,
        # Commands the echo guard took for the box's own voice in this stream.
        "guard_dropped": (guard.dropped if guard is not None else 0) - dropped,
        "checks": (check.asked - asked) if check is not None else 0,
        "check_cpu_seconds": (check.cpu_seconds - check_cpu) if check is not None else 0.0,
        "audio_seconds": len(mic) / corpus.RATE_HZ,
        "load_seconds": _load_seconds,
        "max_rss_mb": peak_rss_mb(),
        "echo": None
        if echo is None
        else {
            "delay_seconds": echo.delay_seconds,
            "removed_db": echo.removed_db,
            "active_seconds": echo.active_seconds,
            "cpu_seconds": echo.cpu_seconds,
        },
    }


# ---- scoring ----------------------------------------------------------------------------------
def assign_events(events: list[dict], utterances: list[dict]) -> tuple[dict[int, list[dict]], list]:
    """Map each event to the utterance it overlaps most (within a margin); others are strays."""
    by_utt: dict[int, list[dict]] = {}
    strays = []
    for ev in events:
        best, best_overlap = None, 0.0
        for i, u in enumerate(utterances):
            lo = max(ev["start_seconds"], u["start_seconds"] - ASSIGN_MARGIN_SECONDS)
            hi = min(ev["end_seconds"], u["end_seconds"] + ASSIGN_MARGIN_SECONDS)
            if hi - lo > best_overlap:
                best, best_overlap = i, hi - lo
        if best is None:
            strays.append(ev)
        else:
            by_utt.setdefault(best, []).append(ev)
    return by_utt, strays


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def score(manifest: list[dict], results: dict[tuple[str, bool], list[dict]]) -> dict[str, Any]:
    """Accuracy per condition, false commands, latency, from events per (stream, live)."""
    conditions: dict[str, dict[str, int]] = {}
    speakers: dict[str, list[int]] = {}
    everywhere: dict[str, list[int]] = {}  # the same over every condition
    pain: dict[str, list[int]] = {}
    confusions: dict[str, int] = {}
    latencies: list[float] = []
    processed: list[float] = []  # the same with the processing time, as live (one thread)
    false = {"room_talk": [0, 0.0], "room_talk_over_box": [0, 0.0], "own_speech": [0, 0.0],
             "own_speech_raw": [0, 0.0]}  # fmt: skip
    for entry in manifest:
        utts = entry["utterances"]
        live_events = results.get((entry["name"], True), [])
        if entry["kind"] == "commands":
            by_utt, strays = assign_events(live_events, utts)
            c = conditions.setdefault(
                entry["condition"], {"n": 0, "correct": 0, "missed": 0, "wrong": 0, "stray": 0}
            )
            c["stray"] += len(strays)
            for i, u in enumerate(utts):
                got = {e["command"] for e in by_utt.get(i, [])}
                c["n"] += 1
                ok = got == {u["command"]}
                if ok:
                    c["correct"] += 1
                    latencies.append(
                        min(e["heard_at_seconds"] for e in by_utt[i]) - u["end_seconds"]
                    )
                    processed.append(
                        min(e.get("processed_at_seconds", e["heard_at_seconds"])
                            for e in by_utt[i]) - u["end_seconds"]
                    )  # fmt: skip
                elif not got:
                    c["missed"] += 1
                else:
                    c["wrong"] += 1
                    for g in got - {u["command"]}:
                        key = f"{u['command']}->{g}"
                        confusions[key] = confusions.get(key, 0) + 1
                if u["command"] == "pain":
                    pain.setdefault(entry["condition"], []).append(int(ok))
                if entry["condition"] == "clean":
                    speakers.setdefault(u["speaker"], []).append(int(ok))
                everywhere.setdefault(u["speaker"], []).append(int(ok))
            continue
        speech_hours = sum(u["end_seconds"] - u["start_seconds"] for u in utts) / 3600
        false[entry["kind"]][0] += len(live_events)
        false[entry["kind"]][1] += speech_hours
        if entry["kind"] == "own_speech":
            raw = results.get((entry["name"], False), [])
            false["own_speech_raw"][0] += len(raw)
            false["own_speech_raw"][1] += speech_hours
    acc = {k: v["correct"] / v["n"] for k, v in conditions.items() if v["n"]}
    return {
        "conditions": conditions,
        "accuracy": acc,
        "mean_accuracy": statistics.mean(acc.values()) if acc else float("nan"),
        "worst_condition": min(acc.values()) if acc else float("nan"),
        "pain": {k: sum(v) / len(v) for k, v in pain.items()},
        "pain_n": {k: len(v) for k, v in pain.items()},
        "clean_by_speaker": {k: sum(v) / len(v) for k, v in sorted(speakers.items())},
        "by_speaker": {k: sum(v) / len(v) for k, v in sorted(everywhere.items())},
        "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])),
        "false": {
            k: {"count": n, "speech_hours": h, "per_hour": n / h if h else float("nan")}
            for k, (n, h) in false.items()
        },
        "latency_p50_ms": _pct(latencies, 50) * 1000,
        "latency_p95_ms": _pct(latencies, 95) * 1000,
        "latency_processed_p95_ms": _pct(processed, 95) * 1000,
    }


# ---- tuning -----------------------------------------------------------------------------------
def replay(manifest: list[dict], raw: list[dict], thresholds: Thresholds) -> dict:
    """Re-run the listener on recorded hypotheses with other thresholds (no decoding)."""
    entries = {e["name"]: e for e in manifest}
    locale = load_locale("en")
    results: dict[tuple[str, bool], list[dict]] = {}
    for r in raw:
        entry = entries[r["name"]]
        clock = [0.0]
        guard = None
        if r["live"] and entry["played"]:
            guard = EchoGuard(_playing_at(entry["played"], clock))
        listener = Listener(_Replay([]), locale, rejection=Rejection(thresholds), guard=guard)
        log = [(chunk, Hypothesis(**h)) for chunk, h in r["log"]]
        # The echo guard's clock follows the replay, for what the box was saying then.
        events = replay_log(listener, log, partial(_set_clock, clock))
        results[(r["name"], r["live"])] = [dataclasses.asdict(e) for e in events]
    return score(manifest, results)


def _set_clock(clock: list[float], chunk: int) -> None:
    clock[0] = chunk * CHUNK_SECONDS


def replay_log(
    listener: Listener,
    log: list[tuple[int, Hypothesis]],
    before_chunk: Callable[[int], None] | None = None,
) -> list[HeardCommand]:
    """The listener's decisions on recorded (chunk, result) pairs, each handed over at the
    stream time of its chunk, as if its engine had just given it (no decoding)."""
    events: list[HeardCommand] = []
    for chunk, h in log:
        if before_chunk is not None:
            before_chunk(chunk)
        # The listener only needs the stream time at which each result came out.
        listener._samples = round((chunk + 1) * CHUNK_SECONDS * corpus.RATE_HZ)
        events += listener._handle([h])
    return events


def tune(manifest: list[dict], raw: list[dict]) -> None:
    """Print the best thresholds on this (train) split: accuracy first, then few false alarms."""
    rows = []
    grid = itertools.product(
        (0.05, 0.1, 0.15, 0.2, 0.3), (0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95), (0.8, 0.95, None)
    )
    for fs, fo, ps in grid:
        t = Thresholds(final_safety=fs, final_other=fo, partial_safety=ps)
        s = replay(manifest, raw, t)
        fa = s["false"]["room_talk"]["per_hour"]
        pain = s["pain"].get("clean", 0.0)
        rows.append((s["mean_accuracy"] + pain - 0.01 * fa, s["mean_accuracy"], pain, fa,
                     s["latency_p95_ms"], t))  # fmt: skip
    rows.sort(key=lambda r: -r[0])
    for objective, acc, pain, fa, p95, t in rows[:15]:
        print(
            f"{objective:.3f} acc={acc:.3f} pain_clean={pain:.3f} room_false/h={fa:.1f} "
            f"p95={p95:.0f}ms safety={t.final_safety} other={t.final_other} "
            f"partial_safety={t.partial_safety}"
        )


def _guard_drops(live: list[dict]) -> dict[str, int]:
    """Commands the echo guard took for the box's own voice: in its own speech (rightly), in
    streams with a person's commands over it (some may have been theirs), and in room talk."""
    drops = {"guard_dropped_own": 0, "guard_dropped_over_box": 0, "guard_dropped_talk": 0}
    for r in live:
        if r["name"].startswith("own-"):
            key = "guard_dropped_own"
        elif "-talk" in r["name"]:
            key = "guard_dropped_talk"
        else:
            key = "guard_dropped_over_box"
        drops[key] += r.get("guard_dropped", 0)
    return drops


def _check_costs(live: list[dict]) -> dict[str, float]:
    """How often the neural engine asked its second opinion, per hour of audio, and its CPU."""
    asked = sum(r.get("checks", 0) for r in live)
    audio = sum(r["audio_seconds"] for r in live) or 1.0
    talk = [r for r in live if "-talk" in r["name"]]
    return {
        "checks": asked,
        "checks_per_hour": asked / audio * 3600,
        "checks_per_hour_talk": sum(r.get("checks", 0) for r in talk)
        / (sum(r["audio_seconds"] for r in talk) or 1.0)
        * 3600,
        "check_ms": sum(r.get("check_cpu_seconds", 0.0) for r in live) / max(asked, 1) * 1000,
    }


# ---- report -----------------------------------------------------------------------------------
def _met(key: str, value: float) -> str:
    op, goal = GOALS[key]
    ok = value >= goal if op == ">=" else value <= goal
    return "met" if ok else "**missed**"


def _echo_costs(raw: list[dict]) -> dict[str, float]:
    """The echo stage's cost per second of audio it saw, its tracked delay and echo removed."""
    stages = [r["echo"] for r in raw if r.get("echo")]
    audio = sum(r["audio_seconds"] for r in raw if r.get("echo"))
    if not stages or not audio:
        nan = float("nan")
        return {"echo_cpu_per_second": nan, "echo_delay_ms": nan, "echo_removed_db": nan}
    # Echo removed is measured where only the box talks (own speech): with a person talking
    # over it, their voice counts as "not removed".
    alone = [r["echo"] for r in raw if r.get("echo") and r["name"].startswith("own-")] or stages
    return {
        "echo_cpu_per_second": sum(e["cpu_seconds"] for e in stages) / audio,
        "echo_delay_ms": statistics.median(e["delay_seconds"] for e in stages) * 1000,
        "echo_removed_db": statistics.median(e["removed_db"] for e in alone),
    }


def report(s: dict, costs: dict, args: argparse.Namespace, seconds: float) -> str:
    """The markdown section for docs/benchmarks.md."""
    cmd = ".venv/bin/python -m bench.asr_bench" + (" --quick" if args.quick else "")
    lines = [
        (
            f"Command: `{cmd}` ({args.split} speakers, engine {args.engine}, "
            f"{costs['audio_hours']:.2f} h of audio, {seconds / 60:.1f} min wall time on 2 cores)."
        ),
        "",
        "| condition | n | accuracy | missed | wrong | stray |",
        "|---|---|---|---|---|---|",
    ]
    for cond in corpus.CONDITIONS:
        c = s["conditions"].get(cond)
        if c:
            lines.append(
                f"| {cond} | {c['n']} | {c['correct'] / c['n']:.1%} | {c['missed']} | "
                f"{c['wrong']} | {c['stray']} |"
            )
    f = s["false"]
    values = {
        "mean_accuracy": s["mean_accuracy"],
        "worst_condition": s["worst_condition"],
        "pain_clean": s["pain"].get("clean", float("nan")),
        "pain_echo_0dB": s["pain"].get("echo_0dB", float("nan")),
        "false_per_hour_room_talk": f["room_talk"]["per_hour"],
        "false_per_hour_own_speech": f["own_speech"]["per_hour"],
        "latency_p95_ms": s["latency_p95_ms"],
        "cpu_seconds_per_audio_second": costs["cpu_per_second"],
        "peak_rss_mb": costs["peak_rss_mb"],
        "echo_0dB_points_below_clean": 100
        * (s["accuracy"].get("clean", float("nan")) - s["accuracy"].get("echo_0dB", float("nan"))),
        "canceller_cpu_seconds_per_audio_second": costs["echo_cpu_per_second"],
    }
    shown = {
        "mean_accuracy": f"{values['mean_accuracy']:.1%}",
        "worst_condition": f"{values['worst_condition']:.1%} "
        f"({min(s['accuracy'], key=s['accuracy'].get)})",
        "pain_clean": f"{values['pain_clean']:.1%} (n={s['pain_n'].get('clean', 0)})",
        "pain_echo_0dB": f"{values['pain_echo_0dB']:.1%} (n={s['pain_n'].get('echo_0dB', 0)})",
        "false_per_hour_room_talk": f"{f['room_talk']['per_hour']:.1f} "
        f"({f['room_talk']['count']} in {f['room_talk']['speech_hours'] * 60:.0f} min of speech)",
        "false_per_hour_own_speech": f"{f['own_speech']['per_hour']:.1f} "
        f"({f['own_speech']['count']} in {f['own_speech']['speech_hours'] * 60:.0f} min; "
        f"without AEC and guard: {f['own_speech_raw']['count']})",
        "latency_p95_ms": f"{s['latency_p95_ms']:.0f} ms (p50 {s['latency_p50_ms']:.0f} ms; "
        f"with this machine's processing time: {s['latency_processed_p95_ms']:.0f} ms)",
        "cpu_seconds_per_audio_second": f"{costs['cpu_per_second']:.3f}",
        "peak_rss_mb": f"{costs['peak_rss_mb']:.0f} MB",
        "echo_0dB_points_below_clean": f"{values['echo_0dB_points_below_clean']:.1f} points",
        "canceller_cpu_seconds_per_audio_second": f"{costs['echo_cpu_per_second']:.4f} "
        f"(delay tracked: {costs['echo_delay_ms']:.1f} ms median; "
        f"echo removed: {costs['echo_removed_db']:.1f} dB median)",
    }
    lines += ["", "| measure | goal | result | |", "|---|---|---|---|"]
    for key, (op, goal) in GOALS.items():
        lines.append(f"| {key.replace('_', ' ')} | {op} {goal:g} | {shown[key]} | "
                     f"{_met(key, values[key])} |")  # fmt: skip
    over = f["room_talk_over_box"]
    if over["speech_hours"]:  # not in --quick
        said = (
            f"Room talk over the box's own speech (0 dB to its echo, a television on during a "
            f"session): {over['per_hour']:.1f} false commands an hour ({over['count']} in "
            f"{over['speech_hours'] * 60:.0f} min of speech)."
        )
        lines += ["", said]
    lines += [
        "",
        (
            f"Echo guard: {costs['guard_dropped_own']} commands dropped as the box's own voice "
            f"in its own speech, {costs['guard_dropped_over_box']} in streams with commands "
            f"said over it (some may have been the person's), {costs['guard_dropped_talk']} in "
            "room talk."
        ),
    ]
    if costs.get("checks"):
        lines += [
            "",
            (
                f"Second opinion (the command grammar on a near-miss): asked "
                f"{costs['checks_per_hour']:.0f} times an hour of audio, "
                f"{costs['checks_per_hour_talk']:.0f} an hour of room talk; "
                f"{costs['check_ms']:.0f} ms of CPU each (included in the CPU figure)."
            ),
        ]
    lines += [
        "",
        (
            f"Model load time: {costs['load_seconds'] * 1000:.0f} ms. "
            f"Most frequent confusions: {list(s['confusions'].items())[:6]}."
        ),
        "",
        "Clean accuracy by speaker: "
        + ", ".join(f"{k} {v:.0%}" for k, v in s["clean_by_speaker"].items())
        + ".",
        "",
        # flite's voices are cut from recordings of real people, espeak-ng's are formant
        # synthesis: an engine trained on synthetic speech may hear one kind better.
        "Accuracy over all conditions by speaker: "
        + ", ".join(f"{k} {v:.0%}" for k, v in s["by_speaker"].items())
        + ".",
    ]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    """Replace the generated part of the speech-recognition section in docs/benchmarks.md."""
    text = DOCS.read_text() if DOCS.is_file() else "# Benchmarks\n"
    block = f"{DOC_START}\n{section}\n{DOC_END}"
    placeholder = "## Speech recognition\n\n_Not measured yet._"
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        text = head + block + rest.split(DOC_END, 1)[1]
    elif placeholder in text:
        text = text.replace(placeholder, f"## Speech recognition\n\n{block}")
    else:
        text = text.rstrip() + f"\n\n## Speech recognition\n\n{block}\n"
    DOCS.write_text(text)


def _default_settings() -> Any:
    from voiceguide.speech_in.engines.pocketsphinx import SphinxSettings

    return SphinxSettings()


def decode_all(
    manifest: list[dict],
    folder: Path,
    engine: str,
    workers: int,
    raw_own_speech: bool = True,
    overrides: dict | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> list[dict[str, Any]]:
    """Decode every stream of `manifest` through the product path in `workers` processes
    (and, with `raw_own_speech`, the box's own speech once more without the echo stage)."""
    jobs = [(str(folder), e["name"], engine, True, e, overrides or {}) for e in manifest]
    if raw_own_speech:
        jobs += [(str(folder), e["name"], engine, False, e, overrides or {}) for e in manifest
                 if e["kind"] == "own_speech"]  # fmt: skip
    # Longest first keeps both workers busy to the end.
    jobs.sort(key=lambda j: -j[4]["seconds"])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=initializer, initargs=initargs) as pool:
        return pool.map(decode_stream, jobs, chunksize=1)


def main() -> int:
    """Generate the corpus, decode it in worker processes, print (and optionally save) results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset for CI")
    parser.add_argument("--split", choices=["test", "train"], default="test")
    parser.add_argument("--engine", choices=list(ENGINES), default="pocketsphinx")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tune", action="store_true", help="sweep rejection thresholds")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="save raw results here")
    parser.add_argument(
        "--set",
        type=lambda t: tuple(t.split("=", 1)),
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pocketsphinx setting to try",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse the generated corpus")
    args = parser.parse_args()
    started = time.monotonic()
    folder = corpus.OUT_DIR / f"{args.split}{'-quick' if args.quick else ''}"
    if not (args.reuse and (folder / "manifest.json").is_file()):
        streams = corpus.build(args.split, args.quick)
        corpus.save(streams, folder)
        del streams
    manifest = json.loads((folder / "manifest.json").read_text())
    overrides = {k: type(getattr(_default_settings(), k))(v) for k, v in args.set}
    raw = decode_all(manifest, folder, args.engine, args.workers, overrides=overrides)
    results = {(r["name"], r["live"]): r["events"] for r in raw}
    s = score(manifest, results)
    live = [r for r in raw if r["live"]]
    costs = {
        "audio_hours": sum(r["audio_seconds"] for r in live) / 3600,
        "cpu_per_second": sum(r["cpu_seconds"] for r in live)
        / sum(r["audio_seconds"] for r in live),
        "peak_rss_mb": max(r["max_rss_mb"] for r in raw),
        "load_seconds": max(r["load_seconds"] for r in raw),
        **_echo_costs(raw),
        **_guard_drops(live),
        **_check_costs(live),
    }
    section = report(s, costs, args, time.monotonic() - started)
    print(section)
    if args.json:
        args.json.write_text(json.dumps({"score": s, "costs": costs, "raw": raw}, default=str))
    if args.tune:
        tune(manifest, raw)
    if args.write_docs:
        write_docs(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Idle mode: how often "start <routine name>" starts the right routine, and false starts.

    .venv/bin/python -m bench.idle_start                 # test speakers, 16-25 min on 2 busy cores
    .venv/bin/python -m bench.idle_start --split train   # the tuning speakers

Each bundled English routine is asked for three times by every speaker of the split: once by
its title ("start Gentle lower back") and twice by a random other phrase of the idle table
(an alias, "begin", "the"). One stream per speaker and condition holds that speaker's requests
with 1.2-2 s of quiet between them, laid out and mixed exactly as bench/corpus.py does (its
fixed seed, its noise at 10 dB). Every stream goes through the product's path: the idle table
from `app.wiring.idle_commands`, the listener from `speech_in.factory.open_listener` (with
`engine: neural` idle mode still uses the grammar engine: routine names are user data), and
`speech_in.recording.listen_to_recording` in 30 ms chunks. The corpus's room-talk streams,
heard by the same idle listener, give the false starts per hour of talk.

A request is right when the only command heard in it is its routine's start.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.asr_bench import CHUNK_SECONDS, _Recorder, _Replay, assign_events, replay_log
from bench.corpus import (
    RATE_HZ,
    SEED,
    TEST_SPEAKERS,
    TRAIN_SPEAKERS,
    Utterance,
    _jitter,
    _lay_out,
    _mix,
    _synth_all,
    room_talk_streams,
)
from voiceguide.app.config import Config
from voiceguide.app.wiring import idle_commands
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.loader import bundled_routines_dir
from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode, is_start
from voiceguide.core.locale import Locale
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.listener import HeardCommand, Listener
from voiceguide.speech_in.recording import listen_to_recording
from voiceguide.speech_in.rejection import Rejection, Thresholds
from voiceguide.speech_in.settings import ENGINES

CONDITIONS = ("clean", "white_10dB", "pink_10dB", "babble_10dB")
REQUESTS_PER_ROUTINE = 3  # per speaker: the title, and two other phrases
GOALS = {"clean": 0.95, "10dB": 0.90}


def requests(table: dict[str, list[str]], rng: np.random.Generator) -> list[tuple[str, str]]:
    """(command, phrase) pairs one speaker says: each routine by its title, then two others."""
    out = []
    for key, phrases in table.items():
        if not is_start(key):
            continue
        title = phrases_with_title(phrases)
        others = [p for p in phrases if p != title]
        picks = rng.choice(len(others), size=REQUESTS_PER_ROUTINE - 1, replace=False)
        out += [(key, title)] + [(key, others[int(i)]) for i in picks]
    return out


def phrases_with_title(phrases: list[str]) -> str:
    """The table's "start <Title>" phrase (titles keep their capital letter)."""
    return next(p for p in phrases if p.startswith("start ") and p[6:7].isupper())


def pcm16(audio: np.ndarray) -> bytes:
    """Float samples as the microphone's 16-bit PCM."""
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()


def _as_dicts(events: list[HeardCommand]) -> list[dict]:
    return [{"command": e.command, "phrase": e.phrase, "start_seconds": e.start_seconds,
             "end_seconds": e.end_seconds} for e in events]  # fmt: skip


@dataclass
class Decoded:
    """One stream as the listener heard it: its truth, the commands, the engine's results."""

    speaker: str
    condition: str  # "talk" for room talk
    truth: list[Utterance]
    events: list[dict]
    log: list[tuple[int, Hypothesis]]  # (chunk, hypothesis), for replaying other bars


def decode(listener: Listener, audio: np.ndarray) -> tuple[list[dict], list]:
    """The commands the product's listener acts on in one stream, and the engine's results."""
    if not isinstance(listener.engine, _Recorder):
        listener.engine = _Recorder(listener.engine)
    listener.reset()
    events, _ = listen_to_recording(listener, pcm16(audio), None, CHUNK_SECONDS)
    return _as_dicts(events), list(listener.engine.log)


def replay(
    stream: Decoded, locale: Locale, table: dict[str, list[str]], bars: Thresholds
) -> list[dict]:
    """The same stream's commands with other rejection bars, from its recorded results."""
    listener = Listener(_Replay([]), locale, commands=table, rejection=Rejection(bars))
    return _as_dicts(replay_log(listener, stream.log))


@dataclass
class Tally:
    """Scores of a run: per condition, per speaker, misses, false starts on room talk."""

    conditions: dict[str, Counter[str]] = field(default_factory=dict)
    by_speaker: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    false: Counter[str] = field(default_factory=Counter)
    talk_seconds: float = 0.0


def score(streams: list[Decoded], events: list[list[dict]]) -> Tally:
    """Right, missed and wrong requests per condition, and false starts per hour of talk."""
    t = Tally({c: Counter() for c in CONDITIONS})
    for stream, got_events in zip(streams, events, strict=True):
        if stream.condition == "talk":
            t.talk_seconds += sum(u.end_seconds - u.start_seconds for u in stream.truth)
            t.false.update(e["command"] for e in got_events)
            continue
        by_utt, strays = assign_events(got_events, [u.__dict__ for u in stream.truth])
        mine = t.by_speaker.setdefault(stream.speaker, Counter())
        for i, u in enumerate(stream.truth):
            got = [e["command"] for e in by_utt.get(i, [])]
            verdict = _verdict(u, got)
            t.conditions[stream.condition][verdict] += 1
            mine[f"{stream.condition}:{verdict}"] += 1
            if verdict != "right":
                t.misses.append(f"{stream.condition} {stream.speaker} '{u.text}' -> {got or '-'}")
        t.conditions[stream.condition]["stray"] += len(strays)
    return t


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown report (and optionally JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "train"], default="test")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="the configured engine (idle mode uses the grammar engine for neural)")  # fmt: skip
    parser.add_argument("--sweep", default="",
                        help="comma-separated bars for idle starts (Thresholds.final_start) to "
                             "replay on the recorded results, e.g. 0.95,0.8,0.5,0.3 (train split)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    locale = load_locale("en")
    config = Config() if args.engine is None else Config(engine=args.engine)
    settings = config.listen_settings()
    idle = IdleMode(load_good_routines(bundled_routines_dir(), "en"), locale)
    table = idle_commands(idle, settings)
    listener = open_listener(settings, locale, table)
    plain = dict(table)  # the same phrases as a plain dict, copied once
    speakers = TEST_SPEAKERS if args.split == "test" else TRAIN_SPEAKERS
    rng = np.random.default_rng(SEED + 50 + (0 if args.split == "test" else 1))

    streams: list[Decoded] = []
    audio_seconds = 0.0
    for speaker in speakers:
        asked = requests(plain, rng)
        audio = _synth_all((speaker, p, *_jitter(speaker, rng)) for _, p in asked)
        clips: list[tuple[np.ndarray, str, str | None, str]] = [
            (a, p, c, speaker.name) for a, (c, p) in zip(audio, asked, strict=True)
        ]
        for condition in CONDITIONS:
            speech, truth = _lay_out(clips, rng)
            mic, _ = _mix(speech, condition, rng, None)
            audio_seconds += len(mic) / RATE_HZ
            streams.append(Decoded(speaker.name, condition, truth, *decode(listener, mic)))
    for talk in room_talk_streams(args.split, quick=False):
        if talk.kind == "room_talk":
            streams.append(Decoded("", "talk", talk.utterances, *decode(listener, talk.audio)))
    tally = score(streams, [s.events for s in streams])
    print(_report(args, tally, audio_seconds, time.monotonic() - started))
    sweep = {}
    for bar in [float(b) for b in args.sweep.split(",") if b]:
        bars = dataclasses.replace(listener.rejection.thresholds, final_start=bar)
        sweep[bar] = score(streams, [replay(s, locale, plain, bars) for s in streams])
    if sweep:
        print("\n" + _sweep_report(sweep))
    if args.json:
        args.json.write_text(json.dumps({
            "split": args.split, "engine": settings.engine,
            "conditions": {c: dict(v) for c, v in tally.conditions.items()},
            "by_speaker": {s: dict(v) for s, v in tally.by_speaker.items()},
            "false_starts": dict(tally.false), "talk_seconds": tally.talk_seconds,
            "misses": tally.misses,
            "sweep": {str(b): {"conditions": {c: dict(v) for c, v in t.conditions.items()},
                               "false_starts": dict(t.false)} for b, t in sweep.items()},
        }, indent=1))  # fmt: skip
    return 0


def _sweep_report(sweep: dict[float, Tally]) -> str:
    lines = ["| start bar | " + " | ".join(CONDITIONS) + " | false starts, room talk |",
             "|---|" + "---|" * len(CONDITIONS) + "---|"]  # fmt: skip
    for bar, t in sweep.items():
        accs = " | ".join(f"{accuracy(t.conditions[c]):.1%}" for c in CONDITIONS)
        lines.append(f"| {bar} | {accs} | {sum(t.false.values())} |")
    return "\n".join(lines)


def _verdict(u: Utterance, got: list[str]) -> str:
    if got == [u.command]:
        return "right"
    if not got:
        return "missed"
    return "wrong"


def requests_in(tally: Counter[str]) -> int:
    """How many requests a tally scored (strays are not requests)."""
    return tally["right"] + tally["missed"] + tally["wrong"]


def accuracy(tally: Counter[str]) -> float:
    """Share of requests that started the right routine and nothing else."""
    n = requests_in(tally)
    return tally["right"] / n if n else float("nan")


def _report(args: argparse.Namespace, run: Tally, audio_seconds: float, wall: float) -> str:
    results, by_speaker, misses, false = run.conditions, run.by_speaker, run.misses, run.false
    talk_seconds = run.talk_seconds
    head = (f"Command: `.venv/bin/python -m bench.idle_start --split {args.split}` "
            f"({audio_seconds / 60:.1f} min of audio, {wall / 60:.1f} min wall).")  # fmt: skip
    lines = [head, "", "| condition | n | accuracy | missed | wrong | stray |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for c, t in results.items():
        row = f"| {c} | {requests_in(t)} | {accuracy(t):.1%} | {t['missed']} | {t['wrong']} | {t['stray']} |"
        lines.append(row)
    worst_noisy = min(accuracy(results[c]) for c in CONDITIONS if c != "clean")
    clean = accuracy(results["clean"])
    noisy = (f"| 10 dB (worst noise) | >= {GOALS['10dB']:.0%} | {worst_noisy:.1%} | "
             f"{_met(worst_noisy, GOALS['10dB'])} |")  # fmt: skip
    lines += ["", "| measure | goal | result | |", "|---|---|---|---|",
              f"| clean | >= {GOALS['clean']:.0%} | {clean:.1%} | {_met(clean, GOALS['clean'])} |",
              noisy]  # fmt: skip
    hours = talk_seconds / 3600
    total = sum(false.values())
    kinds = ", ".join(f"{k} {v}" for k, v in false.most_common()) or "none"
    rate = total / hours if hours else 0.0
    lines += ["", f"False starts on room talk: {total} in {talk_seconds / 60:.1f} min of speech "
              + f"({rate:.1f} an hour): {kinds}.", ""]  # fmt: skip
    per = []
    for name, t in by_speaker.items():
        clean_t = Counter({k.split(":")[1]: v for k, v in t.items() if k.startswith("clean:")})
        per.append(f"{name} {accuracy(clean_t):.0%}")
    lines.append("Clean accuracy by speaker: " + ", ".join(per) + ".")
    if misses:
        lines.append("First misses: " + "; ".join(misses[:8]) + ".")
    return "\n".join(lines)


def _met(value: float, goal: float) -> str:
    return "met" if value >= goal else "**missed**"


if __name__ == "__main__":
    sys.exit(main())

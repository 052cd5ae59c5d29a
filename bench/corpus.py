"""Speech-input corpus: synthetic speakers saying commands, room talk and the box's own speech.

Everything is generated from a fixed seed into bench/out/asr/ (git-ignored): espeak-ng voices
and variants plus flite voices, mixed with white, pink or babble noise at fixed SNRs, or with
the box's own speech played back through a simulated room as echo. Speakers are split into a
train half (for tuning thresholds) and a test half (for the reported figures).

    .venv/bin/python -m bench.corpus [--quick] [--split test|train]   # writes WAV + JSON
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import tempfile
import wave
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soxr

from voiceguide.content.locales import load_locale
from voiceguide.speech_out.render import write_wav

SEED = 4242
RATE_HZ = 16000
OUT_DIR = Path(__file__).resolve().parent / "out" / "asr"
TTS_CACHE = OUT_DIR / "tts"
SPEECH_DBFS = -23.0  # active-speech level every utterance is scaled to (± a little)
FLOOR_DBFS = -66.0  # a real microphone never gives digital silence
GAP_SECONDS = (1.2, 2.0)  # silence between utterances in a stream


@dataclass(frozen=True)
class Speaker:
    """One synthetic talker: a TTS program, a voice and its base rate and pitch."""

    program: str  # "espeak-ng", "flite" or "festival"
    voice: str
    rate_wpm: int = 160
    pitch: int = 50

    @property
    def name(self) -> str:
        """Short label for reports."""
        return f"{'' if self.program == 'espeak-ng' else self.program + ':'}{self.voice}"


TRAIN_SPEAKERS = (
    Speaker("espeak-ng", "en-us", 160, 50),
    Speaker("espeak-ng", "en-us+m3", 150, 40),
    Speaker("espeak-ng", "en-gb+f2", 170, 60),
    Speaker("espeak-ng", "en-gb-scotland+m1", 150, 45),
    Speaker("espeak-ng", "en-us-nyc+m5", 175, 40),
    Speaker("espeak-ng", "en-gb-x-rp+f5", 160, 70),
    Speaker("espeak-ng", "en-us+klatt4", 170, 55),
    Speaker("espeak-ng", "en-us+f1", 165, 60),
    Speaker("flite", "kal"),
    Speaker("festival", "kal"),  # flite awb is reserved for held-out testing
)
TEST_SPEAKERS = (
    Speaker("espeak-ng", "en-gb", 165, 45),
    Speaker("espeak-ng", "en+f4", 155, 65),
    Speaker("espeak-ng", "en-us+klatt", 160, 50),
    Speaker("espeak-ng", "en-029+f3", 165, 60),
    Speaker("espeak-ng", "en-us+m7", 145, 35),
    Speaker("espeak-ng", "en-gb-x-gbclan+m2", 160, 50),
    Speaker("flite", "slt"),
    Speaker("flite", "rms"),
)
# The box itself talks with the configured voice (espeak-ng en-us at 160 wpm by default).
BOX_VOICES = (Speaker("espeak-ng", "en-us", 160, 50), Speaker("espeak-ng", "en-gb", 160, 50))

# Natural ways people say commands beyond the locale's list; the grammar's carrier words
# (please, okay, oh, now ...) make these work, and the matcher finds the phrase inside.
COMMAND_VARIANTS: dict[str, tuple[str, ...]] = {
    "pain": ("oh it hurts", "ow it hurts", "ouch that hurts"),
    "stop": ("please stop", "okay stop", "stop please"),
    "pause": ("pause please", "okay wait"),
    "resume": ("okay continue", "resume please"),
    "skip": ("skip please",),
    "repeat": ("please repeat",),
    "louder": ("louder please",),
}

# Everyday talk that must not become a command: a television, a visitor, a phone call. Some
# sentences contain command words in passing ("next week", "wait for"), as real talk does.
ROOM_TALK = (
    "I think we should go to the shops before dinner.",
    "The weather looks lovely today, maybe we can walk to the park.",
    "Did you remember to call your sister back?",
    "And now the news at six o'clock.",
    "Tomorrow will be cloudy with a chance of rain in the afternoon.",
    "Can you pass me the remote control?",
    "I'll put the kettle on, would you like a cup of tea?",
    "The traffic on the motorway was terrible this morning.",
    "Our team scored twice in the second half.",
    "She said the meeting has been moved to Thursday.",
    "We need milk, bread, and some apples.",
    "The cat has been sleeping on the sofa all day.",
    "Let me know when the washing machine is finished.",
    "That film was much better than I expected.",
    "I can't find my glasses anywhere.",
    "The kids are coming over on Sunday for lunch.",
    "Prices have gone up again at the supermarket.",
    "Turn left at the roundabout and then take the second exit.",
    "He has been working from home since the spring.",
    "The garden needs watering before the sun goes down.",
    "I'll see you next week at the usual place.",
    "We had to wait for the bus for twenty minutes.",
    "Could you help me carry these boxes upstairs?",
    "The doctor's surgery opens at half past eight.",
    "There is a documentary about whales on channel four tonight.",
    "My phone battery is almost empty again.",
    "I booked a table for seven o'clock on Friday.",
    "The recipe says to bake it for forty minutes.",
    "They are building a new school near the station.",
    "Who left the back door open?",
    "After the break we will be talking to a famous chef.",
    "The train was delayed because of the storm.",
    "I would love to visit Scotland in the summer.",
    "Remember to take the bins out tonight.",
    "This coffee is far too strong for me.",
    "The neighbours have painted their fence blue.",
    "Stay tuned for the weather forecast.",
    "Keep the receipt in case it doesn't fit.",
    "The library is closed on bank holidays.",
    "I heard the concert was sold out within an hour.",
    "What time does the pharmacy close today?",
    "The dog needs a walk before it gets dark.",
    # Short remarks are the hard case: as short as a command, with nothing around them.
    "Thank you.",
    "Oh really?",
    "Not now.",
    "Sounds good.",
    "Good morning.",
    "Maybe later.",
    "Sorry.",
    "Come in.",
    "Over there.",
    "I know.",
    "No thanks.",
    "Hang on a minute.",
)


@dataclass
class Utterance:
    """One spoken item placed in a stream, with its true command (None for non-commands)."""

    text: str
    command: str | None
    speaker: str
    start_seconds: float  # speech onset in the stream
    end_seconds: float  # true end of speech in the stream


@dataclass
class Stream:
    """A continuous recording to feed the recogniser, with what is really in it."""

    name: str
    kind: str  # "commands", "room_talk", "room_talk_over_box" or "own_speech"
    condition: str
    audio: np.ndarray  # float32 mono at RATE_HZ, what the microphone hears
    utterances: list[Utterance] = field(default_factory=list)
    reference: np.ndarray | None = None  # what the box played, for echo cancellation
    played: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, text)

    @property
    def seconds(self) -> float:
        """Length of the stream."""
        return len(self.audio) / RATE_HZ


# ---- synthesis --------------------------------------------------------------------------------
def _read_wav(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768
    return soxr.resample(pcm, rate, RATE_HZ).astype(np.float32) if rate != RATE_HZ else pcm


def _run_tts(speaker: Speaker, text: str, rate_wpm: int, pitch: int) -> np.ndarray:
    if speaker.program == "espeak-ng":
        cmd = ["espeak-ng", "-v", speaker.voice, "-s", str(rate_wpm), "-p", str(pitch)]
        data = subprocess.run([*cmd, "--stdout", text], capture_output=True, check=True).stdout
        return _read_wav(data)
    stretch = 160 / rate_wpm  # flite has no words-per-minute; stretch durations instead
    if speaker.program == "festival":  # Debian festvox-kallpc16k
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            scheme = (
                f"(voice_{speaker.voice}_diphone) (Parameter.set 'Duration_Stretch {stretch:.3f})"
            )
            subprocess.run(["text2wave", "-eval", scheme, "-o", tmp.name], input=text.encode(),
                           capture_output=True, check=True)  # fmt: skip
            return _read_wav(Path(tmp.name).read_bytes())
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(
            ["flite", "-voice", speaker.voice, "--setf", f"duration_stretch={stretch:.3f}",
             "-t", text, "-o", tmp.name],
            capture_output=True, check=True,
        )  # fmt: skip
        return _read_wav(Path(tmp.name).read_bytes())


def synthesize(speaker: Speaker, text: str, rate_wpm: int, pitch: int) -> np.ndarray:
    """Speech for `text`, trimmed of leading/trailing silence; cached on disk."""
    key = f"{speaker.program}|{speaker.voice}|{rate_wpm}|{pitch}|{text}"
    path = TTS_CACHE / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}.npy"
    if path.is_file():
        return np.load(path)
    audio = trim(_run_tts(speaker, text, rate_wpm, pitch))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, audio)
    tmp.replace(path)
    return audio


def trim(audio: np.ndarray, threshold_dbfs: float = -45.0) -> np.ndarray:
    """Cut silence at both ends, so utterance boundaries are the true speech boundaries."""
    frame = RATE_HZ // 100
    n = len(audio) // frame
    if n == 0:
        return audio
    power = (audio[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    loud = np.flatnonzero(10 * np.log10(power + 1e-12) > threshold_dbfs)
    if len(loud) == 0:
        return audio
    return audio[loud[0] * frame : (loud[-1] + 1) * frame].copy()


def active_rms(audio: np.ndarray) -> float:
    """RMS over the louder frames only (a simple stand-in for active speech level)."""
    frame = RATE_HZ // 100
    n = max(1, len(audio) // frame)
    power = (audio[: n * frame].reshape(n, -1) ** 2).mean(axis=1)
    loud = power[power > power.max() * 1e-3]
    return float(np.sqrt(loud.mean())) if len(loud) else 1e-9


def at_level(audio: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale so the active-speech level is `dbfs`."""
    return (audio * (10 ** (dbfs / 20) / active_rms(audio))).astype(np.float32)


# ---- noise and echo ---------------------------------------------------------------------------
def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white noise."""
    return rng.standard_normal(n).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS 1/f noise, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    pink = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return (pink / pink.std()).astype(np.float32)


def babble_noise(n: int, rng: np.random.Generator, talkers: int = 5) -> np.ndarray:
    """Unit-RMS babble: several voices of room talk at once, each a continuous monologue."""
    voices = TRAIN_SPEAKERS + TEST_SPEAKERS
    mix = np.zeros(n, np.float32)
    for _ in range(talkers):
        speaker = voices[rng.integers(len(voices))]
        track: list[np.ndarray] = []
        total = 0
        while total < n:
            text = ROOM_TALK[rng.integers(len(ROOM_TALK))]
            clip = at_level(synthesize(speaker, text, speaker.rate_wpm, speaker.pitch), -20)
            track += [clip, np.zeros(int(rng.uniform(0.05, 0.3) * RATE_HZ), np.float32)]
            total += len(clip) + len(track[-1])
        voice = np.concatenate(track)
        offset = int(rng.integers(0, max(1, len(voice) - n)))
        mix += voice[offset : offset + n] if len(voice) >= n + offset else np.resize(voice, n)
    return (mix / (mix.std() + 1e-9)).astype(np.float32)


def room_response(seed: int = SEED, rt60_seconds: float = 0.25) -> np.ndarray:
    """The box's speaker-to-mic impulse response: a delay, the direct sound, a decaying tail.

    One fixed room for the whole corpus, as a box on a shelf has: its gain puts the box's
    speech (played at BOX_DBFS) at ECHO_DBFS in the microphone.
    """
    rng = np.random.default_rng(seed + 99)
    delay = int(0.004 * RATE_HZ)  # about 1.4 m from speaker to mic
    length = int(rt60_seconds * RATE_HZ)
    t = np.arange(length) / RATE_HZ
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / rt60_seconds) * 0.25
    tail[: int(0.003 * RATE_HZ)] = 0.0
    h = np.zeros(delay + length, np.float32)
    h[delay] = 1.0
    h[delay:] += tail.astype(np.float32)
    return h


BOX_DBFS = -18.0  # level of the box's own speech as played
ECHO_DBFS = -23.0  # ...and as it arrives in the microphone


def echo_of(reference: np.ndarray) -> np.ndarray:
    """What the microphone hears of `reference` played by the box, through the fixed room."""
    h = room_response()
    gain = 10 ** ((ECHO_DBFS - BOX_DBFS) / 20) / float(np.sqrt((h**2).sum()))
    return (np.convolve(reference, h)[: len(reference)] * gain).astype(np.float32)


NOISES = {"white": white_noise, "pink": pink_noise, "babble": babble_noise}
SNRS_DB = (20, 10, 5, 0)
ECHO_DB = (0, -6)
CONDITIONS = (
    ("clean",)
    + tuple(f"{kind}_{snr}dB" for kind in NOISES for snr in SNRS_DB)
    + tuple(f"echo_{db}dB" for db in ECHO_DB)
)


# ---- items ------------------------------------------------------------------------------------
def command_items(language: str = "en") -> list[tuple[str, str]]:
    """(command, phrase) for every phrase of the locale plus the natural variants."""
    locale = load_locale(language)
    items = [(c, p) for c, phrases in locale.commands.items() for p in phrases]
    items += [(c, p) for c, phrases in COMMAND_VARIANTS.items() for p in phrases]
    return items


def box_texts(language: str = "en") -> list[str]:
    """Everything the box itself says: every routine's timeline texts and the fixed prompts."""
    locale = load_locale(language)
    texts: set[str] = set()
    try:
        from voiceguide.content.loader import default_routines_dir, load_routines
        from voiceguide.core.timeline import build_timeline

        routines, _ = load_routines(default_routines_dir())
        for routine in routines:
            texts |= build_timeline(routine, locale).texts()
        titles = ", ".join(r.title for r in routines)
        for routine in routines:
            texts.add(locale.prompt("starting", title=routine.title))
        texts.add(locale.prompt("routines_list", titles=titles))
    except ImportError:  # the routine modules are optional for the generator
        pass
    texts |= {p for p in locale.prompts.values() if "{" not in p}
    return sorted(texts)


# ---- streams ----------------------------------------------------------------------------------
def _jitter(speaker: Speaker, rng: np.random.Generator) -> tuple[int, int]:
    rate = int(speaker.rate_wpm * rng.uniform(0.9, 1.1))
    pitch = int(np.clip(speaker.pitch + rng.integers(-8, 9), 0, 99))
    return rate, pitch


def _lay_out(
    clips: list[tuple[np.ndarray, str, str | None, str]],
    rng: np.random.Generator,
    level_db: float = SPEECH_DBFS,
) -> tuple[np.ndarray, list[Utterance]]:
    """Place clips one after another with random gaps; returns the track and the truth."""
    parts: list[np.ndarray] = [np.zeros(int(0.8 * RATE_HZ), np.float32)]
    pos = len(parts[0])
    truth: list[Utterance] = []
    for audio, text, command, speaker in clips:
        level = level_db + rng.uniform(-3, 3)
        scaled = at_level(audio, level)
        truth.append(Utterance(text, command, speaker, pos / RATE_HZ, (pos + len(audio)) / RATE_HZ))
        gap = np.zeros(int(rng.uniform(*GAP_SECONDS) * RATE_HZ), np.float32)
        parts += [scaled, gap]
        pos += len(audio) + len(gap)
    return np.concatenate(parts), truth


def box_track(
    n: int, rng: np.random.Generator, texts: list[str], voice: Speaker
) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """The box talking for `n` samples: its own phrases with short pauses, as played."""
    parts: list[np.ndarray] = []
    played: list[tuple[float, float, str]] = []
    pos = 0
    while pos < n:
        text = texts[rng.integers(len(texts))]
        clip = at_level(synthesize(voice, text, voice.rate_wpm, voice.pitch), BOX_DBFS)
        played.append((pos / RATE_HZ, (pos + len(clip)) / RATE_HZ, text))
        gap = np.zeros(int(rng.uniform(0.2, 0.9) * RATE_HZ), np.float32)
        parts += [clip, gap]
        pos += len(clip) + len(gap)
    return np.concatenate(parts)[:n], played


def _mix(
    speech: np.ndarray, condition: str, rng: np.random.Generator, box: tuple | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Add the condition's noise or echo to `speech`; returns (mic, reference)."""
    n = len(speech)
    mic = speech + white_noise(n, rng) * 10 ** (FLOOR_DBFS / 20)
    if condition == "clean":
        return mic.astype(np.float32), None
    kind, level = condition.rsplit("_", 1)
    db = float(level.removesuffix("dB"))
    if kind == "echo":
        # The room is fixed, so the talker's level sets the ratio: at -6 dB the echo is 6 dB
        # below the talker (see _lay_out's `level_db`).
        reference, _ = box
        return (mic + echo_of(reference)).astype(np.float32), reference
    noise = NOISES[kind](n, rng) * 10 ** ((SPEECH_DBFS - db) / 20)
    return (mic + noise).astype(np.float32), None


def _synth_all(jobs: Iterable[tuple[Speaker, str, int, int]]) -> list[np.ndarray]:
    jobs = list(jobs)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda j: synthesize(*j), jobs))


def command_streams(split: str, quick: bool, seed: int = SEED) -> list[Stream]:
    """Per condition, one or more streams of commands from the split's speakers."""
    speakers = TEST_SPEAKERS if split == "test" else TRAIN_SPEAKERS
    items = command_items()
    rng = np.random.default_rng(seed + (0 if split == "test" else 1))
    box_text = box_texts()
    streams: list[Stream] = []
    per_phrase = 1 if quick else 3
    for ci, condition in enumerate(CONDITIONS):
        if quick and ci % 2 and condition not in ("echo_0dB",):
            continue  # quick: every other condition, always with the hardest echo
        chosen: list[tuple[Speaker, str, str]] = []
        for command, phrase in items:
            # Pain is the phrase that must never be missed: every speaker says it everywhere.
            count = len(speakers) if command == "pain" and not quick else per_phrase
            picks = rng.choice(len(speakers), size=min(count, len(speakers)), replace=False)
            chosen += [(speakers[int(i)], command, phrase) for i in picks]
        order = rng.permutation(len(chosen))
        chosen = [chosen[int(i)] for i in order]
        jobs = [(s, p, *_jitter(s, rng)) for s, _, p in chosen]
        audio = _synth_all(jobs)
        clips = [(a, p, c, s.name) for a, (s, c, p) in zip(audio, chosen, strict=True)]
        # Streams of about a minute: CMN and VAD see a realistic continuous input.
        for k in range(0, len(clips), 25):
            level = SPEECH_DBFS
            if condition.startswith("echo"):  # echo at X dB: the talker is -X dB above it
                level = ECHO_DBFS - float(condition.split("_")[1].removesuffix("dB"))
            speech, truth = _lay_out(clips[k : k + 25], rng, level)
            box = None
            played: list[tuple[float, float, str]] = []
            if condition.startswith("echo"):
                box = box_track(len(speech), rng, box_text, BOX_VOICES[0])
                played = box[1]
            mic, reference = _mix(speech, condition, rng, box)
            streams.append(
                Stream(
                    f"{split}-{condition}-{k // 25:02d}",
                    "commands",
                    condition,
                    mic,
                    truth,
                    reference,
                    played,
                )
            )
    return streams


def room_talk_streams(split: str, quick: bool, seed: int = SEED) -> list[Stream]:
    """Room talk from the split's speakers: clean, and under a television-like pink noise."""
    speakers = TEST_SPEAKERS if split == "test" else TRAIN_SPEAKERS
    rng = np.random.default_rng(seed + 10 + (0 if split == "test" else 1))
    sentences = ROOM_TALK[::3] if quick else ROOM_TALK
    chosen = [(s, t) for s in speakers for t in sentences]
    audio = _synth_all((s, t, *_jitter(s, rng)) for s, t in chosen)
    clips = [(a, t, None, s.name) for a, (s, t) in zip(audio, chosen, strict=True)]
    order = rng.permutation(len(clips))
    clips = [clips[int(i)] for i in order]
    streams = []
    # The box's voice under the clean half once more (a television on during a session): its
    # own generator, so that the streams above are the same with or without these.
    box_rng = np.random.default_rng(seed + 30 + (0 if split == "test" else 1))
    box_text = box_texts()
    for k in range(0, len(clips), 20):
        speech, truth = _lay_out(clips[k : k + 20], rng)
        condition = "clean" if (k // 20) % 2 == 0 else "pink_20dB"
        mic, _ = _mix(speech, condition, rng, None)
        streams.append(Stream(f"{split}-talk-{k // 20:02d}", "room_talk", condition, mic, truth))
        if condition == "clean" and not quick:
            reference, played = box_track(len(mic), box_rng, box_text, BOX_VOICES[0])
            over = (mic + echo_of(reference)).astype(np.float32)  # the talk at 0 dB to the echo
            streams.append(Stream(f"{split}-talk-box-{k // 20:02d}", "room_talk_over_box",
                                  "echo_0dB", over, truth, reference, played))  # fmt: skip
    return streams


def own_speech_streams(quick: bool, seed: int = SEED) -> list[Stream]:
    """The box's own phrases, heard back through the room at the level of a near talker."""
    rng = np.random.default_rng(seed + 20)
    texts = box_texts()
    if quick:
        texts = texts[::4]
    streams = []
    for voice in BOX_VOICES[:1] if quick else BOX_VOICES:
        clips = _synth_all((voice, t, voice.rate_wpm, voice.pitch) for t in texts)
        for k in range(0, len(texts), 30):
            parts: list[np.ndarray] = []
            played: list[tuple[float, float, str]] = []
            pos = int(0.5 * RATE_HZ)
            parts.append(np.zeros(pos, np.float32))
            for text, clip in zip(texts[k : k + 30], clips[k : k + 30], strict=True):
                clip = at_level(clip, BOX_DBFS)
                played.append((pos / RATE_HZ, (pos + len(clip)) / RATE_HZ, text))
                gap = np.zeros(int(rng.uniform(0.3, 1.0) * RATE_HZ), np.float32)
                parts += [clip, gap]
                pos += len(clip) + len(gap)
            reference = np.concatenate(parts)
            echo = echo_of(reference)
            mic = echo + white_noise(len(echo), rng) * 10 ** (FLOOR_DBFS / 20)
            utts = [Utterance(t, None, voice.name, s, e) for s, e, t in played]
            streams.append(
                Stream(
                    f"own-{voice.voice}-{k // 30:02d}",
                    "own_speech",
                    "echo",
                    mic.astype(np.float32),
                    utts,
                    reference,
                    played,
                )
            )
    return streams


def build(split: str = "test", quick: bool = False) -> list[Stream]:
    """Every stream for one split (own speech is the same for both splits)."""
    return (
        command_streams(split, quick) + room_talk_streams(split, quick) + own_speech_streams(quick)
    )


def save(streams: list[Stream], folder: Path) -> None:
    """Write each stream as WAV (mic, and reference if any) plus one JSON manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for s in streams:
        write_wav(folder / f"{s.name}.wav", s.audio, RATE_HZ)
        if s.reference is not None:
            write_wav(folder / f"{s.name}.ref.wav", s.reference, RATE_HZ)
        manifest.append(
            {"name": s.name, "kind": s.kind, "condition": s.condition, "seconds": s.seconds,
             "utterances": [asdict(u) for u in s.utterances], "played": s.played}
        )  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def main() -> None:
    """Generate a split and write it under bench/out/asr/<split>[-quick]/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "train"], default="test")
    parser.add_argument("--quick", action="store_true", help="a small subset (for CI)")
    args = parser.parse_args()
    streams = build(args.split, args.quick)
    folder = OUT_DIR / f"{args.split}{'-quick' if args.quick else ''}"
    save(streams, folder)
    hours = sum(s.seconds for s in streams) / 3600
    print(f"{len(streams)} streams, {hours:.2f} h of audio in {folder}")


if __name__ == "__main__":
    main()

"""openWakeWord's speech front end (mel spectrogram + Google's speech_embedding), streaming.

The two TFLite files ship inside the ``pyopen-wakeword`` wheel; nothing is downloaded. They are
run with ``ai-edge-litert`` (XNNPACK, one thread). Audio is 16 kHz int16. Every 80 ms of audio
gives one 96-dimensional embedding over the last 775 ms (76 mel frames of 10 ms hop, 32 bands).

Frame arithmetic: mel frame k covers samples [160 k, 160 k + 512); embedding i covers mel frames
[8 i, 8 i + 76), i.e. samples [1280 i, 1280 i + 12512). Streaming and whole-clip computation give
the same numbers (the mel model is framewise), so training can embed whole clips at once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

RATE_HZ = 16000
HOP_SAMPLES = 160  # mel hop, 10 ms
MEL_WINDOW = 512  # samples per mel frame
MEL_BANDS = 32
EMB_FRAMES = 76  # mel frames per embedding (775 ms)
EMB_STEP = 8  # mel frames between embeddings (80 ms)
EMB_DIM = 96
STEP_SAMPLES = HOP_SAMPLES * EMB_STEP  # 1280 samples = 80 ms
EMB_SPAN_SAMPLES = HOP_SAMPLES * (EMB_FRAMES - 1) + MEL_WINDOW  # 12512 samples = 782 ms
_CHUNK_INPUT = STEP_SAMPLES - HOP_SAMPLES + MEL_WINDOW  # 1632 samples give 8 mel frames


def model_dir() -> Path:
    """Folder of the installed pyopen-wakeword wheel's models (found, never downloaded)."""
    spec = importlib.util.find_spec("pyopen_wakeword")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pyopen-wakeword is not installed (pip install pyopen-wakeword)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in ("melspectrogram.tflite", "embedding_model.tflite"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} is missing from the pyopen-wakeword wheel")
    return folder


def embedding_end_seconds(index: int) -> float:
    """Stream time at which embedding `index`'s window ends (it is computable from then on)."""
    return (index * STEP_SAMPLES + EMB_SPAN_SAMPLES) / RATE_HZ


class _Model:
    def __init__(self, path: Path, num_threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.shape: tuple[int, ...] = ()

    def run(self, x: np.ndarray) -> np.ndarray:
        if x.shape != self.shape:
            self.interpreter.resize_tensor_input(self.input, list(x.shape))
            self.interpreter.allocate_tensors()
            self.shape = x.shape
        self.interpreter.set_tensor(self.input, np.ascontiguousarray(x, np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)


class FrontEnd:
    """Streaming embeddings: ``accept(pcm16)`` returns the new (index, embedding) rows.

    ``embed_clip`` computes the same embeddings for a whole clip at once (for training).
    """

    def __init__(self, models: Path | None = None, num_threads: int = 1) -> None:
        folder = models or model_dir()
        self._mel = _Model(folder / "melspectrogram.tflite", num_threads)
        self._emb = _Model(folder / "embedding_model.tflite", num_threads)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample is stream time 0."""
        self._audio = np.zeros(0, np.float32)  # samples not yet turned into mel frames
        self._mels = np.zeros((0, MEL_BANDS), np.float32)  # mel frames not yet fully used
        self._mel_chunks = 0  # chunks of 8 mel frames computed so far
        self._emb_count = 0  # embeddings emitted so far

    @property
    def samples_seen(self) -> int:
        """Samples accepted since the last reset."""
        return self._mel_chunks * STEP_SAMPLES + len(self._audio)

    def mels(self, audio: np.ndarray) -> np.ndarray:
        """Mel frames (n, 32), already scaled for the embedding model, of float audio in int16 units."""
        if len(audio) < MEL_WINDOW:
            return np.zeros((0, MEL_BANDS), np.float32)
        out = self._mel.run(audio.astype(np.float32)[None, :])
        return (out.reshape(-1, MEL_BANDS) / 10.0 + 2.0).astype(np.float32)

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings (n, 96) of consecutive mel frames, one per 8 frames over 76."""
        n = (len(mels) - EMB_FRAMES) // EMB_STEP + 1
        if n <= 0:
            return np.zeros((0, EMB_DIM), np.float32)
        idx = np.arange(n)[:, None] * EMB_STEP + np.arange(EMB_FRAMES)[None, :]
        windows = mels[idx][..., None]  # (n, 76, 32, 1)
        rows = [self._emb.run(windows[k : k + 64]) for k in range(0, n, 64)]
        return np.concatenate(rows).reshape(n, EMB_DIM).astype(np.float32)

    def embed_clip(self, audio: np.ndarray) -> np.ndarray:
        """Embeddings of a whole clip (float in [-1, 1] or int16), as streaming would give them."""
        x = audio.astype(np.float32)
        if audio.dtype != np.int16:
            x = x * 32767.0
        return self.embed_mels(self.mels(x))

    def accept(self, pcm16: bytes | np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Feed int16 samples (any chunk size); returns the embeddings completed by them."""
        chunk = np.frombuffer(pcm16, np.int16) if isinstance(pcm16, bytes) else pcm16
        self._audio = np.concatenate([self._audio, chunk.astype(np.float32)])
        new_mels = []
        while len(self._audio) >= _CHUNK_INPUT:
            new_mels.append(self.mels(self._audio[:_CHUNK_INPUT])[:EMB_STEP])
            self._audio = self._audio[STEP_SAMPLES:]
            self._mel_chunks += 1
        if not new_mels:
            return []
        self._mels = np.concatenate([self._mels, *new_mels])
        emb = self.embed_mels(self._mels)
        used = len(emb) * EMB_STEP
        self._mels = self._mels[used:] if used else self._mels
        out = [(self._emb_count + k, emb[k]) for k in range(len(emb))]
        self._emb_count += len(emb)
        return out

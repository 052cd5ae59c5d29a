"""The neural engine's front end: streaming equals whole-clip embedding, with the right timing."""

import numpy as np

from voiceguide.speech_in.engines.neural.frontend import (
    EMB_DIM,
    FrontEnd,
    embedding_end_seconds,
    model_dir,
)


def test_models_come_from_the_installed_wheel():
    folder = model_dir()
    assert (folder / "melspectrogram.tflite").is_file()
    assert (folder / "embedding_model.tflite").is_file()
    assert "pyopen_wakeword" in str(folder)


def test_streaming_in_odd_chunks_equals_the_whole_clip():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(16000 * 3) * 2000).astype(np.int16)
    fe = FrontEnd()
    whole = fe.embed_clip(audio)
    fe.reset()
    got, pos = [], 0
    while pos < len(audio):
        n = int(rng.integers(1, 4000))
        got += fe.accept(audio[pos : pos + n].tobytes())
        pos += n
    assert [i for i, _ in got] == list(range(len(got)))
    streamed = np.stack([e for _, e in got])
    assert streamed.shape == (len(whole), EMB_DIM)
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


def test_one_embedding_per_80_ms_after_the_first_775_ms():
    fe = FrontEnd()
    assert fe.accept(np.zeros(12000, np.int16).tobytes()) == []
    assert len(fe.accept(np.zeros(16000 - 12000, np.int16).tobytes())) >= 1
    assert embedding_end_seconds(0) == 12512 / 16000
    assert round(embedding_end_seconds(10) - embedding_end_seconds(9), 6) == 0.08

"""The committed head: numpy inference is a pure function and matches the torch model."""

import numpy as np
import pytest

from voiceguide.speech_in.engines.neural.head import load_head, logits, predict


def test_predict_gives_probabilities_per_window():
    head = load_head()
    rng = np.random.default_rng(0)
    windows = rng.standard_normal((5, *head.input_shape)).astype(np.float32)
    p = predict(head, windows)
    assert p.shape == (5, len(head.classes))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(predict(head, windows[0]), predict(head, windows[:1]))


def test_numpy_matches_torch():
    torch = pytest.importorskip("torch")
    from training.model import DILATIONS, HeadNet

    head = load_head()
    w = head.weights
    model = HeadNet(head.frames, len(head.classes), channels=w["conv0.weight"].shape[0],
                    hidden=w["fc1.weight"].shape[0])  # fmt: skip
    state = {"mean": w["mean"], "std": w["std"]}
    for i in range(len(DILATIONS)):
        state[f"convs.{i}.weight"] = w[f"conv{i}.weight"]
        state[f"convs.{i}.bias"] = w[f"conv{i}.bias"]
    for name in ("fc1", "fc2"):
        state[f"{name}.weight"] = w[f"{name}.weight"]
        state[f"{name}.bias"] = w[f"{name}.bias"]
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    model.eval()
    x = np.random.default_rng(1).standard_normal((8, *head.input_shape)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(logits(head, x), ref, atol=1e-4, rtol=1e-5)

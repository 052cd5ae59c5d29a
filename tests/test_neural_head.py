"""The committed head: numpy inference is a pure function and matches the torch model."""

from pathlib import Path

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


def _torch_twin(torch, weights: dict, frames: int, classes: int):
    from training.model import DILATIONS, HeadNet

    model = HeadNet(frames, classes, channels=weights["conv0.weight"].shape[0],
                    hidden=weights["fc1.weight"].shape[0])  # fmt: skip
    state = {"mean": weights["mean"], "std": weights["std"]}
    for i in range(len(DILATIONS)):
        state[f"convs.{i}.weight"] = weights[f"conv{i}.weight"]
        state[f"convs.{i}.bias"] = weights[f"conv{i}.bias"]
    for name in ("fc1", "fc2"):
        state[f"{name}.weight"] = weights[f"{name}.weight"]
        state[f"{name}.bias"] = weights[f"{name}.bias"]
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model.eval()


def test_numpy_matches_torch():
    torch = pytest.importorskip("torch")
    head = load_head()
    x = np.random.default_rng(1).standard_normal((8, *head.input_shape)).astype(np.float32)
    probs = []
    for member, weights in enumerate(head.members):
        model = _torch_twin(torch, weights, head.frames, len(head.classes))
        with torch.no_grad():
            ref = model(torch.from_numpy(x))
        np.testing.assert_allclose(logits(head, x, member), ref.numpy(), atol=1e-4, rtol=1e-5)
        probs.append(torch.softmax(ref, 1).numpy())
    np.testing.assert_allclose(predict(head, x), np.mean(probs, axis=0), atol=1e-5)


def test_members_export_and_average(tmp_path: Path):
    torch = pytest.importorskip("torch")
    from training.model import HeadNet, export

    torch.manual_seed(0)
    nets = [HeadNet(16, 3, channels=8, hidden=8).eval() for _ in range(2)]
    export(nets, ("none", "pause", "stop"), tmp_path / "two.npz")
    export(nets[0], ("none", "pause", "stop"), tmp_path / "one.npz")
    two, one = load_head(tmp_path / "two.npz"), load_head(tmp_path / "one.npz")
    assert len(two.members) == 2 and len(one.members) == 1
    x = np.random.default_rng(2).standard_normal((4, 16, 96)).astype(np.float32)
    with torch.no_grad():
        ref = [torch.softmax(n(torch.from_numpy(x)), 1).numpy() for n in nets]
    np.testing.assert_allclose(predict(one, x), ref[0], atol=1e-5)
    np.testing.assert_allclose(predict(two, x), (ref[0] + ref[1]) / 2, atol=1e-5)

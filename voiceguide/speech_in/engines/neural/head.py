"""The command head: numpy inference of small 1-D conv nets over a window of embeddings.

``predict(head, windows)`` is pure: (batch, frames, 96) embeddings in, (batch, classes)
probabilities out. A head may hold several members trained from different seeds; its
probabilities are their mean. The weights are an npz exported from the torch models in
``training/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEAD_FILE = Path(__file__).resolve().parent / "head.npz"


@dataclass(frozen=True)
class Head:
    """Weights and metadata of one trained head."""

    classes: tuple[str, ...]
    frames: int  # embeddings per window
    dilations: tuple[int, ...]
    members: tuple[dict[str, np.ndarray], ...]  # one net's weights each, averaged in predict

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The first member's weights (all members have the same shapes)."""
        return self.members[0]

    @property
    def input_shape(self) -> tuple[int, int]:
        """(frames, embedding dim) of one window."""
        return (self.frames, int(self.weights["mean"].shape[-1]))


def load_head(path: Path | str = HEAD_FILE) -> Head:
    """Read a head npz (classes, frames, dilations and float32 weights, one set per member:
    keys ``m<i>.<name>`` when it has ``members``, plain ``<name>`` for a single net)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    classes = tuple(str(c) for c in arrays.pop("classes"))
    frames = int(arrays.pop("frames"))
    dilations = tuple(int(d) for d in arrays.pop("dilations"))
    count = int(arrays.pop("members", 0))
    if count:
        members = tuple(
            {k.split(".", 1)[1]: v.astype(np.float32) for k, v in arrays.items()
             if k.startswith(f"m{i}.")}
            for i in range(count)
        )  # fmt: skip
    else:
        members = ({k: v.astype(np.float32) for k, v in arrays.items()},)
    return Head(classes, frames, dilations, members)


def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """x (B, C, T), w (O, C, K) -> (B, O, T - dilation*(K-1)), valid padding."""
    k = w.shape[2]
    t_out = x.shape[2] - dilation * (k - 1)
    out = np.zeros((x.shape[0], w.shape[0], t_out), np.float32)
    for i in range(k):
        out += np.einsum("oc,bct->bot", w[:, :, i], x[:, :, i * dilation : i * dilation + t_out])
    return out + b[None, :, None]


def logits(head: Head, windows: np.ndarray, member: int = 0) -> np.ndarray:
    """One member's raw class scores of (B, frames, dim) or (frames, dim) windows."""
    x = np.asarray(windows, np.float32)
    if x.ndim == 2:
        x = x[None]
    w = head.members[member]
    x = (x - w["mean"]) / w["std"]
    h = x.transpose(0, 2, 1)
    for layer, dilation in enumerate(head.dilations):
        h = np.maximum(_conv1d(h, w[f"conv{layer}.weight"], w[f"conv{layer}.bias"], dilation), 0)
    h = h.reshape(h.shape[0], -1)
    h = np.maximum(h @ w["fc1.weight"].T + w["fc1.bias"], 0)
    return h @ w["fc2.weight"].T + w["fc2.bias"]


def predict(head: Head, windows: np.ndarray) -> np.ndarray:
    """Class probabilities of (B, frames, dim) or (frames, dim) windows: the mean of the
    members' softmax outputs."""
    return np.mean([_softmax(logits(head, windows, m)) for m in range(len(head.members))], axis=0)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

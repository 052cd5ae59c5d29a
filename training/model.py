"""The torch twin of voiceguide/speech_in/engines/neural/head.py, and its npz export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

DILATIONS = (1, 2)
# 128 channels and units: 64 gave 0.585 balanced window accuracy on the validation voices, 128
# 0.611 with the same training and 0.641 with the augmentation in train.py (training/README.md).
WIDTH = 128


class HeadNet(nn.Module):
    """Conv1d(96->C, k3) -> Conv1d(C->C, k3, dilation 2) -> flatten -> fc(C) -> classes."""

    def __init__(self, frames: int, classes: int, channels: int = WIDTH, hidden: int = WIDTH,
                 dim: int = 96, dropout: float = 0.4) -> None:  # fmt: skip
        super().__init__()
        self.frames = frames
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        convs, width, c_in = [], frames, dim
        for d in DILATIONS:
            convs.append(nn.Conv1d(c_in, channels, 3, dilation=d))
            width -= 2 * d
            c_in = channels
        self.convs = nn.ModuleList(convs)
        self.fc1 = nn.Linear(channels * width, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        self.drop = nn.Dropout(dropout)
        self.in_drop = nn.Dropout(0.25)  # feature dropout: do not lean on a few dimensions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.in_drop((x - self.mean) / self.std).transpose(1, 2)
        for conv in self.convs:
            h = torch.relu(conv(h))
        h = self.drop(h.flatten(1))
        h = self.drop(torch.relu(self.fc1(h)))
        return self.fc2(h)


def _arrays(model: HeadNet) -> dict[str, np.ndarray]:
    sd = model.state_dict()
    arrays = {"mean": sd["mean"].numpy(), "std": sd["std"].numpy()}
    for i in range(len(DILATIONS)):
        arrays[f"conv{i}.weight"] = sd[f"convs.{i}.weight"].numpy()
        arrays[f"conv{i}.bias"] = sd[f"convs.{i}.bias"].numpy()
    for name in ("fc1", "fc2"):
        arrays[f"{name}.weight"] = sd[f"{name}.weight"].numpy()
        arrays[f"{name}.bias"] = sd[f"{name}.bias"].numpy()
    return {k: v.astype(np.float32) for k, v in arrays.items()}


def export(models: HeadNet | list[HeadNet], classes: tuple[str, ...], path: Path) -> None:
    """Write the weights as float32 npz that head.py reads (no pickles); several models are
    the members of one head, their keys prefixed m0., m1., ..."""
    if isinstance(models, HeadNet):
        arrays = _arrays(models)
        frames = models.frames
    else:
        arrays = {"members": np.array(len(models))}
        for i, model in enumerate(models):
            arrays |= {f"m{i}.{k}": v for k, v in _arrays(model).items()}
        frames = models[0].frames
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:  # fixed key order: the same weights give the same bytes
        np.savez(f, classes=np.array(classes), frames=np.array(frames),
                 dilations=np.array(DILATIONS), **arrays)  # fmt: skip

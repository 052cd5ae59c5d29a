"""Turn cached scenes into labelled windows and train the head with torch on CPU."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.model import HeadNet
from voiceguide.speech_in.engines.neural.frontend import embedding_end_seconds

FRAMES = 16  # embeddings per window: 16 x 80 ms + 775 ms = 2.0 s of audio
SPAN = (FRAMES - 1) * 0.08 + 0.782
# Augmentation of the embedding windows while training, against memorising the training voices
# (validation voices, same scenes, 128 channels: balanced window accuracy 0.611 without, 0.641
# with half the windows mixed, 0.658 with 60% and feature dropout 0.25; training/README.md):
TIME_MASK_FRAMES = 4  # up to this many consecutive embeddings replaced by the mean embedding
MIX_NONE_P = 0.6  # this share of windows get a random "none" window mixed in...
MIX_NONE_MAX = 0.5  # ...with a weight drawn from 0 to this, the label kept


def load_scenes(paths: list[Path]) -> dict[str, np.ndarray]:
    """Concatenate shards: emb (N, 96) float16 plus per-scene truth and offsets."""
    parts: dict[str, list] = {
        k: [] for k in ("emb", "lengths", "cls", "start", "end", "follow", "voice", "kind")
    }
    for p in paths:
        with np.load(p) as d:
            for k in ("emb", "lengths", "cls", "start", "end", "follow", "voice"):
                parts[k].append(d[k])
            parts["kind"].append(
                np.full(len(d["lengths"]), p.name.split("-")[0].rstrip("0123456789"))
            )
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["offset"] = np.concatenate([[0], np.cumsum(out["lengths"])[:-1]])
    return out


def window_labels(n: int, cls: int, start: float, end: float, follow: float) -> np.ndarray:
    """Label of the window ending at each embedding (-1: not trained on)."""
    labels = np.full(n, -1, np.int64)
    for j in range(FRAMES - 1, n):
        w = embedding_end_seconds(j)
        if cls == 0:
            labels[j] = 0
            continue
        if w > follow + 0.15:
            labels[j] = 0
        elif w > follow:
            labels[j] = -1
        elif w < start + 0.15:
            labels[j] = 0
        elif w < end + 0.06:
            labels[j] = -1
        elif w - end <= 0.6 and w - start <= SPAN + 0.1:
            labels[j] = cls
        elif w - end > 1.0:
            labels[j] = 0
    return labels


def windows(scenes: dict[str, np.ndarray], mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts into emb, labels) of every labelled window of the chosen scenes."""
    starts, labels = [], []
    for i in np.flatnonzero(mask):
        n, off = int(scenes["lengths"][i]), int(scenes["offset"][i])
        lab = window_labels(n, int(scenes["cls"][i]), float(scenes["start"][i]), float(scenes["end"][i]),
                            float(scenes["follow"][i]))  # fmt: skip
        keep = np.flatnonzero(lab >= 0)
        starts.append(off + keep - (FRAMES - 1))
        labels.append(lab[keep])
    return np.concatenate(starts), np.concatenate(labels)


def augment(x: torch.Tensor, mean: torch.Tensor, emb: torch.Tensor, none_starts: torch.Tensor,
            idx: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Time masking and mixing in "none" windows (talk, noise, the box) for a batch of windows.

    Mixing embeddings is not mixing audio; it works as a regulariser that teaches the head to
    hear a command through features pulled towards other sounds.
    """
    n = len(x)
    length = torch.randint(0, TIME_MASK_FRAMES + 1, (n,))
    first = torch.randint(0, FRAMES, (n,))
    frame = torch.arange(FRAMES)[None, :]
    masked = (frame >= first[:, None]) & (frame < (first + length)[:, None])
    x = torch.where(masked[:, :, None], mean.expand_as(x), x)
    mixed = torch.rand(n) < MIX_NONE_P
    other = emb[none_starts[torch.randint(0, len(none_starts), (n,))][:, None] + idx]
    weight = torch.rand(n)[:, None, None] * MIX_NONE_MAX
    return torch.where(mixed[:, None, None], (1 - weight) * x + weight * other, x)


def train(scenes: dict[str, np.ndarray], train_mask: np.ndarray, classes: int, seed: int,
          epochs: int, log=print, val_mask: np.ndarray | None = None,
          threads: int = 1) -> HeadNet:  # fmt: skip
    """Train a HeadNet on the windows of the scenes in `train_mask`.

    With `val_mask`, the epoch with the best balanced window accuracy on those scenes (held-out
    voices) is kept: early stopping against memorising the training voices.
    """
    torch.manual_seed(seed)
    # One thread is faster on a busy shared machine: two torch threads wait for each other
    # whenever another job takes a core (118 s an epoch instead of ~20 s, seen here).
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    emb = torch.from_numpy(scenes["emb"].astype(np.float32))
    starts, labels = windows(scenes, train_mask)
    counts = np.bincount(labels, minlength=classes)
    log(f"training windows: {len(labels)} ({counts[0]} none, {len(labels) - counts[0]} command)")
    model = HeadNet(FRAMES, classes)
    model.mean.copy_(emb.mean(0))
    model.std.copy_(emb.std(0) + 1e-3)
    # Command classes are rarer than none; weigh them up a little, not to parity.
    weight = torch.tensor(np.where(np.arange(classes) == 0, 1.0, 2.0), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    steps = epochs * (len(labels) // 512 + 1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    idx = torch.arange(FRAMES)[None, :]
    y_all = torch.from_numpy(labels)
    s_all = torch.from_numpy(starts)
    none_starts = s_all[torch.from_numpy(np.flatnonzero(labels == 0))]
    best = (-1.0, None, 0)
    if val_mask is not None:
        v_starts, v_labels = windows(scenes, val_mask)
        v_x = emb[torch.from_numpy(v_starts)[:, None] + idx]
    for epoch in range(epochs):
        t0 = time.time()
        order = torch.from_numpy(rng.permutation(len(labels)))
        model.train()
        total = 0.0
        for k in range(0, len(order), 512):
            b = order[k : k + 512]
            x = emb[s_all[b][:, None] + idx]
            x = x + 0.05 * torch.randn_like(x) * model.std  # a little feature noise
            x = augment(x, model.mean, emb, none_starts, idx)
            loss = loss_fn(model(x), y_all[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
        note = ""
        if val_mask is not None:
            model.eval()
            with torch.no_grad():
                pred = torch.cat(
                    [model(v_x[k : k + 4096]).argmax(1) for k in range(0, len(v_x), 4096)]
                )
            pred = pred.numpy()
            recall = [
                float((pred[v_labels == c] == c).mean())
                for c in range(classes)
                if (v_labels == c).any()
            ]
            score = float(np.mean(recall))
            note = f", validation balanced accuracy {score:.3f}"
            if score > best[0]:
                best = (score, {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
        log(
            f"  epoch {epoch + 1}/{epochs}: loss {total / len(labels):.4f}{note} ({time.time() - t0:.0f} s)"
        )
    if best[1] is not None:
        model.load_state_dict(best[1])
        log(f"kept epoch {best[2]} (validation balanced accuracy {best[0]:.3f})")
    model.eval()
    return model

"""Motion recognition (task ``"recognize"``): :class:`MotionClassifier` trained with cross-entropy
on its content and style heads (windows with an unknown label, -1, do not count for that head).
The trained classifier scores generated motions (recognition accuracy, FID, diversity) and
stylised ones (style / content recognition accuracy).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from motion3d.metrics.fid import recognition_accuracy
from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.losses import LossWeights, masked_cross_entropy

__all__ = ["RecognitionTask", "RecognitionWeights", "TASK_NAME"]

TASK_NAME = "recognize"


@dataclass
class RecognitionWeights(LossWeights):
    """Weights of the content and the style cross-entropy."""

    content: float = 1.0
    style: float = 1.0


class RecognitionTask(MotionTask):
    """Content and style recognition.

    Args:
        net: :class:`MotionClassifier` (``forward(x) -> {"content", "style"}`` logits, ``features(x)``).
        weights: :class:`RecognitionWeights` of the two cross-entropies.
        label_smoothing: cross-entropy label smoothing.
        crop: random temporal crops in training, as a fraction of the window (1: none); the
            classifier pools over time, so it then accepts any length.
        Others: see :class:`MotionTask`.
    """

    task_name = TASK_NAME
    weights_type = RecognitionWeights

    def __init__(self, net: NetFactory, weights: RecognitionWeights | None = None, label_smoothing: float = 0.1,
                 crop: float = 0.75, lr: float = 1e-3, weight_decay: float = 1e-4, warmup_steps: int = 50,
                 min_lr_ratio: float = 0.05, video_every_n_epochs: int = 0, video_samples: int = 4):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                         min_lr_ratio=min_lr_ratio, video_every_n_epochs=video_every_n_epochs,
                         video_samples=video_samples)
        if not 0.0 < crop <= 1.0:
            raise ValueError(f"crop must be in (0, 1], got {crop}")

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        n = max(2, int(round(T * self.hparams.crop)))
        if n >= T:
            return x
        start = int(torch.randint(0, T - n + 1, ()).item())
        return x[:, start:start + n]

    def _step(self, batch, split: str) -> torch.Tensor:
        x = batch["x"]
        if split == "train":
            x = self._crop(x)
        logits = self.net(x)
        hp = self.hparams
        losses = {}
        total = x.new_zeros(())
        for kind, w in (("content", self.weights.content), ("style", self.weights.style)):
            if kind not in logits or kind not in batch:
                continue
            ce = masked_cross_entropy(logits[kind], batch[kind], hp.label_smoothing if split == "train" else 0.0)
            losses[f"ce_{kind}"] = ce
            total = total + w * ce
            acc = recognition_accuracy(logits[kind].detach(), batch[kind])
            if acc == acc:  # not NaN
                losses[f"accuracy_{kind}"] = torch.tensor(acc)
        losses["loss"] = total
        self.log_losses(split, losses, x.shape[0])
        return total

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

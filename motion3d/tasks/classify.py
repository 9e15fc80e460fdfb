"""Shape classification task (LightningModule) around any ``motion3d.models.points`` network, and
its evaluation procedure (registered as task ``"classify"`` for ``tools/evaluate.py``).

Training: cross-entropy with label smoothing + the model's own regulariser, AdamW (or SGD), linear
warm-up then cosine decay over the whole run. Validation logs ``val/oa`` (overall accuracy, the
checkpoint-selection metric), ``val/macc`` and the confusion matrix as a TensorBoard image.
Test / evaluation optionally averages softmax scores over ``vote`` randomly scaled copies.

Checkpoints carry ``checkpoint["motion3d"] = {"task": "classify", "model": {class_path, init_args},
"class_names": [...], "data": {...}, "vote": int}`` in plain values, so ``evaluate.py`` needs nothing
else and ``torch.load(weights_only=True)`` works.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lightning as L

from motion3d.metrics.classification import confusion_matrix, mean_class_accuracy, overall_accuracy
from motion3d.points.augment import scale as rand_scale
from motion3d.tasks.checkpoint import META_KEY
from motion3d.tasks.schedule import TracksRunProgress, optimizer_with_schedule

__all__ = ["ClassificationTask", "predict_proba", "plot_confusion", "TASK_NAME"]

TASK_NAME = "classify"


class ClassificationTask(TracksRunProgress, L.LightningModule):
    """Point-cloud classification.

    Args:
        model: a ``PointClassifier`` (points ``(B, N, C)`` -> logits ``(B, K)``), from the config.
        lr, weight_decay, optimizer ("adamw" | "sgd"), momentum: the optimiser.
        warmup_steps: linear warm-up; then cosine decay to ``lr * min_lr_ratio`` at the last step.
        label_smoothing: cross-entropy label smoothing.
        vote: test-time voting (softmax averaged over ``vote`` randomly scaled copies; 1 = off).
        class_names: names of the K classes (taken from the datamodule when it has them).
    """

    def __init__(self, model: nn.Module, lr: float = 1e-3, weight_decay: float = 1e-4, optimizer: str = "adamw",
                 momentum: float = 0.9, warmup_steps: int = 100, min_lr_ratio: float = 0.01,
                 label_smoothing: float = 0.1, vote: int = 1, class_names: list[str] | None = None):
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        self.class_names = list(class_names) if class_names else []
        self.num_classes = int(getattr(model, "num_classes", len(self.class_names)))
        self._cm: torch.Tensor | None = None

    # ---------------------------------------------------------------------------------- set-up
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        names = list(getattr(dm, "class_names", []) or [])
        if dm is not None and not names and hasattr(dm, "num_classes"):
            dm.num_classes  # noqa: B018 (fills dm.class_names)
            names = list(dm.class_names)
        if names:
            if len(names) != self.num_classes:
                raise ValueError(f"the data has {len(names)} classes {names} but the model predicts "
                                 f"{self.num_classes}: set model.init_args.model.init_args.num_classes")
            self.class_names = names

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """points ``(B, N, C)`` -> logits ``(B, K)``."""
        return self.model(points)

    # ---------------------------------------------------------------------------------- steps
    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        points, labels = batch
        if hasattr(self.model, "forward_train"):
            logits, reg = self.model.forward_train(points)
        else:
            logits, reg = self.model(points), points.new_zeros(())
        ce = F.cross_entropy(logits, labels, label_smoothing=self.hparams.label_smoothing)
        loss = ce + reg
        acc = (logits.argmax(-1) == labels).float().mean()
        self.log_dict({"train/loss": loss, "train/ce": ce, "train/reg": reg, "train/acc": acc},
                      on_step=True, on_epoch=False, prog_bar=False, batch_size=len(labels))
        self.log("train/acc_epoch", acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(labels))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._cm = torch.zeros(self.num_classes, self.num_classes, dtype=torch.long)

    def validation_step(self, batch, batch_idx: int) -> None:
        points, labels = batch
        logits = self.model(points)
        loss = F.cross_entropy(logits, labels)
        self.log("val/loss", loss, on_epoch=True, batch_size=len(labels))
        self._cm += confusion_matrix(logits.argmax(-1).cpu(), labels.cpu(), self.num_classes)

    def on_validation_epoch_end(self) -> None:
        self._log_cm("val")

    def on_test_epoch_start(self) -> None:
        self._cm = torch.zeros(self.num_classes, self.num_classes, dtype=torch.long)

    def test_step(self, batch, batch_idx: int) -> None:
        points, labels = batch
        probs = predict_proba(self.model, points, self.hparams.vote)
        self._cm += confusion_matrix(probs.argmax(-1).cpu(), labels.cpu(), self.num_classes)

    def on_test_epoch_end(self) -> None:
        self._log_cm("test")

    def _log_cm(self, split: str) -> None:
        cm = self._cm
        self.log_dict({f"{split}/oa": overall_accuracy(cm), f"{split}/macc": mean_class_accuracy(cm)},
                      prog_bar=True)
        logger = self.logger
        if logger is not None and hasattr(getattr(logger, "experiment", None), "add_figure") \
                and not self.trainer.sanity_checking:
            fig = plot_confusion(cm.numpy(), self.class_names or [str(i) for i in range(self.num_classes)],
                                 title=f"{split} confusion (epoch {self.current_epoch})")
            logger.experiment.add_figure(f"{split}/confusion", fig, global_step=self.global_step)

    # ---------------------------------------------------------------------------------- optimiser
    def configure_optimizers(self):
        hp = self.hparams
        return optimizer_with_schedule(self, self.model.parameters(), hp.lr, hp.weight_decay, hp.warmup_steps,
                                       hp.min_lr_ratio, name=hp.optimizer, momentum=hp.momentum)

    # ---------------------------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        data = dm.describe() if hasattr(dm, "describe") else {}
        checkpoint[META_KEY] = {"task": TASK_NAME, "model": getattr(self.model, "config", None),
                                "class_names": list(self.class_names), "data": data,
                                "vote": int(self.hparams.vote)}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        meta = checkpoint.get(META_KEY) or {}
        if meta.get("class_names"):
            self.class_names = list(meta["class_names"])


@torch.no_grad()
def predict_proba(model: nn.Module, points: torch.Tensor, vote: int = 1, seed: int = 0,
                  scale: tuple[float, float] = (0.8, 1.25)) -> torch.Tensor:
    """Class probabilities ``(B, K)`` for points ``(B, N, C)``, averaged over ``vote`` copies
    (the first unchanged, the others with a seeded random anisotropic scale)."""
    probs = model(points).softmax(-1)
    if vote > 1:
        g = torch.Generator().manual_seed(seed)
        for _ in range(vote - 1):
            probs += model(rand_scale(points.cpu(), *scale, generator=g).to(points.device)).softmax(-1)
        probs /= vote
    return probs


def plot_confusion(cm: np.ndarray, names: Sequence[str], path: str | Path | None = None, title: str = "",
                   normalize: bool = True):
    """Confusion-matrix heat map (rows true, columns predicted; row-normalised with counts written).

    Returns the matplotlib figure, or writes it to ``path`` (PNG) and returns the path.
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    k = len(names)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(4.0, 0.45 * k + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(k), names, rotation=90, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

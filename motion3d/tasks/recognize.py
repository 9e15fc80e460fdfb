"""Motion recognition (task ``"recognize"``): :class:`MotionClassifier` trained with cross-entropy
on its content and style heads (windows with an unknown label, -1, do not count for that head).
The trained classifier scores generated motions (recognition accuracy, FID, diversity) and
stylised ones (style / content recognition accuracy).
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from motion3d.metrics.fid import recognition_accuracy
from motion3d.tasks.common import MotionTask, NetFactory
from motion3d.tasks.evaluation import register

__all__ = ["RecognitionTask", "evaluate_recognition"]

TASK_NAME = "recognize"


def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy over the known labels (``>= 0``); 0 (with gradient) when none is known."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known].float(), labels[known], label_smoothing=smoothing)


class RecognitionTask(MotionTask):
    """Content and style recognition.

    Args:
        net: :class:`MotionClassifier` (``forward(x) -> {"content", "style"}`` logits, ``features(x)``).
        content_weight, style_weight: weights of the two cross-entropies.
        label_smoothing: cross-entropy label smoothing.
        crop: random temporal crops in training, as a fraction of the window (1: none); the
            classifier pools over time, so it then accepts any length.
        Others: see :class:`MotionTask` (the reconstruction weights are unused).
    """

    task_name = TASK_NAME

    def __init__(self, net: NetFactory, content_weight: float = 1.0, style_weight: float = 1.0,
                 label_smoothing: float = 0.1, crop: float = 0.75, lr: float = 1e-3, weight_decay: float = 1e-4,
                 warmup_steps: int = 50, min_lr_ratio: float = 0.05, video_every_n_epochs: int = 0,
                 video_samples: int = 4):
        super().__init__(net, lr, weight_decay, warmup_steps, min_lr_ratio, "l1", 0.0, 0.0, 0.0,
                         video_every_n_epochs, video_samples)
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
        for kind, w in (("content", hp.content_weight), ("style", hp.style_weight)):
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


# ---------------------------------------------------------------------------------------------
# evaluation (tools/evaluate.py)
# ---------------------------------------------------------------------------------------------
def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from motion3d.tasks.predict import add_data_arguments

    add_data_arguments(parser.add_argument_group("recognition"))


@register(TASK_NAME, add_arguments=_add_arguments)
def evaluate_recognition(checkpoint: dict, args: argparse.Namespace) -> dict:
    """Print content and style accuracy (overall and per label) on the split's windows."""
    from motion3d.metrics.classification import confusion_matrix, mean_class_accuracy, overall_accuracy
    from motion3d.tasks.common import load_motion_checkpoint
    from motion3d.tasks.generate import classifier_outputs
    from motion3d.tasks.motion_data import evaluation_windows, stack_windows

    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    window = int(ctx.window or 60)
    batches, source = evaluation_windows(meta, ctx, args, window)
    data = stack_windows(batches)
    if not data:
        raise ValueError(f"no windows of {window} frames in {source}")
    _, logits = classifier_outputs(net, data["x"].to(args.device))
    print(f"checkpoint task: {TASK_NAME}   model: {type(net).__name__}   data: {source}   windows: {data['x'].shape[0]}")
    result: dict = {"task": TASK_NAME, "source": source, "windows": int(data["x"].shape[0])}
    for kind, lg in logits.items():
        y = data[kind]
        known = y >= 0
        if not bool(known.any()):
            print(f"{kind}: no labelled windows")
            continue
        names = ctx.label_names[kind]
        cm = confusion_matrix(lg.argmax(-1)[known], y[known], len(names))
        oa, macc = overall_accuracy(cm), mean_class_accuracy(cm)
        print(f"{kind:8s} accuracy {100 * oa:6.2f} %   mean per-class {100 * macc:6.2f} %   ({int(known.sum())} windows)")
        result[kind] = {"accuracy": float(oa), "mean_class_accuracy": float(macc), "confusion": cm.tolist(),
                        "labels": names}
    return result

"""Classification metrics (pure torch): confusion matrix, overall / mean-class / per-class accuracy."""
from __future__ import annotations

import torch


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(C, C)`` int64 counts, rows = true class, columns = predicted. pred, target: ``(S,)`` ints."""
    pred, target = torch.as_tensor(pred).long().flatten(), torch.as_tensor(target).long().flatten()
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    return torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes) \
        .reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """``(C,)`` recall of each class from a confusion matrix; NaN for classes with no samples."""
    cm = cm.double()
    support = cm.sum(dim=1)
    return torch.where(support > 0, cm.diagonal() / support.clamp_min(1), torch.full_like(support, float("nan")))


def overall_accuracy(cm: torch.Tensor) -> float:
    """Fraction of correct predictions (OA)."""
    total = cm.sum()
    return float(cm.diagonal().sum() / total) if total > 0 else float("nan")


def mean_class_accuracy(cm: torch.Tensor) -> float:
    """Mean of per-class accuracies over the classes present (mAcc)."""
    acc = per_class_accuracy(cm)
    acc = acc[~torch.isnan(acc)]
    return float(acc.mean()) if len(acc) else float("nan")


__all__ = ["confusion_matrix", "per_class_accuracy", "overall_accuracy", "mean_class_accuracy"]

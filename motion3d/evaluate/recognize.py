"""Evaluation of ``recognize`` checkpoints: content and style accuracy, overall and per label."""
from __future__ import annotations

from motion3d.evaluate.data import DATA_OPTIONS, evaluation_windows, stack_windows
from motion3d.evaluate.generate import classifier_outputs
from motion3d.evaluate.registry import register
from motion3d.metrics.classification import confusion_matrix, mean_class_accuracy, overall_accuracy
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.recognize import TASK_NAME

__all__ = ["evaluate_recognition", "OPTIONS"]


OPTIONS = (
    *DATA_OPTIONS,
)


@register(TASK_NAME, options=OPTIONS)
def evaluate_recognition(checkpoint: dict, args) -> dict:
    """Print content and style accuracy (overall and per label) on the split's windows."""
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

"""Evaluation of ``classify`` checkpoints (point clouds): overall accuracy, mean class accuracy and
a per-class table on the test folders (or the checkpoint's validation split), with test-time voting;
writes ``confusion.png`` and ``metrics.json``."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from motion3d.data.pointclouds import default_cache_dir, list_split, load_folder, stratified_split
from motion3d.evaluate.registry import Option, register
from motion3d.metrics.classification import confusion_matrix, mean_class_accuracy, overall_accuracy, per_class_accuracy
from motion3d.paths import resolve_data_path
from motion3d.tasks.checkpoint import META_KEY, CheckpointError, build_network, load_state
from motion3d.tasks.classify import TASK_NAME, plot_confusion, predict_proba

__all__ = ["evaluate_classify", "load_model", "OPTIONS"]


def load_model(checkpoint: dict, path: str | Path = "<checkpoint>") -> tuple[nn.Module, list[str]]:
    """Rebuild the network of a classification checkpoint, in eval mode. Returns (model, class_names)."""
    meta = checkpoint.get(META_KEY)
    if not isinstance(meta, dict) or not meta.get("model"):
        raise CheckpointError(f"{path}: checkpoint has no model config (motion3d.model)")
    model = load_state(build_network(meta["model"], path), checkpoint.get("state_dict", {}), "model.", path)
    return model.eval(), [str(n) for n in meta.get("class_names", [])]


OPTIONS = (
    Option("--data", help="ModelNet-style folder (default: the checkpoint's training folder)"),
    Option("--split", choices=["auto", "test", "val", "train", "all"], default="auto", help="auto = test when <class>/test exists, else the checkpoint's validation split"),
    Option("--num-points", type=int, help="points per shape (default: as trained)"),
    Option("--vote", type=int, help="test-time votes (default: the checkpoint's)"),
    Option("--batch-size", type=int, default=32),
    Option("--device", default="cpu", help="torch device of the model (cpu, cuda, cuda:1, ...)"),
    Option("--out", help="folder for confusion.png and metrics.json (default: beside the checkpoint)"),
    Option("--cache-dir", help="preprocessing cache folder"),
)


@register(TASK_NAME, options=OPTIONS)
def evaluate_classify(checkpoint: dict, args) -> dict:
    """Print OA, mAcc and a per-class table on a folder; write confusion.png and metrics.json."""
    model, names = load_model(checkpoint)
    device = torch.device(getattr(args, "device", "cpu"))
    model = model.to(device)
    meta = checkpoint[META_KEY]
    data_meta = meta.get("data", {})
    root = resolve_data_path(args.data or data_meta.get("root") or "data:pointclouds/modelnet10")
    n = args.num_points or int(data_meta.get("num_points", 1024))
    normals = bool(data_meta.get("normals", False))
    vote = args.vote if args.vote is not None else int(meta.get("vote", 1))

    folder_classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    unknown = [c for c in folder_classes if c not in names]
    if unknown:
        raise ValueError(f"{root}: classes {unknown} are not among the checkpoint's {names}")
    split = args.split
    if split == "auto":
        split = "test" if any((root / c / "test").is_dir() for c in folder_classes) else "val"
    if split in ("val", "train", "all"):
        files, labels, _ = list_split(root, "train", names)
        if split != "all":
            tr, va = stratified_split(labels, float(data_meta.get("val_fraction", 0.1)), int(data_meta.get("seed", 0)))
            keep = va if split == "val" else tr
            files, labels = [files[i] for i in keep], [labels[i] for i in keep]
    else:
        files, labels, _ = list_split(root, "test", names)
    if not files:
        raise FileNotFoundError(f"no shapes for split {split!r} under {root}")
    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    points = torch.from_numpy(load_folder(files, n, normals, cache))
    target = torch.as_tensor(labels)
    preds = []
    for i in range(0, len(points), args.batch_size):
        preds.append(predict_proba(model, points[i:i + args.batch_size].to(device), vote).argmax(-1).cpu())
    pred = torch.cat(preds)
    cm = confusion_matrix(pred, target, len(names))
    oa, macc, per = overall_accuracy(cm), mean_class_accuracy(cm), per_class_accuracy(cm)

    print(f"checkpoint task: {TASK_NAME}   data: {root}   split: {split}   shapes: {len(files)}   "
          f"points: {n}   votes: {vote}")
    print(f"OA   {100 * oa:6.2f} %")
    print(f"mAcc {100 * macc:6.2f} %")
    width = max(len(s) for s in names + ["class"])
    print(f"{'class':<{width}}  support  correct  accuracy")
    support = cm.sum(1)
    for i, name in enumerate(names):
        acc = "      -" if support[i] == 0 else f"{100 * float(per[i]):6.2f}%"
        print(f"{name:<{width}}  {int(support[i]):7d}  {int(cm[i, i]):7d}  {acc}")

    out = Path(args.out) if args.out else Path(args.ckpt).with_suffix("").parent / f"{Path(args.ckpt).stem}_eval_{split}"
    out.mkdir(parents=True, exist_ok=True)
    png = plot_confusion(cm.numpy(), names, out / "confusion.png", title=f"{root.name} {split}: OA {100 * oa:.1f}%")
    metrics = {"task": TASK_NAME, "data": str(root), "split": split, "shapes": len(files), "oa": oa, "macc": macc,
               "per_class": {nm: (None if support[i] == 0 else float(per[i])) for i, nm in enumerate(names)},
               "confusion": cm.tolist(), "votes": vote, "num_points": n}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {png} and {out / 'metrics.json'}")
    return metrics


"""Evaluation of ``retarget`` checkpoints: naive copy, analytic and learned retargeting on the
held-out files of both domains (:func:`motion3d.tasks.retarget_clips.compare_methods`)."""
from __future__ import annotations

import numpy as np

from motion3d.evaluate.registry import Option, register
from motion3d.io.registry import load_motion
from motion3d.models.retarget import DOMAINS
from motion3d.tasks.checkpoint import CheckpointError, build_datamodule
from motion3d.tasks.retarget import TASK_NAME, load_retarget_checkpoint
from motion3d.tasks.retarget_clips import LearnedRetargeter, compare_methods

__all__ = ["evaluate_retarget", "OPTIONS"]


OPTIONS = (
    Option("--split", default="val", choices=("train", "val", "test"), help="the files of this split of each domain's data (as in training)"),
    Option("--max-frames", type=int, default=600, help="frames per clip (from the start)"),
    Option("--device", default="cpu"),
)


@register(TASK_NAME, options=OPTIONS)
def evaluate_retarget(checkpoint: dict, args) -> dict:
    """Naive vs analytic vs learned on the files of ``args.split`` of both domains (the training
    split, rebuilt from the checkpoint's data configs): :func:`compare_methods` rows, mean over
    clips; returns ``{row: {method: mean}}``."""
    net, contexts, meta = load_retarget_checkpoint(checkpoint, args.device)
    learned = LearnedRetargeter(net, contexts, args.device)
    rows: dict[str, dict[str, list[float]]] = {}
    for k in DOMAINS:
        config = (meta.get("data") or {}).get(k)
        if not config:
            raise CheckpointError(f"the checkpoint has no data config of domain {k}; evaluate with "
                                  "tools/evaluate_retarget.py --ckpt instead")
        dm = build_datamodule(config)
        dm.setup("test")
        files = dm.files(args.split)
        print(f"domain {k}: {len(files)} {args.split} files")
        for path in files:
            m = load_motion(path)[:args.max_frames]
            for row, values in compare_methods(learned, m).items():
                for c, v in values.items():
                    rows.setdefault(row, {}).setdefault(c, []).append(v)
    cols = ("source", "naive", "analytic", "learned")
    means = {row: {c: float(np.mean(v)) for c, v in r.items()} for row, r in rows.items()}
    w = max((len(r) for r in means), default=10)
    print(f"{'measure (mean over clips)':<{w}}" + "".join(f"  {c:>10}" for c in cols))
    for row, r in means.items():
        print(f"{row:<{w}}" + "".join(f"  {r[c]:10.3g}" if c in r else f"  {'-':>10}" for c in cols))
    return means

"""Evaluation of ``stylize`` checkpoints (Aberman et al. 2020): style and content recognition
accuracy of the transferred clips (SRA, CRA), a Frechet distance to real clips of the target style,
and foot skate against the content's, beside the identity (content unchanged) baseline."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from motion3d.evaluate.data import DATA_OPTIONS, evaluation_datamodule, relabel
from motion3d.evaluate.generate import generation_metrics
from motion3d.evaluate.registry import Option, register
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.stylize import TASK_NAME, stylize_features
from motion3d.tasks.stylize_clips import plant_features

__all__ = ["evaluate_stylize", "OPTIONS"]


OPTIONS = (
    *DATA_OPTIONS,
    Option("--classifier", help="a 'recognize' checkpoint (default: the one named in the style config)"),
    Option("--style-source", choices=["label", "clip"], default="label", help="style codes from the label embedding, or from a real clip of the target style"),
    Option("--strength", type=float, default=1.0, help="style strength in [0, 1]: interpolate from the content's own style code (0) to the target's (1)"),
    Option("--plant-feet", action="store_true", help="also score the outputs after the IK foot clean-up of tools/stylize.py (row 'model + IK feet')"),
)


def center_windows(clips: list[np.ndarray], window: int) -> torch.Tensor:
    """The middle ``window`` frames of each clip ``(T_i, D)`` (all ``T_i >= window``): ``(N, window, D)``."""
    out = [c[(c.shape[0] - window) // 2:(c.shape[0] - window) // 2 + window] for c in clips]
    return torch.from_numpy(np.stack(out)).float()


def all_windows(clips: list[np.ndarray], window: int, stride: int) -> tuple[torch.Tensor, np.ndarray]:
    """Every ``window``-frame window (``stride`` apart) of the clips: ``(W, window, D)`` and the clip of each."""
    wins, owner = [], []
    for i, c in enumerate(clips):
        for s in range(0, c.shape[0] - window + 1, stride):
            wins.append(c[s:s + window])
            owner.append(i)
    return torch.from_numpy(np.stack(wins)).float(), np.asarray(owner)


@torch.no_grad()
def _transfer_all(net, ctx: MotionContext, x: torch.Tensor, codes: torch.Tensor, root: str, batch: int,
                  device, strength: float = 1.0) -> torch.Tensor:
    out = [stylize_features(net, ctx, x[i:i + batch].to(device), codes[i:i + batch].to(device), root,
                            strength).cpu()
           for i in range(0, x.shape[0], batch)]
    return torch.cat(out)


def _row(name: str, m: Mapping[str, float], width: int = 12) -> str:
    keys = ("sra", "cra", "fmd", "foot_skate", "skate_ratio")
    return name.ljust(22) + "".join(f"{m.get(k, float('nan')):>{width}.3f}" for k in keys)


@register(TASK_NAME, options=OPTIONS)
def evaluate_stylize(checkpoint: dict, args) -> dict:
    """Transfer every labelled clip of the split (its middle window) to every other style present
    there; print identity (output = content clip) vs the model, overall and per target style:
    SRA, CRA, Frechet motion distance to real windows of the target style (classifier features),
    foot skate and its ratio to the content clips'."""
    net, ctx, meta = load_motion_checkpoint(checkpoint, TASK_NAME, args.device)
    hp = meta.get("hparams", {})
    root = hp.get("root", "content")
    window = int(ctx.window or 64)
    clf_path = args.classifier or hp.get("classifier")
    if not clf_path:
        raise ValueError("style transfer evaluation needs a recognition classifier: pass --classifier CKPT "
                         "(train one with configs/motion/classifier.yaml)")
    classifier, clf_ctx, _ = load_motion_checkpoint(clf_path, "recognize", args.device)
    why = clf_ctx.describe_difference(ctx.to_meta(), labels=False)
    if why is not None:
        raise ContextMismatch(f"the classifier {clf_path} was trained on other data than the style model: {why}")

    dm, split, source = evaluation_datamodule(meta, ctx, getattr(args, "data", None), window, args.batch_size,
                                              getattr(args, "split", "test"))
    raw = dm.clip_features(split, normalized=False)
    ids = {k: relabel(torch.from_numpy(v), dm.label_names[k], ctx.label_names[k])
           for k, v in dm.clip_labels(split).items()}
    keep = [i for i in range(len(raw)) if ids["style"][i] >= 0 and ids["content"][i] >= 0]
    if args.limit:
        keep = keep[: int(args.limit)]
    if len(keep) < 2:
        raise ValueError(f"fewer than two clips with known content and style labels in {source}")
    clips = [ctx.normalizer.normalize(raw[i].astype(np.float64)).astype(np.float32) for i in keep]
    content_id, style_id = ids["content"][keep], ids["style"][keep]
    x = center_windows(clips, window)  # (N, W, D)
    real, owner = all_windows(clips, window, max(1, window // 4))
    real_feats = generation_metrics(ctx, real, {}, classifier, clf_ctx)["_features"]
    to_clf = {k: (ctx.label_names[k], clf_ctx.label_names[k]) for k in ("content", "style")}

    styles = sorted(set(style_id.tolist()))
    g = torch.Generator().manual_seed(0)
    per_style: dict[str, dict] = {}
    totals: dict[str, list] = {}
    for t in styles:
        sel = torch.nonzero(style_id != t).flatten()
        if not len(sel):
            continue
        content = x[sel]
        t_ids = torch.full((len(sel),), t, dtype=torch.long)
        if args.style_source == "label":
            codes = net.embed_style(t_ids.to(args.device)).cpu()
        else:
            pool = torch.nonzero(style_id == t).flatten()
            pick = pool[torch.randint(0, len(pool), (len(sel),), generator=g)]
            codes = torch.cat([net.encode_style(x[pick[i:i + args.batch_size]].to(args.device)).cpu()
                               for i in range(0, len(pick), args.batch_size)])
        out = _transfer_all(net, ctx, content, codes, root, args.batch_size, args.device,
                            getattr(args, "strength", 1.0))
        labels = {"content": relabel(content_id[sel], *to_clf["content"]), "style": relabel(t_ids, *to_clf["style"])}
        ref = real_feats[torch.from_numpy(np.isin(owner, torch.nonzero(style_id == t).flatten().numpy()))]
        ref = ref.numpy() if ref.shape[0] >= 2 else None
        variants = [("identity", content), ("model", out)]
        if getattr(args, "plant_feet", False):
            variants.append(("model + IK feet", plant_features(ctx, content, out)))
        row = {}
        for name, clips_ in variants:
            m = generation_metrics(ctx, clips_, labels, classifier, clf_ctx, ref)
            row[name] = {"sra": m["accuracy_style"], "cra": m["accuracy_content"], "fmd": m.get("fid", float("nan")),
                         "foot_skate": m["foot_skate"], "n": int(len(sel))}
        for name in row:
            row[name]["skate_ratio"] = row[name]["foot_skate"] / max(row["identity"]["foot_skate"], 1e-12)
            totals.setdefault(name, []).append(row[name])
        per_style[ctx.label_names["style"][t]] = row

    def overall(rows: list[dict]) -> dict:
        n = np.array([r["n"] for r in rows], dtype=np.float64)
        avg = {k: float((n * np.array([r[k] for r in rows])).sum() / n.sum()) for k in ("sra", "cra", "foot_skate")}
        avg["fmd"] = float(np.nanmean([r["fmd"] for r in rows])) if any(np.isfinite(r["fmd"]) for r in rows) else float("nan")
        avg["n"] = int(n.sum())
        return avg

    result = {name: overall(rows) for name, rows in totals.items()}
    for name in result:
        result[name]["skate_ratio"] = result[name]["foot_skate"] / max(result["identity"]["foot_skate"], 1e-12)

    print(f"checkpoint task: {TASK_NAME}   model: {type(net).__name__}   data: {source}   clips: {len(keep)} "
          f"(middle {window} frames)   target styles: {len(per_style)}   transfers: {result['model']['n']}   "
          f"style codes: {args.style_source}   strength: {getattr(args, 'strength', 1.0):g}   root: {root}   classifier: {clf_path}")
    head = "".ljust(22) + "".join(f"{k:>12}" for k in ("SRA", "CRA", "FMD", "foot skate", "skate ratio"))
    print(head)
    for name in result:
        print(_row("identity (content)" if name == "identity" else name, result[name]))
    last = list(result)[-1]
    print(f"\nper target style: identity / {last}")
    print("style".ljust(16) + f"{'n':>5}" + "".join(f"{k:>18}" for k in ("SRA", "CRA", "FMD", "skate ratio")))
    for name, row in per_style.items():
        i, m = row["identity"], row[last]
        cells = [(i["sra"], m["sra"]), (i["cra"], m["cra"]), (i["fmd"], m["fmd"]), (i["skate_ratio"], m["skate_ratio"])]
        print(name.ljust(16) + f"{m['n']:>5}" + "".join(f"{a:>9.3f}/{b:<8.3f}" for a, b in cells))
    print("SRA: the classifier's style = the requested style; CRA: its content = the content clip's; FMD: Frechet "
          "distance of classifier features to real windows of the target style; foot skate in body heights/s.")
    return {"task": TASK_NAME, "source": source, "clips": len(keep), "classifier": clf_path, "root": root,
            "style_source": args.style_source, "overall": result, "per_style": per_style}

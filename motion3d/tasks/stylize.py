"""Motion style transfer (task ``"stylize"``) with :class:`motion3d.models.style.StyleTransferNet`,
after Aberman et al. 2020, trained on unpaired labelled clips.

Each training step takes a batch of windows ``x`` with style labels ``s`` and pairs every clip with
another one of the batch as the style example ``y`` (style ``t``). The style code comes from the
style encoder of the example clip or from the style label's embedding (a coin flip per clip, so
either can supply it). Generator losses:

* reconstruction: ``x`` decoded from its own content and style code (features of every clip; global
  joint positions and predicted-contact consistency, :meth:`MotionTask.reconstruction_losses`, on
  the first ``decode_clips`` clips);
* content consistency: the content code of the output equals that of ``x``; style consistency:
  the style code of the output equals the requested one; cycle: the output given back ``x``'s own
  style code decodes to ``x`` (features);
* alignment: the style encoder's code of ``x`` is near the embedding of its label;
* adversarial: the multi-style discriminator takes the output for a real clip of style ``t``
  (hinge loss); the discriminator is trained in the same step (manual optimisation);
* foot contacts: the output's feet do not slide where the content clip's feet are planted
  (the representation's contact channels of ``x``, positions through the differentiable decoder),
  and/or (``foot_contacts``) where the output's own feet are on its floor, the frames that the
  foot-skate metric scores.

The root trajectory channels are copied from the content clip (``root="content"``, default) or
predicted (``root="predict"``). Evaluation (``tools/evaluate.py``): :func:`evaluate_stylize`.
"""
from __future__ import annotations

import argparse
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from motion3d.metrics.motion import CONTACT_HEIGHT
from motion3d.tasks.common import MotionContext, MotionTask, NetFactory, feature_loss, foot_slide_loss
from motion3d.tasks.evaluation import register

__all__ = ["StyleTransferTask", "stylize_features", "keep_content_root", "evaluate_stylize",
           "style_code", "ROOT_MODES"]

TASK_NAME = "stylize"
ROOT_MODES = ("content", "predict")
FOOT_CONTACTS = ("content", "output", "both")
_TRAJECTORY = ("root_height", "root_velocity", "root_angular_velocity")


# ---------------------------------------------------------------------------------------------
# pieces shared by training, evaluation and tools/stylize.py
# ---------------------------------------------------------------------------------------------
def keep_content_root(ctx: MotionContext, out: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``out (B, T, D)`` with the root trajectory channels of ``content (B, T, D)``."""
    idx = [i for name in _TRAJECTORY if name in ctx.representation.layout for i in range(*ctx.representation.layout[name])]
    if not idx:
        return out
    mask = torch.zeros(out.shape[-1], dtype=torch.bool, device=out.device)
    mask[idx] = True
    return torch.where(mask, content.to(out.dtype), out)


def stylize_features(net, ctx: MotionContext, content: torch.Tensor, code: torch.Tensor,
                     root: str = "content", strength: float = 1.0) -> torch.Tensor:
    """Normalised content clips ``(B, T, D)`` performed with style codes ``(B, S)``: ``(B, T, D)``.

    ``strength`` in [0, 1] interpolates the style code from the content clip's own (its style
    encoder code, 0: the content's style) to the requested one (1): the content-style trade-off of
    AdaIN's interpolation (Huang and Belongie 2017), applied to the code that drives AdaIN here.
    """
    if root not in ROOT_MODES:
        raise ValueError(f"root must be one of {ROOT_MODES}, got {root!r}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"style strength must be in [0, 1], got {strength}")
    if float(strength) != 1.0:
        own = net.encode_style(content)
        code = own + float(strength) * (code.to(own.dtype) - own)
    out = net(content, code)
    return keep_content_root(ctx, out, content) if root == "content" else out


def style_code(net, ctx: MotionContext, label: str | None = None, clip: torch.Tensor | None = None) -> torch.Tensor:
    """Style code ``(1, S)`` of a style label name or of a normalised example clip ``(T, D)``."""
    device = next(net.parameters()).device
    if (label is None) == (clip is None):
        raise ValueError("give exactly one of a style label or a style clip")
    if label is not None:
        names = ctx.label_names["style"]
        if label not in names:
            raise ValueError(f"unknown style label {label!r}; the checkpoint knows: {names}")
        return net.embed_style(torch.tensor([names.index(label)], device=device))
    return net.encode_style(clip.float().unsqueeze(0).to(device))


# ---------------------------------------------------------------------------------------------
# the LightningModule
# ---------------------------------------------------------------------------------------------
class StyleTransferTask(MotionTask):
    """Train :class:`StyleTransferNet` (see the module docstring for the losses).

    Args:
        net: :class:`StyleTransferNet` (or its class with arguments, from a config).
        root: ``"content"`` (copy the content clip's root trajectory) or ``"predict"``.
        content_weight, style_weight, cycle_weight, align_weight, adversarial_weight,
            foot_weight: loss weights (reconstruction: ``feature_weight``, ``position_weight``,
            ``contact_weight`` of :class:`MotionTask`).
        foot_contacts: where the foot-slide loss applies: ``"content"`` (the content clip's
            contacts), ``"output"`` (the output's own feet on its floor) or ``"both"``.
        label_code_prob: probability of taking a clip's style code from its label embedding
            rather than from the style encoder.
        lr, disc_lr, betas: AdamW of the generator and of the discriminator.
        grad_clip: gradient norm clipping of both (0: none).
        decode_clips: the joint-position losses (reconstruction positions and contacts, foot
            slide) use the first this many clips of each batch (forward kinematics is the costly
            part of a step on CPU; 0: all); feature losses use every clip.
        classifier: path of a ``recognize`` checkpoint used by default by ``tools/evaluate.py``.
        video_every_n_epochs, video_samples: TensorBoard videos content | style | output.
    """

    task_name = TASK_NAME

    def __init__(self, net: NetFactory, root: str = "content", content_weight: float = 1.0,
                 style_weight: float = 1.0, cycle_weight: float = 1.0, align_weight: float = 0.1,
                 adversarial_weight: float = 0.5, foot_weight: float = 0.5, foot_contacts: str = "content",
                 label_code_prob: float = 0.5,
                 lr: float = 5e-4, disc_lr: float = 5e-4, betas: tuple[float, float] = (0.5, 0.999),
                 weight_decay: float = 1e-4, grad_clip: float = 1.0, loss: str = "l1", feature_weight: float = 1.0,
                 position_weight: float = 1.0, contact_weight: float = 0.1, decode_clips: int = 8,
                 classifier: str | None = None,
                 video_every_n_epochs: int = 5, video_samples: int = 3):
        super().__init__(net, lr, weight_decay, 0, 1.0, loss, feature_weight, position_weight, contact_weight,
                         video_every_n_epochs, video_samples)
        if root not in ROOT_MODES:
            raise ValueError(f"root must be one of {ROOT_MODES}, got {root!r}")
        if foot_contacts not in FOOT_CONTACTS:
            raise ValueError(f"foot_contacts must be one of {FOOT_CONTACTS}, got {foot_contacts!r}")
        if not 0.0 <= label_code_prob <= 1.0:
            raise ValueError(f"label_code_prob must be in [0, 1], got {label_code_prob}")
        self.automatic_optimization = False
        self._video_batch: torch.Tensor | None = None

    # ------------------------------------------------------------------ losses
    def _mix_codes(self, enc: torch.Tensor, style: torch.Tensor, use_label: torch.Tensor) -> torch.Tensor:
        """Style codes ``(B, S)``: the label's embedding where ``use_label`` (and the label is
        known), else the style encoder's code ``enc (B, S)``."""
        emb = self.net.embed_style(style.clamp(min=0))
        return torch.where((use_label & (style >= 0)).unsqueeze(-1), emb, enc)

    def generator_losses(self, batch: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict]:
        """Losses ``{"loss", ...}`` of the generator on a batch, and the tensors the
        discriminator step needs (``out``, target styles ``t``, content ``x``, style ``s``)."""
        hp, ctx, net = self.hparams, self._require(), self.net
        x = batch["x"]
        B = x.shape[0]
        s = batch.get("style", torch.full((B,), -1, dtype=torch.long, device=x.device)).long()
        perm = torch.roll(torch.arange(B, device=x.device), 1) if B > 1 else torch.arange(B, device=x.device)
        y, t = x[perm], s[perm]  # the style examples: other clips of the batch
        coin = torch.rand(2, B, device=x.device) < hp.label_code_prob
        enc_x = net.encode_style(x)
        code_x = self._mix_codes(enc_x, s, coin[0])
        code_t = self._mix_codes(enc_x[perm], t, coin[1])

        c = net.encode_content(x)
        rec = net.decode(c, code_x, x.shape[1])
        k = min(B, int(hp.decode_clips)) if hp.decode_clips > 0 else B  # clips decoded to joints
        losses = {f"rec_{name}": v for name, v in self.reconstruction_losses(rec[:k], x[:k]).items()}
        losses["rec_feature_all"] = feature_loss(rec, x, hp.loss)
        out = net.decode(c, code_t, x.shape[1])
        if hp.root == "content":
            out = keep_content_root(ctx, out, x)
        c_out = net.encode_content(out)
        losses["content"] = F.l1_loss(c_out, c.detach())
        losses["style"] = F.l1_loss(net.encode_style(out), code_t.detach())
        if hp.cycle_weight > 0:
            back = net.decode(c_out, code_x, x.shape[1])
            losses["cycle"] = F.l1_loss(back, x)
        else:
            losses["cycle"] = x.new_zeros(())
        known = s >= 0
        losses["align"] = F.mse_loss(enc_x[known], net.embed_style(s[known])) if known.any() else x.new_zeros(())
        known_t = t >= 0
        losses["adversarial"] = (-net.discriminator(out[known_t], t[known_t]).mean() if known_t.any()
                                 else x.new_zeros(()))
        contacts = ctx.contacts(x) if hp.foot_contacts in ("content", "both") else None
        own = CONTACT_HEIGHT if hp.foot_contacts in ("output", "both") else None
        losses["foot"] = foot_slide_loss(ctx, out[:k], None if contacts is None else contacts[:k], own)
        losses["loss"] = (losses["rec_loss"] + hp.feature_weight * losses["rec_feature_all"] + hp.content_weight * losses["content"] + hp.style_weight * losses["style"]
                          + hp.cycle_weight * losses["cycle"] + hp.align_weight * losses["align"]
                          + hp.adversarial_weight * losses["adversarial"] + hp.foot_weight * losses["foot"])
        return losses, {"x": x, "s": s, "out": out, "t": t, "y": y}

    def discriminator_loss(self, x: torch.Tensor, s: torch.Tensor, fake: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Hinge loss of the multi-style discriminator: real clips ``x`` of styles ``s`` vs
        outputs ``fake`` asked to be of styles ``t`` (unknown styles, -1, do not count)."""
        disc = self.net.discriminator
        loss = x.new_zeros(())
        if (s >= 0).any():
            loss = loss + F.relu(1.0 - disc(x[s >= 0], s[s >= 0])).mean()
        if (t >= 0).any():
            loss = loss + F.relu(1.0 + disc(fake[t >= 0].detach(), t[t >= 0])).mean()
        return loss

    # ------------------------------------------------------------------ steps
    def training_step(self, batch, batch_idx: int) -> None:
        hp = self.hparams
        opt_g, opt_d = self.optimizers()
        # generator
        losses, parts = self.generator_losses(batch)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(losses["loss"])
        if hp.grad_clip > 0:
            self.clip_gradients(opt_g, gradient_clip_val=hp.grad_clip, gradient_clip_algorithm="norm")
        opt_g.step()
        # discriminator, on the same outputs
        d_loss = self.discriminator_loss(parts["x"], parts["s"], parts["out"], parts["t"])
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        if hp.grad_clip > 0:
            self.clip_gradients(opt_d, gradient_clip_val=hp.grad_clip, gradient_clip_algorithm="norm")
        opt_d.step()
        losses["discriminator"] = d_loss.detach()
        self.log_losses("train", losses, batch["x"].shape[0])

    def validation_step(self, batch, batch_idx: int) -> None:
        losses, parts = self.generator_losses(batch)
        losses["discriminator"] = self.discriminator_loss(parts["x"], parts["s"], parts["out"], parts["t"])
        if batch_idx == 0:
            self._video_batch = batch["x"][: int(self.hparams.video_samples) + 1].detach()
        # val/loss (best checkpoint): the reconstruction terms, comparable across epochs
        total = losses["loss"]
        losses["generator"], losses["loss"] = total, losses["rec_loss"]
        self.log_losses("val", losses, batch["x"].shape[0])

    # ------------------------------------------------------------------ video: content | style | output
    def video_triplets(self) -> torch.Tensor | None:
        """Normalised ``(N, 3, T, D)``: content clip, style clip, output (style from the clip)."""
        x = self._video_batch
        if x is None or x.shape[0] < 2:
            return None
        n = x.shape[0] - 1
        content, style = x[:n], x[1:n + 1]
        out = stylize_features(self.net, self.context, content, self.net.encode_style(style), self.hparams.root)
        return torch.stack([content, style, out], dim=1)

    def on_validation_epoch_end(self) -> None:
        n = int(self.hparams.video_every_n_epochs)
        if n <= 0 or self.trainer.sanity_checking or not self.trainer.is_global_zero or self.current_epoch % n:
            return
        writer = getattr(self.logger, "experiment", None) if self.logger is not None else None
        if writer is None or not hasattr(writer, "_get_file_writer"):
            return
        from motion3d.render.tensorboard import clips_video, log_video

        with torch.no_grad():
            trip = self.video_triplets()
            if trip is None:
                return
            N, _, T, D = trip.shape
            pos = self.context.decode_positions(trip.reshape(3 * N, T, D)).cpu().numpy()
        video = clips_video(pos, parents=self.context.skeleton.parents, fps=self.context.fps, max_frames=90)
        _, F_, C, H, W = video.shape
        # one row per sample: content | style | output; rows stacked vertically
        grid = video.reshape(N, 3, F_, C, H, W).transpose(2, 3, 0, 4, 1, 5).reshape(1, F_, C, N * H, 3 * W)
        log_video(writer, f"samples/{self.task_name}", grid, self.global_step, self.context.fps)

    # ------------------------------------------------------------------ optimisers
    def configure_optimizers(self):
        hp = self.hparams
        betas = tuple(float(b) for b in hp.betas)
        opt_g = torch.optim.AdamW(self.net.generator_parameters(), lr=hp.lr, betas=betas, weight_decay=hp.weight_decay)
        opt_d = torch.optim.AdamW(self.net.discriminator_parameters(), lr=hp.disc_lr, betas=betas,
                                  weight_decay=hp.weight_decay)
        return [opt_g, opt_d]


# ---------------------------------------------------------------------------------------------
# evaluation (tools/evaluate.py)
# ---------------------------------------------------------------------------------------------
def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from motion3d.tasks.predict import add_data_arguments

    g = parser.add_argument_group("style transfer")
    add_data_arguments(g)
    g.add_argument("--classifier", help="a 'recognize' checkpoint (default: the one named in the style config)")
    g.add_argument("--style-source", choices=["label", "clip"], default="label",
                   help="style codes from the label embedding, or from a real clip of the target style")
    g.add_argument("--strength", type=float, default=1.0,
                   help="style strength in [0, 1]: interpolate from the content's own style code (0) to the target's (1)")
    g.add_argument("--plant-feet", action="store_true",
                   help="also score the outputs after the IK foot clean-up of tools/stylize.py (row 'model + IK feet')")


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


@register(TASK_NAME, add_arguments=_add_arguments)
def evaluate_stylize(checkpoint: dict, args: argparse.Namespace) -> dict:
    """Transfer every labelled clip of the split (its middle window) to every other style present
    there; print identity (output = content clip) vs the model, overall and per target style:
    SRA, CRA, Frechet motion distance to real windows of the target style (classifier features),
    foot skate and its ratio to the content clips'."""
    from motion3d.tasks.common import ContextMismatch, load_motion_checkpoint
    from motion3d.tasks.generate import generation_metrics
    from motion3d.tasks.motion_data import evaluation_datamodule, relabel

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
            from motion3d.tasks.stylize_clips import plant_features

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

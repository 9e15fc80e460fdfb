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
predicted (``root="predict"``). Evaluation (``tools/evaluate.py``): :func:`motion3d.evaluate.stylize.evaluate_stylize`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn.functional as F

from motion3d.metrics.motion import CONTACT_HEIGHT
from motion3d.render.tensorboard import clips_video, log_video
from motion3d.tasks.adversarial import hinge_fake, hinge_real, manual_step
from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.context import MotionContext
from motion3d.tasks.losses import ReconstructionWeights, feature_loss, foot_slide_loss
from motion3d.tasks.schedule import make_optimizer

__all__ = ["StyleTransferTask", "stylize_features", "keep_content_root", "TASK_NAME", "StyleWeights",
           "style_code", "ROOT_MODES"]

TASK_NAME = "stylize"
ROOT_MODES = ("content", "predict")


@dataclass
class StyleWeights(ReconstructionWeights):
    """:class:`ReconstructionWeights` of the reconstruction, plus the style-transfer terms.

    Attributes:
        content: the output's content code equals the content clip's.
        style: the output's style code equals the requested one.
        cycle: the output given back the content clip's style code decodes to it (one more decoder
            pass per step when > 0).
        align: the style encoder's code of a clip is near its label's embedding.
        adversarial: the multi-style discriminator takes the output for a real clip of its style.
        foot: the output's feet do not slide (see ``foot_contacts``).
    """

    content: float = 1.0
    style: float = 1.0
    cycle: float = 1.0
    align: float = 0.1
    adversarial: float = 0.5
    foot: float = 0.5
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
        weights: :class:`StyleWeights` (reconstruction, content, style, cycle, alignment,
            adversarial and foot-slide terms).
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
    weights_type = StyleWeights

    def __init__(self, net: NetFactory, root: str = "content", weights: StyleWeights | None = None,
                 foot_contacts: str = "content", label_code_prob: float = 0.5,
                 lr: float = 5e-4, disc_lr: float = 5e-4, betas: tuple[float, float] = (0.5, 0.999),
                 weight_decay: float = 1e-4, grad_clip: float = 1.0, loss: str = "l1", decode_clips: int = 8,
                 classifier: str | None = None,
                 video_every_n_epochs: int = 5, video_samples: int = 3):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=0, min_lr_ratio=1.0,
                         loss=loss, video_every_n_epochs=video_every_n_epochs, video_samples=video_samples)
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
        w = self.weights
        if w.cycle > 0:
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
        losses["loss"] = (losses["rec_loss"] + w.feature * losses["rec_feature_all"] + w.content * losses["content"]
                          + w.style * losses["style"] + w.cycle * losses["cycle"] + w.align * losses["align"]
                          + w.adversarial * losses["adversarial"] + w.foot * losses["foot"])
        return losses, {"x": x, "s": s, "out": out, "t": t, "y": y}

    def discriminator_loss(self, x: torch.Tensor, s: torch.Tensor, fake: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Hinge loss of the multi-style discriminator: real clips ``x`` of styles ``s`` vs
        outputs ``fake`` asked to be of styles ``t`` (unknown styles, -1, do not count)."""
        disc = self.net.discriminator
        loss = x.new_zeros(())
        if (s >= 0).any():
            loss = loss + hinge_real(disc(x[s >= 0], s[s >= 0]))
        if (t >= 0).any():
            loss = loss + hinge_fake(disc(fake[t >= 0].detach(), t[t >= 0]))
        return loss

    # ------------------------------------------------------------------ steps
    def training_step(self, batch, batch_idx: int) -> None:
        hp = self.hparams
        opt_g, opt_d = self.optimizers()
        # generator
        losses, parts = self.generator_losses(batch)
        manual_step(self, opt_g, losses["loss"], hp.grad_clip)
        # discriminator, on the same outputs
        d_loss = self.discriminator_loss(parts["x"], parts["s"], parts["out"], parts["t"])
        manual_step(self, opt_d, d_loss, hp.grad_clip)
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
        opt_g = make_optimizer(self.net.generator_parameters(), lr=hp.lr, betas=betas, weight_decay=hp.weight_decay,
                               decay_vectors=True)
        opt_d = make_optimizer(self.net.discriminator_parameters(), lr=hp.disc_lr, betas=betas,
                               weight_decay=hp.weight_decay, decay_vectors=True)
        return [opt_g, opt_d]

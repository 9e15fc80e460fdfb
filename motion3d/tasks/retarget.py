"""Learned retargeting (task ``"retarget"``) between two skeleton domains with
:class:`motion3d.models.retarget.RetargetNet` (Aberman et al. 2020), trained UNPAIRED on a
:class:`motion3d.data.paired.PairedDomainDataModule` (batches ``{"a": {"x": (B, T, D_a)}, "b": ...}``).

Per step and domain ``k`` (the other one ``o``):

* bone-length augmentation: every clip gets a uniform scale ``s`` of its skeleton (offsets, root
  height and root speed; rotations and contacts are unchanged by construction);
* reconstruction: ``decode_k(encode_k(x), s * offsets_k)`` against ``x`` (features, and global
  joint positions in body heights through the representation's differentiable decoder);
* latent consistency: ``y = decode_o(encode_k(x))`` (another random scale of ``o``) is encoded
  back by ``encode_o`` to the same latent;
* end effectors: velocities of hands, feet and head (roles of :mod:`motion3d.retarget`), each
  divided by its limb's rest length, agree between ``x`` and ``y``;
* adversarial (``adversarial=True``, default off): a discriminator per domain tells real windows
  of ``o`` from ``y`` (hinge loss; trained in the same step).

The checkpoint carries both skeletons, representations and normalisers (``checkpoint["motion3d"]``
with ``"contexts": {"a": MotionContext.to_meta(), "b": ...}``); :func:`load_retarget_checkpoint`
rebuilds everything from it alone. ``tools/evaluate.py --ckpt X`` runs :func:`motion3d.evaluate.retarget.evaluate_retarget` on
the held-out files of both domains; ``tools/evaluate_retarget.py --ckpt X`` adds the learned
column to the table of naive and analytic retargeting.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

import lightning as L

from motion3d.models.retarget import DOMAINS, SkeletonDiscriminator
from motion3d.retarget.evaluate import effector_limbs
from motion3d.tasks.adversarial import hinge_fake, hinge_real, manual_step
from motion3d.tasks.checkpoint import (META_KEY, CheckpointError, build_network, datamodule_config, load_checkpoint,
                                       load_state, plain_hparams, task_meta)
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.losses import LossWeights, feature_loss
from motion3d.tasks.schedule import TracksRunProgress, make_optimizer, warmup_cosine_lr

__all__ = ["RetargetTask", "RetargetNetFactory", "load_retarget_checkpoint", "scale_trajectory", "RetargetWeights",
           "TASK_NAME"]

TASK_NAME = "retarget"
#: a network, or a callable building one from ``(skeleton_a, features_a, skeleton_b, features_b)``
#: (skeletons as ``Skeleton.to_dict()``, features as channel names)
RetargetNetFactory = Callable[[dict, list, dict, list], nn.Module]
_SCALED = ("root_height", "root_velocity")  # trajectory channels in file units


def scale_trajectory(ctx: MotionContext, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Normalised features ``(B, T, D)`` of the same motion on the skeleton scaled by ``scale (B,)``:
    root height and root velocity (file units) times ``scale``, all else unchanged."""
    rep = ctx.representation
    idx = [i for name in _SCALED if name in rep.layout for i in range(*rep.layout[name])]
    mean = torch.as_tensor(ctx.normalizer.mean[idx], dtype=x.dtype, device=x.device)
    std = torch.as_tensor(ctx.normalizer.std[idx], dtype=x.dtype, device=x.device)
    s = scale.to(x.dtype).reshape(-1, 1, 1)
    out = x.clone()
    out[..., idx] = ((x[..., idx] * std + mean) * s - mean) / std
    return out


@dataclass
class RetargetWeights(LossWeights):
    """Weights of the retargeting losses.

    Attributes:
        feature: reconstruction of each domain's features (autoencoding).
        position: joint positions of the reconstructions through FK.
        latent: the shared latent of a clip and of its retargeted version agree (cycle).
        effector: end-effector velocities per limb length agree across domains.
        adversarial: the domain discriminators take the retargeted clips for real ones (with
            ``adversarial=True``).
    """

    feature: float = 1.0
    position: float = 1.0
    latent: float = 1.0
    effector: float = 1.0
    adversarial: float = 0.1


class RetargetTask(TracksRunProgress, L.LightningModule):
    """Train a two-domain :class:`RetargetNet` (see the module docstring for the losses).

    Args:
        net: the network, or (from a config) its class with arguments, completed in ``setup()``
            with the two domains' skeletons and feature names; ``None`` only when loading a
            checkpoint (``RetargetTask.load_from_checkpoint(path)`` rebuilds it from its config).
        lr, weight_decay, warmup_steps, min_lr_ratio, disc_lr, grad_clip: AdamW with warm-up and
            cosine decay (generator), AdamW (discriminators), gradient norm clipping (0: none).
        loss: ``"l1"``, ``"mse"`` or ``"smooth_l1"``.
        weights: :class:`RetargetWeights` of the loss terms.
        adversarial: train discriminators (off by default).
        scale_range: ``(low, high)`` of the uniform bone-length augmentation.
        decode_clips: clips per batch and domain whose joint positions are computed (forward
            kinematics is the costly part on CPU; 0: all).
        disc_channels: widths of the discriminators' levels.
    """

    task_name = TASK_NAME

    def __init__(self, net: RetargetNetFactory | None = None, lr: float = 1e-3, weight_decay: float = 1e-4,
                 warmup_steps: int = 50, min_lr_ratio: float = 0.05, disc_lr: float = 1e-4, grad_clip: float = 1.0,
                 loss: str = "l1", weights: RetargetWeights | None = None, adversarial: bool = False, scale_range: tuple[float, float] = (0.8, 1.2), decode_clips: int = 8,
                 disc_channels: tuple[int, int] = (16, 32)):
        super().__init__()
        self.weights = RetargetWeights.of(weights)
        self.save_hyperparameters(ignore=["net", "weights"])
        self.hparams["weights"] = self.weights.to_dict()  # plain values: checkpoints load with weights_only
        if not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f"scale_range must be 0 < low <= high, got {scale_range}")
        self._net_factory: RetargetNetFactory | None = None
        if isinstance(net, nn.Module):
            self.net = net
        elif net is None or callable(net):
            self.net, self._net_factory = None, net
        else:
            raise TypeError(f"net must be an nn.Module or a callable building one, got {type(net).__name__}")
        self.disc: nn.ModuleDict | None = None
        self.contexts: dict[str, MotionContext] = {}
        self.automatic_optimization = False

    # ------------------------------------------------------------------ data and network
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        domains = getattr(dm, "domains", None)
        if domains is not None:
            self.attach({k: MotionContext.from_datamodule(domains[k]) for k in DOMAINS})
        elif not self.contexts:
            raise RuntimeError("RetargetTask needs a PairedDomainDataModule (batches {'a': ..., 'b': ...}) or attach()")

    def attach(self, contexts: Mapping[str, MotionContext]) -> None:
        """Use the data contexts of both domains: build the network (and discriminators) if needed
        and check that they fit; a clear error names the domain that differs."""
        for k in DOMAINS:
            if k in self.contexts:
                why = self.contexts[k].describe_difference(contexts[k].to_meta())
                if why is not None:
                    raise ContextMismatch(f"domain {k}: the task was set up on other data: {why}")
        self.contexts = dict(contexts)
        if self.net is None:
            if self._net_factory is None:
                raise RuntimeError("RetargetTask has no network: give net (class_path + init_args in the config), "
                                   "or load a 'retarget' checkpoint, which rebuilds it")
            ctx_a, ctx_b = self.contexts["a"], self.contexts["b"]
            self.net = self._net_factory(ctx_a.skeleton.to_dict(), list(ctx_a.representation.names),
                                         ctx_b.skeleton.to_dict(), list(ctx_b.representation.names))
        for k in DOMAINS:
            dom, ctx = self.net.domain(k), self.contexts[k]
            if dom.layout.dim != ctx.dim or not dom.skeleton.same_topology(ctx.skeleton):
                raise ContextMismatch(f"domain {k}: the network was built for {dom.layout.dim} channels on "
                                      f"{dom.skeleton.num_joints} joints, the data has {ctx.dim} on "
                                      f"{ctx.skeleton.num_joints}")
            if ctx.window is not None and ctx.window % self.net.factor:
                raise ContextMismatch(f"domain {k}: window {ctx.window} is not a multiple of {self.net.factor}")
        if self.hparams.adversarial and self.disc is None:
            self.disc = nn.ModuleDict({k: SkeletonDiscriminator(self.net.domain(k).layout, self.hparams.disc_channels)
                                       for k in DOMAINS})
        self._limbs = {k: effector_limbs(self.contexts[k].skeleton) for k in DOMAINS}

    def _require(self) -> None:
        if self.net is None or not self.contexts:
            raise RuntimeError("RetargetTask is not set up: call trainer.fit with a datamodule or attach()")

    # ------------------------------------------------------------------ losses
    def _scales(self, n: int, device) -> torch.Tensor:
        lo, hi = self.hparams.scale_range
        return lo + (hi - lo) * torch.rand(n, device=device)

    def _positions(self, k: str, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Joint positions ``(B, T, J, 3)`` in units of domain ``k``'s rest skeleton of features
        ``x`` of its skeleton scaled by ``scale (B,)`` (the motion divided by the scale)."""
        ctx = self.contexts[k]
        return ctx.decode_positions(scale_trajectory(ctx, x, 1.0 / scale))

    def _effector_velocity(self, k: str, pos: torch.Tensor, common: list[str]) -> torch.Tensor:
        """``(B, T-1, E, 3)`` velocities (per frame) of the effectors ``common`` divided by limb lengths."""
        limbs = self._limbs[k]
        idx = [limbs[e][0] for e in common]
        length = torch.as_tensor([limbs[e][2] for e in common], dtype=pos.dtype, device=pos.device)
        p = pos[..., idx, :]
        return (p[:, 1:] - p[:, :-1]) / length[:, None]

    def losses(self, batch: Mapping[str, Mapping[str, torch.Tensor]]) -> tuple[dict[str, torch.Tensor], dict]:
        """Generator losses ``{"loss", ...}`` and the retargeted windows ``{o: y}`` per target domain."""
        self._require()
        hp, net = self.hparams, self.net
        out: dict[str, torch.Tensor] = {}
        fakes: dict[str, torch.Tensor] = {}
        total = 0.0
        for k, o in (("a", "b"), ("b", "a")):
            x = batch[k]["x"]
            B = x.shape[0]
            n = min(B, int(hp.decode_clips)) if hp.decode_clips > 0 else B
            s_k, s_o = self._scales(B, x.device), self._scales(B, x.device)
            x_aug = scale_trajectory(self.contexts[k], x, s_k)
            z = net.encode(k, x_aug)
            dom_k, dom_o = net.domain(k), net.domain(o)
            rec = net.decode(k, z, dom_k.offsets * s_k[:, None, None])
            out[f"{k}/feature"] = feature_loss(rec, x_aug, hp.loss)
            h = float(self.contexts[k].skeleton.height())
            p_rec = self._positions(k, rec[:n], s_k[:n]) / h
            with torch.no_grad():
                p_src = self._positions(k, x_aug[:n], s_k[:n])
            out[f"{k}/position"] = feature_loss(p_rec, p_src / h, hp.loss)
            # across domains
            y = net.decode(o, z, dom_o.offsets * s_o[:, None, None])
            fakes[o] = y
            out[f"{k}/latent"] = F.l1_loss(net.encode(o, y), z)
            common = [e for e in self._limbs[k] if e in self._limbs[o]]
            if common and x.shape[1] > 1:
                v_src = self._effector_velocity(k, p_src, common)
                v_out = self._effector_velocity(o, self._positions(o, y[:n], s_o[:n]), common)
                out[f"{k}/effector"] = feature_loss(v_out, v_src, hp.loss) * self.contexts[k].fps
            else:
                out[f"{k}/effector"] = x.new_zeros(())
            if self.disc is not None:
                out[f"{k}/adversarial"] = -self.disc[o](y).mean()
            w = self.weights
            total = total + (w.feature * out[f"{k}/feature"] + w.position * out[f"{k}/position"]
                             + w.latent * out[f"{k}/latent"] + w.effector * out[f"{k}/effector"]
                             + (w.adversarial * out[f"{k}/adversarial"] if self.disc is not None else 0.0))
        out["loss"] = total
        return out, fakes

    def discriminator_loss(self, batch, fakes: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Hinge loss of both discriminators: real windows of each domain vs retargeted ones."""
        loss = 0.0
        for k in DOMAINS:
            real, fake = self.disc[k](batch[k]["x"]), self.disc[k](fakes[k].detach())
            loss = loss + hinge_real(real) + hinge_fake(fake)
        return loss

    # ------------------------------------------------------------------ steps
    def _log(self, split: str, losses: Mapping[str, torch.Tensor], batch_size: int) -> None:
        on_step = split == "train"
        self.log_dict({f"{split}/{k}": v.detach() for k, v in losses.items()}, on_step=on_step, on_epoch=not on_step,
                      batch_size=batch_size)
        self.log(f"{split}_loss", losses["loss"].detach(), on_step=on_step, on_epoch=not on_step, prog_bar=True,
                 batch_size=batch_size, logger=False)

    def training_step(self, batch, batch_idx: int) -> None:
        hp = self.hparams
        opts = self.optimizers()
        opt_g = opts[0] if isinstance(opts, (list, tuple)) else opts
        losses, fakes = self.losses(batch)
        manual_step(self, opt_g, losses["loss"], hp.grad_clip)
        if self.disc is not None:
            d_loss = self.discriminator_loss(batch, fakes)
            manual_step(self, opts[1], d_loss)
            losses["discriminator"] = d_loss
        sched = self.lr_schedulers()
        if sched is not None:
            sched.step()
        self._log("train", losses, batch["a"]["x"].shape[0])

    def validation_step(self, batch, batch_idx: int) -> None:
        losses, _ = self.losses(batch)
        self._log("val", losses, batch["a"]["x"].shape[0])

    def test_step(self, batch, batch_idx: int) -> None:
        losses, _ = self.losses(batch)
        self._log("test", losses, batch["a"]["x"].shape[0])

    def configure_optimizers(self):
        hp = self.hparams
        opt = make_optimizer(self.net.parameters(), lr=hp.lr, weight_decay=hp.weight_decay, decay_vectors=True)
        sched = warmup_cosine_lr(opt, self, hp.warmup_steps, hp.min_lr_ratio)
        if self.disc is None:
            return [opt], [sched]
        # the discriminators: AdamW's default weight decay (0.01) on every parameter, as tuned
        disc_opt = make_optimizer(self.disc.parameters(), lr=hp.disc_lr, betas=(0.5, 0.999), weight_decay=0.01,
                                  decay_vectors=True)
        return [opt, disc_opt], [sched]

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        self._require()
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        domains = getattr(dm, "domains", None) or {}
        checkpoint[META_KEY] = {
            "task": self.task_name, "net": self.net.config,
            "contexts": {k: self.contexts[k].to_meta() for k in DOMAINS},
            "data": {k: datamodule_config(domains.get(k)) for k in DOMAINS},
            "hparams": plain_hparams(self.hparams),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        meta = task_meta(checkpoint, self.task_name)
        if self.net is None:
            self.net = build_network(meta["net"])
        self.attach({k: MotionContext.from_meta(meta["contexts"][k]) for k in DOMAINS})


def load_retarget_checkpoint(checkpoint: str | Path | Mapping, device: str | torch.device = "cpu"
                             ) -> tuple[nn.Module, dict[str, MotionContext], dict]:
    """``(RetargetNet in eval mode, {"a": context, "b": context}, metadata)`` from a ``retarget``
    checkpoint (a path, loaded with ``weights_only=True``, or its dict)."""
    path = checkpoint if isinstance(checkpoint, (str, Path)) else "<checkpoint>"
    ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
    meta = ckpt.get(META_KEY)
    if not isinstance(meta, dict) or meta.get("task") != TASK_NAME:
        found = meta.get("task") if isinstance(meta, dict) else None
        raise ContextMismatch(f"{path}: expected a '{TASK_NAME}' checkpoint (tools/train.py with configs/retarget/), "
                              f"got task {found!r}")
    net = load_state(build_network(meta.get("net"), path), ckpt.get("state_dict", {}), "net.", path)
    try:
        contexts = {k: MotionContext.from_meta(meta["contexts"][k]) for k in DOMAINS}
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: the checkpoint's domain contexts are incomplete or invalid: {e}") from None
    return net.to(device).eval(), contexts, meta

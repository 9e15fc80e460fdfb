"""What the motion tasks share: the data context a network is trained in, the losses through the
representation's differentiable decoder, checkpoint metadata, video logging and the optimiser.

A :class:`MotionContext` is the skeleton, feature representation, normalisation statistics, label
names and frame rate of the data. Tasks take it from the datamodule in ``setup()`` (the
:class:`MocapDataModule` contract: ``representation``, ``normalizer``, ``label_names``, ``fps``,
``window``) and store it in every checkpoint as plain lists and dicts::

    checkpoint["motion3d"] = {"task": "predict" | "generate" | "recognize",
                              "net": {"class_path", "init_args"},      # rebuilds the network
                              "context": MotionContext.to_meta(),       # = datamodule.metadata(): skeleton,
                                                                        # features, stats, labels, fps, window
                              "data": {"class_path", "init_args"} | None,   # the datamodule's config
                              "hparams": {...}}                          # the task's own arguments

so ``torch.load(weights_only=True)`` works and sampling or evaluation needs nothing else. Loading a
checkpoint against data with another skeleton, feature layout or label set raises an error that
says which.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

import lightning as L

from motion3d.features import MotionRepresentation, Normalizer, from_dict
from motion3d.metrics.motion import floor_contacts
from motion3d.models.config import plain
from motion3d.models.motion.blocks import build_net
from motion3d.skeleton import Skeleton
from motion3d.tasks.schedule import TracksRunProgress, warmup_cosine_lr
from motion3d.tasks.evaluation import META_KEY, load_checkpoint

__all__ = ["MotionContext", "MotionTask", "NetFactory", "load_motion_checkpoint", "labels_of", "position_losses",
           "foot_slide_loss", "feature_loss", "ContextMismatch", "random_labels", "skeleton_difference",
           "layout_difference"]

#: a network, or a callable building one from ``(input_dim, num_content, num_style)`` (a class with
#: its other arguments bound, as jsonargparse gives for ``class_path`` + ``init_args`` in a config)
NetFactory = Callable[[int, int, int], nn.Module]


class ContextMismatch(ValueError):
    """A checkpoint or network does not fit the data (skeleton, feature layout, labels, dims)."""


@dataclass
class MotionContext:
    """The data a motion network lives in.

    Attributes:
        representation: the feature representation (``dim`` = D, ``decode_positions``).
        normalizer: per-channel statistics; networks see normalised features.
        label_names: ``{"content": [...], "style": [...]}`` (index = label id).
        fps: frames per second of the features.
        window: training window length in frames (``None`` if unknown).
    """

    representation: MotionRepresentation
    normalizer: Normalizer
    label_names: dict[str, list[str]] = field(default_factory=dict)
    fps: float = 30.0
    window: int | None = None

    def __post_init__(self):
        self.label_names = {k: list(self.label_names.get(k, []) or []) for k in ("content", "style")}
        if self.normalizer.dim != self.representation.dim:
            raise ContextMismatch(f"normaliser has {self.normalizer.dim} channels but the representation "
                                  f"{self.representation} has {self.representation.dim}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_datamodule(cls, dm) -> "MotionContext":
        """From a datamodule after ``setup()`` (``representation``, ``normalizer``, ``label_names``, ``fps``)."""
        missing = [a for a in ("representation", "normalizer") if getattr(dm, a, None) is None]
        if missing:
            raise AttributeError(f"{type(dm).__name__} has no {missing} after setup(); motion tasks need a "
                                 "datamodule following the MocapDataModule contract")
        rep = dm.representation
        fps = getattr(dm, "fps", None) or rep.fps or 30.0
        return cls(rep, dm.normalizer, dict(getattr(dm, "label_names", {}) or {}), float(fps),
                   getattr(dm, "window", None))

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> "MotionContext":
        return cls(from_dict(meta["representation"]), Normalizer.from_dict(meta["normalizer"]),
                   {k: list(v) for k, v in meta.get("label_names", {}).items()}, float(meta["fps"]),
                   meta.get("window"))

    def to_meta(self) -> dict:
        """Plain lists and dicts (``weights_only`` safe)."""
        return {"skeleton": self.skeleton.to_dict(), "representation": self.representation.to_dict(),
                "normalizer": self.normalizer.to_dict(), "label_names": {k: list(v) for k, v in self.label_names.items()},
                "fps": float(self.fps), "window": None if self.window is None else int(self.window)}

    # ------------------------------------------------------------------ properties
    @property
    def skeleton(self) -> Skeleton:
        return self.representation.skeleton

    @property
    def dim(self) -> int:
        return self.representation.dim

    def num_labels(self, kind: str) -> int:
        return len(self.label_names.get(kind, []))

    def describe_difference(self, meta: Mapping[str, Any], labels: bool = True) -> str | None:
        """Why the context stored in ``meta`` (:meth:`to_meta`) differs from this one, or ``None``."""
        why = skeleton_difference(self.skeleton, Skeleton.from_dict(meta["skeleton"]))
        if why is not None:
            return f"skeleton differs: {why}"
        why = layout_difference(self.representation, meta["representation"])
        if why is not None:
            return f"feature layout differs: {why}"
        if labels:
            for kind in ("content", "style"):
                theirs = list(meta.get("label_names", {}).get(kind, []))
                if theirs != self.label_names[kind]:
                    return f"{kind} label names differ: {theirs} vs {self.label_names[kind]}"
        return None

    # ------------------------------------------------------------------ decoding
    def decode_positions(self, x: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """Global joint positions ``(..., T, J, 3)`` (float32) of NORMALISED features ``(..., T, D)``.

        ``previous``: ``(..., 1, D)`` normalised frame before ``x``, so that the trajectory of
        ``x``'s first frame is integrated too (the decoder ignores the first frame's velocity);
        decoding starts at the origin. Differentiable; autocast is switched off (bf16 FK drifts).
        """
        device_type = x.device.type
        with torch.autocast(device_type, enabled=False) if device_type in ("cuda", "cpu") else contextlib.nullcontext():
            feats = x.float()
            if previous is not None:
                feats = torch.cat([previous.float(), feats], dim=-2)
            pos = self.representation.decode_positions(self.normalizer.denormalize(feats))
            return pos[..., 1:, :, :] if previous is not None else pos

    def renormalize(self, x: torch.Tensor, target: "MotionContext") -> torch.Tensor:
        """Features ``(..., D)`` normalised by this context, normalised by ``target``'s statistics
        instead (same representation; computed in float64) -> float32."""
        return target.normalizer.normalize(self.normalizer.denormalize(x.double())).float()

    def contacts(self, x: torch.Tensor) -> torch.Tensor | None:
        """Denormalised foot-contact channels ``(..., T, F)`` clamped to [0, 1], or ``None``."""
        rep = self.representation
        if "contacts" not in rep.layout or not getattr(rep, "feet", None):
            return None
        s = rep.slice("contacts")
        mean = torch.as_tensor(self.normalizer.mean[s], dtype=torch.float32, device=x.device)
        std = torch.as_tensor(self.normalizer.std[s], dtype=torch.float32, device=x.device)
        return (x[..., s].float() * std + mean).clamp(0.0, 1.0)

    @property
    def root_joint(self) -> int:
        """The trajectory joint (the pelvis) for root-relative errors."""
        return int(getattr(self.representation, "pelvis", 0))

    @property
    def feet(self) -> list[int]:
        return [int(j) for j in getattr(self.representation, "feet", [])]


#: bone offsets closer than this fraction of the height are the same skeleton (as the data module's
#: ``skeleton_tolerance``: Bandai-Namco files differ by ~0.04 cm)
SKELETON_TOLERANCE = 1e-3


def skeleton_difference(a: Skeleton, b: Skeleton, tolerance: float = SKELETON_TOLERANCE) -> str | None:
    """Why skeleton ``b`` is not ``a`` (names, hierarchy, offsets beyond ``tolerance x height``), or ``None``."""
    return a.describe_difference(b, atol=tolerance)


def layout_difference(rep: MotionRepresentation, other: MotionRepresentation | Mapping) -> str | None:
    """Why ``other`` (a representation or its ``to_dict``) has another feature layout than ``rep``:
    name, options (joints, thresholds), channel groups or width; the skeleton is compared apart."""
    mine = rep.to_dict()
    theirs = other.to_dict() if isinstance(other, MotionRepresentation) else dict(other)
    for key in ("name", "dim", "layout", "options"):
        if theirs.get(key) != mine[key]:
            return f"{key} {theirs.get(key)} vs {mine[key]}"
    return None


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------
def feature_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Mean ``"l1"``, ``"mse"`` or ``"smooth_l1"`` distance of features ``(..., D)``."""
    if kind == "l1":
        return F.l1_loss(pred, target)
    if kind == "mse":
        return F.mse_loss(pred, target)
    if kind == "smooth_l1":
        return F.smooth_l1_loss(pred, target, beta=0.1)
    raise ValueError(f"loss must be 'l1', 'mse' or 'smooth_l1', got {kind!r}")


def spectral_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Distance of the temporal amplitude spectra of ``pred`` and ``target (B, T, D)``, per channel.

    ``|rfft|`` over time (orthonormal, so the energies are those of the signals), the constant term
    left out: it compares how much each channel oscillates at each frequency and ignores the phase.
    A per-frame loss alone, while the model cannot yet tell the phase of a cycle from its inputs,
    is minimised by the phase average, a motionless clip; this term is not.
    """
    fp = torch.fft.rfft(pred.float(), dim=-2, norm="ortho").abs()[..., 1:, :]
    ft = torch.fft.rfft(target.float(), dim=-2, norm="ortho").abs()[..., 1:, :]
    return feature_loss(fp, ft, kind)


def position_losses(ctx: MotionContext, pred: torch.Tensor, target: torch.Tensor,
                    previous: torch.Tensor | None = None, kind: str = "l1") -> dict[str, torch.Tensor]:
    """Losses through the differentiable decoder, on normalised features ``(B, T, D)``:

    * ``position``: distance of global joint positions, in body heights (:func:`feature_loss` kind);
    * ``contact``: foot-contact consistency, the mean speed (body heights per second) of foot
      joints weighted by the predicted contact probability: feet said to be planted must not move.
    """
    h = float(ctx.skeleton.height())
    p_pred = ctx.decode_positions(pred, previous) / h  # (B, T, J, 3)
    with torch.no_grad():
        p_true = ctx.decode_positions(target, previous) / h
    out = {"position": feature_loss(p_pred, p_true, kind)}
    contacts = ctx.contacts(pred)
    if contacts is not None and pred.shape[-2] > 1:
        feet = p_pred[..., ctx.feet, :]  # (B, T, F, 3)
        speed = ((feet[..., 1:, :, :] - feet[..., :-1, :, :]).square().sum(-1) + 1e-10).sqrt() * ctx.fps
        out["contact"] = (contacts[..., 1:, :] * speed).mean()
    else:
        out["contact"] = pred.new_zeros(())
    return out


def foot_slide_loss(ctx: MotionContext, out: torch.Tensor, contacts: torch.Tensor | None = None,
                    own_height: float | None = None) -> torch.Tensor:
    """Mean speed (body heights per second) of the foot joints of normalised ``out (B, T, D)``,
    weighted per frame and foot by contacts: given contact probabilities ``(B, T, F)`` (e.g. the
    content clip's), and/or, with ``own_height``, the output's own contacts by the rule of
    :func:`motion3d.metrics.motion.floor_contacts` (the foot within ``own_height`` body heights of the
    clip's floor at both ends of the step; a weight without gradient, so that the loss cannot be
    escaped by lifting the feet). Both: the larger weight."""
    if not ctx.feet or out.shape[-2] < 2:
        return out.new_zeros(())
    feet = ctx.decode_positions(out)[..., ctx.feet, :] / float(ctx.skeleton.height())  # (B, T, F, 3)
    speed = ((feet[..., 1:, :, :] - feet[..., :-1, :, :]).square().sum(-1) + 1e-10).sqrt() * ctx.fps
    weight = speed.new_zeros(())
    if contacts is not None:
        weight = contacts[..., 1:, :].to(speed.dtype)
    if own_height is not None:  # up is +y
        weight = torch.maximum(weight, floor_contacts(feet[..., 1].detach(), own_height).to(speed.dtype))
    return (weight * speed).mean()


def plain_hparams(hparams: Mapping[str, Any]) -> dict:
    """A task's hyper-parameters in plain values for ``checkpoint["motion3d"]["hparams"]``."""
    return plain({k: v for k, v in dict(hparams).items() if not str(k).startswith("_")})


def task_meta(checkpoint: Mapping, task_name: str) -> dict:
    """``checkpoint["motion3d"]``, checked to be a ``task_name`` checkpoint (else ContextMismatch)."""
    meta = checkpoint.get(META_KEY)
    if not isinstance(meta, dict) or meta.get("task") != task_name:
        found = meta.get("task") if isinstance(meta, dict) else None
        raise ContextMismatch(f"not a '{task_name}' checkpoint (task: {found!r})")
    return meta


def labels_of(batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``{"content", "style"}`` label tensors ``(B,)`` of a batch (missing kinds left out)."""
    return {k: batch[k] for k in ("content", "style") if k in batch}


# ---------------------------------------------------------------------------------------------
# the base LightningModule
# ---------------------------------------------------------------------------------------------
class MotionTask(TracksRunProgress, L.LightningModule):
    """Base of the motion tasks: builds the network from the data, checks checkpoints against it,
    logs videos of samples, and configures AdamW with warm-up + cosine decay.

    Args:
        net: the network, or (from a config) its class with arguments, completed with
            ``(input_dim, num_content, num_style)`` of the data in ``setup()``.
        lr, weight_decay, warmup_steps, min_lr_ratio: the optimiser and schedule.
        loss: ``"l1"``, ``"mse"`` or ``"smooth_l1"`` for features and positions.
        feature_weight, position_weight, contact_weight: loss weights.
        video_every_n_epochs: log a rendered video of samples every N validation epochs (0: never).
        video_samples: clips in that video.
        velocity_weight: weight of the feature velocity loss (frame-to-frame differences of the
            prediction against the target's, as MDM's ``L_vel``); counters over-smoothed, damped
            outputs that a per-frame loss alone tolerates. 0: off.
        spectral_weight: weight of :func:`spectral_loss` (phase-free amplitude spectra over time). 0: off.
        foot_slide_weight: weight of :func:`foot_slide_loss` of the prediction where the target's
            feet are in contact (the representation's contact channels). 0: off.
    """

    task_name = ""

    def __init__(self, net: NetFactory, lr: float = 1e-3, weight_decay: float = 1e-4, warmup_steps: int = 100,
                 min_lr_ratio: float = 0.05, loss: str = "l1", feature_weight: float = 1.0,
                 position_weight: float = 1.0, contact_weight: float = 0.1, video_every_n_epochs: int = 5,
                 video_samples: int = 4, velocity_weight: float = 0.0, spectral_weight: float = 0.0,
                 foot_slide_weight: float = 0.0):
        super().__init__()
        self.save_hyperparameters(ignore=["net"])
        self._net_factory: NetFactory | None = None
        if isinstance(net, nn.Module):
            self.net = net
        elif callable(net):
            self.net = None
            self._net_factory = net
        else:
            raise TypeError(f"net must be an nn.Module or a callable building one, got {type(net).__name__}")
        self.context: MotionContext | None = None

    # ------------------------------------------------------------------ data and network
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None:
            self.attach(MotionContext.from_datamodule(dm))
        elif self.context is None:
            raise RuntimeError(f"{type(self).__name__} needs a datamodule (MocapDataModule) or attach(context)")

    def net_dims(self, ctx: MotionContext) -> tuple[int, int, int]:
        """``(input_dim, num_content, num_style)`` to build the network with."""
        return ctx.dim, ctx.num_labels("content"), ctx.num_labels("style")

    def attach(self, ctx: MotionContext) -> None:
        """Use data context ``ctx``: build the network if needed and check its dimensions."""
        if self.context is not None:
            why = self.context.describe_difference(ctx.to_meta())
            if why is not None:
                raise ContextMismatch(f"{type(self).__name__} was set up on other data: {why}")
        self.context = ctx
        dims = self.net_dims(ctx)
        if self.net is None:
            self.net = self._net_factory(*dims)
        self.check_net(ctx)

    def check_net(self, ctx: MotionContext) -> None:
        """The network's dimensions against the data's (a clear error naming which differs)."""
        net_dims = getattr(self.net, "data_dims", lambda: {})()
        want = dict(zip(("input_dim", "num_content", "num_style"), self.net_dims(ctx)))
        if "input_dim" in net_dims and net_dims["input_dim"] != want["input_dim"]:
            raise ContextMismatch(f"the network takes input_dim={net_dims['input_dim']} channels but the data's "
                                  f"{ctx.representation} has {want['input_dim']}")
        for kind in ("content", "style"):
            n = net_dims.get(f"num_{kind}", 0)
            if n and n != want[f"num_{kind}"]:
                raise ContextMismatch(f"the network has {n} {kind} labels but the data has {want[f'num_{kind}']}: "
                                      f"{ctx.label_names[kind]}")

    def _require(self) -> MotionContext:
        if self.context is None or self.net is None:
            raise RuntimeError(f"{type(self).__name__} is not set up: call trainer.fit with a datamodule or attach()")
        return self.context

    # ------------------------------------------------------------------ losses and logging
    def reconstruction_losses(self, pred: torch.Tensor, target: torch.Tensor,
                              previous: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"feature", "position", "contact", "loss"}`` for normalised ``pred``/``target (B, T, D)``."""
        hp = self.hparams
        out = {"feature": feature_loss(pred.float(), target.float(), hp.loss)}
        if hp.position_weight > 0 or hp.contact_weight > 0:
            out.update(position_losses(self._require(), pred, target, previous, hp.loss))
        else:
            out["position"] = out["contact"] = pred.new_zeros(())
        out["loss"] = (hp.feature_weight * out["feature"] + hp.position_weight * out["position"]
                       + hp.contact_weight * out["contact"])
        velocity_weight = float(hp.get("velocity_weight", 0.0))
        if velocity_weight > 0 and pred.shape[-2] > 1:
            out["velocity"] = feature_loss((pred[..., 1:, :] - pred[..., :-1, :]).float(),
                                           (target[..., 1:, :] - target[..., :-1, :]).float(), hp.loss)
            out["loss"] = out["loss"] + velocity_weight * out["velocity"]
        spectral_weight = float(hp.get("spectral_weight", 0.0))
        if spectral_weight > 0 and pred.shape[-2] > 2:
            out["spectral"] = spectral_loss(pred, target, hp.loss)
            out["loss"] = out["loss"] + spectral_weight * out["spectral"]
        foot_slide_weight = float(hp.get("foot_slide_weight", 0.0))
        contacts = self._require().contacts(target) if foot_slide_weight > 0 else None
        if contacts is not None:
            out["foot_slide"] = foot_slide_loss(self.context, pred, contacts)
            out["loss"] = out["loss"] + foot_slide_weight * out["foot_slide"]
        return out

    def log_losses(self, split: str, losses: Mapping[str, torch.Tensor], batch_size: int) -> None:
        on_step = split == "train"
        self.log_dict({f"{split}/{k}": v.detach() if torch.is_tensor(v) else v for k, v in losses.items()},
                      on_step=on_step, on_epoch=not on_step, prog_bar=False, batch_size=batch_size,
                      sync_dist=not on_step)
        self.log(f"{split}_loss", losses["loss"].detach(), on_step=on_step, on_epoch=not on_step, prog_bar=True,
                 batch_size=batch_size, logger=False, sync_dist=not on_step)

    def video_features(self) -> torch.Tensor | None:
        """Normalised features ``(N, T, D)`` to render in the periodic video (task-specific)."""
        return None

    def on_validation_epoch_end(self) -> None:
        n = int(self.hparams.video_every_n_epochs)
        if n <= 0 or self.trainer.sanity_checking or not self.trainer.is_global_zero:
            return
        if self.current_epoch % n:
            return
        writer = getattr(self.logger, "experiment", None) if self.logger is not None else None
        if not hasattr(writer, "_get_file_writer"):  # not a TensorBoard SummaryWriter
            return
        from motion3d.render.tensorboard import log_clips

        with torch.no_grad():
            feats = self.video_features()
            if feats is None:
                return
            pos = self.context.decode_positions(feats).cpu().numpy()
        log_clips(writer, f"samples/{self.task_name}", pos, step=self.global_step,
                  parents=self.context.skeleton.parents, fps=self.context.fps)

    # ------------------------------------------------------------------ optimiser
    def configure_optimizers(self):
        hp = self.hparams
        decay, no_decay = [], []
        for p in self.net.parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=hp.lr)
        sched = warmup_cosine_lr(opt, self, hp.warmup_steps, hp.min_lr_ratio)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        ctx = self._require()
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        from motion3d.tasks.motion_data import datamodule_config

        checkpoint[META_KEY] = {
            "task": self.task_name, "net": getattr(self.net, "config", None), "context": ctx.to_meta(),
            "data": datamodule_config(dm),
            "hparams": plain_hparams(self.hparams),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        meta = task_meta(checkpoint, self.task_name)
        if self.context is not None:
            why = self.context.describe_difference(meta["context"])
            if why is not None:
                raise ContextMismatch(f"the checkpoint was trained on other data than this datamodule gives: {why}")
        else:
            self.attach(MotionContext.from_meta(meta["context"]))


def load_motion_checkpoint(checkpoint: str | Path | Mapping, task: str | None = None,
                           device: str | torch.device = "cpu") -> tuple[nn.Module, MotionContext, dict]:
    """``(network in eval mode, context, metadata)`` from a motion task checkpoint (a path, or the
    dict of :func:`motion3d.tasks.evaluation.load_checkpoint`); ``task`` checks the kind."""
    ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
    meta = ckpt.get(META_KEY)
    if not isinstance(meta, dict) or "net" not in meta or "context" not in meta:
        raise KeyError("not a motion task checkpoint (no motion3d.net / motion3d.context entry)")
    if task is not None and meta.get("task") != task:
        raise ContextMismatch(f"expected a '{task}' checkpoint, got task {meta.get('task')!r}")
    if not meta.get("net"):
        raise KeyError("the checkpoint's network has no config (motion3d.net); it cannot be rebuilt")
    net = build_net(meta["net"])
    state = {k[len("net."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(state)
    return net.to(device).eval(), MotionContext.from_meta(meta["context"]), meta


def random_labels(ctx: MotionContext, n: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """``n`` labels of each kind drawn uniformly from the label names (``-1`` when a kind has none)."""
    out = {}
    for kind in ("content", "style"):
        k = ctx.num_labels(kind)
        out[kind] = (torch.randint(0, k, (n,), generator=generator) if k else torch.full((n,), -1)).long()
    return out


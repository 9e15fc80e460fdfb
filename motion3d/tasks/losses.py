"""Losses of the motion tasks, on normalised features ``(B, T, D)``, several through the
representation's differentiable decoder (:meth:`MotionContext.decode_positions`), and the
adversarial losses shared by the tasks that train a discriminator.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

import torch
import torch.nn.functional as F

from motion3d.metrics.motion import floor_contacts
from motion3d.tasks.context import MotionContext

__all__ = ["LossWeights", "ReconstructionWeights", "feature_loss", "spectral_loss", "position_losses",
           "foot_slide_loss", "masked_cross_entropy"]


@dataclass
class LossWeights:
    """Base of the tasks' loss-weight dataclasses: one per task, its fields the weights of its loss
    terms (0 switches a term off). A config gives them by name (``weights: {position: 0.5}``);
    checkpoints store them as a plain dict (:meth:`to_dict`)."""

    @classmethod
    def of(cls, value: "LossWeights | Mapping[str, Any] | None") -> "LossWeights":
        """``value`` as this class: ``None`` gives the defaults, a mapping names some fields (an
        unknown name is an error listing the known ones), an instance is copied."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return replace(value)
        if isinstance(value, LossWeights):
            value = value.to_dict()
        if not isinstance(value, Mapping):
            raise TypeError(f"{cls.__name__}: expected a mapping of weights, got {type(value).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__} has no weight(s) {unknown}; known: {known}")
        out = cls(**{k: float(v) for k, v in value.items()})
        bad = {k: v for k, v in out.to_dict().items() if not v >= 0.0}
        if bad:
            raise ValueError(f"{cls.__name__}: weights must be >= 0, got {bad}")
        return out

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass
class ReconstructionWeights(LossWeights):
    """Weights of :meth:`MotionTask.reconstruction_losses`.

    Attributes:
        feature: distance of the normalised features.
        position: distance of global joint positions (body heights) through the decoder.
        contact: foot-contact consistency (feet said to be planted must not move).
        velocity: distance of frame-to-frame feature differences (MDM's ``L_vel``); counters the
            over-smoothed, damped outputs that a per-frame loss alone tolerates.
        spectral: :func:`spectral_loss` (phase-free amplitude spectra over time).
        foot_slide: :func:`foot_slide_loss` of the output where the target's feet are in contact.
    """

    feature: float = 1.0
    position: float = 1.0
    contact: float = 0.1
    velocity: float = 0.0
    spectral: float = 0.0
    foot_slide: float = 0.0


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



def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of ``logits (N, K)`` over the known labels (``labels (N,) >= 0``); 0 (with
    gradient) when none is known."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known].float(), labels[known], label_smoothing=smoothing)

"""Label-conditioned generation with :class:`MotionVAE` (task ``"generate"``), and its evaluation
as in ACTOR: recognition accuracy of generated clips by a motion classifier trained by the project
(``classifier.yaml``), FID of its features against real clips, diversity, multimodality, and foot
skate, each beside the same numbers for the real clips.

Loss: feature reconstruction + global joint positions + foot-contact consistency (see
:mod:`motion3d.tasks.losses`) + ``kl_weight x KL(q(z | x, labels) || N(0, I))``, the KL weight
ramped linearly from 0 over ``kl_warmup_steps``; optionally (``spectral_weight``) the distance of the
clips' temporal amplitude spectra (:func:`motion3d.tasks.losses.spectral_loss`), which, unlike a
per-frame loss, does not reward a motionless average while the phase of a cycle is still uncertain;
optionally (``foot_slide_weight``) the speed of the reconstruction's feet where the clip's feet are
planted (:func:`motion3d.tasks.losses.foot_slide_loss`).

The posteriors of the training windows seen since the last validation are kept, and the network's
sampling prior is fitted to them (:meth:`MotionVAE.fit_prior`) before each validation, so every
checkpoint samples from a prior that matches its encoder.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.context import labels_of, random_labels
from motion3d.tasks.losses import ReconstructionWeights

__all__ = ["GenerationTask", "GenerationWeights", "TASK_NAME"]

TASK_NAME = "generate"


@dataclass
class GenerationWeights(ReconstructionWeights):
    """:class:`ReconstructionWeights` of the reconstructions, plus ``kl``: the weight of
    ``KL(q(z | x, labels) || N(0, I))`` (after ``kl_warmup_steps``)."""

    kl: float = 1e-3


class GenerationTask(MotionTask):
    """Train a conditional VAE on windows of the data.

    Args:
        net: :class:`MotionVAE` (``forward(x, labels) -> (recon, mu, logvar)``,
            ``sample(n, length, labels)``).
        weights: :class:`GenerationWeights` (reconstruction terms and the KL term).
        kl_warmup_steps: linear ramp of the KL weight from 0 (0: none).
        classifier: path of a ``recognize`` checkpoint used by default by ``tools/evaluate.py``.
        Others: see :class:`MotionTask`.
    """

    task_name = TASK_NAME
    weights_type = GenerationWeights

    def __init__(self, net: NetFactory, weights: GenerationWeights | None = None, kl_warmup_steps: int = 0,
                 classifier: str | None = None, lr: float = 1e-4, weight_decay: float = 1e-4,
                 warmup_steps: int = 100, min_lr_ratio: float = 0.05, loss: str = "l1", video_every_n_epochs: int = 5,
                 video_samples: int = 4):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                         min_lr_ratio=min_lr_ratio, loss=loss, video_every_n_epochs=video_every_n_epochs,
                         video_samples=video_samples)
        self._posteriors: list = []  # (mu, logvar, labels) of training batches since the last fit

    def kl_factor(self) -> float:
        """The KL weight now (after the warm-up ramp)."""
        warmup = self.hparams.kl_warmup_steps
        if warmup <= 0:
            return float(self.weights.kl)
        return float(self.weights.kl) * min(1.0, self.global_step / warmup)

    def _step(self, batch, split: str) -> torch.Tensor:
        x = batch["x"]
        labels = labels_of(batch)
        recon, mu, logvar = self.net(x, labels)
        if split == "train" and hasattr(self.net, "fit_prior"):
            self._posteriors.append((mu.detach().float(), logvar.detach().float(),
                                     {k: v.detach() for k, v in labels.items()}))
        losses = self.reconstruction_losses(recon, x)
        losses["kl"] = self.net.kl_divergence(mu.float(), logvar.float())
        losses["loss"] = losses["loss"] + self.kl_factor() * losses["kl"]
        self.log_losses(split, losses, x.shape[0])
        return losses["loss"]

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def fit_prior(self) -> bool:
        """Fit the network's sampling prior to the posteriors kept since the last fit; False if none."""
        kept = self._posteriors
        if not kept or not hasattr(self.net, "fit_prior"):
            return False
        mu = torch.cat([m for m, _, _ in kept])
        logvar = torch.cat([lv for _, lv, _ in kept])
        labels = {k: torch.cat([lab[k] for _, _, lab in kept]) for k in kept[0][2]}
        self.net.fit_prior(mu, logvar, labels)
        kept.clear()
        return True

    def on_validation_epoch_start(self) -> None:
        if not self.trainer.sanity_checking:
            self.fit_prior()

    def video_features(self) -> torch.Tensor | None:
        """Samples of random labels, one window long."""
        ctx = self.context
        n = int(self.hparams.video_samples)
        g = torch.Generator().manual_seed(self.current_epoch)
        labels = {k: v.to(self.device) for k, v in random_labels(ctx, n, g).items()}
        return self.net.sample(n, ctx.window or 60, labels)

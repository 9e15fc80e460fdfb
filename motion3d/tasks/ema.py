"""An exponential moving average of a task's network weights (Polyak averaging), the weights that
validation, checkpoints and every sampler then use: the standard for diffusion models (Ho et al. 2020
keep a 0.9999 average; Karras et al. 2024 show sample quality hinges on it), where the raw weights of
a short, high-learning-rate run are noisy.

:class:`NetEMA` is a Lightning callback (a task adds it from its ``ema_decay`` hyper-parameter, see
:meth:`motion3d.tasks.base.MotionTask.configure_callbacks`). After each optimiser step the average
``w_ema <- d w_ema + (1 - d) w`` over the floating-point parameters of ``pl_module.net``, with the
warm-up ``d = min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the first steps (the random
initialisation) are forgotten within a short run. Validation runs with the averaged weights and
training resumes with the raw ones. Checkpoints hold the averaged weights in ``state_dict`` (what
:func:`motion3d.tasks.checkpoint.load_motion_checkpoint` and ``Trainer.test`` read, with nothing else
needed) and the raw ones under ``"ema_raw"`` with the update count under ``"ema_updates"``, which a
resumed fit restores; at the end of training the network keeps the averaged weights.
"""
from __future__ import annotations

import torch

import lightning as L

__all__ = ["NetEMA", "ema_decay_at"]


def ema_decay_at(decay: float, updates: int) -> float:
    """The decay of update number ``updates`` (0-based): ``min(decay, (1 + n) / (10 + n))``."""
    return min(float(decay), (1.0 + updates) / (10.0 + updates))


class NetEMA(L.Callback):
    """Exponential moving average of ``pl_module.net``'s floating-point parameters (see the module
    docstring). ``decay`` in ``(0, 1)``: the horizon is about ``1 / (1 - decay)`` optimiser steps."""

    def __init__(self, decay: float = 0.999):
        if not 0.0 < float(decay) < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self._avg: dict[str, torch.Tensor] | None = None
        self._swapped = False  # the network holds the averaged weights, _avg the raw ones
        self._done = False  # training ended: the network keeps the average from now on

    # ------------------------------------------------------------------ the average
    @staticmethod
    def _params(pl_module) -> dict[str, torch.nn.Parameter]:
        return {f"net.{k}": p for k, p in pl_module.net.named_parameters() if p.is_floating_point()}

    def _ensure(self, pl_module) -> dict[str, torch.Tensor]:
        if self._avg is None:
            self._avg = {k: p.detach().clone() for k, p in self._params(pl_module).items()}
        return self._avg

    @torch.no_grad()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step <= self.updates:  # no optimiser step taken (gradient accumulation)
            return
        avg = self._ensure(pl_module)
        d = ema_decay_at(self.decay, self.updates)
        for k, p in self._params(pl_module).items():
            avg[k].lerp_(p.detach().to(avg[k].dtype), 1.0 - d)
        self.updates = trainer.global_step

    @torch.no_grad()
    def _swap(self, pl_module) -> None:
        if self._avg is None:
            return
        for k, p in self._params(pl_module).items():
            tmp = p.detach().clone()
            p.copy_(self._avg[k])
            self._avg[k].copy_(tmp)
        self._swapped = not self._swapped

    # ------------------------------------------------------------------ validation sees the average
    def on_fit_start(self, trainer, pl_module) -> None:
        self._done = False

    def on_validation_start(self, trainer, pl_module) -> None:
        if not self._swapped and not self._done:  # nothing to swap before the first optimiser step (the sanity check)
            self._swap(pl_module)

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._swapped and not self._done:
            self._swap(pl_module)

    @torch.no_grad()
    def on_train_end(self, trainer, pl_module) -> None:
        if self._avg is not None and not self._swapped:
            self._swap(pl_module)  # the network ends with the average; last.ckpt keeps the raw weights too
        self._done = True

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self._avg is None:
            return
        state = checkpoint["state_dict"]
        if self._swapped:  # the module's state is already the average; _avg holds the raw weights
            raw = {k: v.detach().clone() for k, v in self._avg.items()}
        else:
            raw = {k: state[k].detach().clone() for k in self._avg}
            for k, v in self._avg.items():
                state[k] = v.detach().clone()
        checkpoint["ema_raw"] = raw
        checkpoint["ema_updates"] = int(self.updates)

    @torch.no_grad()
    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        """Resuming a fit: the module was loaded with the average; put the raw weights back."""
        raw = checkpoint.get("ema_raw")
        if not raw:
            return
        params = self._params(pl_module)
        missing = sorted(set(raw) - set(params))
        if missing:
            raise ValueError(f"the checkpoint's raw (pre-average) weights name parameters this network lacks: "
                             f"{missing[:5]}")
        self._avg = {k: p.detach().clone() for k, p in params.items()}
        for k, p in params.items():
            p.copy_(raw[k].to(p.dtype))
        self.updates = int(checkpoint.get("ema_updates", 0))
        self._swapped = False

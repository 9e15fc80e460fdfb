"""Schedules that follow how far a training run has got: by steps, or by the clock when the run is
limited by ``Trainer(max_time=...)``.

A run capped at 10 minutes with ``max_epochs: 1000`` reports ``estimated_stepping_batches`` for all
1000 epochs, so a schedule over steps alone would stop after a few percent of its course: the
learning rate would never decay and a curriculum would never ramp. :class:`RunProgress` takes the
larger of the step fraction and the time fraction.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["WarmupCosine", "RunProgress", "TracksRunProgress", "time_fraction", "lambda_lr", "warmup_cosine_lr",
           "make_optimizer", "optimizer_with_schedule"]


class WarmupCosine:
    """LR factor: linear warm-up over ``warmup`` steps, then cosine from 1 to ``floor`` as the run goes.

    The cosine's position is ``(step - warmup) / (total - warmup)``, or ``progress()`` when that is
    further on (a callable returning the fraction of the run done, e.g. :class:`RunProgress`).
    """

    def __init__(self, warmup: int, total: int, floor: float, progress: Callable[[], float] | None = None):
        self.warmup, self.total, self.floor, self.progress = warmup, total, floor, progress

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        t = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        if self.progress is not None:
            t = max(t, min(1.0, float(self.progress())))
        return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * t))


def lambda_lr(optimizer, schedule: Callable[[int], float]):
    """``LambdaLR(optimizer, schedule)`` with ``schedule`` behind a plain function: LambdaLR stores the
    ``__dict__`` of callable objects in its state (and so in checkpoints), and a schedule holding a
    :class:`RunProgress` would make checkpoints unloadable with ``torch.load(weights_only=True)``.
    The schedule is rebuilt from the hyper-parameters on resume, so nothing is lost."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: schedule(step))


def warmup_cosine_lr(optimizer, module, warmup_steps: int, floor: float):
    """The tasks' LR schedule: :class:`WarmupCosine` over the trainer's estimated steps (100,000 when
    that is unbounded), following ``module.progress`` (a :class:`RunProgress`), as :func:`lambda_lr`.
    The warm-up is at most half the run."""
    trainer = getattr(module, "_trainer", None)
    total = float(trainer.estimated_stepping_batches) if trainer is not None else 1.0
    total = max(int(total), 1) if math.isfinite(total) else 100_000
    return lambda_lr(optimizer, WarmupCosine(min(warmup_steps, total // 2), total, floor, module.progress))


def time_fraction(trainer) -> float:
    """Fraction of ``Trainer(max_time=...)`` used so far, in [0, 1]; 0 without a time limit."""
    from lightning.pytorch.callbacks import Timer

    for cb in getattr(trainer, "callbacks", []):
        if isinstance(cb, Timer):
            remaining = cb.time_remaining("train")
            if remaining is None:
                return 0.0
            elapsed = cb.time_elapsed("train")
            return min(1.0, elapsed / max(elapsed + remaining, 1e-9))
    return 0.0


class RunProgress:
    """``progress()``: the fraction of a LightningModule's run done, ``max(steps / estimated total
    steps, time used / max_time)`` in [0, 1] (0 before the module is attached to a trainer).

    In one process the clock is read at every call. With several processes (DDP) every rank must
    see the same value (the same learning rate), so the time fraction is taken from rank 0 at the
    start of each epoch (:meth:`refresh`, called by the task) and held during it.
    """

    def __init__(self, module):
        self.module = module
        self._time = 0.0

    def _trainer(self):
        return getattr(self.module, "_trainer", None)

    def refresh(self) -> None:
        trainer = self._trainer()
        if trainer is not None and trainer.world_size > 1:
            self._time = float(trainer.strategy.broadcast(time_fraction(trainer), src=0))

    def __call__(self) -> float:
        trainer = self._trainer()
        if trainer is None:
            return 0.0
        total = float(trainer.estimated_stepping_batches)
        steps = min(1.0, trainer.global_step / total) if total and math.isfinite(total) else 0.0
        clock = self._time if trainer.world_size > 1 else time_fraction(trainer)
        return max(steps, clock)


class TracksRunProgress:
    """Mixin for the LightningModules: ``self.progress``, their :class:`RunProgress` (steps or
    ``max_time``, whichever is further on), refreshed at the start of every training epoch. Put it
    before ``L.LightningModule`` in the bases; a subclass overriding ``on_train_epoch_start`` calls
    ``super()``."""

    @property
    def progress(self) -> RunProgress:
        run = self.__dict__.get("_run_progress")
        if run is None:
            run = self.__dict__["_run_progress"] = RunProgress(self)
        return run

    def on_train_epoch_start(self) -> None:
        self.progress.refresh()


def make_optimizer(parameters, name: str = "adamw", lr: float = 1e-3, weight_decay: float = 0.0,
                   betas: tuple[float, float] = (0.9, 0.999), momentum: float = 0.9,
                   decay_vectors: bool = False) -> torch.optim.Optimizer:
    """The tasks' one optimiser set-up: ``"adamw"`` (with ``betas``) or ``"sgd"`` (Nesterov,
    ``momentum``). Weight decay applies to weight matrices and kernels only: parameters with at most
    one dimension (biases, normalisation scales) are not decayed, unless ``decay_vectors`` (the
    style-transfer and retargeting tasks were tuned with every parameter decayed)."""
    params = [p for p in parameters if p.requires_grad]
    decay = [p for p in params if p.ndim > 1 or decay_vectors]
    no_decay = [p for p in params if p.ndim <= 1 and not decay_vectors]
    groups = [{"params": decay, "weight_decay": float(weight_decay)}, {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(float(b) for b in betas))
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=True)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {name!r}")


def optimizer_with_schedule(module, parameters, lr: float, weight_decay: float, warmup_steps: int,
                            min_lr_ratio: float, **optimizer_options) -> dict:
    """``configure_optimizers``' answer for one optimiser: :func:`make_optimizer` with the
    :func:`warmup_cosine_lr` schedule stepped every batch."""
    opt = make_optimizer(parameters, lr=lr, weight_decay=weight_decay, **optimizer_options)
    sched = warmup_cosine_lr(opt, module, warmup_steps, min_lr_ratio)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

"""The base LightningModule of the motion tasks: builds the network from the data's context, checks
checkpoints against it, computes the reconstruction losses, logs videos of samples, and sets up the
optimiser (:func:`motion3d.tasks.schedule.optimizer_with_schedule`).

A task subclass adds its ``training_step`` / ``validation_step`` and, if needed, its own loss terms;
see the README's "Adding a model".
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

import lightning as L

from motion3d.render.tensorboard import log_clips
from motion3d.tasks.checkpoint import META_KEY, datamodule_config, plain_hparams, task_meta
from motion3d.tasks.context import ContextMismatch, MotionContext
from motion3d.tasks.ema import NetEMA
from motion3d.tasks.losses import (LossWeights, ReconstructionWeights, feature_loss, foot_slide_loss, position_losses,
                                   spectral_loss)
from motion3d.tasks.schedule import TracksRunProgress, optimizer_with_schedule

__all__ = ["MotionTask", "NetFactory"]

#: a network, or a callable building one from ``(input_dim, num_content, num_style)`` (a class with
#: its other arguments bound, as jsonargparse gives for ``class_path`` + ``init_args`` in a config)
NetFactory = Callable[[int, int, int], nn.Module]


class MotionTask(TracksRunProgress, L.LightningModule):
    """Base of the motion tasks: builds the network from the data, checks checkpoints against it,
    logs videos of samples, and configures AdamW with warm-up + cosine decay.

    Args:
        net: the network, or (from a config) its class with arguments, completed with
            ``(input_dim, num_content, num_style)`` of the data in ``setup()``.
        weights: the task's loss weights, by name (its :attr:`weights_type` dataclass, or a mapping
            of some of its fields; the others keep their defaults).
        lr, weight_decay, warmup_steps, min_lr_ratio: the optimiser and schedule.
        loss: ``"l1"``, ``"mse"`` or ``"smooth_l1"`` for features and positions.
        video_every_n_epochs: log a rendered video of samples every N validation epochs (0: never).
        video_samples: clips in that video.
        ema_decay: keep an exponential moving average of the network's weights with this decay
            (:class:`motion3d.tasks.ema.NetEMA`; validation and checkpoints use the average); 0: none.

    Subclasses pass these to ``super().__init__`` by name and set ``task_name`` (the name
    checkpoints and evaluators know the task by) and ``weights_type``.
    """

    task_name = ""
    #: the dataclass of this task's loss weights
    weights_type: type[LossWeights] = ReconstructionWeights

    def __init__(self, net: NetFactory, weights: LossWeights | None = None, lr: float = 1e-3,
                 weight_decay: float = 1e-4, warmup_steps: int = 100, min_lr_ratio: float = 0.05, loss: str = "l1",
                 video_every_n_epochs: int = 5, video_samples: int = 4, ema_decay: float = 0.0):
        super().__init__()
        if ema_decay and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be 0 (no average) or in (0, 1), got {ema_decay}")
        self.weights = self.weights_type.of(weights)
        self.save_hyperparameters(ignore=["net", "weights"])
        self.hparams["weights"] = self.weights.to_dict()  # plain values: checkpoints load with weights_only
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

    def net_options(self, ctx: MotionContext) -> dict:
        """More constructor arguments of the network that come from the data (none here)."""
        return {}

    def attach(self, ctx: MotionContext) -> None:
        """Use data context ``ctx``: build the network if needed and check its dimensions."""
        if self.context is not None:
            why = self.context.describe_difference(ctx.to_meta())
            if why is not None:
                raise ContextMismatch(f"{type(self).__name__} was set up on other data: {why}")
        self.context = ctx
        dims = self.net_dims(ctx)
        if self.net is None:
            self.net = self._net_factory(*dims, **self.net_options(ctx))
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
                              previous: torch.Tensor | None = None,
                              foot_weights: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"feature", "position", "contact", [velocity, spectral, foot_slide,] "loss"}`` for normalised
        ``pred``/``target (B, T, D)``, weighted by :attr:`weights` (a :class:`ReconstructionWeights`);
        ``previous (B, 1, D)``: the frame before both, so the first frame's trajectory counts too;
        ``foot_weights (B,)``: per-clip factors of the foot-slide term (default 1)."""
        w, kind = self.weights, self.hparams.loss
        out = {"feature": feature_loss(pred.float(), target.float(), kind)}
        if w.position > 0 or w.contact > 0:
            out.update(position_losses(self._require(), pred, target, previous, kind))
        else:
            out["position"] = out["contact"] = pred.new_zeros(())
        out["loss"] = w.feature * out["feature"] + w.position * out["position"] + w.contact * out["contact"]
        if w.velocity > 0 and pred.shape[-2] > 1:
            out["velocity"] = feature_loss((pred[..., 1:, :] - pred[..., :-1, :]).float(),
                                           (target[..., 1:, :] - target[..., :-1, :]).float(), kind)
            out["loss"] = out["loss"] + w.velocity * out["velocity"]
        if w.spectral > 0 and pred.shape[-2] > 2:
            out["spectral"] = spectral_loss(pred, target, kind)
            out["loss"] = out["loss"] + w.spectral * out["spectral"]
        contacts = self._require().contacts(target) if w.foot_slide > 0 else None
        if contacts is not None:
            if foot_weights is not None:
                contacts = contacts * foot_weights.to(contacts.dtype).view(-1, *([1] * (contacts.dim() - 1)))
            out["foot_slide"] = foot_slide_loss(self.context, pred, contacts)
            out["loss"] = out["loss"] + w.foot_slide * out["foot_slide"]
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
        return optimizer_with_schedule(self, self.net.parameters(), hp.lr, hp.weight_decay, hp.warmup_steps,
                                       hp.min_lr_ratio)

    def configure_callbacks(self):
        decay = float(self.hparams.get("ema_decay", 0.0) or 0.0)
        return [NetEMA(decay)] if decay > 0 else []

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        ctx = self._require()
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
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


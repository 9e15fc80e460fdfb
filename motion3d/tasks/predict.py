"""Motion prediction: observe N frames, predict M (task ``"predict"``), with :class:`Seq2SeqGRU` or
:class:`MotionTransformer`, and its evaluation: global and root-relative MPJPE and local-rotation
angle error at 80/160/320/400/1000 ms, printed beside the zero-velocity and constant-velocity
baselines on the same windows.

Training loss on the predicted frames: feature reconstruction + global joint positions through
the representation's differentiable decoder + foot-contact consistency (see
:mod:`motion3d.tasks.losses`). The GRU always feeds back its own predictions (Martinez et al.'s
sampling-based loss); the transformer is trained either the same way (``rollout_training``: teacher
forcing over the observed frames, its own free-running rollout after them) or with teacher forcing
and parallel scheduled sampling whose probability ramps from 0 to ``scheduled_sampling`` over the
run. Validation always predicts autoregressively, as at test time.
"""
from __future__ import annotations

import torch

from motion3d.metrics.motion import (angle_error_per_frame, constant_velocity, errors_at_horizons,
                                     mpjpe_per_frame, zero_velocity)
from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.context import MotionContext, labels_of
from motion3d.tasks.losses import ReconstructionWeights

__all__ = ["PredictionTask", "prediction_errors", "TASK_NAME"]

TASK_NAME = "predict"


class PredictionTask(MotionTask):
    """Observe ``observe`` frames of each window, predict the next ``horizon``.

    Args:
        net: :class:`Seq2SeqGRU` or :class:`MotionTransformer` (or any network with
            ``forward_train(x, observe, labels, sampling_prob) -> (pred, start)`` and
            ``predict(observed, horizon, labels)``).
        observe, horizon: frames; ``observe + horizon`` must not exceed the data's window.
        scheduled_sampling: final probability of feeding the transformer its own predictions
            (ramped linearly from 0 over training; ignored by the GRU and by a transformer with
            ``rollout_training``).
        weights: :class:`ReconstructionWeights` of the predicted frames.
        Others: see :class:`MotionTask`.
    """

    task_name = TASK_NAME
    weights_type = ReconstructionWeights

    def __init__(self, net: NetFactory, observe: int = 30, horizon: int = 30, scheduled_sampling: float = 0.5,
                 weights: ReconstructionWeights | None = None, lr: float = 1e-3, weight_decay: float = 1e-4,
                 warmup_steps: int = 100, min_lr_ratio: float = 0.05, loss: str = "l1", video_every_n_epochs: int = 5,
                 video_samples: int = 4):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                         min_lr_ratio=min_lr_ratio, loss=loss, video_every_n_epochs=video_every_n_epochs,
                         video_samples=video_samples)
        if observe < 2 or horizon < 1:
            raise ValueError(f"observe must be >= 2 and horizon >= 1, got {observe}, {horizon}")
        self._video_batch: dict | None = None

    def attach(self, ctx: MotionContext) -> None:
        need = self.hparams.observe + self.hparams.horizon
        if ctx.window is not None and ctx.window < need:
            raise ValueError(f"observe + horizon = {need} frames but the data's windows have {ctx.window}: "
                             "raise data.window or lower model.observe / model.horizon")
        super().attach(ctx)

    def _window(self, batch) -> torch.Tensor:
        x = batch["x"]
        need = self.hparams.observe + self.hparams.horizon
        if x.shape[1] < need:
            raise ValueError(f"batch windows have {x.shape[1]} frames, observe + horizon needs {need}")
        return x[:, :need]

    def sampling_prob(self) -> float:
        """Scheduled-sampling probability now: linear from 0 to ``scheduled_sampling`` over the run
        (by steps, or by ``max_time`` when that ends the run first: see :class:`RunProgress`)."""
        if self._trainer is None or self.hparams.scheduled_sampling <= 0:
            return 0.0
        return float(self.hparams.scheduled_sampling) * self.progress()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x = self._window(batch)
        pred, start = self.net.forward_train(x, self.hparams.observe, labels_of(batch), self.sampling_prob())
        target = x[:, start:start + pred.shape[1]]
        losses = self.reconstruction_losses(pred, target, x[:, start - 1:start])
        self.log_losses("train", losses, x.shape[0])
        self.log("train/sampling_prob", self.sampling_prob(), on_step=True, on_epoch=False, batch_size=x.shape[0])
        return losses["loss"]

    def validation_step(self, batch, batch_idx: int) -> None:
        x = self._window(batch)
        obs = self.hparams.observe
        labels = labels_of(batch)
        pred = self.net.predict(x[:, :obs], self.hparams.horizon, labels)
        losses = self.reconstruction_losses(pred, x[:, obs:], x[:, obs - 1:obs])
        errors = prediction_errors(self.context, x, pred, obs)
        h = self.context.fps
        for name in ("model", "zero_velocity", "constant_velocity"):
            for ms, err in errors_at_horizons(errors[name]["global"], h).items():
                key = "mpjpe" if name == "model" else f"mpjpe_{name}"
                losses[f"{key}_{int(ms)}ms"] = torch.tensor(err)
        losses["mpjpe"] = errors["model"]["global"].mean()
        losses["mpjpe_root_relative"] = errors["model"]["root"].mean()
        self.log_losses("val", losses, x.shape[0])
        if batch_idx == 0:
            self._video_batch = {"x": x[: self.hparams.video_samples].detach(),
                                 "labels": {k: v[: self.hparams.video_samples] for k, v in labels.items()}}

    def video_features(self) -> torch.Tensor | None:
        """The first validation windows: observed frames followed by the model's prediction."""
        if self._video_batch is None:
            return None
        x, obs = self._video_batch["x"], self.hparams.observe
        pred = self.net.predict(x[:, :obs], self.hparams.horizon, self._video_batch["labels"])
        return torch.cat([x[:, :obs], pred], dim=1)


# ---------------------------------------------------------------------------------------------
# metrics on windows
# ---------------------------------------------------------------------------------------------
@torch.no_grad()
def prediction_errors(ctx: MotionContext, x: torch.Tensor, pred: torch.Tensor, observe: int,
                      velocity_frames: int = 1) -> dict[str, dict[str, torch.Tensor]]:
    """Per-frame errors ``(B, H)`` of a prediction and of both baselines.

    Args:
        ctx: the data context (decoder, normaliser).
        x: normalised windows ``(B, >= observe + H, D)`` (ground truth).
        pred: normalised predictions ``(B, H, D)`` of frames ``observe .. observe + H - 1``.
        velocity_frames: frames over which the constant-velocity baseline measures the root velocity.

    Returns:
        ``{"model" | "zero_velocity" | "constant_velocity": {"global", "root", "angle"}}``: global
        MPJPE, root-relative MPJPE (data units) and mean geodesic angle error of local rotations
        (radians; only when the representation decodes rotations).
    """
    H = pred.shape[1]
    truth = x[:, :observe + H].float()
    # decode the observed frames followed by the prediction, so both start at the same place
    p_true = ctx.decode_positions(truth)  # (B, T, J, 3)
    p_pred = ctx.decode_positions(torch.cat([truth[:, :observe], pred.float()], dim=1))
    observed = p_true[:, :observe]
    target = p_true[:, observe:]
    root = ctx.root_joint
    candidates = {"model": p_pred[:, observe:], "zero_velocity": zero_velocity(observed, H),
                  "constant_velocity": constant_velocity(observed, H, root=root, frames=velocity_frames)}
    out = {name: {"global": mpjpe_per_frame(p, target), "root": mpjpe_per_frame(p, target, root=root)}
           for name, p in candidates.items()}
    rep = ctx.representation
    if hasattr(rep, "decode_kinematics"):
        q_true = rep.decode_kinematics(ctx.normalizer.denormalize(truth))[0]
        q_pred = rep.decode_kinematics(ctx.normalizer.denormalize(torch.cat([truth[:, :observe], pred.float()], 1)))[0]
        joints = getattr(rep, "body", None)
        q_obs, q_tgt = q_true[:, :observe], q_true[:, observe:]
        out["model"]["angle"] = angle_error_per_frame(q_pred[:, observe:], q_tgt, joints)
        still = angle_error_per_frame(zero_velocity(q_obs, H), q_tgt, joints)
        out["zero_velocity"]["angle"] = still
        out["constant_velocity"]["angle"] = still  # the pose is carried unchanged
    return out

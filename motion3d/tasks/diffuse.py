"""Motion diffusion (task ``"diffuse"``) with :class:`motion3d.models.motion.MotionDiffusion`, and
the controls built on it: known frames and channels (prediction, in-betweening, root paths) and
joint positions reached through forward kinematics (sparse trackers).

Training step, top to bottom:

1. draw a diffusion step ``t`` per clip and noise ``x_t = q_sample(x0, t, eps)``;
2. draw what is known about each clip (:func:`training_constraints`): nothing (plain generation),
   a prefix (prediction), context frames and a target frame (in-betweening), the root trajectory
   channels (root paths), scattered frames, or the global positions of a few joints at every frame
   (trackers: head, hands and feet, head and hands, or a random subset); the denoiser sees the
   known features and their mask, so one model serves every control (CondMDI). With
   ``joint_positions`` (``configs/motion/diffusion.yaml``) it also sees the global joint positions (:func:`joint_positions`)
   of the known whole frames (in three clips of four: a caller that gives none still works), which
   the features do not hold: a keyframe's features say how its root moves, not where it is after a
   gap;
3. drop the labels of some clips (classifier-free guidance);
4. the denoiser predicts ``x0``; the loss is :meth:`MotionTask.reconstruction_losses` (features,
   joint positions and foot contacts through the differentiable decoder, velocities, foot slide),
   weighted by the config's ``weights``. ``foot_slide_schedule="signal"`` scales each clip's
   foot-slide term by its signal fraction ``alpha_bar(t)``: at high noise the best ``x0`` is a
   blurred average of many motions, whose planted feet cannot all be still, and penalising their
   speed there teaches the denoiser to slow the whole body down; near ``t = 0`` the prediction is
   one motion and the term says what a real one does.

Validation uses the same loss at diffusion steps drawn from a fixed generator (comparable epochs)
and logs sample videos.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from motion3d.skeleton import Skeleton
from motion3d.models.motion.diffusion import noise_like, refine
from motion3d.retarget.mapping import find_roles
from motion3d.tasks.base import MotionTask, NetFactory
from motion3d.tasks.context import ContextMismatch, MotionContext, labels_of, random_labels
from motion3d.tasks.losses import ReconstructionWeights

__all__ = ["DiffusionTask", "TASK_NAME", "CONSTRAINT_KINDS", "FOOT_SLIDE_SCHEDULES", "TRACKER_JOINTS",
           "KNOWN_FRAME_POSITIONS", "training_constraints", "root_channels", "position_guide", "known_frames",
           "tracker_joints", "joint_positions", "known_frame_positions", "plant_guide", "plant_feet",
           "PLANT_STEPS", "PLANT_SWING", "CONTACT_THRESHOLD"]

TASK_NAME = "diffuse"

#: per-clip factors of the foot-slide loss over the diffusion steps (:class:`DiffusionTask`)
FOOT_SLIDE_SCHEDULES = ("uniform", "signal")

#: what :func:`training_constraints` draws, with default probabilities
CONSTRAINT_KINDS = {"none": 0.35, "prefix": 0.15, "inbetween": 0.2, "root": 0.1, "frames": 0.05, "joints": 0.15}

#: joint groups by canonical role (:func:`motion3d.retarget.mapping.find_roles`): what trackers follow
TRACKER_JOINTS = {"head": ["head"], "hands": ["left_hand", "right_hand"], "feet": ["left_foot", "right_foot"],
                  "hips": ["hips"]}

#: the fraction of training clips whose known whole frames also come with their joint positions
KNOWN_FRAME_POSITIONS = 0.75

#: :func:`plant_guide`: a foot is planted where the sample's own contact channel exceeds this
CONTACT_THRESHOLD = 0.5
#: :func:`plant_guide`: weight of the swinging feet's velocity change against the planted feet's speed.
#: Val, 256 root-path windows, seed-0 20-minute model, foot skate x real (sampled 1.85 on these windows)
#: and the 99th percentile of foot acceleration (sampled 41, capture 39 body heights/s^2) with 100
#: steps: 0 (planted speed only): 1.66, 85 (the foot catches up in one frame when it lifts); 0.1 /
#: 0.3 / 1 / 3: 1.45 / 1.46 / 1.50 / 1.57, 42 each; 0.3 with 300 steps: 1.42. A penalty on every foot
#: acceleration instead (1e-3 / 3e-4): 1.85 / 1.75, the feet stiller than captured (p99 18 / 19). As
#: per-step guidance on the denoiser's x0 (planted speed only, scale 0.01 / 0.1 / 3 / 30): 1.39 / 1.39 /
#: 1.97 / 5.96 on all 529 windows (sampled 1.39): pulling every step's x0 feeds the denoiser poses it did
#: not learn
PLANT_SWING = 0.3
#: Adam steps of :func:`plant_feet`
PLANT_STEPS = 100


def tracker_joints(skeleton: Skeleton, joints: Sequence[str]) -> list[int]:
    """Joint indices of ``joints``: names of ``skeleton``'s joints or the groups of :data:`TRACKER_JOINTS`."""
    roles = find_roles(skeleton)
    out: list[int] = []
    for j in joints:
        if j in TRACKER_JOINTS:
            missing = [r for r in TRACKER_JOINTS[j] if r not in roles]
            if missing:
                raise ValueError(f"cannot find the {j} ({missing}) of the skeleton {skeleton.names}")
            out += [roles[r] for r in TRACKER_JOINTS[j]]
        elif j in skeleton.names:
            out.append(skeleton.index(j))
        else:
            raise ValueError(f"unknown joint {j!r}: give joint names of the skeleton or the groups "
                             f"{list(TRACKER_JOINTS)}")
    return list(dict.fromkeys(out))


def joint_positions(ctx: MotionContext, x: torch.Tensor) -> torch.Tensor:
    """``(B, T, J, 3)`` global joint positions, in body heights, of normalised features ``x (B, T, D)``
    decoded from the origin facing +Z: the positions a denoiser built with ``condition_joints``
    is conditioned on (positions from elsewhere: :func:`motion3d.features.trajectory.to_initial_frame`
    into that frame, then divided by ``ctx.skeleton.height()``)."""
    return ctx.decode_positions(x.float()) / float(ctx.skeleton.height())


def known_frame_positions(ctx: MotionContext, x: torch.Tensor, mask: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(positions (B, T, J, 3), position_mask (B, T, J))``: every joint of the whole frames that
    ``mask (B, T, D)`` gives (all channels known) of windows ``x (B, T, D)``, as
    :func:`joint_positions`; zeros elsewhere. What the denoiser is given of known keyframes."""
    pos = joint_positions(ctx, x)
    known = mask.all(-1)[..., None].expand(pos.shape[:-1]).clone()
    return torch.where(known[..., None], pos, torch.zeros_like(pos)), known


def root_channels(ctx: MotionContext) -> torch.Tensor:
    """``(D,)`` bool: the root trajectory channels of the representation (height, planar velocity,
    heading velocity), the channels a root path fixes."""
    mask = torch.zeros(ctx.dim, dtype=torch.bool)
    for group in ("root_height", "root_velocity", "root_angular_velocity"):
        if group in ctx.representation.layout:
            mask[ctx.representation.slice(group)] = True
    if not mask.any():
        raise ValueError(f"{ctx.representation} has no root trajectory channels")
    return mask


def known_frames(frames: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
    """Mask ``(B, T, D)`` that is set where ``frames (B, T)`` and ``channels (D,)`` both are."""
    return frames[:, :, None] & channels.to(frames.device)[None, None, :]


def training_constraints(x: torch.Tensor, ctx: MotionContext, probs: dict[str, float] | None = None,
                         generator: torch.Generator | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(mask (B, T, D) bool, values (B, T, D), joints (B, T, J) bool)``: a random control per clip
    of ``x (B, T, D)``: the known features, their values, and the joints whose global positions are
    known (:func:`joint_positions`).

    Kinds (``probs``, default :data:`CONSTRAINT_KINDS`): ``none``; ``prefix``, the first 1 .. T/2
    frames; ``inbetween``, 1 .. T/3 context frames and a target frame anywhere after them, with every
    frame after the target known in half the clips (a gap filled inside a clip, ``--fill``) and none in
    the other half (a gap and one target frame, the LaFAN1 protocol, the window running on past it);
    ``root``, the root channels of every frame; ``frames``, each frame known with probability 1/8;
    ``joints``, no features, the positions of head, hands and feet, or head and hands, or each
    joint with probability 1/4 (a third of the clips each; random subsets only on a skeleton whose
    head, hands and feet are not found), at every frame. Every joint of a known whole frame is known
    in a fraction :data:`KNOWN_FRAME_POSITIONS` of the clips. Vectorised over the batch."""
    B, T, D = x.shape
    probs = dict(CONSTRAINT_KINDS if probs is None else probs)
    names = list(probs)
    p = torch.tensor([float(probs[k]) for k in names])
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"constraint probabilities must be >= 0 and not all 0, got {probs}")
    dev = x.device
    kind = torch.multinomial(p / p.sum(), B, replacement=True, generator=generator).to(dev)  # (B,)
    u = torch.rand(B, 3, generator=generator).to(dev)
    frame = torch.arange(T, device=dev)[None, :]  # (1, T)
    n_prefix = 1 + (u[:, 0] * (T // 2)).long().clamp(max=max(T // 2 - 1, 0))  # (B,)
    n_context = 1 + (u[:, 1] * (T // 3)).long().clamp(max=max(T // 3 - 1, 0))
    target = (n_context + 1 + (u[:, 2] * (T - n_context - 1)).long()).clamp(max=T - 1)  # (B,) after a gap
    trailing = torch.rand(B, generator=generator).to(dev) < 0.5  # the frames after the target known
    scattered = torch.rand(B, T, generator=generator).to(dev) < 0.125
    rows = {
        "none": torch.zeros(B, T, dtype=torch.bool, device=dev),
        "prefix": frame < n_prefix[:, None],
        "inbetween": (frame < n_context[:, None]) | (frame == target[:, None])
                     | (trailing[:, None] & (frame > target[:, None])),
        "frames": scattered,
    }
    rows["root"] = rows["joints"] = rows["none"]  # no whole frame (root: its channels, below)
    all_channels = torch.ones(D, dtype=torch.bool, device=dev)
    mask = torch.zeros(B, T, D, dtype=torch.bool, device=dev)
    for i, name in enumerate(names):
        if name not in rows:
            raise ValueError(f"unknown constraint kind {name!r}; known: {list(rows)}")
        pick = (kind == i)[:, None, None]
        if name == "root":
            m = known_frames(torch.ones(B, T, dtype=torch.bool, device=dev), root_channels(ctx))
        else:
            m = known_frames(rows[name], all_channels)
        mask = mask | (pick & m)
    J = ctx.skeleton.num_joints
    with_positions = torch.rand(B, generator=generator).to(dev) < KNOWN_FRAME_POSITIONS
    joints = (mask.all(-1) & with_positions[:, None])[:, :, None].expand(B, T, J)
    if "joints" in names:
        tracked = _tracked_joints(ctx, B, generator).to(dev) & (kind == names.index("joints"))[:, None]  # (B, J)
        joints = joints | tracked[:, None, :]
    return mask, torch.where(mask, x, torch.zeros_like(x)), joints


def _tracked_joints(ctx: MotionContext, B: int, generator: torch.Generator | None) -> torch.Tensor:
    """``(B, J)`` bool: per clip, head + hands + feet, head + hands, or a random subset (module
    docstring); of the groups, those the skeleton has (a set with none of them: a random subset)."""
    J = ctx.skeleton.num_joints
    out = torch.rand(B, J, generator=generator) < 0.25
    out[torch.arange(B), torch.randint(0, J, (B,), generator=generator)] = True  # at least one joint
    which = torch.randint(0, 3, (B,), generator=generator)
    for i, groups in enumerate((["head", "hands", "feet"], ["head", "hands"])):
        row = torch.zeros(J, dtype=torch.bool)
        for group in groups:
            try:
                row[tracker_joints(ctx.skeleton, [group])] = True
            except ValueError:  # not on this skeleton
                pass
        if row.any():
            out[which == i] = row
    return out


def position_guide(ctx: MotionContext, joints: Sequence[int], targets: torch.Tensor, known: torch.Tensor | None = None,
                   initial: torch.Tensor | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Reconstruction guidance for joint positions: ``f(x0) -> (B,)``, the mean squared distance, in
    body heights, between the positions of ``joints`` decoded from normalised features ``x0 (B, T, D)``
    (differentiable forward kinematics, from ``initial (B, 3)`` = ``[x0, z0, heading0]``, default the
    origin) and ``targets (B, T, K, 3)`` in the same world frame, where ``known (B, T, K)`` (default
    everywhere). :meth:`MotionDiffusion.sample` descends it on every step's clean prediction."""
    idx = torch.as_tensor(list(joints), dtype=torch.long)
    h = float(ctx.skeleton.height())
    w = torch.ones(targets.shape[:-1], dtype=torch.float32) if known is None else known.float()

    def guide(x0: torch.Tensor) -> torch.Tensor:
        feats = ctx.normalizer.denormalize(x0.float())
        init = None if initial is None else initial.to(x0.device, x0.dtype)
        pos = ctx.representation.decode_positions(feats, init)[..., idx.to(x0.device), :] / h  # (B, T, K, 3)
        d2 = (pos - targets.to(x0.device, x0.dtype) / h).square().sum(-1)  # (B, T, K)
        ww = w.to(x0.device)
        return (d2 * ww).sum((1, 2)) / ww.sum((1, 2)).clamp(min=1)

    return guide


def plant_guide(ctx: MotionContext, sample: torch.Tensor, threshold: float = CONTACT_THRESHOLD,
                swing: float = PLANT_SWING) -> Callable[[torch.Tensor], torch.Tensor]:
    """A guide that plants the feet of a finished ``sample (B, T, D)`` (normalised features):
    ``f(x) -> (B,)``, per frame step of each foot joint (``ctx.feet``), the squared horizontal speed
    (body heights/s) where the sample's contact channels (:meth:`MotionContext.contacts`) exceed
    ``threshold`` at both ends of the step, plus ``swing`` times the squared difference between the
    foot's velocity and the sample's at the other steps, averaged over frames. The second term keeps
    the swing as sampled: without it the foot held still through a contact catches up in one frame
    when it lifts (val, 256 root-path windows, seed 0: the 99th percentile of foot acceleration
    85 body heights/s^2, against 41 sampled and 39 captured). Positions from the origin (velocities
    do not depend on where the clip starts)."""
    feet = torch.as_tensor(ctx.feet, dtype=torch.long)
    h = float(ctx.skeleton.height())
    contacts = ctx.contacts(sample.detach())

    def velocities(x: torch.Tensor) -> torch.Tensor:  # (B, T-1, F, 3) body heights/s
        pos = ctx.representation.decode_positions(ctx.normalizer.denormalize(x.float()))[..., feet.to(x.device), :]
        return (pos[:, 1:] - pos[:, :-1]) * (ctx.fps / h)

    if contacts is None or not len(feet) or sample.shape[-2] < 2:
        return lambda x: x.sum((1, 2)) * 0.0
    planted = (contacts > threshold).float()
    both = planted[:, 1:] * planted[:, :-1]  # (B, T-1, F)
    with torch.no_grad():
        v0 = velocities(sample)

    def guide(x: torch.Tensor) -> torch.Tensor:
        v = velocities(x)
        held = (v[..., [0, 2]].square().sum(-1) * both).sum((1, 2))
        kept = ((v - v0).square().sum(-1) * (1 - both)).sum((1, 2))
        return (held + swing * kept) / x.shape[-2]

    return guide


def plant_feet(ctx: MotionContext, sample: torch.Tensor, mask: torch.Tensor | None = None,
               steps: int = PLANT_STEPS, **options) -> torch.Tensor:
    """Finished samples ``(B, T, D)`` (normalised features) with their planted feet held still:
    ``steps`` Adam steps of :func:`plant_guide` (``options``: its ``threshold`` and ``swing``) by
    :func:`motion3d.models.motion.diffusion.refine`, which keeps the rest near the sample and the
    features where ``mask (B, T, D)`` exactly (a given root path stays exact). A post-process: the
    samples' own contact channels say which feet are planted."""
    if steps <= 0:
        return sample
    return refine(sample, plant_guide(ctx, sample, **options), int(steps), mask)


class DiffusionTask(MotionTask):
    """Train a :class:`MotionDiffusion` denoiser (see the module docstring).

    Args:
        net: :class:`MotionDiffusion` (or its class with arguments, from a config).
        weights: :class:`ReconstructionWeights` of the clean-motion prediction.
        constraints: probabilities of the training controls (:data:`CONSTRAINT_KINDS` by default).
        foot_slide_schedule: ``"uniform"`` (the same foot-slide weight at every diffusion step) or
            ``"signal"`` (times ``alpha_bar(t)``; module docstring).
        joint_positions: build the denoiser with ``condition_joints`` = the skeleton's joints and
            condition it on known joint positions (module docstring, 2.); without (the default, as
            checkpoints written before it), the ``joints`` kind is not drawn and positions are
            reached by guidance alone.
        Others: see :class:`MotionTask`.
    """

    task_name = TASK_NAME
    weights_type = ReconstructionWeights

    def __init__(self, net: NetFactory, weights: ReconstructionWeights | None = None,
                 constraints: dict[str, float] | None = None, lr: float = 2e-4, weight_decay: float = 1e-4,
                 warmup_steps: int = 200, min_lr_ratio: float = 0.05, loss: str = "mse", video_every_n_epochs: int = 5,
                 video_samples: int = 4, foot_slide_schedule: str = "uniform", ema_decay: float = 0.0,
                 joint_positions: bool = False):
        super().__init__(net, weights=weights, lr=lr, weight_decay=weight_decay, warmup_steps=warmup_steps,
                         min_lr_ratio=min_lr_ratio, loss=loss, video_every_n_epochs=video_every_n_epochs,
                         video_samples=video_samples, ema_decay=ema_decay)
        if foot_slide_schedule not in FOOT_SLIDE_SCHEDULES:
            raise ValueError(f"foot_slide_schedule must be one of {list(FOOT_SLIDE_SCHEDULES)}, "
                             f"got {foot_slide_schedule!r}")
        if constraints is not None:  # checked now, not at the first step
            unknown = set(constraints) - set(CONSTRAINT_KINDS)
            if unknown:
                raise ValueError(f"unknown constraint kind(s) {sorted(unknown)}; known: {list(CONSTRAINT_KINDS)}")

    def net_options(self, ctx: MotionContext) -> dict:
        return {"condition_joints": ctx.skeleton.num_joints} if self.hparams.joint_positions else {}

    def check_net(self, ctx: MotionContext) -> None:
        super().check_net(ctx)
        J = int(getattr(self.net, "condition_joints", 0))
        if J and J != ctx.skeleton.num_joints:
            raise ContextMismatch(f"the network is conditioned on {J} joint positions but the data's skeleton has "
                                  f"{ctx.skeleton.num_joints} joints")
        if not J and (self.hparams.constraints or {}).get("joints", 0) > 0:
            raise ValueError("the 'joints' training constraint gives the denoiser joint positions: it needs "
                             "joint_positions: true (a network built with condition_joints)")

    def _step(self, batch, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        ctx, net = self._require(), self.net
        x0 = batch["x"]
        B = x0.shape[0]
        t = torch.randint(0, net.diffusion_steps, (B,), generator=generator).to(x0.device)
        noise = noise_like(x0, generator)
        x_t = net.schedule.q_sample(x0, t, noise)
        conditioned = bool(getattr(net, "condition_joints", 0))
        probs = dict(CONSTRAINT_KINDS if self.hparams.constraints is None else self.hparams.constraints)
        if not conditioned:  # the default kinds, without joint positions (check_net)
            probs.pop("joints", None)
        mask, values, joints = training_constraints(x0, ctx, probs, generator)
        labels = net.drop_labels(labels_of(batch)) if generator is None else labels_of(batch)
        positions = None
        if conditioned:
            with torch.no_grad():
                positions = joint_positions(ctx, x0)
        pred = net(x_t, t, labels, mask, values, positions, joints if conditioned else None)
        signal = net.schedule.at(t).reshape(B) if self.hparams.foot_slide_schedule == "signal" else None
        return self.reconstruction_losses(pred, x0, foot_weights=signal)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        losses = self._step(batch)
        self.log_losses("train", losses, batch["x"].shape[0])
        return losses["loss"]

    def validation_step(self, batch, batch_idx: int) -> None:
        g = torch.Generator().manual_seed(1000 + batch_idx)  # the same steps, noise and masks every epoch
        losses = self._step(batch, g)
        self.log_losses("val", losses, batch["x"].shape[0])

    def video_features(self) -> torch.Tensor | None:
        """Samples of random labels, one window long (the config's default steps and guidance)."""
        ctx = self.context
        n = int(self.hparams.video_samples)
        g = torch.Generator().manual_seed(self.current_epoch)
        labels = {k: v.to(self.device) for k, v in random_labels(ctx, n, g).items()}
        return self.net.sample(n, ctx.window or 60, labels, generator=g)

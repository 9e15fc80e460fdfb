"""Editing whole clips with a ``diffuse`` checkpoint (``tools/edit_motion.py``): fill a gap, extend a
clip, follow another clip's root path, or follow a few joints of another clip (sparse trackers).

Every edit is one inpainting problem on the clip's normalised features ``(T, D)``: a mask of the
known features and their values, and optionally joint-position targets reached through forward
kinematics (reconstruction guidance, :func:`motion3d.tasks.diffuse.position_guide`). A clip longer
than the model's window is edited window by window (``window`` frames, ``overlap`` apart): each
window also knows the last ``overlap`` frames of the previous one, so the windows join without a
seam, and a window whose features are all known is copied. Known features are in the output
exactly; the output is decoded where the clip (or, following another clip, that clip) starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from motion3d.features.trajectory import TrajectoryRepresentation, reconnect_trajectory, to_initial_frame
from motion3d.motion import Motion
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext
from motion3d.tasks.diffuse import (TASK_NAME, TRACKER_JOINTS, known_frame_positions, known_frames, plant_feet,
                                     position_guide, root_channels, tracker_joints)

__all__ = ["MotionEditor", "TRACKER_JOINTS", "GUIDE_SCALE", "GUIDE_SCALE_CONDITIONED", "GUIDE_ITERS",
           "GUIDE_REFINE", "guide_scale_for", "reconnect_root"]

#: reconstruction-guidance step and steps per denoising step of :meth:`MotionEditor.joints_from`. On
#: the 20-minute Bandai-Namco checkpoint (8 val windows, 25 DDIM steps, head/hands/feet given) the
#: given joints miss by 127 cm at scale 1, 58 at 10, 24 at 30, 31 at 60, 272 at 300 (diverges); 4
#: iterations at 30: 22 cm
GUIDE_SCALE = 30.0
GUIDE_ITERS = 2
#: the step for a denoiser that also sees the given joints (``condition_joints``): it puts them close
#: already, and a strong pull bends the rest of the body. Chosen on val (seed 0 of
#: configs/motion/diffusion.yaml, 529 windows, head/hands/feet given): other joints 4.24 / 3.78 / 3.55 /
#: 3.75 cm at scale 0 / 5 / 10 / 30
GUIDE_SCALE_CONDITIONED = 10.0
#: Adam steps on the finished window towards the given joints (:func:`motion3d.models.motion.diffusion.refine`).
#: Same checkpoint, 32 val windows, scale 30 x 2: given joints 35.1 cm off and other joints 25.2 cm with
#: none, 5.1 / 9.0 with 100, 1.5 / 6.2 with 300, 0.55 / 5.1 with 1000 (the nearest-pose baseline: 4.2)
GUIDE_REFINE = 300


def guide_scale_for(net) -> float:
    """The default reconstruction-guidance step for ``net``: :data:`GUIDE_SCALE_CONDITIONED` when it
    takes joint positions (``condition_joints``), else :data:`GUIDE_SCALE`."""
    return GUIDE_SCALE_CONDITIONED if getattr(net, "condition_joints", 0) else GUIDE_SCALE


@dataclass
class MotionEditor:
    """A loaded ``diffuse`` checkpoint that edits clips (see the module docstring)."""

    net: torch.nn.Module
    ctx: MotionContext

    @classmethod
    def load(cls, ckpt: str | Path, device: str = "cpu") -> "MotionEditor":
        net, ctx, _ = load_motion_checkpoint(ckpt, TASK_NAME, device)
        return cls(net, ctx)

    @property
    def window(self) -> int:
        return int(min(self.ctx.window or 60, getattr(self.net, "max_len", 60)))

    # ------------------------------------------------------------------ the edits
    def fill(self, motion: Motion, start: int, end: int, **options) -> Motion:
        """``motion`` with frames ``start .. end - 1`` generated between the frames around them."""
        T = motion.num_frames
        if not 0 < start < end <= T:
            raise ValueError(f"--fill {start}:{end} must lie inside the clip's 1..{T} frames with frames before it")
        x = self.ctx.encode(motion)
        frames = torch.ones(T, dtype=torch.bool)
        frames[start:end] = False
        return self._run(x, known_frames(frames[None], torch.ones(self.ctx.dim, dtype=torch.bool))[0], motion, **options)

    def extend(self, motion: Motion, frames: int, **options) -> Motion:
        """``motion`` followed by ``frames`` generated frames (prediction)."""
        if frames < 1:
            raise ValueError(f"--extend takes a positive number of frames, got {frames}")
        x = self.ctx.encode(motion)
        T = x.shape[0]
        x = torch.cat([x, x.new_zeros(frames, x.shape[1])])
        mask = torch.zeros_like(x, dtype=torch.bool)
        mask[:T] = True
        return self._run(x, mask, motion, **options)

    def root_from(self, other: Motion, **options) -> Motion:
        """A new body motion along ``other``'s root path (its root trajectory channels, every frame),
        placed where ``other`` starts; the length of ``other``."""
        x = self.ctx.encode(other)
        mask = known_frames(torch.ones(1, x.shape[0], dtype=torch.bool), root_channels(self.ctx))[0]
        return self._run(torch.where(mask, x, torch.zeros_like(x)), mask, other, **options)

    def joints_from(self, other: Motion, joints: Sequence[str], **options) -> Motion:
        """A motion whose ``joints`` (names, or groups of :data:`TRACKER_JOINTS`) follow ``other``'s
        global positions, the rest of the body generated: reconstruction guidance through FK."""
        idx = self.joint_indices(joints)
        x = self.ctx.encode(other)
        targets = self.ctx.representation.decode_positions(
            self.ctx.normalizer.denormalize(x.double()).float(),
            torch.as_tensor(self.ctx.representation.initial_state(other), dtype=torch.float32))[:, idx]  # (T, K, 3)
        return self._run(torch.zeros_like(x), torch.zeros_like(x, dtype=torch.bool), other, targets=(idx, targets),
                         **options)

    def joint_indices(self, joints: Sequence[str]) -> list[int]:
        """Joint indices of ``joints``: names of this skeleton or the groups head, hands, feet, hips."""
        try:
            return tracker_joints(self.ctx.skeleton, joints)
        except ValueError as e:
            raise ValueError(str(e).replace("the skeleton", "the checkpoint's skeleton")) from None

    # ------------------------------------------------------------------ the windowed inpainting
    @torch.no_grad()
    def _run(self, x: torch.Tensor, mask: torch.Tensor, like: Motion, targets: tuple[list[int], torch.Tensor] | None = None,
             labels: Mapping[str, str] | None = None, seed: int = 0, steps: int | None = None,
             guidance: float | None = None, guide_scale: float | None = None, guide_iters: int = GUIDE_ITERS,
             guide_refine: int = GUIDE_REFINE, overlap: int | None = None, name: str = "", samples: int = 1,
             plant: int = 0) -> Motion:
        """Inpaint ``x (T, D)`` where ``mask (T, D)`` is unset (see the module docstring) and decode.
        ``guide_scale`` None: :func:`guide_scale_for` the checkpoint's network. ``samples``: each
        window the mean of that many draws (:meth:`MotionDiffusion.sample`). ``plant``: refinement
        steps that hold still the feet each generated window calls planted, its known features kept
        (:func:`motion3d.tasks.diffuse.plant_feet`; not with joint targets, whose guide refines)."""
        if plant and targets is not None:
            raise ValueError("planting the feet (plant) does not combine with joint targets (joints_from)")
        T, W = x.shape[0], self.window
        guide_scale = guide_scale_for(self.net) if guide_scale is None else float(guide_scale)
        O = W // 3 if overlap is None else int(overlap)
        if not 0 <= O < W:
            raise ValueError(f"overlap must be in [0, {W}), got {O}")
        device = next(self.net.parameters()).device
        ids = {k: torch.tensor([self.ctx.label_names[k].index(v)], device=device) for k, v in (labels or {}).items()}
        g = torch.Generator().manual_seed(int(seed))
        y = torch.where(mask, x, torch.zeros_like(x))
        done = torch.zeros(T, dtype=torch.bool)  # frames already produced (carried into the next window)
        initial0 = torch.as_tensor(self.ctx.representation.initial_state(like), dtype=torch.float32)
        s = 0
        while True:
            e = min(s + W, T)
            s = max(0, e - W)  # the last window ends at the clip's end
            m = mask[s:e] | (done[s:e, None] & torch.ones_like(mask[s:e]))
            if not bool(m.all()) or targets is not None:
                c = {"mask": m[None].to(device), "values": y[s:e][None].to(device)}
                # where the window starts (decoded from the clip's start): only the tracked targets need it
                init = None if targets is None else initial0 if s == 0 else self._state_at(y[:s + 1], like, s)
                if getattr(self.net, "condition_joints", 0):
                    pos, known = self._window_positions(torch.where(done[:, None] | mask, y, x), s, e, m.all(-1),
                                                        init, targets)
                    c.update(positions=pos[None].to(device), position_mask=known[None].to(device))
                if targets is not None:
                    idx, pos = targets
                    c.update(guide=position_guide(self.ctx, idx, pos[s:e][None], initial=init[None]),
                             guide_scale=guide_scale, guide_iters=guide_iters, guide_refine=guide_refine)
                out = self.net.sample(1, e - s, ids or None, generator=g, constraints=c, steps=steps,
                                      guidance=guidance, samples=samples)
                out = plant_feet(self.ctx, out, c["mask"], plant)[0].cpu() if plant else out[0].cpu()
                y[s:e] = torch.where(m, y[s:e], out)
            done[s:e] = True
            if e >= T:
                break
            s = e - O
        return self.ctx.decode(reconnect_root(self.ctx, y, x, mask), like=like, name=name or like.name)

    def _window_positions(self, z: torch.Tensor, s: int, e: int, frames: torch.Tensor, init: torch.Tensor | None,
                          targets: tuple[list[int], torch.Tensor] | None):
        """``(positions (W, J, 3), known (W, J))`` that condition the window ``s:e`` (the model's
        ``condition_joints``), in body heights, in the frame its decoding starts from: every joint of
        the window's known whole frames ``frames (W,)``, the window of the clip's features
        ``z (T, D)`` (generated where already done, the clip's own elsewhere) decoded from the origin,
        as in training (:func:`motion3d.tasks.diffuse.known_frame_positions`); and the ``targets``
        joints (world positions ``(T, K, 3)``) at every frame, moved from the window's start state
        ``init`` ``[x, z, heading]`` into that frame."""
        local, known = (a[0] for a in known_frame_positions(self.ctx, z[None, s:e], frames[None, :, None]))
        if targets is not None:
            idx, pos = targets
            local[:, idx] = to_initial_frame(pos[s:e].to(local.dtype), init) / float(self.ctx.skeleton.height())
            known[:, idx] = True
        return local, known

    def _state_at(self, y: torch.Tensor, like: Motion, frame: int) -> torch.Tensor:
        """``[x, z, heading]`` at ``frame`` of the features ``y[:frame + 1]`` decoded from ``like``'s start."""
        m = self.ctx.decode(y, like=like)
        return torch.as_tensor(np.asarray(self.ctx.representation.initial_state(m[frame:]), dtype=np.float32))


def reconnect_root(ctx: MotionContext, y: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Normalised features ``y (T, D)`` generated where ``mask (T, D)`` is unset, with the root
    trajectory of each generated gap adjusted so that the known frames of ``x (T, D)`` after it keep
    their world positions and headings (:func:`motion3d.features.trajectory.reconnect_trajectory`);
    ``y`` unchanged when the representation has no integrated trajectory or nothing follows a gap."""
    if not isinstance(ctx.representation, TrajectoryRepresentation):
        return y
    idx = torch.nonzero(root_channels(ctx)).flatten()  # height, velocity x/z, angular velocity
    free = ~mask[:, idx].all(-1)
    if not bool(free.any()) or bool(free.all()):
        return y
    fy = ctx.normalizer.denormalize(y.double())
    fx = ctx.normalizer.denormalize(x.double())
    fy[:, idx] = torch.from_numpy(reconnect_trajectory(fy[:, idx].numpy(), fx[:, idx].numpy(), free.numpy()))
    return ctx.normalizer.normalize(fy).float()


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

from motion3d.features.trajectory import TrajectoryRepresentation, reconnect_trajectory
from motion3d.motion import Motion
from motion3d.retarget.mapping import find_roles
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext
from motion3d.tasks.diffuse import TASK_NAME, known_frames, position_guide, root_channels

__all__ = ["MotionEditor", "TRACKER_JOINTS", "GUIDE_SCALE", "GUIDE_ITERS", "GUIDE_REFINE", "reconnect_root"]

#: ``--joints`` groups: canonical roles of :func:`motion3d.retarget.mapping.find_roles`
TRACKER_JOINTS = {"head": ["head"], "hands": ["left_hand", "right_hand"], "feet": ["left_foot", "right_foot"],
                  "hips": ["hips"]}

#: reconstruction-guidance step and steps per denoising step of :meth:`MotionEditor.joints_from`. On
#: the 20-minute Bandai-Namco checkpoint (8 val windows, 25 DDIM steps, head/hands/feet given) the
#: given joints miss by 127 cm at scale 1, 58 at 10, 24 at 30, 31 at 60, 272 at 300 (diverges); 4
#: iterations at 30: 22 cm
GUIDE_SCALE = 30.0
GUIDE_ITERS = 2
#: Adam steps on the finished window towards the given joints (:func:`motion3d.models.motion.diffusion._refined`).
#: Same checkpoint, 32 val windows, scale 30 x 2: given joints 35.1 cm off and other joints 25.2 cm with
#: none, 5.1 / 9.0 with 100, 1.5 / 6.2 with 300, 0.55 / 5.1 with 1000 (the nearest-pose baseline: 4.2)
GUIDE_REFINE = 300


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
        sk = self.ctx.skeleton
        roles = find_roles(sk)
        out: list[int] = []
        for j in joints:
            if j in TRACKER_JOINTS:
                missing = [r for r in TRACKER_JOINTS[j] if r not in roles]
                if missing:
                    raise ValueError(f"cannot find the {j} ({missing}) of the checkpoint's skeleton {sk.names}")
                out += [roles[r] for r in TRACKER_JOINTS[j]]
            elif j in sk.names:
                out.append(sk.index(j))
            else:
                raise ValueError(f"unknown joint {j!r}: give joint names of the checkpoint's skeleton or the groups "
                                 f"{list(TRACKER_JOINTS)}")
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------------ the windowed inpainting
    @torch.no_grad()
    def _run(self, x: torch.Tensor, mask: torch.Tensor, like: Motion, targets: tuple[list[int], torch.Tensor] | None = None,
             labels: Mapping[str, str] | None = None, seed: int = 0, steps: int | None = None,
             guidance: float | None = None, guide_scale: float = GUIDE_SCALE, guide_iters: int = GUIDE_ITERS,
             guide_refine: int = GUIDE_REFINE, overlap: int | None = None, name: str = "") -> Motion:
        """Inpaint ``x (T, D)`` where ``mask (T, D)`` is unset (see the module docstring) and decode."""
        T, W = x.shape[0], self.window
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
                if targets is not None:
                    idx, pos = targets
                    init = initial0 if s == 0 else self._state_at(y[:s + 1], like, s)
                    c.update(guide=position_guide(self.ctx, idx, pos[s:e][None], initial=init[None]),
                             guide_scale=guide_scale, guide_iters=guide_iters, guide_refine=guide_refine)
                out = self.net.sample(1, e - s, ids or None, generator=g, constraints=c, steps=steps,
                                      guidance=guidance)[0].cpu()
                y[s:e] = torch.where(m, y[s:e], out)
            done[s:e] = True
            if e >= T:
                break
            s = e - O
        return self.ctx.decode(reconnect_root(self.ctx, y, x, mask), like=like, name=name or like.name)


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


"""Cleaning whole clips (``tools/cleanup.py``): with a ``cleanup`` checkpoint, or with a classical
filter (:mod:`motion3d.ops.filters`), and what the clean-up changed (:func:`cleanup_report`).

With a checkpoint, the clip (on the checkpoint's skeleton and frame rate: the tool conforms or
retargets it first) has its gaps filled (SLERP on rotations, linear on the root), is encoded in the
checkpoint's features, its gap channels flagged in the mask, and cut into windows of the training
length overlapping by a third; all windows go through the network in batches and are blended in
feature space with linear cross-fades over the overlaps (:func:`motion3d.data.windows.crossfade_weights`),
twice where the gate finds spikes or swapped limbs (:func:`motion3d.tasks.cleanup.repair`: those
joints are refilled as missing data), the root anchored to the capture over the whole clip, then
decoded once, starting where the clip starts.

Missing data is ``missing (T, J + 1)`` bool: joint ``j`` missing at a frame, column ``J`` the root
position (:func:`missing_from_nan` reads it off NaN entries).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motion3d.data.windows import covering_window_starts, crossfade_weights
from motion3d.metrics.motion import foot_skate
from motion3d.motion import Motion
from motion3d.ops.filters import fill_gaps, fill_rotation_gaps, filter_motion
from motion3d.ops.contacts import foot_contacts
from motion3d.ops.joints import find_feet
from motion3d.retarget.cleanup import plant_feet
from motion3d.retarget.mapping import find_roles
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.cleanup import ANCHOR_CUTOFF_HZ, REFILL_MAX_S, TASK_NAME, apply_net, repair
from motion3d.tasks.context import MotionContext

__all__ = ["Cleaner", "missing_from_nan", "fill_motion", "known_channels", "filter_clip", "plant_own_feet",
           "cleanup_report", "CHANGED_FRACTION"]

#: a frame counts as repaired when a joint moved by more than this fraction of the body height
CHANGED_FRACTION = 0.005


def missing_from_nan(rotations: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``(T, J + 1)`` bool missing data of rotations ``(T, J, 4)`` and root positions ``(T, 3)``:
    any NaN in a joint's quaternion (or in the root position)."""
    return np.concatenate([np.isnan(rotations).any(-1), np.isnan(root).any(-1, keepdims=True)], axis=1)


def fill_motion(motion: Motion, missing: np.ndarray | None) -> Motion:
    """``motion`` with its missing entries (``(T, J + 1)``) filled: SLERP on rotations, linear on
    the root position, ends held. A clip with no known frame at all is a ``ValueError``."""
    if missing is None or not missing.any():
        return motion
    if missing.all():
        raise ValueError("every frame of the clip is missing")
    J = motion.num_joints
    rot = fill_rotation_gaps(motion.rotations, ~missing[:, :J])
    root = fill_gaps(np.nan_to_num(motion.root_positions), ~missing[:, J:], dim=0)
    return motion.replace(rotations=rot, root_positions=root)


def known_channels(ctx: MotionContext, missing: np.ndarray) -> torch.Tensor:
    """``(T, D)`` bool: the feature channels observed, given ``missing (T, J + 1)`` on the context's
    skeleton: a missing joint hides its 6D rotation, a missing root the trajectory channels. A
    missing ancestor of the pelvis (not a feature) hides the pelvis."""
    rep = ctx.representation
    T, J = missing.shape[0], ctx.skeleton.num_joints
    known = torch.ones(T, ctx.dim, dtype=torch.bool)
    body = list(rep.body)
    miss_body = torch.as_tensor(missing[:, body])  # (T, Jb)
    ancestors = [j for j in range(J) if j not in body]
    if ancestors:
        miss_body[:, body.index(rep.pelvis)] |= torch.as_tensor(missing[:, ancestors].any(1))
    rs = rep.slice("rotations")
    known[:, rs] = ~miss_body[:, :, None].expand(T, len(body), 6).reshape(T, -1)
    known[:, 0:4] = ~torch.as_tensor(missing[:, J:])
    return known


@dataclass
class Cleaner:
    """A loaded ``cleanup`` checkpoint that cleans clips of any length (see the module docstring)."""

    net: torch.nn.Module
    ctx: MotionContext
    #: root path below this frequency follows the capture (:func:`motion3d.tasks.cleanup.anchor_root`; 0: off)
    anchor_hz: float = ANCHOR_CUTOFF_HZ
    #: joints found corrupted for at most this long are refilled in a second pass
    #: (:func:`motion3d.tasks.cleanup.repair`; 0: off)
    refill_s: float = REFILL_MAX_S

    @classmethod
    def load(cls, ckpt: str | Path, device: str = "cpu") -> "Cleaner":
        net, ctx, _ = load_motion_checkpoint(ckpt, TASK_NAME, device)
        return cls(net, ctx)

    @property
    def window(self) -> int:
        return int(self.ctx.window or 60)

    @torch.no_grad()
    def clean_features(self, x: torch.Tensor, known: torch.Tensor, overlap: int | None = None,
                       batch: int = 64) -> torch.Tensor:
        """Clean normalised features ``x (T, D)`` with mask ``known (T, D)``: windows of the training
        length, ``overlap`` frames apart (default a third), blended (the output and the gate's
        logits), in the two passes of :func:`motion3d.tasks.cleanup.repair` -> ``(T, D)``."""
        T, W = x.shape[0], self.window
        if T < W:
            raise ValueError(f"the clip has {T} frames at {self.ctx.fps:g} fps, shorter than the model's window "
                             f"of {W} frames")
        O = W // 3 if overlap is None else int(overlap)
        starts = covering_window_starts(T, W, O)
        weights = torch.as_tensor(crossfade_weights(starts, W, T), dtype=torch.float32)[..., None]  # (K, W, 1)
        rows = torch.as_tensor(starts)[:, None] + torch.arange(W)  # (K, W)
        device = next(self.net.parameters()).device

        def blend(parts: list[torch.Tensor]) -> torch.Tensor:
            out = torch.zeros(T, x.shape[1], dtype=torch.float32)
            out.index_add_(0, rows.reshape(-1), (torch.cat(parts) * weights).reshape(-1, x.shape[1]))
            return out

        def run(xi: torch.Tensor, ki: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
            ys, logits = [], []
            for r in rows.split(batch):
                y, lg = apply_net(self.net, xi[r].to(device), ki[r].to(device))
                ys.append(y.float().cpu())
                if lg is not None:
                    logits.append(lg.float().cpu())
            return blend(ys), (blend(logits) if logits else None)

        threshold = float(getattr(self.net, "gate_threshold", 0.0))
        return repair(self.ctx, run, x.float(), known, self.anchor_hz, self.refill_s, threshold)["cleaned"]

    def clean(self, motion: Motion, missing: np.ndarray | None = None, overlap: int | None = None) -> Motion:
        """The cleaned ``motion`` (on the checkpoint's skeleton and fps) with gaps ``missing (T, J + 1)``."""
        filled = fill_motion(motion, missing)
        x = self.ctx.encode(filled)
        known = (torch.ones_like(x, dtype=torch.bool) if missing is None else known_channels(self.ctx, missing))
        y = self.clean_features(x, known, overlap)
        return self.ctx.decode(y, like=filled, name=motion.name)


def filter_clip(motion: Motion, kind: str, missing: np.ndarray | None = None, **options) -> Motion:
    """The classical clean-up: gaps filled (:func:`fill_motion`), then ``kind`` (butterworth,
    savgol, median: :func:`motion3d.ops.filters.filter_motion`)."""
    return filter_motion(fill_motion(motion, missing), kind, **options)


def plant_own_feet(motion: Motion, velocity_threshold: float = 1.0) -> Motion:
    """The IK foot clean-up (:func:`motion3d.retarget.cleanup.plant_feet`, as ``tools/stylize.py``
    uses it) with contacts read off the clip itself: feet low and slower than ``velocity_threshold``
    body heights per second (loose, since sliding feet move) are held still by two-bone IK on the legs."""
    roles = find_roles(motion.skeleton)
    sides = [s for s in ("left", "right") if all(f"{s}_{r}" in roles for r in ("upper_leg", "lower_leg", "foot"))]
    if not sides:
        raise ValueError(f"cannot find the legs (upper leg, lower leg, foot) of {motion.skeleton.names} to plant the feet")
    contacts = foot_contacts(motion, feet=[roles[f"{s}_foot"] for s in sides], velocity_threshold=velocity_threshold)
    return plant_feet(motion, contacts, [(roles[f"{s}_upper_leg"], roles[f"{s}_lower_leg"], roles[f"{s}_foot"])
                                         for s in sides])


def cleanup_report(before: Motion, after: Motion, missing: np.ndarray | None = None) -> dict:
    """What a clean-up changed, on one skeleton and frame count: ``frames`` (total), ``gap_frames``
    (frames with missing data), ``repaired_frames`` (frames where a joint moved by more than
    :data:`CHANGED_FRACTION` of the body height, or that had gaps), ``largest`` correction (file
    units) with its ``frame`` and ``joint``, and ``skate_before`` / ``skate_after``
    (:func:`motion3d.metrics.motion.foot_skate`, body heights per second)."""
    if before.num_frames != after.num_frames:
        raise ValueError(f"clips of {before.num_frames} and {after.num_frames} frames")
    sk = before.skeleton
    p0, p1 = before.positions(), after.positions()  # (T, J, 3)
    d = np.linalg.norm(p1 - p0, axis=-1)  # (T, J)
    h = float(sk.height())
    gaps = np.zeros(before.num_frames, bool) if missing is None else missing.any(1)
    changed = (d.max(1) > CHANGED_FRACTION * h) | gaps
    t, j = np.unravel_index(int(np.argmax(d)), d.shape)
    feet = find_feet(sk)
    return {"frames": int(before.num_frames), "gap_frames": int(gaps.sum()), "repaired_frames": int(changed.sum()),
            "largest": float(d[t, j]), "frame": int(t), "joint": sk.names[int(j)],
            "skate_before": float(foot_skate(p0, feet, h, before.fps)),
            "skate_after": float(foot_skate(p1, feet, h, after.fps))}

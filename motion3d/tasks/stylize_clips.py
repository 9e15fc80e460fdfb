"""Style transfer of whole clips of any length with a ``stylize`` checkpoint (``tools/stylize.py``).

The content clip is encoded in the checkpoint's representation and cut into windows of the
training length that overlap by ``overlap`` frames; each window is stylised, the windows are
blended in feature space with linear cross-fades over the overlaps, and the blended features are
decoded once, starting where the content clip starts. A style example on another skeleton is
first retargeted onto the checkpoint's skeleton with :func:`motion3d.retarget.retarget`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motion3d.data.windows import covering_window_starts, crossfade_weights
from motion3d.motion import Motion
from motion3d.ops.contacts import foot_contacts
from motion3d.retarget.cleanup import plant_feet
from motion3d.retarget.mapping import find_roles
from motion3d.tasks.checkpoint import load_motion_checkpoint
from motion3d.tasks.context import MotionContext
from motion3d.tasks.stylize import TASK_NAME, stylize_features, style_code

__all__ = ["Stylizer", "plant_content_feet",
           "plant_features"]

#: the style encoder halves T this many times; shorter style examples are refused
MIN_STYLE_FRAMES = 8


def plant_content_feet(content: Motion, out: Motion) -> Motion:
    """``out`` with its feet held still (two-bone IK on the legs,
    :func:`motion3d.retarget.cleanup.plant_feet`) wherever the content clip's feet are in contact
    (Aberman et al. clean up foot contacts with IK the same way). Both on one skeleton, same frames."""
    roles = find_roles(out.skeleton)
    sides = [s for s in ("left", "right") if all(f"{s}_{r}" in roles for r in ("upper_leg", "lower_leg", "foot"))]
    if not sides:
        raise ValueError(f"cannot find the legs (upper leg, lower leg, foot) of {out.skeleton.names} to plant the feet")
    contacts = foot_contacts(content, feet=[roles[f"{s}_foot"] for s in sides])
    legs = [(roles[f"{s}_upper_leg"], roles[f"{s}_lower_leg"], roles[f"{s}_foot"]) for s in sides]
    return plant_feet(out, contacts, legs)


def plant_features(ctx: MotionContext, content: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """:func:`plant_content_feet` on normalised feature clips ``content, out (N, T, D)``
    (decoded from the origin, planted, encoded again): ``(N, T, D)``."""
    rep, norm = ctx.representation, ctx.normalizer
    src = rep.decode(norm.denormalize(content.double()), fps=ctx.fps)
    gen = rep.decode(norm.denormalize(out.double()), fps=ctx.fps)
    planted = [rep.encode(plant_content_feet(c, o)) for c, o in zip(src, gen)]
    return torch.from_numpy(norm.normalize(np.stack(planted).astype(np.float64))).float()


@dataclass
class Stylizer:
    """A loaded ``stylize`` checkpoint that transfers styles onto whole clips."""

    net: torch.nn.Module
    ctx: MotionContext
    root: str = "content"

    @classmethod
    def load(cls, ckpt: str | Path, device: str = "cpu") -> "Stylizer":
        net, ctx, meta = load_motion_checkpoint(ckpt, TASK_NAME, device)
        return cls(net, ctx, meta.get("hparams", {}).get("root", "content"))

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def window(self) -> int:
        return int(self.ctx.window or 64)

    # ------------------------------------------------------------------ inputs
    def conform(self, motion: Motion, path, role: str, allow_retarget: bool = False) -> Motion:
        """``motion`` on the checkpoint's skeleton (retargeted when ``allow_retarget``) at its fps."""
        return self.ctx.conform(motion, path, role, allow_retarget)

    def features(self, motion: Motion) -> torch.Tensor:
        """Normalised features ``(T, D)`` of a motion on the checkpoint's skeleton and fps."""
        return self.ctx.encode(motion)

    @torch.no_grad()
    def code_from_clip(self, motion: Motion, path="<style clip>") -> torch.Tensor:
        """Style code ``(1, S)`` of an example clip (any skeleton that retargets; any length >= 8 frames)."""
        m = self.conform(motion, path, "style", allow_retarget=True)
        if m.num_frames < MIN_STYLE_FRAMES:
            raise ValueError(f"style clip {path} has {m.num_frames} frames at {self.ctx.fps:g} fps; "
                             f"at least {MIN_STYLE_FRAMES} are needed")
        return style_code(self.net, self.ctx, clip=self.features(m))

    @torch.no_grad()
    def code_from_label(self, label: str) -> torch.Tensor:
        """Style code ``(1, S)`` of a style label (an error lists the known labels)."""
        return style_code(self.net, self.ctx, label=label)

    # ------------------------------------------------------------------ transfer
    @torch.no_grad()
    def stylize_features(self, x: torch.Tensor, code: torch.Tensor, overlap: int | None = None,
                         strength: float = 1.0) -> torch.Tensor:
        """Normalised content features ``(T, D)`` in the style ``code (1, S)``: ``(T, D)``,
        windowed with overlap and cross-faded (see the module docstring); ``strength``: see
        :func:`motion3d.tasks.stylize.stylize_features`."""
        T, W = x.shape[0], self.window
        overlap = W // 2 if overlap is None else int(overlap)
        starts = covering_window_starts(T, W, overlap)
        n = min(W, T)
        wins = torch.stack([x[s:s + n] for s in starts]).to(self.device)  # (K, n, D)
        out = stylize_features(self.net, self.ctx, wins, code.expand(len(starts), -1), self.root,
                               strength).cpu().double()
        weights = torch.from_numpy(crossfade_weights(starts, W, T))  # (K, n)
        blended = torch.zeros(T, x.shape[1], dtype=torch.float64)
        for k, s in enumerate(starts):
            blended[s:s + n] += weights[k, :, None] * out[k]
        return blended.float()

    def stylize(self, content: Motion, code: torch.Tensor, path="<content clip>", overlap: int | None = None,
                plant_feet: bool = False, strength: float = 1.0) -> Motion:
        """``content`` performed in the style ``code``: a Motion on the content's skeleton with the
        content's frame count and fps; ``plant_feet``: :func:`plant_content_feet` afterwards."""
        m = self.conform(content, path, "content")
        if m.num_frames < 2:
            raise ValueError(f"content clip {path} has {m.num_frames} frame(s); at least 2 are needed")
        x = self.features(m)
        feats = self.ctx.normalizer.denormalize(self.stylize_features(x, code, overlap, strength).double())
        out = self.ctx.representation.decode(feats, initial=self.ctx.representation.initial_state(m), fps=self.ctx.fps)
        out = Motion(content.skeleton, out.rotations, out.root_positions, out.fps, out.translations, content.name)
        if plant_feet:
            out = plant_content_feet(m.replace(skeleton=content.skeleton), out)
        # back to the content's rate (a rate within FPS_TOLERANCE is only relabelled) and frame count
        out = out.resample(content.fps)
        if out.num_frames != content.num_frames:
            out = out[np.minimum(np.arange(content.num_frames), out.num_frames - 1)]
        return out

"""Batched point-cloud augmentations (torch). Shapes: ``(B, N, 3 + C)``; xyz first, then
normals (``nx ny nz``, rotated with xyz when ``normals=True``) and other channels (left alone).

Each function takes an optional ``torch.Generator`` so that augmentation is reproducible.
Y is up (the house convention), so "rotation about the up axis" turns about Y.
"""
from __future__ import annotations

import math

import torch


def _rand(shape, generator, device, dtype=torch.float32):
    return torch.rand(shape, generator=generator, device=device if generator is None else generator.device,
                      dtype=dtype).to(device)


def random_rotation_matrices(b: int, axis: str | None = "y", generator: torch.Generator | None = None,
                             device=None) -> torch.Tensor:
    """``(b, 3, 3)`` random rotations: about ``axis`` ("x", "y", "z") or uniform on SO(3) if None."""
    device = device or torch.device("cpu")
    if axis is None:
        # uniform SO(3) from uniform unit quaternions (Shoemake)
        u = _rand((b, 3), generator, device)
        q = torch.stack([torch.sqrt(1 - u[:, 0]) * torch.sin(2 * math.pi * u[:, 1]),
                         torch.sqrt(1 - u[:, 0]) * torch.cos(2 * math.pi * u[:, 1]),
                         torch.sqrt(u[:, 0]) * torch.sin(2 * math.pi * u[:, 2]),
                         torch.sqrt(u[:, 0]) * torch.cos(2 * math.pi * u[:, 2])], dim=-1)  # xyzw
        x, y, z, w = q.unbind(-1)
        return torch.stack([
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], dim=-1).reshape(b, 3, 3)
    a = _rand((b,), generator, device) * 2 * math.pi
    c, s = torch.cos(a), torch.sin(a)
    o, z = torch.ones_like(a), torch.zeros_like(a)
    if axis == "y":
        rows = [c, z, s, z, o, z, -s, z, c]
    elif axis == "z":
        rows = [c, -s, z, s, c, z, z, z, o]
    elif axis == "x":
        rows = [o, z, z, z, c, -s, z, s, c]
    else:
        raise ValueError(f"axis must be x, y, z or None, got {axis!r}")
    return torch.stack(rows, dim=-1).reshape(b, 3, 3)


def rotate(points: torch.Tensor, axis: str | None = "y", normals: bool = False,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Random rotation per cloud (about ``axis`` or full SO(3) when None). points ``(B, N, 3 + C)``."""
    R = random_rotation_matrices(points.shape[0], axis, generator, points.device).to(points.dtype)
    out = points.clone()
    out[..., :3] = points[..., :3] @ R.transpose(1, 2)          # column-vector convention: R @ p
    if normals and points.shape[-1] >= 6:
        out[..., 3:6] = points[..., 3:6] @ R.transpose(1, 2)
    return out


def scale(points: torch.Tensor, low: float = 2 / 3, high: float = 3 / 2, anisotropic: bool = True,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Random per-axis (or uniform) scale in ``[low, high]``. points ``(B, N, 3 + C)``."""
    B = points.shape[0]
    s = low + (high - low) * _rand((B, 1, 3 if anisotropic else 1), generator, points.device, points.dtype)
    out = points.clone()
    out[..., :3] = points[..., :3] * s
    return out


def translate(points: torch.Tensor, shift: float = 0.2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random translation in ``[-shift, shift]^3`` per cloud. points ``(B, N, 3 + C)``."""
    t = (2 * _rand((points.shape[0], 1, 3), generator, points.device, points.dtype) - 1) * shift
    out = points.clone()
    out[..., :3] = points[..., :3] + t
    return out


def jitter(points: torch.Tensor, sigma: float = 0.01, clip: float = 0.05,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian noise on xyz, clipped to ``[-clip, clip]``. points ``(B, N, 3 + C)``."""
    noise = torch.randn(points[..., :3].shape, generator=generator, dtype=points.dtype,
                        device=points.device if generator is None else generator.device).to(points.device)
    out = points.clone()
    out[..., :3] = points[..., :3] + (sigma * noise).clamp(-clip, clip)
    return out


def dropout(points: torch.Tensor, max_ratio: float = 0.875,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Random point dropout: dropped points are replaced by the cloud's first point (shape kept).

    Each cloud drops a random fraction in ``[0, max_ratio)`` of its points. points ``(B, N, 3 + C)``.
    """
    B, N, _ = points.shape
    ratio = _rand((B, 1), generator, points.device) * max_ratio
    drop = _rand((B, N), generator, points.device) <= ratio
    first = points[:, :1].expand_as(points)
    return torch.where(drop.unsqueeze(-1), first, points)


def shuffle(points: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random permutation of the points of each cloud. points ``(B, N, 3 + C)``."""
    B, N, C = points.shape
    perm = _rand((B, N), generator, points.device).argsort(dim=1)
    return torch.gather(points, 1, perm.unsqueeze(-1).expand(-1, -1, C))


class Augment:
    """A configurable augmentation pipeline for training batches ``(B, N, 3 + C)``.

    Args mirror the functions above; set a probability or magnitude to 0 / None to switch a step
    off. Built from config (plain values), so a DataModule or task can hold one.
    """

    def __init__(self, rotate_axis: str | None = None, rotate_so3: bool = False, scale_low: float = 2 / 3,
                 scale_high: float = 3 / 2, anisotropic: bool = True, translate: float = 0.2,
                 jitter_sigma: float = 0.0, jitter_clip: float = 0.05, dropout_ratio: float = 0.0,
                 shuffle: bool = True, normals: bool = False):
        self.rotate_axis = rotate_axis
        self.rotate_so3 = rotate_so3
        self.scale_low, self.scale_high, self.anisotropic = scale_low, scale_high, anisotropic
        self.translate = translate
        self.jitter_sigma, self.jitter_clip = jitter_sigma, jitter_clip
        self.dropout_ratio = dropout_ratio
        self.shuffle = shuffle
        self.normals = normals

    def __call__(self, points: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.rotate_so3:
            points = rotate(points, None, self.normals, generator)
        elif self.rotate_axis:
            points = rotate(points, self.rotate_axis, self.normals, generator)
        if self.scale_low != 1.0 or self.scale_high != 1.0:
            points = scale(points, self.scale_low, self.scale_high, self.anisotropic, generator)
        if self.translate:
            points = translate(points, self.translate, generator)
        if self.jitter_sigma:
            points = jitter(points, self.jitter_sigma, self.jitter_clip, generator)
        if self.dropout_ratio:
            points = dropout(points, self.dropout_ratio, generator)
        if self.shuffle:
            points = shuffle(points, generator)
        return points


__all__ = ["random_rotation_matrices", "rotate", "scale", "translate", "jitter", "dropout", "shuffle", "Augment"]

"""Resampling a clip to another frame rate: slerp on rotations, linear on positions.

New frame ``k`` sits at time ``k / fps`` and reads the source at the fractional frame
``f = k * source_fps / fps``, between frames ``floor(f)`` and ``floor(f) + 1``. Where ``f`` lands
on a source frame its values are copied exactly. The clip keeps its duration (the last new frame is
the last one at or before the source's last frame). Frame-rate ratios within 1e-4 of a fraction
with a denominator up to 1000 are taken as exact (file frame times are rounded). Vectorised: one gather and one slerp call.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from motion3d.geometry.rotations import slerp
from motion3d.motion import Motion

__all__ = ["resample", "resample_indices"]


def resample_indices(num_frames: int, source_fps: float, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source frames and weights for resampling: ``(i0 (K,), i1 (K,), alpha (K,))`` with each new
    frame ``= (1 - alpha) * frame[i0] + alpha * frame[i1]``."""
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"target fps must be positive, got {fps}")
    if num_frames == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    ratio = source_fps / fps
    # files store a rounded frame time (CMU: 0.0083333 s -> 120.00048 fps): a ratio within 1e-4
    # of a simple fraction is taken as that fraction, so 120 -> 30 keeps every 4th frame exactly
    simple = Fraction(ratio).limit_denominator(1000)
    if abs(float(simple) - ratio) <= 1e-4 * ratio:
        ratio = float(simple)
    K = int(np.floor((num_frames - 1) / ratio + 1e-6)) + 1
    f = np.arange(K) * ratio
    i0 = np.floor(f + 1e-6).astype(np.int64)
    alpha = f - i0
    alpha[np.abs(alpha) < 1e-6] = 0.0
    i0 = np.clip(i0, 0, num_frames - 1)
    i1 = np.minimum(i0 + 1, num_frames - 1)
    alpha[i0 == i1] = 0.0
    return i0, i1, alpha


def resample(motion: Motion, fps: float) -> Motion:
    """``motion`` at ``fps`` frames per second (any ratio, up or down).

    Rotations ``(T, J, 4)`` are slerped along the shortest arc; root positions ``(T, 3)`` and
    translations ``(T, J, 3)`` are interpolated linearly. Frames that coincide with source frames
    are exact copies. Returns a new Motion with ``K = floor(duration * fps) + 1`` frames."""
    if abs(fps - motion.fps) <= 1e-9 * motion.fps:
        return motion.copy()
    i0, i1, alpha = resample_indices(motion.num_frames, motion.fps, fps)
    q0 = torch.from_numpy(motion.rotations[i0])
    q1 = torch.from_numpy(motion.rotations[i1])
    t = torch.from_numpy(alpha)[:, None]  # (K, 1) broadcast over joints
    rot = slerp(q0, q1, t).numpy()
    exact = alpha == 0.0
    rot[exact] = motion.rotations[i0[exact]]
    a = alpha[:, None]
    root = (1.0 - a) * motion.root_positions[i0] + a * motion.root_positions[i1]
    tr = None
    if motion.translations is not None:
        tr = (1.0 - a[..., None]) * motion.translations[i0] + a[..., None] * motion.translations[i1]
    return Motion(motion.skeleton, rot, root, fps, tr, motion.name)

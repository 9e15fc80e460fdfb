"""Resampling frame arrays to another frame rate: slerp on rotations, linear on positions.

New frame ``k`` sits at time ``k / fps`` and reads the source at the fractional frame
``f = k * source_fps / fps``, between frames ``floor(f)`` and ``floor(f) + 1``. Where ``f`` lands
on a source frame its values are copied exactly. The clip keeps its duration (the last new frame is
the last one at or before the source's last frame). Frame-rate ratios within 1e-4 of a fraction
with a denominator up to 1000 are taken as exact (file frame times are rounded). Vectorised: one
gather and one slerp call.

The array maths behind ``Motion.resample`` and :func:`motion3d.ops.resample`; numpy and torch only.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from motion3d.geometry.rotations import slerp

__all__ = ["FPS_TOLERANCE", "resample_indices", "resample_frames"]


#: relative tolerance for "the same frame rate", the one constant of the project (re-exported as
#: :data:`motion3d.motion.FPS_TOLERANCE`): files store a rounded frame time (CMU's 0.0083333 s is
#: 120.00048 fps), so two rates within this fraction of each other are one rate.
FPS_TOLERANCE = 1e-4

def resample_indices(num_frames: int, source_fps: float, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source frames and weights for resampling: ``(i0 (K,), i1 (K,), alpha (K,))`` with each new
    frame ``= (1 - alpha) * frame[i0] + alpha * frame[i1]``."""
    if fps is None or not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"target fps must be positive, got {fps}")
    if source_fps is None or not (source_fps > 0 and np.isfinite(source_fps)):
        raise ValueError(f"source fps must be positive, got {source_fps}")
    if num_frames == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    ratio = source_fps / fps
    # files store a rounded frame time (CMU: 0.0083333 s -> 120.00048 fps): a ratio within
    # FPS_TOLERANCE of a simple fraction is taken as that fraction, so 120 -> 30 keeps every 4th frame
    simple = Fraction(ratio).limit_denominator(1000)
    if abs(float(simple) - ratio) <= FPS_TOLERANCE * ratio:
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


def resample_frames(rotations: np.ndarray, root_positions: np.ndarray, translations: np.ndarray | None,
                    source_fps: float, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Frames at ``source_fps`` to frames at ``fps``.

    Args:
        rotations: ``(T, J, 4)`` unit quaternions xyzw, slerped along the shortest arc.
        root_positions: ``(T, 3)``, interpolated linearly.
        translations: ``None`` or ``(T, J, 3)``, interpolated linearly.
    Returns:
        ``(rotations (K, J, 4), root_positions (K, 3), translations (K, J, 3) or None)`` with
        ``K = floor(duration * fps) + 1``; frames that coincide with source frames are exact copies.
    """
    i0, i1, alpha = resample_indices(len(rotations), source_fps, fps)
    q0 = torch.from_numpy(np.ascontiguousarray(rotations[i0]))
    q1 = torch.from_numpy(np.ascontiguousarray(rotations[i1]))
    t = torch.from_numpy(alpha)[:, None]  # (K, 1) broadcast over joints
    rot = slerp(q0, q1, t).numpy()
    exact = alpha == 0.0
    rot[exact] = rotations[i0[exact]]
    a = alpha[:, None]
    root = (1.0 - a) * root_positions[i0] + a * root_positions[i1]
    tr = None
    if translations is not None:
        tr = (1.0 - a[..., None]) * translations[i0] + a[..., None] * translations[i1]
    return rot, root, tr

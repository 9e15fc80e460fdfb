"""Foot contacts: a foot joint is in contact when it is low (near its lowest height in the clip)
and slow. Both thresholds are fractions of :meth:`Skeleton.height`, so they work in any unit."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from motion3d.motion import Motion
from motion3d.ops.joints import find_feet

__all__ = ["foot_contacts"]


def foot_contacts(
    motion: Motion,
    feet: Sequence[str | int] | None = None,
    height_threshold: float = 0.05,
    velocity_threshold: float = 0.3,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """``(T, F)`` boolean contacts of the foot joints.

    Args:
        motion: the clip (``T`` frames).
        feet: foot joints (names or indices); default :func:`motion3d.ops.joints.find_feet`
            (left ankle, left toe, right ankle, right toe on the usual rigs).
        height_threshold: a joint is low when it is less than ``height_threshold x height`` above
            its own lowest point in the clip (ankles rest higher than toes).
        velocity_threshold: a joint is slow when its speed is under ``velocity_threshold x height``
            per second (central differences, so independent of the frame rate).
        positions: ``(T, J, 3)`` global positions if already computed.
    """
    idx = find_feet(motion.skeleton, feet)
    pos = (motion.positions() if positions is None else positions)[:, idx]  # (T, F, 3)
    T = pos.shape[0]
    if T == 0:
        return np.zeros((0, len(idx)), dtype=bool)
    h = motion.skeleton.height()
    low = pos[..., 1] - pos[..., 1].min(axis=0, keepdims=True) < height_threshold * h
    if T == 1:
        return low
    speed = np.linalg.norm(np.gradient(pos, axis=0), axis=-1) * motion.fps  # (T, F) units/s
    return low & (speed < velocity_threshold * h)

"""Putting the feet on the floor (y = 0)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from motion3d.motion import Motion
from motion3d.ops.canonical import transform
from motion3d.ops.joints import find_feet

__all__ = ["floor_height", "put_on_floor"]


def floor_height(motion: Motion, feet: Sequence[str | int] | None = None) -> float:
    """The lowest height reached over the clip by the foot joints and their End Sites (feet by
    name, :func:`motion3d.ops.joints.find_feet`, or ``feet``); all joints when none is found by
    name and no ``feet`` are given."""
    rot, pos = motion.forward_kinematics()
    try:
        idx = find_feet(motion.skeleton, feet)
    except ValueError:
        if feet is not None:
            raise
        idx = list(range(motion.num_joints))
    ys = [pos[:, idx, 1].min()] if motion.num_frames else [0.0]
    for j in idx:
        off = motion.skeleton.end_sites.get(j)
        if off is not None and motion.num_frames:
            ys.append((pos[:, j] + rot[:, j] @ off)[:, 1].min())
    return float(np.min(ys))


def put_on_floor(motion: Motion, feet: Sequence[str | int] | None = None) -> Motion:
    """Shift the clip vertically so that the lowest foot point over the clip is at y = 0."""
    return transform(motion, translation=np.array([0.0, -floor_height(motion, feet), 0.0]))

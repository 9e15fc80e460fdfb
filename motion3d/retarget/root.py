"""The root (hips) trajectory on the target: the source's hips path scaled by the ratio of leg
lengths, and optionally shifted so that the target's feet reach the floor.

Leg length is measured along the leg chain in the rest pose (hip joint to knee plus knee to
ankle, mean of both legs), so it does not depend on the rest pose being upright (Bandai-Namco's
identity pose lies along X). Scaling is about the world origin, so the floor ``y = 0`` stays the
floor; retargeting onto a uniformly scaled copy of a skeleton scales every position exactly.
"""
from __future__ import annotations

import numpy as np

from motion3d.motion import Motion
from motion3d.ops.floor import floor_height
from motion3d.skeleton import Skeleton

__all__ = ["leg_length", "root_scale", "hips_local_translation", "floor_offset"]


def leg_length(skeleton: Skeleton, roles: dict[str, int]) -> float:
    """Mean over the legs found of |upper_leg - lower_leg| + |lower_leg - foot| in the rest pose
    (``roles``: ``{role: joint index}`` as :func:`motion3d.retarget.mapping.find_roles` gives).
    Falls back to :meth:`Skeleton.height` / 2 when no leg is found."""
    rest = skeleton.rest_positions()
    lengths = []
    for side in ("left", "right"):
        chain = [roles.get(f"{side}_{r}") for r in ("upper_leg", "lower_leg", "foot")]
        if all(c is not None for c in chain):
            lengths.append(float(np.linalg.norm(np.diff(rest[chain], axis=0), axis=-1).sum()))
    lengths = [x for x in lengths if x > 0]
    return float(np.mean(lengths)) if lengths else 0.5 * skeleton.height()


def root_scale(source: Skeleton, target: Skeleton, source_roles: dict[str, int], target_roles: dict[str, int]) -> float:
    """Target leg length over source leg length."""
    ls = leg_length(source, source_roles)
    if ls <= 0:
        raise ValueError("the source skeleton has no measurable leg length; pass scale_root=False")
    return leg_length(target, target_roles) / ls


def hips_local_translation(target: Skeleton, hips: int, hips_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place the target's hips joint at ``hips_world (T, 3)`` with every joint above it at rest.

    Returns ``(root_positions (T, 3), hips_translation (T, 3))``: when the hips is the root, both
    are ``hips_world``; when it is below a static root (Bandai-Namco's ``joint_Root``) and has
    position channels, the root stays at its rest offset and the hips gets a local translation;
    otherwise the root moves so that the hips lands at ``hips_world``."""
    T = hips_world.shape[0]
    if hips == 0:
        return hips_world.copy(), hips_world.copy()
    rest = target.rest_positions()
    parent_pos = rest[target.parents[hips]]
    if target.has_position_channels(hips):
        root = np.broadcast_to(target.offsets[0], (T, 3)).copy()
        return root, hips_world - parent_pos
    root = hips_world - (rest[hips] - target.offsets[0])
    return root, np.broadcast_to(target.offsets[hips], (T, 3)).copy()


def floor_offset(source: Motion, result: Motion, scale: float) -> float:
    """Vertical shift that puts the result's lowest foot point at the source's floor height times
    ``scale`` (the floor of the scaled trajectory)."""
    return scale * floor_height(source) - floor_height(result)

"""Facing direction and heading of a body, from the across vectors of hips and shoulders.

With Y up and the body facing +Z, its left side is +X. The across vector ``left - right`` of the
hips (and shoulders) points to the body's left, and the forward direction is
``across x up`` projected on the floor. The heading is the angle about +Y that turns +Z onto the
forward direction: ``forward = (sin h, 0, cos h)``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from motion3d.motion import Motion
from motion3d.ops.joints import find_facing_pairs
from motion3d.skeleton import Skeleton

__all__ = ["facing_directions", "heading_angles", "yaw_matrix", "wrap_angle"]


def facing_directions(
    positions: np.ndarray,
    skeleton: Skeleton,
    facing_joints: Sequence[tuple[str | int, str | int]] | None = None,
) -> np.ndarray:
    """Unit forward vectors on the floor plane.

    Args:
        positions: ``(..., J, 3)`` global joint positions.
        skeleton: gives the hip/shoulder pairs (see :func:`motion3d.ops.joints.find_facing_pairs`).
        facing_joints: ``[(left, right), ...]`` overriding the pairs found by name.

    Returns ``(..., 3)`` unit vectors with zero Y.
    """
    pairs = find_facing_pairs(skeleton, facing_joints)
    across = np.zeros(positions.shape[:-2] + (3,))
    for left, right in pairs:
        v = positions[..., left, :] - positions[..., right, :]
        v = v * np.array([1.0, 0.0, 1.0])
        across = across + v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    fwd = np.stack([-across[..., 2], np.zeros(across.shape[:-1]), across[..., 0]], axis=-1)  # across x up
    n = np.linalg.norm(fwd, axis=-1, keepdims=True)
    if (n < 1e-9).any():
        raise ValueError("the facing direction is undefined: hips and shoulders are vertically aligned")
    return fwd / n


def heading_angles(
    motion: Motion, facing_joints: Sequence[tuple[str | int, str | int]] | None = None,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """``(T,)`` heading angles in radians (0 faces +Z, pi/2 faces +X), unwrapped over time."""
    pos = motion.positions() if positions is None else positions
    f = facing_directions(pos, motion.skeleton, facing_joints)
    return np.unwrap(np.arctan2(f[..., 0], f[..., 2]), axis=-1)


def yaw_matrix(angle) -> np.ndarray:
    """``(..., 3, 3)`` rotations about +Y by ``angle`` (radians, array-like ``(...)``)."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def wrap_angle(a):
    """Angles wrapped to ``[-pi, pi)``."""
    return (np.asarray(a) + np.pi) % (2.0 * np.pi) - np.pi

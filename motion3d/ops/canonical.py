"""Rigid moves of a whole clip on the floor plane, and canonicalisation (root over the origin,
facing +Z at a chosen frame)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from motion3d.geometry.rotations import np_matrix_to_quat, np_quat_mul
from motion3d.motion import Motion
from motion3d.ops.facing import heading_angles, yaw_matrix
from motion3d.ops.joints import find_pelvis

__all__ = ["transform", "canonicalize"]


def transform(motion: Motion, rotation: np.ndarray | None = None, translation: np.ndarray | None = None) -> Motion:
    """Move the whole clip rigidly: every global position ``p -> R p + t``.

    ``rotation``: ``(3, 3)`` proper rotation ``R`` (default identity); ``translation``: ``(3,)``.
    Only the root joint changes (its rotation is pre-multiplied by ``R``, its position mapped), so
    rigs with a static top joint (Bandai-Namco's ``joint_Root``) move as a whole too."""
    R = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
    t = np.zeros(3) if translation is None else np.asarray(translation, dtype=np.float64).reshape(3)
    if R.shape != (3, 3) or not np.allclose(R @ R.T, np.eye(3), atol=1e-9) or np.linalg.det(R) < 0:
        raise ValueError("transform needs a proper (3, 3) rotation matrix")
    rot = motion.rotations.copy()
    rot[:, 0] = np_quat_mul(np_matrix_to_quat(R), rot[:, 0])
    root = motion.root_positions @ R.T + t
    tr = None if motion.translations is None else motion.translations.copy()
    return Motion(motion.skeleton, rot, root, motion.fps, tr, motion.name)


def canonicalize(
    motion: Motion,
    frame: int = 0,
    pelvis: str | int | None = None,
    facing_joints: Sequence[tuple[str | int, str | int]] | None = None,
) -> Motion:
    """Turn about +Y and shift on the floor plane so that, at ``frame``, the pelvis
    (:func:`motion3d.ops.joints.find_pelvis`: CMU ``Hips``, Bandai-Namco ``Hips`` below its static
    root) is over the origin (x = z = 0; its height is kept) and the body faces +Z (facing from the
    hip and shoulder across vectors, :func:`motion3d.ops.facing.heading_angles`)."""
    if not -motion.num_frames <= frame < motion.num_frames:
        raise IndexError(f"frame {frame} out of range for a clip of {motion.num_frames} frames")
    pos = motion.positions()[frame]  # (J, 3)
    h = heading_angles(motion[frame], facing_joints, positions=pos[None])[0]
    R = yaw_matrix(-h)
    p = pos[find_pelvis(motion.skeleton, pelvis)]
    t = -(R @ (p * np.array([1.0, 0.0, 1.0])))
    return transform(motion, R, t)

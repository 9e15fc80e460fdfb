"""Putting the clips of a dataset on one reference skeleton.

Files of one dataset do not always write identical headers for identical bodies: Bandai-Namco
animates every joint's translation (6 channels per joint), so a header OFFSET of such a joint is
only a rest value (the ``Hips`` offset even differs by metres between files), and a few of its
clips store a bone that differs by 0.4 mm. Two skeletons are "the same" here when they have the
same joint names and parents and every bone agrees within ``tol`` (a fraction of the skeleton
height): header offsets for joints without position channels, per-frame translations for joints
with them. Joints whose translation actually moves during the clip (the pelvis) keep it.

:func:`conform` then hands the motion the reference skeleton, with the static translations
replaced by the reference offsets, so that every clip encodes against one skeleton.
"""
from __future__ import annotations

import numpy as np

from motion3d.motion import Motion
from motion3d.skeleton import Skeleton, bone_difference

__all__ = ["SkeletonMismatch", "header_difference", "group_skeletons", "conform"]


class SkeletonMismatch(ValueError):
    """A clip is not on the reference skeleton (the message says how it differs)."""


def _fixed_joints(sk: Skeleton) -> np.ndarray:
    """``(J,)`` bool: joints whose offset the header fixes (no position channels)."""
    return np.array([not sk.has_position_channels(j) for j in range(sk.num_joints)])


def header_difference(ref: Skeleton, other: Skeleton, tol: float = 1e-3) -> str | None:
    """Why ``other``'s header is not ``ref``'s skeleton, or ``None``.

    Compares names, parents and the offsets of joints without position channels (within
    ``tol * ref.height()``; :meth:`Skeleton.describe_difference`); offsets of translated joints
    are checked per clip by :func:`conform`. A NaN offset never passes.
    """
    fixed = _fixed_joints(ref) & _fixed_joints(other) if other.num_joints == ref.num_joints else None
    if fixed is not None:
        fixed[0] = False  # the root's offset is its rest position, not a bone
        fixed = np.flatnonzero(fixed)
    return ref.describe_difference(other, tol, joints=fixed, scale=ref.height())


def group_skeletons(skeletons: list[Skeleton], tol: float = 1e-3) -> list[int]:
    """``(N,)`` group index of each skeleton: equal groups hold matching headers
    (:func:`header_difference`); groups are numbered by first appearance."""
    reps: list[Skeleton] = []
    out = []
    for sk in skeletons:
        for g, r in enumerate(reps):
            if header_difference(r, sk, tol) is None:
                out.append(g)
                break
        else:
            reps.append(sk)
            out.append(len(reps) - 1)
    return out


def conform(motion: Motion, ref: Skeleton, tol: float = 1e-3, check_bones: bool = True) -> Motion:
    """``motion`` on the skeleton ``ref``.

    Joints whose local translation stays within ``tol * height`` of its first frame over the
    clip are "static": their translation must match ``ref``'s offset within the same tolerance
    (unless ``check_bones`` is false: a mirrored copy of a slightly asymmetric rig) and is
    replaced by it. Moving translations (the pelvis) are kept.

    Raises:
        SkeletonMismatch: with the joint and the size of the difference.
    """
    why = header_difference(ref, motion.skeleton, tol)
    if why is not None:
        raise SkeletonMismatch(why)
    tr = motion.translations
    if tr is not None:
        limit = tol * ref.height()
        moving = np.abs(tr - tr[:1]).max(axis=(0, 2)) > limit  # (J,)
        moving[0] = True  # the root keeps its trajectory
        static = np.flatnonzero(~moving)
        why = bone_difference(ref.names, ref.offsets[static], tr[0, static], static, limit) if check_bones else None
        if why is not None:
            raise SkeletonMismatch(why)
        tr = tr.copy()
        tr[:, ~moving] = ref.offsets[~moving]
    return Motion(ref, motion.rotations, motion.root_positions, motion.fps, tr, motion.name)

"""From world rotations of the target's joints and a hips trajectory to a :class:`Motion`.

Joints marked as not driven keep an identity local rotation (they follow their parent); the
others' local rotations are ``L[j] = G[parent(j)]^T G[j]`` (column vectors), vectorised over frames.
"""
from __future__ import annotations

import numpy as np
import torch

from motion3d.geometry.rotations import np_matrix_to_quat, quat_fix_continuity
from motion3d.motion import Motion
from motion3d.retarget.root import hips_local_translation
from motion3d.skeleton import Skeleton

__all__ = ["fill_rest", "world_to_local", "assemble"]


def fill_rest(G: np.ndarray, parents: np.ndarray, driven: np.ndarray) -> np.ndarray:
    """``(T, J, 3, 3)`` world rotations where every joint that is not ``driven`` takes its parent's
    (identity local rotation; the root: identity). A loop over joints, in tree order."""
    G = G.copy()
    for j in np.flatnonzero(~np.asarray(driven, bool)):
        p = int(parents[j])
        G[:, j] = G[:, p] if p >= 0 else np.eye(3)
    return G


def world_to_local(G: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """``(T, J, 3, 3)`` world rotations -> ``(T, J, 4)`` local quaternions xyzw, sign-continuous over
    frames (and ``w >= 0`` on the first frame)."""
    parent_G = np.concatenate([np.broadcast_to(np.eye(3), G[:, :1].shape), G[:, parents[1:]]], axis=1)
    L = np.swapaxes(parent_G, -1, -2) @ G
    q = np_matrix_to_quat(L)
    if q.shape[0]:
        q = np.where(q[:1, :, 3:] < 0, -q, q)
        q = quat_fix_continuity(torch.from_numpy(q), dim=0).numpy()
    return q


def assemble(target: Skeleton, G: np.ndarray, driven: np.ndarray, hips: int, hips_world: np.ndarray,
             fps: float, name: str = "") -> Motion:
    """The Motion on ``target`` with world rotations ``G (T, J, 3, 3)`` for the ``driven (J,)``
    joints and the hips joint at ``hips_world (T, 3)`` (joints above it at rest)."""
    G = fill_rest(G, target.parents, driven)
    rot = world_to_local(G, target.parents)
    root, hips_tr = hips_local_translation(target, hips, hips_world)
    T, J = G.shape[:2]
    tr = None
    if any(target.has_position_channels(j) for j in range(1, J)):
        tr = np.broadcast_to(target.offsets, (T, J, 3)).copy()
        if hips != 0:
            tr[:, hips] = hips_tr
    return Motion(target, rot, root, fps, tr, name)

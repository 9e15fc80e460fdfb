"""Coordinate-frame changes: Z-up (or any up axis) to motion3d's Y-up convention."""
from __future__ import annotations

import numpy as np

from motion3d.geometry.rotations import np_quat_mul, np_matrix_to_quat
from motion3d.motion import Motion
from motion3d.skeleton import Skeleton

__all__ = ["change_basis", "to_y_up", "detect_up_axis", "up_axis_matrix", "Z_UP_TO_Y_UP"]

#: Z up (AMASS, SMPL, most scanners) to the library's Y up: ``(x, y, z) -> (x, z, -y)``, a -90
#: degree turn about X (column vectors: ``p_yup = Z_UP_TO_Y_UP @ p_zup``). The one copy of it.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

#: rotations that take each up axis to +Y (column vectors)
_TO_Y_UP = {
    "y": np.eye(3),
    "z": Z_UP_TO_Y_UP,
    "-z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "x": np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]]),
    "-y": np.array([[1.0, 0, 0], [0, -1, 0], [0, 0, -1]]),
    "-x": np.array([[0.0, 1, 0], [-1, 0, 0], [0, 0, 1]]),
}


def up_axis_matrix(up: str) -> np.ndarray:
    """The ``(3, 3)`` rotation taking the up axis ``up`` (``"z"``, ``"-z"``, ``"x"``, ...) to +Y
    (``"z"``: ``(x, y, z) -> (x, z, -y)``)."""
    key = up.lower()
    if key not in _TO_Y_UP:
        raise ValueError(f"unknown up axis {up!r}; use one of {sorted(_TO_Y_UP)}")
    return _TO_Y_UP[key].copy()


def change_basis(motion: Motion, matrix: np.ndarray) -> Motion:
    """Express ``motion`` in a rotated world frame: positions ``p' = C p`` for the (3, 3)
    rotation ``C``. Offsets, end sites, root positions and translations are rotated and every
    local rotation is conjugated (``R' = C R C^T``), so that FK in the new frame gives exactly
    the rotated global positions."""
    C = np.asarray(matrix, dtype=np.float64)
    if C.shape != (3, 3) or not np.allclose(C @ C.T, np.eye(3), atol=1e-9) or np.linalg.det(C) < 0:
        raise ValueError("change_basis needs a proper rotation matrix (3, 3)")
    sk = motion.skeleton
    new_sk = Skeleton(sk.names, sk.parents, sk.offsets @ C.T, sk.channels,
                      {j: C @ o for j, o in sk.end_sites.items()})
    qc = np_matrix_to_quat(C)
    qc_inv = qc * np.array([-1.0, -1.0, -1.0, 1.0])
    rot = np_quat_mul(np_quat_mul(qc, motion.rotations), qc_inv)
    tr = None if motion.translations is None else motion.translations @ C.T
    return Motion(new_sk, rot, motion.root_positions @ C.T, motion.fps, tr, motion.name)


def detect_up_axis(motion: Motion) -> str:
    """Guess the up axis (``"y"``, ``"z"``, ``"-z"`` ...) from the first frame: the signed axis
    along which the head lies farthest above the feet (by joint names), or, failing names, the
    axis of largest extent of the pose, signed towards the upper body (the largest subtree
    below the first branching joint, normally the pelvis: spine, arms and head outnumber a leg)."""
    pos = motion.positions()[0] if motion.num_frames else motion.skeleton.rest_positions()
    sk = motion.skeleton
    heads, feet = sk.find(r"head"), sk.find(r"foot|ankle|toe")
    if heads and feet:
        v = pos[heads].mean(0) - pos[feet].mean(0)
    else:
        ext = np.ptp(pos, axis=0)
        axis = int(ext.argmax())
        v = np.zeros(3)
        v[axis] = np.sign(_upper_body_side(sk, pos, axis)) or 1.0
    axis = int(np.abs(v).argmax())
    name = "xyz"[axis]
    return name if v[axis] > 0 else "-" + name


def _upper_body_side(sk: Skeleton, pos: np.ndarray, axis: int) -> float:
    """Mean coordinate ``axis`` of the largest subtree below the first branching joint, relative
    to that joint. ``pos``: ``(J, 3)``."""
    parents = sk.parents
    size = np.ones(sk.num_joints, dtype=np.int64)
    for j in range(sk.num_joints - 1, 0, -1):
        size[parents[j]] += size[j]
    node = 0
    kids = sk.children(node)
    while len(kids) == 1:
        node, kids = kids[0], sk.children(kids[0])
    if not kids:
        return float(np.mean(pos[:, axis] - pos[0, axis]))
    top = max(kids, key=lambda c: size[c])
    inside = np.zeros(sk.num_joints, bool)
    inside[top] = True
    for j in range(top + 1, sk.num_joints):
        inside[j] = inside[parents[j]]
    return float(pos[inside, axis].mean() - pos[node, axis])


def to_y_up(motion: Motion, up: str = "z") -> Motion:
    """Convert ``motion`` whose up axis is ``up`` (``"z"``, ``"-z"``, ``"x"`` ..., or ``"auto"``
    to detect it) to the Y-up convention."""
    up = up.lower()
    if up == "auto":
        up = detect_up_axis(motion)
    if up not in _TO_Y_UP:
        raise ValueError(f"unknown up axis {up!r}; use one of {sorted(_TO_Y_UP)} or 'auto'")
    if up == "y":
        return motion
    return change_basis(motion, _TO_Y_UP[up])

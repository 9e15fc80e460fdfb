"""Left/right mirroring.

The mirrored clip's joint ``j`` does what the original's partner ``s(j)`` did, reflected by the
plane normal to ``axis`` (``M = diag(-1, 1, 1)`` for the default ``"x"``). The maths, for global
rotations ``G``, positions ``P`` and local rotations ``L`` (column vectors)::

    P'[j] = M P[s(j)]                                   # the goal
    G'[j] = M G[s(j)] M B[j]                            # a proper rotation for any rotation B[j]
    L'[j] = B[parent(j)]^T (M L[s(j)] M) B[j]           # so the local rotations (B[-1] = I)
    t'[c] = B[parent(c)]^T M t[s(c)]                     # and the local offsets / translations

``B[j]`` is the fixed "frame correction" of joint ``j``: the rotation that takes ``j``'s children
offsets onto the reflected offsets of its partner's children. It is the identity on rigs whose rest
frames are all world-aligned (CMU), and a 180-degree turn on rigs whose left and right bones point
along opposite local axes (Bandai-Namco: ``UpperArm_L`` along +X, ``UpperArm_R`` along -X). It is
fitted per joint from the rest offsets (Kabsch, regularised towards the parent's correction, then
snapped to the parent's correction or to the nearest axis-aligned rotation when within 20 degrees),
and ``B[s(j)] = M B[j]^T M`` makes mirroring an involution.

Positions are exactly the reflected, side-swapped originals whenever the offsets come along, i.e.
for motions with per-frame translations, and for the mirrored skeleton (``skeleton="mirror"``,
whose left bones take the right bones' lengths). ``skeleton="keep"`` keeps the original skeleton
(what data augmentation wants); for a skeleton whose left and right offsets are already mirror
images both are the same and exact.

This module does not import :mod:`motion3d.motion` (``Motion.mirror`` calls it): the result is
built with ``motion.replace``.
"""
from __future__ import annotations

import itertools
from typing import Mapping, Sequence

import numpy as np

from motion3d.geometry.rotations import np_matrix_to_quat, np_quat_mul
from motion3d.ops.joints import find_mirror_pairs
from motion3d.skeleton import Skeleton

__all__ = ["mirror", "mirror_frame_corrections", "reflection_matrix"]

_AXES = {"x": 0, "y": 1, "z": 2}
_SNAP_DEG = 20.0


def reflection_matrix(axis: str = "x") -> np.ndarray:
    """``(3, 3)`` reflection across the plane normal to ``axis`` (``"x"``: x -> -x)."""
    if axis not in _AXES:
        raise ValueError(f"mirror axis must be one of 'x', 'y', 'z', got {axis!r}")
    M = np.eye(3)
    M[_AXES[axis], _AXES[axis]] = -1.0
    return M


def _cube_rotations() -> np.ndarray:
    """The 24 axis-aligned rotations (signed permutation matrices with det +1), ``(24, 3, 3)``."""
    out = []
    for p in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            R = np.zeros((3, 3))
            R[range(3), p] = signs
            if np.linalg.det(R) > 0:
                out.append(R)
    return np.stack(out)


_CUBE = _cube_rotations()


def _angle(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Rotation angle(s) in degrees between ``A`` and ``B`` ``(..., 3, 3)``."""
    c = (np.einsum("...ij,...ij->...", A, B) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def _polar(H: np.ndarray) -> np.ndarray:
    """The rotation maximising ``trace(R^T H)`` (Kabsch)."""
    U, _, Vt = np.linalg.svd(H)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt)) or 1.0])
    return U @ D @ Vt


def mirror_frame_corrections(skeleton: Skeleton, perm: np.ndarray, axis: str = "x") -> np.ndarray:
    """``(J, 3, 3)`` frame corrections ``B`` (see the module docstring) for ``skeleton`` with
    left/right permutation ``perm``. A loop over joints (the tree), not frames."""
    M = reflection_matrix(axis)
    J = skeleton.num_joints
    off, par = skeleton.offsets, skeleton.parents
    children = [np.flatnonzero(par == j) for j in range(J)]
    B = np.zeros((J, 3, 3))
    for j in range(J):
        s = int(perm[j])
        if s < j:
            B[j] = M @ B[s].T @ M
            continue
        inherited = B[par[j]] if j > 0 else np.eye(3)
        a = [off[c] for c in children[j]]
        b = [M @ off[perm[c]] for c in children[j]]
        if j in skeleton.end_sites and s in skeleton.end_sites:
            a.append(skeleton.end_sites[j])
            b.append(M @ skeleton.end_sites[s])
        H = 1e-3 * inherited
        for u, v in zip(a, b):
            nu, nv = np.linalg.norm(u), np.linalg.norm(v)
            if nu > 1e-9 and nv > 1e-9:
                H = H + np.outer(v / nv, u / nu)
        fit = _polar(H)
        if _angle(fit, inherited) < _SNAP_DEG:
            R = inherited
        else:
            k = int(np.argmin(_angle(_CUBE, fit)))
            R = _CUBE[k] if _angle(_CUBE[k], fit) < _SNAP_DEG else fit
        if s == j:  # a centre joint must satisfy B = M B^T M for the involution
            R = _polar(R + M @ R.T @ M)
        B[j] = R
    return B


def _reflect_quat(q: np.ndarray, axis: str) -> np.ndarray:
    """Quaternions of ``M R M`` for rotations ``R`` given as ``q (..., 4)`` xyzw: the component
    along the mirror normal is kept, the other two vector components flip."""
    sign = -np.ones(4)
    sign[3] = 1.0
    sign[_AXES[axis]] = 1.0
    return q * sign


def mirror(
    motion: "Motion",  # noqa: F821 (motion3d.Motion)
    axis: str = "x",
    pairs: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    skeleton: str = "auto",
) -> "Motion":  # noqa: F821
    """Swap left and right: the mirror image of ``motion`` across the plane normal to ``axis``.

    Args:
        motion: the clip; rotations ``(T, J, 4)``.
        axis: normal of the mirror plane, ``"x"`` (default, the YZ plane), ``"y"`` or ``"z"``.
        pairs: left/right pairs overriding the name matching of :func:`find_mirror_pairs`.
        skeleton: ``"mirror"``: the result lives on the mirrored skeleton (left bones take the
            right bones' offsets), so its positions are exactly ``M P[s(j)]``; ``"keep"``: the
            original skeleton (positions exact when the skeleton is symmetric or the motion has
            per-frame translations); ``"auto"``: ``"keep"`` when the mirrored skeleton equals the
            original within ``1e-6 x height`` or the motion has translations, else ``"mirror"``.

    Returns a new Motion; ``mirror(mirror(m))`` equals ``m``.
    """
    if skeleton not in ("auto", "mirror", "keep"):
        raise ValueError(f"skeleton must be 'auto', 'mirror' or 'keep', got {skeleton!r}")
    sk = motion.skeleton
    perm = find_mirror_pairs(sk, pairs)
    M = reflection_matrix(axis)
    B = mirror_frame_corrections(sk, perm, axis)
    par = sk.parents
    Bp = np.concatenate([np.eye(3)[None], B[par[1:]]], axis=0)  # (J, 3, 3) parent corrections
    qB = np_matrix_to_quat(B)  # (J, 4)
    qBp_inv = np_matrix_to_quat(Bp) * np.array([-1.0, -1.0, -1.0, 1.0])

    # 1. rotations: L'[j] = B[p]^T (M L[s(j)] M) B[j]
    rot = _reflect_quat(motion.rotations[:, perm], axis)  # (T, J, 4)
    rot = np_quat_mul(np_quat_mul(qBp_inv, rot), qB)
    # 2. offsets and translations: t'[c] = B[p]^T M t[s(c)]
    BtM = np.swapaxes(Bp, -1, -2) @ M  # (J, 3, 3)
    new_offsets = np.einsum("jab,jb->ja", BtM, sk.offsets[perm])
    new_offsets[0] = M @ sk.offsets[0]
    ends = {
        j: B[j].T @ M @ sk.end_sites[int(perm[j])]
        for j in sk.end_sites if int(perm[j]) in sk.end_sites
    }
    mirrored_sk = Skeleton(sk.names, par, new_offsets, sk.channels, ends)
    tr = None
    if motion.translations is not None:
        tr = np.einsum("jab,tjb->tja", BtM, motion.translations[:, perm])
    root = motion.root_positions @ M.T

    if skeleton == "auto":
        same = np.abs(new_offsets - sk.offsets).max() <= 1e-6 * max(sk.height(), 1e-12)
        skeleton = "keep" if (same or tr is not None) else "mirror"
    out_sk = sk if skeleton == "keep" else mirrored_sk
    return motion.replace(skeleton=out_sk, rotations=rot, root_positions=root, translations=tr)

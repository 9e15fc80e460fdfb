"""Skeleton variants with ground truth by construction, for testing and evaluating retargeting.

* :func:`reframe`: every joint's local frame rotated (other local axes, as Bandai-Namco's bones
  along X; or an A-pose rest when only the shoulders turn): same global positions exactly.
* :func:`scale_limbs`: bone offsets scaled per body part (legs, arms, spine, head) and the hips
  path scaled by the leg-length ratio: the same motion on a character with other proportions.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from motion3d.geometry.rotations import np_quat_mul, quat_apply
from motion3d.motion import Motion
from motion3d.retarget.mapping import find_roles
from motion3d.retarget.root import hips_local_translation, leg_length
from motion3d.skeleton import Skeleton

__all__ = ["reframe", "a_pose_frames", "random_frames", "body_parts", "scale_limbs"]

_CONJ = np.array([-1.0, -1.0, -1.0, 1.0])


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    q, v = np.broadcast_arrays(q, np.concatenate([v, v[..., :1]], -1))
    return quat_apply(torch.from_numpy(np.ascontiguousarray(q)), torch.from_numpy(np.ascontiguousarray(v[..., :3]))).numpy()


def reframe(motion: Motion, R: np.ndarray) -> Motion:
    """The same motion with each joint's local frame rotated by ``R (J, 4)`` (quaternions xyzw).

    Child offsets (and end sites, per-frame translations) are re-expressed in the new frames
    (``R[parent]^-1 off``) and local rotations become ``R[parent]^-1 L R[j]``, so every global joint
    position is unchanged while the rest pose and the local axes change."""
    sk = motion.skeleton
    par = sk.parents
    conj = R * _CONJ
    offs = sk.offsets.copy()
    offs[1:] = _rotate(conj[par[1:]], sk.offsets[1:])
    ends = {j: _rotate(conj[j], o) for j, o in sk.end_sites.items()}
    Rp_inv = np.concatenate([np.array([[0.0, 0.0, 0.0, 1.0]]), conj[par[1:]]], 0)
    rot = np_quat_mul(np_quat_mul(Rp_inv[None], motion.rotations), R[None])
    tr = None
    if motion.translations is not None:
        tr = motion.translations.copy()
        tr[:, 1:] = _rotate(conj[par[1:]][None], motion.translations[:, 1:])
    return Motion(Skeleton(sk.names, par, offs, sk.channels, ends), rot, motion.root_positions, motion.fps, tr,
                  motion.name)


def a_pose_frames(skeleton: Skeleton, degrees: float = 40.0) -> np.ndarray:
    """``(J, 4)`` frame rotations that lower both arms by ``degrees`` in the rest pose (applied at
    the clavicles, or at the chest's arm branches when there is no clavicle): for :func:`reframe`."""
    roles = find_roles(skeleton)
    rest = skeleton.rest_positions()
    R = np.tile([0.0, 0.0, 0.0, 1.0], (skeleton.num_joints, 1))
    for side in ("left", "right"):
        j = roles.get(f"{side}_shoulder", roles.get(f"{side}_upper_arm"))
        arm = roles.get(f"{side}_lower_arm")
        if j is None or arm is None:
            continue
        bone = rest[arm] - rest[roles.get(f"{side}_upper_arm", j)]
        toward = np.array([0.0, -1.0, 0.0])  # lower the arm; an arm already down goes outwards
        if np.linalg.norm(np.cross(bone / np.linalg.norm(bone), toward)) < 0.1:
            toward = np.array([1.0 if side == "left" else -1.0, 0.0, 0.0])
        axis = np.cross(bone, toward)
        axis /= np.linalg.norm(axis)
        half = np.radians(degrees) / 2
        # frame R[j] turns the children's offsets by R^-1: rotate by -angle to lower the rest arm
        R[j] = np.concatenate([-axis * np.sin(half), [np.cos(half)]])
    return R


def random_frames(num_joints: int, seed: int = 0) -> np.ndarray:
    """``(J, 4)`` uniformly random frame rotations (joint 0 included)."""
    q = np.random.default_rng(seed).normal(size=(num_joints, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def body_parts(skeleton: Skeleton) -> list[str]:
    """Per joint, the body part its bone (the offset from its parent) belongs to: ``"legs"`` (from
    the upper legs down), ``"arms"`` (from the clavicles down), ``"head"`` (from the neck up, or the
    head), else ``"spine"``."""
    roles = find_roles(skeleton)
    starts = {}
    for side in ("left", "right"):
        for r, part in (("upper_leg", "legs"), ("shoulder", "arms"), ("upper_arm", "arms")):
            if f"{side}_{r}" in roles and roles[f"{side}_{r}"] not in starts:
                starts[roles[f"{side}_{r}"]] = part
    for r in ("neck", "head"):
        if r in roles:
            starts.setdefault(roles[r], "head")
            break
    out = []
    for j in range(skeleton.num_joints):
        part = "spine"
        for a in skeleton.chain(j)[::-1]:
            if a in starts:
                part = starts[a]
                break
        out.append(part)
    return out


def scale_limbs(motion: Motion, factors: Mapping[str, float]) -> Motion:
    """``motion`` on a skeleton whose bone offsets (and end sites) are scaled per body part
    (``factors``: ``{"legs": 1.2, "arms": 0.8, "spine": 1.1, "head": 0.9}``; missing parts 1), with
    the same local rotations and the hips path scaled by the leg-length ratio about the origin:
    the ground truth of retargeting onto that skeleton."""
    sk = motion.skeleton
    parts = body_parts(sk)
    f = np.array([factors.get(p, 1.0) for p in parts])
    roles = find_roles(sk)
    hips = roles["hips"]
    offs = sk.offsets * f[:, None]
    for j in sk.chain(hips):  # the hips and what holds it keep their placement (the path moves it)
        offs[j] = sk.offsets[j]
    ends = {j: o * f[j] for j, o in sk.end_sites.items()}
    new = Skeleton(sk.names, sk.parents, offs, sk.channels, ends)
    s = leg_length(new, roles) / leg_length(sk, roles)
    hips_world = s * motion.positions()[:, hips]
    root, hips_tr = hips_local_translation(new, hips, hips_world)
    tr = None
    if motion.translations is not None:
        tr = motion.translations * f[None, :, None]
        tr[:, hips] = hips_tr
    out = Motion(new, motion.rotations.copy(), root, motion.fps, tr, motion.name)
    return out

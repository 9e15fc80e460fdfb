"""Evaluation of retargeting: ground truth by construction, and cross-topology measures.

* :func:`gt_error`: squared error of global joint positions divided by the target height squared,
  averaged over frames and joints (the protocol of Aberman et al. 2020), against a ground truth
  made with :mod:`motion3d.retarget.variants` (changed proportions, A-pose rest, other local axes).
* :func:`end_effector_error`: hands, feet and head relative to their limb's root, each divided by
  the limb's rest length, compared between source and result (no ground truth needed).
* :func:`skate_and_penetration`: foot skate (:func:`motion3d.metrics.motion.foot_skate`, body
  heights per second) and floor penetration (fraction of height below the scaled source floor).
* :func:`bone_length_error`: the largest deviation of the result's bone lengths from the target's
  (zero by construction; the evaluation asserts it).
"""
from __future__ import annotations

import numpy as np

from motion3d.metrics.motion import foot_skate
from motion3d.motion import Motion
from motion3d.retarget.mapping import find_roles
from motion3d.retarget.root import root_scale
from motion3d.skeleton import Skeleton

__all__ = ["gt_error", "effector_limbs", "end_effector_error", "skate_and_penetration", "bone_length_error", "EFFECTORS"]

#: effector role -> (limb root role, chain of roles whose rest lengths make the limb length)
EFFECTORS = {
    "left_hand": ("left_upper_arm", ["left_upper_arm", "left_lower_arm", "left_hand"]),
    "right_hand": ("right_upper_arm", ["right_upper_arm", "right_lower_arm", "right_hand"]),
    "left_foot": ("left_upper_leg", ["left_upper_leg", "left_lower_leg", "left_foot"]),
    "right_foot": ("right_upper_leg", ["right_upper_leg", "right_lower_leg", "right_foot"]),
    "head": ("hips", ["hips", "chest", "head"]),
}


def gt_error(result: Motion, truth: Motion) -> float:
    """Mean over frames and joints of ``|p - p_truth|^2 / height^2`` (same skeleton, ``(T, J, 3)``)."""
    h = truth.skeleton.height()
    return float((((result.positions() - truth.positions()) ** 2).sum(-1)).mean() / h ** 2)


def effector_limbs(skeleton: Skeleton) -> dict[str, tuple[int, int, float]]:
    """``{effector role: (effector joint, limb root joint, limb rest length)}`` for the
    :data:`EFFECTORS` found on ``skeleton`` by role."""
    roles = find_roles(skeleton)
    rest = skeleton.rest_positions()
    out = {}
    for eff, (root, chain) in EFFECTORS.items():
        if eff not in roles or root not in roles or not all(r in roles for r in chain):
            continue
        length = float(np.linalg.norm(np.diff(rest[[roles[r] for r in chain]], axis=0), axis=-1).sum())
        out[eff] = (roles[eff], roles[root], length)
    return out


def _limb_vectors(motion: Motion) -> dict[str, np.ndarray]:
    P = motion.positions()
    return {eff: (P[:, j] - P[:, r]) / length for eff, (j, r, length) in effector_limbs(motion.skeleton).items()}


def end_effector_error(source: Motion, result: Motion) -> float:
    """Mean over frames and effectors (hands, feet, head) of the distance between the source's and
    the result's effector positions relative to the limb root, each divided by its limb length."""
    a, b = _limb_vectors(source), _limb_vectors(result)
    common = [k for k in a if k in b]
    if not common:
        raise ValueError("no end effector (hands, feet, head) found on both skeletons")
    return float(np.mean([np.linalg.norm(a[k] - b[k], axis=-1).mean() for k in common]))


def _feet(motion: Motion) -> list[int]:
    roles = find_roles(motion.skeleton)
    return [roles[r] for r in ("left_foot", "right_foot", "left_toe", "right_toe") if r in roles]


def skate_and_penetration(source: Motion, result: Motion) -> dict[str, float]:
    """``{"skate_src", "skate", "penetration"}``: foot skate of source and result (body heights per
    second on contact frames, each clip's floor its lowest foot point) and the result's mean depth
    below the scaled source floor (fraction of its height)."""
    hs, ht = source.skeleton.height(), result.skeleton.height()
    Ps, Pt = source.positions(), result.positions()
    fs, ft = _feet(source), _feet(result)
    s = root_scale(source.skeleton, result.skeleton, find_roles(source.skeleton), find_roles(result.skeleton))
    floor_s = float(Ps[:, fs, 1].min())
    skate_src = float(foot_skate(Ps, fs, hs, source.fps))
    skate = float(foot_skate(Pt, ft, ht, result.fps))
    depth = np.clip(s * floor_s - Pt[:, ft, 1].min(-1), 0.0, None) / ht
    return {"skate_src": skate_src, "skate": skate, "penetration": float(depth.mean())}


def bone_length_error(result: Motion) -> float:
    """Largest ``| |p_j - p_parent| - rest length |`` over frames and joints whose offsets are not
    animated (the hips' translation is), as a fraction of the height."""
    sk = result.skeleton
    P = result.positions()
    moving = set()
    if result.translations is not None:
        moving = set(np.flatnonzero(np.abs(result.translations - sk.offsets).max(axis=(0, 2)) > 0))
    j = np.array([k for k in range(1, sk.num_joints) if k not in moving], dtype=np.int64)
    lengths = np.linalg.norm(P[:, j] - P[:, sk.parents[j]], axis=-1)
    return float(np.abs(lengths - sk.bone_lengths()[j]).max() / sk.height()) if len(j) else 0.0

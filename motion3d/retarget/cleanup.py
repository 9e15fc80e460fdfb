"""Foot-contact cleanup: while the source foot is in contact, the target's foot stays planted.

For each leg and each contact segment (consecutive contact frames of the source's foot, from
:func:`motion3d.ops.contacts.foot_contacts`), the goal of the target's ankle is its mean position
over the segment; the goal blends back to the free ankle over ``blend`` seconds on both sides.
Two-bone IK (:func:`motion3d.geometry.ik.two_bone_ik`) turns the upper and lower leg; the foot
keeps its world rotation. Vectorised over frames; a loop over the two legs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from motion3d.geometry.ik import two_bone_ik
from motion3d.geometry.rotations import quat_to_matrix
from motion3d.motion import Motion
from motion3d.retarget.chains import path_between
from motion3d.retarget.compose import fill_rest, world_to_local

__all__ = ["contact_goals", "plant_feet"]


def contact_goals(positions: np.ndarray, contact: np.ndarray, blend_frames: float) -> np.ndarray:
    """Goals for one foot joint.

    Args:
        positions: ``(T, 3)`` the free foot positions.
        contact: ``(T,)`` booleans.
        blend_frames: frames over which the goal returns to the free position around a segment.
    Returns ``(T, 3)``: the segment's mean position inside segments, blended outside.
    """
    T = len(contact)
    c = np.asarray(contact, bool)
    if not c.any():
        return positions.copy()
    starts = c & ~np.concatenate([[False], c[:-1]])
    seg = np.cumsum(starts) - 1  # segment id of each contact frame (and of the last one before)
    n = int(starts.sum())
    sums = np.zeros((n, 3))
    np.add.at(sums, seg[c], positions[c])
    planted = sums / np.bincount(seg[c], minlength=n)[:, None]
    t = np.arange(T)
    prev = np.maximum.accumulate(np.where(c, t, -1))
    nxt = np.minimum.accumulate(np.where(c, t, T)[::-1])[::-1]
    d_prev = np.where(prev >= 0, t - prev, np.inf)
    d_next = np.where(nxt < T, nxt - t, np.inf)
    near = np.where(d_prev <= d_next, prev, nxt)
    dist = np.minimum(d_prev, d_next)
    w = np.clip(1.0 - dist / (blend_frames + 1.0), 0.0, 1.0)[:, None]
    goal_seg = planted[seg[np.clip(near, 0, T - 1)]]
    return positions + w * (goal_seg - positions)


def plant_feet(motion: Motion, contacts: np.ndarray, legs: Sequence[tuple[int, int, int]],
               driven: np.ndarray | None = None, blend: float = 0.1) -> Motion:
    """Keep the feet of ``motion`` planted on the ``contacts (T, len(legs))`` frames.

    Args:
        motion: the retargeted clip.
        contacts: booleans per frame and leg.
        legs: ``[(upper_leg, lower_leg, foot), ...]`` joint indices, one triple per contact column.
        driven: ``(J,)`` joints whose world rotation is set (the others keep identity local
            rotations); default all.
        blend: seconds to blend in and out of a contact.
    Returns a new Motion (same root trajectory; leg rotations changed).
    """
    sk = motion.skeleton
    G, P = motion.forward_kinematics()
    G = G.copy()
    driven = np.ones(sk.num_joints, bool) if driven is None else np.asarray(driven, bool)
    for k, (upper, lower, foot) in enumerate(legs):
        goal = contact_goals(P[:, foot], contacts[:, k], blend * motion.fps)
        q_up, q_mid, _, _ = two_bone_ik(P[:, upper], P[:, lower], P[:, foot], goal)
        R_up = quat_to_matrix(q_up).numpy()[:, None]  # (T, 1, 3, 3)
        R_mid = quat_to_matrix(q_mid).numpy()[:, None]
        seg_up = path_between(sk, upper, lower)[:-1]
        seg_mid = path_between(sk, lower, foot)[:-1]
        G[:, seg_up] = R_up @ G[:, seg_up]
        G[:, seg_mid] = R_mid @ G[:, seg_mid]
    G = fill_rest(G, sk.parents, driven)
    return motion.replace(rotations=world_to_local(G, sk.parents))

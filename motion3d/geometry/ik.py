"""Analytic two-bone inverse kinematics (hip-knee-ankle, shoulder-elbow-wrist), batched.

The maths, for a chain ``root -> mid -> end`` with bone lengths ``l1 = |mid - root|`` and
``l2 = |end - mid|`` and a goal ``target``::

    e    = (target - root) / |target - root|              # 1. direction to the goal
    d    = clamp(|target - root|, |l1 - l2|, l1 + l2)     #    reachable distance
    x    = (l1^2 - l2^2 + d^2) / (2 d)                    # 2. law of cosines: the middle joint
    y    = sqrt(l1^2 - x^2)                               #    sits at x along e, y off the line
    f    = unit part of (pole - root) orthogonal to e     # 3. bend towards the pole
    mid' = root + x e + y f;   end' = root + d e          # 4. new positions
    q_root = swing(mid - root -> mid' - root)             # 5. world rotations (shortest arcs)
    q_mid  = swing(q_root (end - mid) -> end' - mid') q_root

Premultiply them onto the joints' world rotations: ``G_root' = q_root G_root``,
``G_mid' = q_mid G_mid``; the end joint keeps its world rotation (or is posed by the caller).
Every operation is elementwise over the leading dimensions; torch in, torch out (numpy accepted).
"""
from __future__ import annotations

import torch

from motion3d.geometry.rotations import as_tensor, quat_apply, quat_between, quat_mul

__all__ = ["two_bone_ik"]


def _unit(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(eps)


def two_bone_ik(root, mid, end, target, pole=None, eps: float = 1e-9):
    """Solve a two-bone chain for its end to reach ``target``.

    Args:
        root, mid, end: ``(..., 3)`` world positions of the upper joint (hip, shoulder), the middle
            joint (knee, elbow) and the end joint (ankle, wrist).
        target: ``(..., 3)`` goal for the end joint; out of reach, the chain stretches (or folds)
            towards it as far as it can.
        pole: ``(..., 3)`` optional point the middle joint bends towards (default: the current
            middle joint, so the bend plane is kept). When the pole lies on the root-target line
            any perpendicular is used.
        eps: numerical tolerance.

    Returns:
        ``(q_root, q_mid, new_mid, new_end)``: ``(..., 4)`` xyzw world rotations to premultiply onto
        the world rotations of the upper and middle joints, and the ``(..., 3)`` new positions.
    """
    root, mid, end, target = (as_tensor(x) for x in (root, mid, end, target))
    dtype = torch.promote_types(root.dtype, torch.float32)
    root, mid, end, target = torch.broadcast_tensors(*(x.to(dtype) for x in (root, mid, end, target)))
    pole = mid if pole is None else as_tensor(pole).to(dtype).expand_as(root)

    # 1. direction and reachable distance
    l1 = (mid - root).norm(dim=-1, keepdim=True)
    l2 = (end - mid).norm(dim=-1, keepdim=True)
    to_target = target - root
    dist = to_target.norm(dim=-1, keepdim=True)
    e = _unit(to_target)
    fallback = _unit(end - root)  # target on the root: keep the current direction
    e = torch.where(dist < eps, fallback, e)
    d = torch.minimum(torch.maximum(dist, (l1 - l2).abs()), l1 + l2).clamp_min(eps)
    # 2. law of cosines
    x = (l1 * l1 - l2 * l2 + d * d) / (2.0 * d)
    y = (l1 * l1 - x * x).clamp_min(0.0).sqrt()
    # 3. bend direction: the pole's offset orthogonal to e (any perpendicular if none)
    f = pole - root
    f = f - (f * e).sum(-1, keepdim=True) * e
    ex = torch.zeros_like(e)
    ex[..., 0] = 1.0
    ey = torch.zeros_like(e)
    ey[..., 1] = 1.0
    alt = torch.linalg.cross(e, torch.where(e[..., :1].abs() < 0.9, ex, ey))
    f = torch.where(f.norm(dim=-1, keepdim=True) < eps * (1.0 + l1), alt, f)
    f = _unit(f)
    # 4. new positions
    new_mid = root + x * e + y * f
    new_end = root + d * e
    # 5. world rotations
    q_root = quat_between(mid - root, new_mid - root)
    q_mid = quat_mul(quat_between(quat_apply(q_root, end - mid), new_end - new_mid), q_root)
    return q_root, q_mid, new_mid, new_end

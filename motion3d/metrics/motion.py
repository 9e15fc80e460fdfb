"""Motion prediction and quality metrics: pure functions on torch tensors (numpy accepted).

Positions are ``(..., T, J, 3)`` global joint positions in the data's units; rotations ``(..., T, J, 4)``
unit quaternions xyzw (see ``motion3d.geometry.rotations``). Y is up.

* :func:`mpjpe` / :func:`mpjpe_per_frame`: mean per-joint position error (global or root-relative).
* :func:`horizon_frames` / :func:`errors_at_horizons`: errors at 80, 160, 320, 400, 1000 ms.
* :func:`angle_error`: mean geodesic angle between local rotations.
* :func:`zero_velocity` / :func:`constant_velocity`: the two baselines every predictor is printed beside.
* :func:`foot_skate`: horizontal sliding of feet in contact with the floor, normalised by height.
* :func:`joint_speed`: how much a body moves apart from its root, normalised by height.
* :func:`masked_position_error`: constraint error where a mask says positions are given.
* :func:`nearest_pose`: the nearest-neighbour-pose baseline for sparse-joint tracking.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from motion3d.geometry.rotations import geodesic_angle

__all__ = [
    "DEFAULT_HORIZONS_MS",
    "CONTACT_HEIGHT",
    "floor_contacts",
    "mpjpe",
    "mpjpe_per_frame",
    "root_relative",
    "horizon_frames",
    "errors_at_horizons",
    "angle_error_per_frame",
    "zero_velocity",
    "constant_velocity",
    "foot_skate",
    "joint_speed",
    "foot_acceleration",
    "masked_position_error",
    "nearest_pose",
]

DEFAULT_HORIZONS_MS: tuple[int, ...] = (80, 160, 320, 400, 1000)


def _t(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(np.asarray(x))


def root_relative(positions, root: int = 0) -> torch.Tensor:
    """``(..., J, 3)`` positions minus those of joint ``root``."""
    p = _t(positions)
    return p - p[..., root:root + 1, :]


def mpjpe_per_frame(pred, target, root: int | None = None) -> torch.Tensor:
    """Per-frame MPJPE: ``(..., T, J, 3)`` pairs -> ``(..., T)`` mean over joints of the Euclidean
    distance. ``root``: make both root-relative first (joint index), ``None`` for global."""
    p, t = _t(pred), _t(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    if root is not None:
        p, t = root_relative(p, root), root_relative(t, root)
    return (p - t).norm(dim=-1).mean(-1)


def mpjpe(pred, target, root: int | None = None) -> torch.Tensor:
    """Scalar MPJPE over every frame, joint and batch element (see :func:`mpjpe_per_frame`)."""
    return mpjpe_per_frame(pred, target, root).mean()


def horizon_frames(fps: float, horizons_ms: Sequence[float] = DEFAULT_HORIZONS_MS) -> list[int]:
    """Frame counts after the last observed frame for each horizon: ``round(ms * fps / 1000)``, at
    least 1 (at 30 fps: 80 ms -> 2, 160 -> 5, 320 -> 10, 400 -> 12, 1000 -> 30)."""
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return [max(1, int(round(ms * fps / 1000.0))) for ms in horizons_ms]


def errors_at_horizons(per_frame, fps: float, horizons_ms: Sequence[float] = DEFAULT_HORIZONS_MS) -> dict[float, float]:
    """``{ms: error}`` from per-frame errors ``(..., H)`` of predicted frames 1..H (averaged over
    the leading axes); horizons beyond ``H`` are left out."""
    e = _t(per_frame).reshape(-1, _t(per_frame).shape[-1]).double().mean(0)
    out = {}
    for ms, k in zip(horizons_ms, horizon_frames(fps, horizons_ms)):
        if k <= e.shape[0]:
            out[ms] = float(e[k - 1])
    return out


def angle_error_per_frame(pred_rot, target_rot, joints: Sequence[int] | None = None) -> torch.Tensor:
    """Mean geodesic angle (radians) between local rotations ``(..., T, J, 4)`` -> ``(..., T)``,
    over ``joints`` (default all)."""
    p, t = _t(pred_rot), _t(target_rot)
    if joints is not None:
        idx = torch.as_tensor(list(joints), device=p.device)
        p, t = p.index_select(-2, idx), t.index_select(-2, idx)
    return geodesic_angle(p, t).mean(-1)


def _check_observed(observed: torch.Tensor) -> None:
    if observed.dim() < 3 or observed.shape[-3] < 1:
        raise ValueError(f"baselines need observed frames (..., T_obs >= 1, J, C), got {tuple(observed.shape)}")


def zero_velocity(observed, horizon: int) -> torch.Tensor:
    """The zero-velocity baseline: the last observed frame repeated.
    ``(..., T_obs, J, C)`` -> ``(..., horizon, J, C)`` (positions ``C = 3``, quaternions ``C = 4``)."""
    o = _t(observed)
    _check_observed(o)
    return o[..., -1:, :, :].expand(*o.shape[:-3], int(horizon), *o.shape[-2:])


def constant_velocity(observed, horizon: int, root: int = 0, frames: int = 1, horizontal: bool = True) -> torch.Tensor:
    """The constant-velocity baseline on positions ``(..., T_obs, J, 3)`` -> ``(..., horizon, J, 3)``:
    the last observed pose carried along the root's recent velocity.

    The velocity is that of joint ``root`` averaged over the last ``frames`` steps; with
    ``horizontal`` only its floor-plane (x, z) part is used, so the body neither sinks nor rises.
    """
    o = _t(observed)
    _check_observed(o)
    T = o.shape[-3]
    k = max(1, min(int(frames), T - 1))
    if T < 2:
        return zero_velocity(o, horizon)
    v = (o[..., -1, root, :] - o[..., -1 - k, root, :]) / k  # (..., 3)
    if horizontal:
        v = v * torch.tensor([1.0, 0.0, 1.0], dtype=v.dtype, device=v.device)
    steps = torch.arange(1, int(horizon) + 1, dtype=o.dtype, device=o.device)  # (H,)
    shift = steps.view(-1, 1) * v.unsqueeze(-2)  # (..., H, 3)
    return o[..., -1:, :, :] + shift.unsqueeze(-2)


CONTACT_HEIGHT = 0.03
"""A foot within this fraction of the body height above the floor is in contact (:func:`foot_skate`)."""


def floor_contacts(heights: torch.Tensor, threshold: float, floor: float | None = None) -> torch.Tensor:
    """Steps in contact with the floor: ``heights (..., T, F)`` of the foot joints (up axis) ->
    ``(..., T-1, F)`` booleans, True where the foot is less than ``threshold`` (same units) above
    the floor at both ends of the step. Default floor: the 5th percentile over frames of the lowest
    foot's height (see :func:`foot_skate`)."""
    if floor is None:
        base = torch.quantile(heights.amin(dim=-1), 0.05, dim=-1, keepdim=True).unsqueeze(-1)
    else:
        base = torch.as_tensor(floor, dtype=heights.dtype, device=heights.device)
    low = (heights - base) < threshold  # (..., T, F)
    return low[..., 1:, :] & low[..., :-1, :]


def foot_skate(positions, feet: Sequence[int], height: float, fps: float, contact_height: float = CONTACT_HEIGHT,
               floor: float | None = None) -> torch.Tensor:
    """Foot skate: mean horizontal speed of feet while in contact with the floor, in body heights
    per second ``(...)`` per clip (0 for perfect planting).

    A foot joint is in contact at a frame when both that frame and the next are within
    ``contact_height x height`` above the floor. Default floor: the 5th percentile over frames of
    the lowest foot's height, robust to a few outlying frames (a T-pose first frame, a glitch)
    that would otherwise set the floor below every real contact. Clips with no contact score 0.

    Args:
        positions: ``(..., T, J, 3)`` global positions.
        feet: foot joint indices (e.g. ``representation.feet``).
        height: the skeleton height (``Skeleton.height()``), in the positions' units.
        fps: frame rate.
    """
    p = _t(positions)
    f = p[..., list(feet), :]  # (..., T, F, 3)
    contact = floor_contacts(f[..., 1], contact_height * height, floor)
    step = (f[..., 1:, :, :] - f[..., :-1, :, :])[..., [0, 2]].norm(dim=-1)  # (..., T-1, F)
    speed = step * fps / height
    n = contact.sum(dim=(-2, -1))
    total = (speed * contact).sum(dim=(-2, -1))
    return torch.where(n > 0, total / n.clamp(min=1), torch.zeros_like(total))


def joint_speed(positions, height: float, fps: float, root: int = 0) -> torch.Tensor:
    """Mean speed of the joints relative to the ``root`` joint, in body heights per second ``(...)``
    per clip: how much a body moves apart from travelling (arms swinging, legs striding). Generated
    clips that are smoother or smaller in amplitude than real ones score lower than real clips.

    Args:
        positions: ``(..., T, J, 3)`` global positions, ``T >= 2``.
        height: the skeleton height, in the positions' units.
        fps: frame rate.
    """
    p = root_relative(positions, root)
    if p.shape[-3] < 2:
        raise ValueError(f"joint_speed needs at least 2 frames, got positions of shape {tuple(p.shape)}")
    step = (p[..., 1:, :, :] - p[..., :-1, :, :]).norm(dim=-1)  # (..., T-1, J)
    return step.mean(dim=(-2, -1)) * fps / height


def foot_acceleration(positions, feet: Sequence[int], height: float, fps: float) -> torch.Tensor:
    """Acceleration magnitudes of the foot joints, in body heights per second squared
    ``(..., T-2, F)`` (second differences of the global positions): a foot that jumps in one frame
    (a pop where a clean-up held it) shows as a high quantile far above real capture's.

    Args:
        positions: ``(..., T, J, 3)`` global positions, ``T >= 3``.
        feet: foot joint indices.
        height: the skeleton height, in the positions' units.
        fps: frame rate.
    """
    f = _t(positions)[..., list(feet), :]
    if f.shape[-3] < 3:
        raise ValueError(f"foot_acceleration needs at least 3 frames, got positions of shape {tuple(f.shape)}")
    return (f[..., 2:, :, :] - 2 * f[..., 1:-1, :, :] + f[..., :-2, :, :]).norm(dim=-1) * fps ** 2 / height


def masked_position_error(pred, target, mask, scale: float = 1.0) -> torch.Tensor:
    """Constraint error: mean Euclidean distance between ``pred`` and ``target`` positions
    ``(B, T, J, 3)`` over the entries where ``mask (B, T, J)`` (bool) is set, times ``scale``
    (e.g. 100 for metres -> cm, 1 for Bandai-Namco's cm). Returns a 0-d tensor. Raises
    ``ValueError`` when the mask selects nothing (an empty constraint has no error to report)."""
    p, t = _t(pred), _t(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ in shape")
    if p.dim() < 2 or p.shape[-1] != 3:
        raise ValueError(f"positions must be (..., J, 3), got shape {tuple(p.shape)}")
    m = _t(mask).to(device=p.device)
    if m.dtype != torch.bool:
        raise ValueError(f"mask must be boolean, got {m.dtype}")
    if tuple(m.shape) != tuple(p.shape[:-1]):
        raise ValueError(f"mask {tuple(m.shape)} must match the positions' {tuple(p.shape[:-1])}")
    n = int(m.sum())
    if n == 0:
        raise ValueError("mask selects no position: no constraint to measure")
    d = (p - t).norm(dim=-1)
    return d[m].sum() / n * float(scale)


NEAREST_POSE_BUDGET = 1 << 24
"""Most query-to-training distances :func:`nearest_pose` holds at once (64 MB in float32)."""


def nearest_pose(train_poses, query, joints: Sequence[int], budget: int = NEAREST_POSE_BUDGET,
                 return_index: bool = False):
    """Nearest-neighbour-pose baseline for sparse-joint tracking: for every query frame, the
    training pose whose ``joints`` are nearest (sum of squared distances over those joints, i.e.
    Euclidean in ``K*3``) to the known positions.

    Args:
        train_poses: ``(N, J, 3)`` training poses, root-relative (see :func:`root_relative`).
        query: ``(B, T, K, 3)`` known positions of ``K`` joints, expressed the same way (relative
            to the same root: make the query root-relative with the root from wherever it is known).
        joints: ``K`` joint indices into ``J`` that ``query`` holds, in the same order.
        budget: most distances held at once; query frames are processed in chunks that fit.
        return_index: also return the chosen training indices ``(B, T)``.

    Returns ``(B, T, J, 3)`` the chosen training poses (and the indices when asked).
    """
    train = _t(train_poses)
    q = _t(query)
    if train.dim() != 3 or train.shape[-1] != 3 or train.shape[0] < 1:
        raise ValueError(f"train_poses must be (N >= 1, J, 3), got shape {tuple(train.shape)}")
    if q.dim() != 4 or q.shape[-1] != 3:
        raise ValueError(f"query must be (B, T, K, 3), got shape {tuple(q.shape)}")
    idx = [int(j) for j in joints]
    J = train.shape[1]
    if len(idx) != q.shape[2]:
        raise ValueError(f"query holds {q.shape[2]} joints but {len(idx)} joint indices were given")
    if not idx or any(j < -J or j >= J for j in idx):
        raise ValueError(f"joint indices {idx} must be a non-empty list within 0..{J - 1}")
    dtype = torch.promote_types(train.dtype, q.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float64
    train = train.to(dtype)
    keys = train[:, idx, :].reshape(train.shape[0], -1)  # (N, K*3)
    flat = q.to(device=train.device, dtype=dtype).reshape(-1, len(idx) * 3)  # (B*T, K*3)
    rows = max(1, int(budget) // train.shape[0])
    best = torch.cat([torch.cdist(chunk, keys).argmin(dim=1) for chunk in flat.split(rows)]) if flat.shape[0] else \
        torch.zeros(0, dtype=torch.long, device=train.device)
    poses = train[best].reshape(*q.shape[:2], J, 3)
    if return_index:
        return poses, best.reshape(q.shape[:2])
    return poses

"""The root trajectory part shared by the motion representations.

Per frame ``t`` four numbers describe the pelvis (the trajectory joint) on the floor plane::

    height[t]            = p[t].y
    velocity[t]   (2,)   = (Ry(-h[t-1]) (p[t] - p[t-1])).xz     # in the heading frame of t-1
    angular_vel[t]       = wrap(h[t] - h[t-1])                    # about +Y, radians per frame
    velocity[0] = angular_vel[0] = 0

Decoding integrates them from an initial state ``(x0, z0, h0)`` (default: the origin facing +Z)::

    h[t]   = h0 + sum_{k=1..t} angular_vel[k]
    xz[t]  = (x0, z0) + sum_{k=1..t} Ry(h[k-1]) velocity[k]

so ``decode(encode(x))`` is exact given the first frame's state; cumulative sums, no frame loop.
"""
from __future__ import annotations

import numpy as np
import torch

from motion3d.ops.facing import wrap_angle, yaw_matrix

__all__ = ["encode_trajectory", "decode_trajectory", "initial_state", "TRAJECTORY_NAMES"]

TRAJECTORY_NAMES = ["root_height", "root_velocity_x", "root_velocity_z", "root_angular_velocity"]


def encode_trajectory(root: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """``root (T, 3)`` pelvis positions and ``heading (T,)`` radians -> ``(T, 4)`` float64
    ``[height, velocity_x, velocity_z, angular_velocity]``."""
    T = root.shape[0]
    out = np.zeros((T, 4))
    out[:, 0] = root[:, 1]
    if T > 1:
        step = root[1:] - root[:-1]  # (T-1, 3)
        local = np.einsum("tab,tb->ta", yaw_matrix(-heading[:-1]), step)
        out[1:, 1] = local[:, 0]
        out[1:, 2] = local[:, 2]
        out[1:, 3] = wrap_angle(heading[1:] - heading[:-1])
    return out


def initial_state(root: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """``(3,)`` ``[x0, z0, h0]`` of the first frame, for :func:`decode_trajectory`."""
    return np.array([root[0, 0], root[0, 2], heading[0]], dtype=np.float64)


def decode_trajectory(traj: torch.Tensor, initial: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate ``traj (..., T, 4)`` from ``initial (..., 3)`` ``[x0, z0, h0]`` (default zeros:
    the origin, facing +Z). Returns ``(positions (..., T, 3), heading (..., T))``; differentiable."""
    height, vx, vz, omega = traj.unbind(-1)  # each (..., T)
    zero = torch.zeros_like(omega[..., :1])
    if initial is None:
        initial = torch.zeros(traj.shape[:-2] + (3,), dtype=traj.dtype, device=traj.device)
    else:
        initial = torch.as_tensor(initial, dtype=traj.dtype, device=traj.device).expand(traj.shape[:-2] + (3,))
    heading = initial[..., 2:3] + torch.cat([zero, torch.cumsum(omega[..., 1:], dim=-1)], dim=-1)
    h_prev = heading[..., :-1]
    c, s = torch.cos(h_prev), torch.sin(h_prev)
    dx = c * vx[..., 1:] + s * vz[..., 1:]  # Ry(h) (vx, 0, vz)
    dz = -s * vx[..., 1:] + c * vz[..., 1:]
    x = initial[..., 0:1] + torch.cat([zero, torch.cumsum(dx, dim=-1)], dim=-1)
    z = initial[..., 1:2] + torch.cat([zero, torch.cumsum(dz, dim=-1)], dim=-1)
    return torch.stack([x, height, z], dim=-1), heading

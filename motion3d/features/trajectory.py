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

from typing import Any, Sequence

import numpy as np
import torch

from motion3d.features.base import MotionRepresentation
from motion3d.motion import Motion
from motion3d.ops.facing import facing_directions
from motion3d.ops.joints import find_facing_pairs, find_feet, find_pelvis

__all__ = ["encode_trajectory", "decode_trajectory", "initial_state", "to_initial_frame", "reconnect_trajectory",
           "trajectory_path",
           "path_trajectory", "TRAJECTORY_NAMES", "TrajectoryRepresentation"]

TRAJECTORY_NAMES = ["root_height", "root_velocity_x", "root_velocity_z", "root_angular_velocity"]


def encode_trajectory(root, heading):
    """``root (..., T, 3)`` pelvis positions and ``heading (..., T)`` radians -> ``(..., T, 4)``
    ``[height, velocity_x, velocity_z, angular_velocity]`` (the inverse of :func:`decode_trajectory`;
    batched). numpy in: float64 numpy out; torch in: torch out (same dtype and device)."""
    is_np = not torch.is_tensor(root)
    r = torch.as_tensor(np.ascontiguousarray(root, dtype=np.float64)) if is_np else root
    h = torch.as_tensor(np.ascontiguousarray(heading, dtype=np.float64)) if is_np else heading.to(root.dtype)
    out = torch.zeros(r.shape[:-1] + (4,), dtype=r.dtype, device=r.device)
    out[..., 0] = r[..., 1]
    if r.shape[-2] > 1:
        step = r[..., 1:, :] - r[..., :-1, :]  # (..., T-1, 3)
        c, s = torch.cos(h[..., :-1]), torch.sin(h[..., :-1])
        out[..., 1:, 1] = c * step[..., 0] - s * step[..., 2]  # Ry(-h[t-1]) step
        out[..., 1:, 2] = s * step[..., 0] + c * step[..., 2]
        dh = h[..., 1:] - h[..., :-1]
        out[..., 1:, 3] = torch.atan2(torch.sin(dh), torch.cos(dh))  # wrapped to (-pi, pi]
    return out.numpy() if is_np else out


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


def to_initial_frame(positions: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
    """World positions ``(..., 3)`` in the frame that decoding from ``initial (3,)`` ``[x0, z0, h0]``
    starts from: the inverse of what the initial state does to a decoding from the origin,
    ``p_local = Ry(-h0) (p - (x0, 0, z0))``."""
    init = torch.as_tensor(initial, dtype=positions.dtype, device=positions.device)
    c, s = torch.cos(init[2]), torch.sin(init[2])
    dx, y, dz = (positions[..., 0] - init[0]), positions[..., 1], (positions[..., 2] - init[1])
    return torch.stack([c * dx - s * dz, y, s * dx + c * dz], dim=-1)


def trajectory_path(traj) -> np.ndarray:
    """The integrated path of trajectory channels ``traj (..., T, 4)`` from the origin facing +Z:
    ``(..., T, 4)`` float64 ``[x, height, z, heading]`` (heading unwrapped: a running sum)."""
    pos, heading = decode_trajectory(torch.as_tensor(np.ascontiguousarray(traj, dtype=np.float64)))
    return torch.cat([pos, heading[..., None]], -1).numpy()


def path_trajectory(path: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`trajectory_path`: ``path (..., T, 4)`` ``[x, height, z, heading]`` ->
    trajectory channels ``(..., T, 4)`` (:func:`encode_trajectory`); the first frame's velocities
    are taken from ``like`` (they are unused by decoding) or zero."""
    f = np.asarray(path, dtype=np.float64)
    out = encode_trajectory(f[..., :3], f[..., 3])
    if like is not None:
        out[..., 0, 1:] = np.asarray(like, dtype=np.float64)[..., 0, 1:]
    return out


def reconnect_trajectory(traj: np.ndarray, reference: np.ndarray, free: np.ndarray) -> np.ndarray:
    """``traj (T, 4)`` (:func:`encode_trajectory` channels) whose ``free (T,)`` frames were generated,
    the others equal to ``reference (T, 4)``: each run of free frames that kept frames follow gets its
    angular velocities, then its planar velocities, shifted evenly (the planar correction spread in
    the world frame and rotated into each step's heading) so that the integrated heading and position
    at the run's last frame equal the reference's. Kept frames after a gap then land where they were
    (in-betweening reconnects exactly); a free run at the end (an extension) is unchanged."""
    out = np.array(traj, dtype=np.float64, copy=True)
    ref = np.asarray(reference, dtype=np.float64)
    free = np.asarray(free, dtype=bool)
    T = out.shape[0]
    starts = np.flatnonzero(free & ~np.r_[False, free[:-1]])
    for a in starts:
        b = a + int(np.argmin(free[a:])) if not free[a:].all() else T  # first kept frame after the run
        if b >= T or a == 0:  # nothing after it to reconnect to (or no start state)
            continue
        n = b - a
        # 1. heading: the run's turns sum to the reference's
        out[a:b, 3] += (ref[a:b, 3].sum() - out[a:b, 3].sum()) / n
        # 2. position at the run's last frame: spread the world-frame error over the run's steps
        heading = np.concatenate([[0.0], np.cumsum(out[1:, 3])])  # relative headings (same start)
        h_ref = np.concatenate([[0.0], np.cumsum(ref[1:, 3])])
        err = _world_steps(out, heading, a, b).sum(0) - _world_steps(ref, h_ref, a, b).sum(0)
        # positions before the run agree (same start, same kept steps), so err is the gap's drift
        c, s = np.cos(heading[a - 1:b - 1]), np.sin(heading[a - 1:b - 1])
        dx, dz = -err[0] / n, -err[1] / n
        out[a:b, 1] += c * dx - s * dz  # inverse of Ry(h): world -> heading frame
        out[a:b, 2] += s * dx + c * dz
    return out


def _world_steps(traj: np.ndarray, heading: np.ndarray, a: int, b: int) -> np.ndarray:
    """``(b - a, 2)`` world xz displacements of the steps of frames ``a .. b - 1`` (as :func:`decode_trajectory`)."""
    c, s = np.cos(heading[a - 1:b - 1]), np.sin(heading[a - 1:b - 1])
    return np.stack([c * traj[a:b, 1] + s * traj[a:b, 2], -s * traj[a:b, 1] + c * traj[a:b, 2]], axis=1)


class TrajectoryRepresentation(MotionRepresentation):
    """The part every trajectory-based representation shares (``rot6d``, ``positions``): the
    pelvis (trajectory joint), the feet for contacts, the facing pairs for the heading, the
    contact thresholds, their options and the first frame's state. Subclasses call
    :meth:`_setup_trajectory` in ``__init__`` after ``super().__init__``."""

    def _setup_trajectory(self, feet: Sequence[str] | None, pelvis: str | None,
                          facing_joints: Sequence[Sequence[str]] | None, contact_height: float,
                          contact_velocity: float) -> None:
        sk = self.skeleton
        self.pelvis = find_pelvis(sk, pelvis)
        self.feet = find_feet(sk, feet)
        self.facing = [tuple(p) for p in find_facing_pairs(sk, facing_joints)]
        self.contact_height = float(contact_height)
        self.contact_velocity = float(contact_velocity)
        # rest configuration, for the joints decode places at rest (the pelvis' ancestors)
        self._rest = sk.rest_positions()

    def _trajectory_options(self, **extra) -> dict[str, Any]:
        """The shared options, with ``extra`` before the contact thresholds."""
        n = self.skeleton.names
        return {
            "fps": self.fps,
            "feet": [n[j] for j in self.feet],
            "pelvis": n[self.pelvis],
            "facing_joints": [[n[a], n[b]] for a, b in self.facing],
            **extra,
            "contact_height": self.contact_height,
            "contact_velocity": self.contact_velocity,
        }

    def _heading(self, pos: np.ndarray) -> np.ndarray:
        """``(T,)`` unwrapped heading angles from global positions ``(T, J, 3)``."""
        f = facing_directions(pos, self.skeleton, self.facing)
        return np.unwrap(np.arctan2(f[..., 0], f[..., 2]))

    def initial_state(self, motion: Motion) -> np.ndarray:
        """``(3,)`` ``[x0, z0, h0]`` of ``motion``'s first frame (for decoding)."""
        pos = motion[:1].positions()
        return initial_state(pos[:, self.pelvis], self._heading(pos))

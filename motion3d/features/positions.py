"""Joint positions + root trajectory + foot contacts (positions only; no rotations to decode).

Channels per frame, in order (``layout``)::

    root_height, root_velocity (2), root_angular_velocity     as in ``rot6d`` (4 channels)
    positions  (3 Jb)   body joints but the pelvis, relative to the pelvis' floor projection and
                        turned into its heading frame: Ry(-h) (p_j - (x_r, 0, z_r)); y stays absolute
    contacts   (F)      foot contacts 0/1

This is the HumanML3D-style "ric" layout; it decodes to global positions
(:meth:`JointPositions.decode_positions`) but not to a Motion (that needs inverse kinematics).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from motion3d.features.base import _as_tensor, register
from motion3d.features.trajectory import (TRAJECTORY_NAMES, TrajectoryRepresentation, decode_trajectory,
                                          encode_trajectory)
from motion3d.motion import Motion
from motion3d.ops.contacts import foot_contacts
from motion3d.ops.facing import yaw_matrix
from motion3d.skeleton import Skeleton

__all__ = ["JointPositions"]


@register
class JointPositions(TrajectoryRepresentation):
    """``"positions"``: see the module docstring. Arguments as :class:`RotationFeatures`."""

    name = "positions"
    decodes_motion = False

    def __init__(
        self,
        skeleton: Skeleton,
        fps: float | None = None,
        feet: Sequence[str] | None = None,
        pelvis: str | None = None,
        facing_joints: Sequence[Sequence[str]] | None = None,
        contact_height: float = 0.05,
        contact_velocity: float = 0.3,
    ):
        super().__init__(skeleton, fps)
        sk = skeleton
        self._setup_trajectory(feet, pelvis, facing_joints, contact_height, contact_velocity)
        ancestors = set(sk.chain(self.pelvis))
        #: joints whose positions are features: all but the pelvis and its ancestors
        self.body = [j for j in range(sk.num_joints) if j not in ancestors]
        self.names = list(TRAJECTORY_NAMES) + [f"position:{sk.names[j]}:{a}" for j in self.body for a in "xyz"]
        self.names += [f"contact:{sk.names[j]}" for j in self.feet]
        n = 3 * len(self.body)
        self.layout = {
            "root_height": (0, 1),
            "root_velocity": (1, 3),
            "root_angular_velocity": (3, 4),
            "positions": (4, 4 + n),
            "contacts": (4 + n, 4 + n + len(self.feet)),
        }

    def options(self) -> dict[str, Any]:
        return self._trajectory_options()

    def _offset_joints(self) -> list[int]:
        # positions are encoded directly; bone offsets only have to match below the pelvis
        return list(self.body)

    def encode(self, motion: Motion) -> np.ndarray:
        """``(T, D)`` float32 features of ``motion``."""
        self._check_motion(motion)
        pos = motion.positions()  # (T, J, 3)
        heading = self._heading(pos)
        root = pos[:, self.pelvis]
        traj = encode_trajectory(root, heading)
        rel = pos[:, self.body] - root[:, None] * np.array([1.0, 0.0, 1.0])
        rel = np.einsum("tab,tjb->tja", yaw_matrix(-heading), rel).reshape(motion.num_frames, -1)
        contacts = foot_contacts(motion, self.feet, self.contact_height, self.contact_velocity, positions=pos)
        return np.concatenate([traj, rel, contacts.astype(np.float64)], axis=1).astype(np.float32)

    def decode_positions(self, features: torch.Tensor, initial: torch.Tensor | None = None) -> torch.Tensor:
        """Global positions ``(..., T, J, 3)``; the pelvis' ancestors (Bandai-Namco's static
        ``joint_Root``) are placed at their rest positions. Differentiable."""
        x = _as_tensor(features)
        self._check_dim(x)
        batch = x.shape[:-1]
        J = self.skeleton.num_joints
        p_root, heading = decode_trajectory(x[..., 0:4], initial)  # (..., T, 3), (..., T)
        rel = x[..., self.slice("positions")].reshape(batch + (len(self.body), 3))
        c, s = torch.cos(heading)[..., None], torch.sin(heading)[..., None]
        rx, ry, rz = rel.unbind(-1)
        world = torch.stack([c * rx + s * rz + p_root[..., 0:1], ry, -s * rx + c * rz + p_root[..., 2:3]], dim=-1)
        out = torch.as_tensor(self._rest, dtype=x.dtype, device=x.device).expand(batch + (J, 3)).clone()
        out[..., self.pelvis, :] = p_root
        return out.index_copy(-2, torch.as_tensor(self.body, device=x.device), world)

"""Local 6D rotations + root trajectory + foot contacts: the default learning representation.

Channels per frame, in order (``layout``)::

    root_height            (1)     pelvis height (file units)
    root_velocity          (2)     pelvis xz step from the previous frame, in its heading frame
    root_angular_velocity  (1)     heading change from the previous frame (radians, about +Y)
    rotations              (6 Jb)  6D rotations (first two matrix columns) of the body joints:
                                   the pelvis relative to its heading (Ry(-h) G_pelvis), every
                                   other joint local to its parent
    translations           (3 k)   local translations of ``translated_joints`` (default none)
    contacts               (F)     foot contacts 0/1 (:func:`motion3d.ops.foot_contacts`)

The pelvis is the trajectory joint (:func:`motion3d.ops.joints.find_pelvis`): CMU's root
``Hips``, or Bandai-Namco's ``Hips`` whose translation moves it below a static ``joint_Root``. The
body joints are all joints but the pelvis' ancestors; decoding puts those ancestors at rest
(identity rotations, rest offsets), where Bandai-Namco files keep them. The heading comes from the
hip and shoulder across vectors. See :mod:`motion3d.features.trajectory` for the integration.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from motion3d.features.base import _as_tensor, register
from motion3d.features.trajectory import (TRAJECTORY_NAMES, TrajectoryRepresentation, decode_trajectory,
                                          encode_trajectory)
from motion3d.geometry.kinematics import forward_kinematics
from motion3d.geometry.rotations import matrix_to_6d, matrix_to_quat, quat_to_matrix, sixd_to_matrix
from motion3d.motion import Motion
from motion3d.ops.contacts import foot_contacts
from motion3d.ops.facing import yaw_matrix
from motion3d.ops.joints import resolve_joints
from motion3d.skeleton import Skeleton

__all__ = ["RotationFeatures"]


@register
class RotationFeatures(TrajectoryRepresentation):
    """``"rot6d"``: see the module docstring.

    Args:
        skeleton: the skeleton every encoded motion must have.
        fps: the frame rate of the features (checked on encode, used by decode); optional.
        feet: contact joints (names); default :func:`motion3d.ops.joints.find_feet`.
        pelvis: the trajectory joint (name); default :func:`motion3d.ops.joints.find_pelvis`.
        facing_joints: ``[(left, right), ...]`` pairs for the heading; default by name.
        translated_joints: joints (below the pelvis) whose animated local translations are kept
            as features; other joints must keep their rest offsets (checked on encode).
        contact_height, contact_velocity: thresholds of :func:`motion3d.ops.foot_contacts`
            (fractions of the skeleton height, per frame / per second).
    """

    name = "rot6d"
    decodes_motion = True

    def __init__(
        self,
        skeleton: Skeleton,
        fps: float | None = None,
        feet: Sequence[str] | None = None,
        pelvis: str | None = None,
        facing_joints: Sequence[Sequence[str]] | None = None,
        translated_joints: Sequence[str] = (),
        contact_height: float = 0.05,
        contact_velocity: float = 0.3,
    ):
        super().__init__(skeleton, fps)
        sk = skeleton
        J = sk.num_joints
        self._setup_trajectory(feet, pelvis, facing_joints, contact_height, contact_velocity)
        ancestors = set(sk.chain(self.pelvis)[:-1])
        #: joints whose rotations are features (all but the pelvis' ancestors), in joint order
        self.body = [j for j in range(J) if j not in ancestors]
        self.translated = resolve_joints(sk, translated_joints)
        bad = [sk.names[j] for j in self.translated if j in ancestors or j == self.pelvis]
        if bad:
            raise ValueError(f"translated_joints must lie below the pelvis {sk.names[self.pelvis]!r}: {bad}")
        self._root_k = self.body.index(self.pelvis)

        names = list(TRAJECTORY_NAMES)
        names += [f"rot6d:{sk.names[j]}:{i}" for j in self.body for i in range(6)]
        names += [f"translation:{sk.names[j]}:{a}" for j in self.translated for a in "xyz"]
        names += [f"contact:{sk.names[j]}" for j in self.feet]
        self.names = names
        n_rot, n_tr = 6 * len(self.body), 3 * len(self.translated)
        self.layout = {
            "root_height": (0, 1),
            "root_velocity": (1, 3),
            "root_angular_velocity": (3, 4),
            "rotations": (4, 4 + n_rot),
            "translations": (4 + n_rot, 4 + n_rot + n_tr),
            "contacts": (4 + n_rot + n_tr, 4 + n_rot + n_tr + len(self.feet)),
        }

    def options(self) -> dict[str, Any]:
        return self._trajectory_options(translated_joints=[self.skeleton.names[j] for j in self.translated])

    # ------------------------------------------------------------------ encode
    def _offset_joints(self) -> list[int]:
        # the pelvis and its ancestors are placed by the trajectory, translated joints by features
        # (Bandai-Namco's Hips OFFSET differs from clip to clip; its translation channels win)
        skip = set(self.skeleton.chain(self.pelvis)) | set(self.translated)
        return [j for j in range(self.skeleton.num_joints) if j not in skip]

    def _check_translations(self, motion: Motion):
        if motion.translations is None:
            return
        keep = self._offset_joints()
        dev = np.abs(motion.translations[:, keep] - motion.skeleton.offsets[keep]).max(axis=(0, 2)) if keep else []
        tol = 1e-4 * motion.skeleton.height()
        moving = [self.skeleton.names[j] for j, d in zip(keep, dev) if d > tol]
        if moving:
            raise ValueError(
                f"motion {motion.name!r} animates the translations of {moving}, which rot6d would drop; "
                "build the representation with translated_joints=[...] listing them"
            )

    def encode(self, motion: Motion) -> np.ndarray:
        """``(T, D)`` float32 features of ``motion``."""
        self._check_motion(motion)
        self._check_translations(motion)
        rot_g, pos = motion.forward_kinematics()  # (T, J, 3, 3), (T, J, 3)
        heading = self._heading(pos)  # (T,)
        # 1. the root trajectory
        traj = encode_trajectory(pos[:, self.pelvis], heading)  # (T, 4)
        # 2. rotations: local, the pelvis relative to its heading
        with torch.no_grad():
            local = quat_to_matrix(torch.from_numpy(motion.rotations[:, self.body])).numpy()  # (T, Jb, 3, 3)
        local[:, self._root_k] = yaw_matrix(-heading) @ rot_g[:, self.pelvis]
        six = matrix_to_6d(torch.from_numpy(local)).numpy().reshape(motion.num_frames, -1)
        # 3. translations and contacts
        tr = motion.local_offsets()[:, self.translated].reshape(motion.num_frames, -1)
        contacts = foot_contacts(
            motion, self.feet, self.contact_height, self.contact_velocity, positions=pos
        ).astype(np.float64)
        return np.concatenate([traj, six, tr, contacts], axis=1).astype(np.float32)

    # ------------------------------------------------------------------ decode
    def decode_kinematics(
        self, features: torch.Tensor, initial: torch.Tensor | None = None, matrices: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Features ``(..., T, D)`` -> the inputs of FK: local rotations ``(..., T, J, 4)``
        (xyzw; ``(..., T, J, 3, 3)`` matrices when ``matrices``), root positions ``(..., T, 3)``
        and translations ``(..., T, J, 3)`` (``None`` when the pelvis is the root and no joint is
        translated). Differentiable."""
        x = _as_tensor(features)
        self._check_dim(x)
        dtype, device = x.dtype, x.device
        sk = self.skeleton
        J, r = sk.num_joints, self.pelvis
        batch = x.shape[:-1]  # (..., T)
        # 1. integrate the trajectory
        p_root, heading = decode_trajectory(x[..., 0:4], initial)  # (..., T, 3), (..., T)
        # 2. rotations: 6D -> matrices; the pelvis back into the world heading
        mats = sixd_to_matrix(x[..., self.slice("rotations")].reshape(batch + (len(self.body), 6)))
        c, s = torch.cos(heading), torch.sin(heading)
        z, o = torch.zeros_like(c), torch.ones_like(c)
        yaw = torch.stack([c, z, s, z, o, z, -s, z, c], dim=-1).reshape(batch + (3, 3))
        root_rot = yaw @ mats[..., self._root_k, :, :]
        mats = torch.cat([mats[..., : self._root_k, :, :], root_rot.unsqueeze(-3), mats[..., self._root_k + 1:, :, :]], dim=-3)
        body = torch.as_tensor(self.body, device=device)
        if matrices:  # straight to FK: no matrix -> quaternion -> matrix round trip
            eye = torch.eye(3, dtype=dtype, device=device).expand(batch + (J, 3, 3))
            quats = eye.index_copy(-3, body, mats)
        else:
            quats = torch.zeros(batch + (J, 4), dtype=dtype, device=device)
            quats[..., 3] = 1.0
            quats = quats.index_copy(-2, body, matrix_to_quat(mats))  # (..., T, J, 4)
        # 3. root and translations: the pelvis' ancestors stay at rest
        offsets = torch.as_tensor(sk.offsets, dtype=dtype, device=device)
        if r == 0:
            root_pos = p_root
            translations = None
        else:
            rest_parent = torch.as_tensor(self._rest[sk.parents[r]], dtype=dtype, device=device)
            root_pos = offsets[0].expand(batch + (3,))
            translations = offsets.expand(batch + (J, 3)).clone()
            translations[..., r, :] = p_root - rest_parent
        if self.translated:
            if translations is None:
                translations = offsets.expand(batch + (J, 3)).clone()
            tr = x[..., self.slice("translations")].reshape(batch + (len(self.translated), 3))
            translations = translations.index_copy(-2, torch.as_tensor(self.translated, device=device), tr)
        return quats, root_pos, translations

    def decode_positions(self, features: torch.Tensor, initial: torch.Tensor | None = None) -> torch.Tensor:
        """Global joint positions ``(..., T, J, 3)`` from features ``(..., T, D)`` through
        :func:`motion3d.geometry.kinematics.forward_kinematics`; differentiable, batched, dtype
        and device of the input (numpy input: float64)."""
        rots, root_pos, translations = self.decode_kinematics(features, initial, matrices=True)
        offsets = torch.as_tensor(self.skeleton.offsets, dtype=rots.dtype, device=rots.device)
        return forward_kinematics(rots, offsets, self.skeleton.parents, root_pos, translations)[1]

    def decode(self, features, initial=None, fps: float | None = None, name: str = "") -> Motion | list[Motion]:
        """A Motion from features ``(T, D)`` (numpy or torch), or a list of Motions from a batch
        ``(B, T, D)``. ``initial``: ``(3,)`` or ``(B, 3)`` ``[x0, z0, heading0]`` (default: the
        origin facing +Z); ``fps``: default the representation's. Computed in float64."""
        fps = self._fps(fps)
        x = _as_tensor(features).detach().cpu().to(torch.float64)
        if x.dim() == 3:
            inits = [None] * x.shape[0] if initial is None else list(_as_tensor(initial).reshape(-1, 3))
            return [self.decode(x[b], inits[b], fps, name) for b in range(x.shape[0])]
        if x.dim() != 2:
            raise ValueError(f"decode expects features (T, D) or (B, T, D), got {tuple(x.shape)}")
        init = None if initial is None else _as_tensor(initial).detach().cpu().to(torch.float64)
        with torch.no_grad():
            quats, root_pos, tr = self.decode_kinematics(x, init)
        return Motion(
            self.skeleton, quats.numpy(), root_pos.numpy(), fps, None if tr is None else tr.numpy(), name
        )

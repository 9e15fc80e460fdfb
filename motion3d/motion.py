"""Motion: a skeleton animated by local joint rotations and a root trajectory.

Arrays are numpy float64 (file precision, exact round trips); learning code converts to torch
through ``motion3d.features``. Conventions are those of ``motion3d.geometry.rotations``:
quaternions xyzw, Y up, lengths in the file's units.
"""
from __future__ import annotations

import numpy as np

from motion3d.geometry.kinematics import forward_kinematics_np
from motion3d.geometry.resample import FPS_TOLERANCE, resample_frames
from motion3d.skeleton import Skeleton

__all__ = ["Motion", "FPS_TOLERANCE", "same_fps"]



def same_fps(a: float | None, b: float | None) -> bool:
    """Whether frame rates ``a`` and ``b`` are the same within :data:`FPS_TOLERANCE` (relative).
    ``None`` (an unknown rate) or NaN is never the same as anything."""
    if a is None or b is None:
        return False
    a, b = float(a), float(b)
    return bool(abs(a - b) <= FPS_TOLERANCE * max(abs(a), abs(b)))


class Motion:
    """A clip on a :class:`Skeleton`.

    Attributes:
        skeleton: the joint tree.
        rotations: ``(T, J, 4)`` local joint rotations, unit quaternions xyzw.
        root_positions: ``(T, 3)`` root joint positions.
        translations: ``None``, or ``(T, J, 3)`` per-frame local joint translations that replace
            the skeleton's rest offsets (files with position channels on non-root joints, such as
            Bandai-Namco's). Row 0 (the root) is kept equal to ``root_positions``.
        fps: frames per second (float).
        name: free text (the file stem, for example).
    """

    def __init__(
        self,
        skeleton: Skeleton,
        rotations: np.ndarray,
        root_positions: np.ndarray,
        fps: float,
        translations: np.ndarray | None = None,
        name: str = "",
    ):
        rotations = np.asarray(rotations, dtype=np.float64)
        root_positions = np.asarray(root_positions, dtype=np.float64)
        J = skeleton.num_joints
        if rotations.ndim != 3 or rotations.shape[1:] != (J, 4):
            raise ValueError(f"rotations must be (T, {J}, 4) quaternions for this skeleton, got {rotations.shape}")
        T = rotations.shape[0]
        if root_positions.shape != (T, 3):
            raise ValueError(f"root_positions must be ({T}, 3), got {root_positions.shape}")
        if translations is not None:
            translations = np.array(translations, dtype=np.float64)
            if translations.shape != (T, J, 3):
                raise ValueError(f"translations must be ({T}, {J}, 3), got {translations.shape}")
            translations[:, 0] = root_positions
        if fps is None:
            raise ValueError("fps is required: a motion's frame rate is never assumed")
        if not (fps > 0 and np.isfinite(fps)):
            raise ValueError(f"fps must be positive, got {fps}")
        self.skeleton = skeleton
        self.rotations = rotations
        self.root_positions = root_positions
        self.translations = translations
        self.fps = float(fps)
        self.name = name

    # ------------------------------------------------------------------ basics
    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def num_joints(self) -> int:
        return self.skeleton.num_joints

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return max(self.num_frames - 1, 0) / self.fps

    @property
    def frame_time(self) -> float:
        return 1.0 / self.fps

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        nm = f"{self.name!r}, " if self.name else ""
        return f"Motion({nm}{self.num_frames} frames, {self.num_joints} joints, {self.fps:g} fps)"

    def local_offsets(self) -> np.ndarray:
        """``(T, J, 3)`` per-frame local offsets (translations where animated, rest offsets elsewhere)."""
        if self.translations is not None:
            return self.translations
        return np.broadcast_to(self.skeleton.offsets, (self.num_frames, self.num_joints, 3))

    # ------------------------------------------------------------------ kinematics
    def forward_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """``(global rotation matrices (T, J, 3, 3), global positions (T, J, 3))``."""
        return forward_kinematics_np(
            self.rotations, self.skeleton.offsets, self.skeleton.parents, self.root_positions, self.translations
        )

    def positions(self) -> np.ndarray:
        """``(T, J, 3)`` global joint positions in file units."""
        return self.forward_kinematics()[1]

    def global_rotations(self) -> np.ndarray:
        """``(T, J, 3, 3)`` global joint rotation matrices."""
        return self.forward_kinematics()[0]

    def end_site_positions(self) -> dict[int, np.ndarray]:
        """``{joint index: (T, 3)}`` global positions of the End Sites."""
        rot, pos = self.forward_kinematics()
        return {j: pos[:, j] + rot[:, j] @ off for j, off in self.skeleton.end_sites.items()}

    # ------------------------------------------------------------------ copies and slicing
    def copy(self) -> "Motion":
        return Motion(
            self.skeleton.copy(), self.rotations.copy(), self.root_positions.copy(), self.fps,
            None if self.translations is None else self.translations.copy(), self.name,
        )

    def replace(self, **changes) -> "Motion":
        """A new Motion with some fields replaced (``rotations=``, ``root_positions=``, ``fps=`` ...)."""
        fields = dict(
            skeleton=self.skeleton, rotations=self.rotations, root_positions=self.root_positions,
            fps=self.fps, translations=self.translations, name=self.name,
        )
        fields.update(changes)
        return Motion(**fields)

    def __getitem__(self, frames) -> "Motion":
        """Frame slicing: ``m[10:100]``, ``m[::4]`` (fps divided by the step), an index array."""
        if isinstance(frames, (int, np.integer)):
            frames = slice(int(frames), int(frames) + 1 if frames != -1 else None)
        fps = self.fps
        if isinstance(frames, slice) and frames.step not in (None, 1):
            if frames.step <= 0:
                raise ValueError("reverse or zero frame steps are not a motion; use a positive step")
            fps = self.fps / frames.step
        tr = None if self.translations is None else self.translations[frames]
        return Motion(self.skeleton, self.rotations[frames], self.root_positions[frames], fps, tr, self.name)

    # ------------------------------------------------------------------ operations (motion3d.ops)
    def resample(self, fps: float) -> "Motion":
        """This clip at ``fps`` (slerp on rotations, linear on positions; the maths is
        :mod:`motion3d.geometry.resample`). A rate within :data:`FPS_TOLERANCE` of the clip's
        gives a copy labelled ``fps``. Also :func:`motion3d.ops.resample`."""
        if fps is None:
            raise ValueError("resample needs the target fps")
        if same_fps(fps, self.fps):
            return self.copy().replace(fps=float(fps))
        rot, root, tr = resample_frames(self.rotations, self.root_positions, self.translations, self.fps, fps)
        return self.replace(rotations=rot, root_positions=root, fps=float(fps), translations=tr)

    def mirror(self, axis: str = "x", pairs=None, skeleton: str = "auto") -> "Motion":
        """Left/right mirror image: :func:`motion3d.ops.mirror`. (motion3d.ops.mirror does not
        import this module, so this delegation closes no import circle; the import stays in the
        body because importing a motion3d.ops module first runs motion3d/ops/__init__, whose other
        operations import Motion.)"""
        from motion3d.ops.mirror import mirror

        return mirror(self, axis=axis, pairs=pairs, skeleton=skeleton)

    def allclose(self, other: "Motion", atol: float = 1e-5) -> bool:
        """Same skeleton, frame count and fps, rotations equal up to quaternion sign, and positions
        within ``atol`` (file units)."""
        if not self.skeleton.allclose(other.skeleton, atol) or self.num_frames != other.num_frames:
            return False
        if not same_fps(self.fps, other.fps):
            return False
        dot = np.abs((self.rotations * other.rotations).sum(-1))
        if (1.0 - dot > atol).any():
            return False
        return bool(np.allclose(self.positions(), other.positions(), atol=atol))

"""HumanML3D joint positions: ``new_joints/*.npy``, ``(T, 22, 3)`` float arrays at 20 fps.

HumanML3D stores each clip's global joint positions (Y up, metres) on the 22-joint SMPL body
tree (:data:`PARENTS`, :data:`NAMES`), sampled at the dataset's fixed 20 frames per second
(:data:`FPS`: the dataset defines it, the file does not store it). There are no rotations, so a
file loads as a positions array, not a :class:`motion3d.Motion`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motion3d.io import FormatError

__all__ = ["load", "save", "FPS", "PARENTS", "NAMES", "NUM_JOINTS"]

#: frames per second of every HumanML3D joint array (the dataset's rate)
FPS = 20.0
NUM_JOINTS = 22
#: SMPL body kinematic tree (22 joints), the joint order of HumanML3D's arrays
PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19])
NAMES = ("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
         "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
         "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
         "left_elbow", "right_elbow", "left_wrist", "right_wrist")


def _check(path, arr: np.ndarray) -> None:
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise FormatError(path, f"HumanML3D joint positions must be real numbers, got dtype {arr.dtype}")
    if arr.ndim != 3 or arr.shape[1:] != (NUM_JOINTS, 3):
        raise FormatError(path, f"expected (T, {NUM_JOINTS}, 3) HumanML3D joint positions, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise FormatError(path, "HumanML3D joint array has no frames")


def load(path: str | os.PathLike) -> np.ndarray:
    """``(T, 22, 3)`` float64 global joint positions (Y up, metres) of a HumanML3D ``.npy``.

    Raises:
        FormatError: naming the file: not a numpy array, pickled objects, a shape other than
            ``(T, 22, 3)``, no frames, or non-finite values.
    """
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r")
    except FileNotFoundError:
        raise
    except Exception as e:
        raise FormatError(path, f"cannot read a numpy array: {type(e).__name__}: {e}") from None
    if not isinstance(arr, np.ndarray):
        raise FormatError(path, "expected a .npy array, got an archive")
    _check(path, arr)
    out = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(out).all():
        t = int(np.flatnonzero(~np.isfinite(out).all(axis=(1, 2)))[0])
        raise FormatError(path, f"non-finite joint position at frame {t}")
    return out


def save(path: str | os.PathLike, positions) -> Path:
    """Write ``(T, 22, 3)`` joint positions as a HumanML3D ``.npy`` (float32, as the dataset)."""
    path = Path(path)
    arr = np.asarray(positions)
    _check(path, arr)
    np.save(path, arr.astype(np.float32), allow_pickle=False)
    return path

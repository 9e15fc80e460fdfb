"""Files to renderable items: BVH / AMC clips, AMASS sequences (meshes with a body model) and
HumanML3D joint arrays, each read through the library's loaders.

:func:`load_item` returns a :class:`~motion3d.render.clip.Clip` or a
:class:`~motion3d.render.open3d_clips.MeshSequence`; the viewers use it so every tool accepts the
same files.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from motion3d.io import FormatError
from motion3d.render.clip import Clip, from_motion
from motion3d.render.open3d_clips import MeshSequence

# SMPL body kinematic tree (22 joints), the joint order of HumanML3D's new_joints arrays.
SMPL_BODY_PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19])
SMPL_BODY_NAMES = ["pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
                   "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
                   "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
                   "left_elbow", "right_elbow", "left_wrist", "right_wrist"]
HUMANML3D_FPS = 20.0
SUPPORTED = (".bvh", ".amc", ".npz", ".npy")


def load_item(path: str | os.PathLike, model_dir: str | os.PathLike | None = None, mesh: bool = True,
              fps: float | None = None):
    """Read a motion file for viewing.

    Args:
        path: ``.bvh``, ``.amc`` (ASF found beside it), ``.npz`` (AMASS) or ``.npy`` ((T, 22, 3)
            HumanML3D joint positions, 20 fps).
        model_dir: SMPL-H body-model folder for AMASS meshes (see ``smpl_mesh.find_model_file``).
        mesh: AMASS as a skinned mesh (needs the model); False gives its 52 joints as a skeleton.
        fps: override the file's frame rate (AMC and .npy files do not store one).
    Returns:
        A Clip or a MeshSequence, named after the file.
    Raises:
        FormatError: unknown or malformed file. SMPLModelMissing: AMASS without body-model files.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FormatError(path, "no such file")
    if suffix == ".bvh":
        from motion3d.io import bvh

        clip = from_motion(bvh.load(path), path.stem)
    elif suffix == ".amc":
        from motion3d.io import amc

        clip = from_motion(amc.load(path, fps=fps or 120.0), path.stem)
    elif suffix == ".npz":
        return _load_amass(path, model_dir, mesh, fps)
    elif suffix == ".npy":
        arr = np.load(path)
        if arr.ndim != 3 or arr.shape[1:] != (22, 3):
            raise FormatError(path, f"expected (T, 22, 3) HumanML3D joint positions, got {arr.shape}")
        clip = Clip(arr, SMPL_BODY_PARENTS, fps or HUMANML3D_FPS, path.stem, SMPL_BODY_NAMES)
    else:
        raise FormatError(path, f"unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED)})")
    if fps:
        clip.fps = float(fps)
    return clip


def _load_amass(path: Path, model_dir, mesh: bool, fps: float | None):
    from motion3d.render import smpl_mesh

    data = smpl_mesh.load_amass(path)
    rate = float(fps or data["fps"])
    verts, faces, joints = smpl_mesh.smpl_mesh_sequence(data["poses"], data["trans"], data["betas"],
                                                        data["gender"], model_dir)
    if mesh:
        return MeshSequence(verts, faces, rate, path.stem, joints)
    return Clip(joints, _smplh_parents(), rate, path.stem)


def _smplh_parents() -> np.ndarray:
    """The 52-joint SMPL-H tree: the body, then 15 joints per hand (3 per finger) on the wrists."""
    hand = []
    for wrist, first in ((20, 22), (21, 37)):
        for f in range(5):
            j = first + 3 * f
            hand += [wrist, j, j + 1]
    return np.concatenate([SMPL_BODY_PARENTS, hand])


def as_skeleton(item) -> Clip:
    """A Clip for any item: mesh sequences become their joints (SMPL-H tree), clips pass through."""
    if isinstance(item, Clip):
        return item
    if item.joints is None:
        raise ValueError(f"{item.name}: a mesh sequence without joints has no skeleton")
    parents = _smplh_parents() if item.joints.shape[1] == 52 else SMPL_BODY_PARENTS[: item.joints.shape[1]]
    return Clip(item.joints, parents, item.fps, item.name)


def load_items(paths, model_dir=None, mesh: bool = True, fps: float | None = None) -> list:
    """:func:`load_item` for several files; AMASS files without a body model are skipped with a
    warning that says what to install when other files remain, and raise otherwise."""
    from motion3d.render.smpl_mesh import SMPLModelMissing

    items, missing = [], None
    for p in paths:
        try:
            items.append(load_item(p, model_dir, mesh, fps))
        except SMPLModelMissing as err:
            missing = err
            warnings.warn(f"{p}: skipped: {err}", stacklevel=2)
    if not items and missing is not None:
        raise missing
    return items


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> ``(640, 480)`` (the viewers' ``--size``); argparse-friendly errors."""
    import argparse

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    return w, h

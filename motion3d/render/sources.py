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

from motion3d.io import FormatError, humanml3d, registry
from motion3d.io.amass import SMPLH_PARENTS, load_params
from motion3d.render.clip import Clip, from_motion
from motion3d.render.open3d_clips import MeshSequence
from motion3d.render.smpl_mesh import SMPLModelMissing, smpl_mesh_sequence

#: what the viewers read: the motion formats and HumanML3D joint arrays (:mod:`motion3d.io.registry`)
KINDS = ("motion", "joints")
SUPPORTED = registry.suffixes(KINDS)


def load_item(path: str | os.PathLike, model_dir: str | os.PathLike | None = None, mesh: bool = True,
              fps: float | None = None):
    """Read a motion file for viewing (the format from :func:`motion3d.io.registry.detect`).

    Args:
        path: ``.bvh``, ``.amc`` (ASF found beside it), ``.npz`` (AMASS) or ``.npy`` ((T, 22, 3)
            HumanML3D joint positions, :data:`motion3d.io.humanml3d.FPS`).
        model_dir: SMPL-H body-model folder for AMASS meshes (see ``smpl_mesh.find_model_file``).
        mesh: AMASS as a skinned mesh (needs the model); False gives its 52 joints as a skeleton.
        fps: override the file's frame rate (AMC files do not store one: the AMC reader's CMU
            rate applies unless this is given).
    Returns:
        A Clip or a MeshSequence, named after the file.
    Raises:
        FormatError: unknown or malformed file. SMPLModelMissing: AMASS without body-model files.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    fmt = registry.detect(path, KINDS)
    if fmt.name == "amass":
        return _load_amass(path, model_dir, mesh, fps)
    if fmt.kind == "joints":
        return Clip(fmt.load(path), humanml3d.PARENTS, fps or humanml3d.FPS, path.stem, list(humanml3d.NAMES))
    kwargs = {"fps": float(fps)} if fps and fmt.name == "amc" else {}
    clip = from_motion(fmt.load(path, **kwargs), path.stem)
    if fps:
        clip.fps = float(fps)
    return clip


def _load_amass(path: Path, model_dir, mesh: bool, fps: float | None):
    data = load_params(path)
    rate = float(fps or data["fps"])
    verts, faces, joints = smpl_mesh_sequence(data["poses"], data["trans"], data["betas"], data["gender"],
                                              model_dir)
    if mesh:
        return MeshSequence(verts, faces, rate, path.stem, joints)
    return Clip(joints, SMPLH_PARENTS, rate, path.stem)


def as_skeleton(item) -> Clip:
    """A Clip for any item: mesh sequences become their joints (SMPL-H tree), clips pass through."""
    if isinstance(item, Clip):
        return item
    if item.joints is None:
        raise ValueError(f"{item.name}: a mesh sequence without joints has no skeleton")
    parents = SMPLH_PARENTS[: item.joints.shape[1]]
    return Clip(item.joints, parents, item.fps, item.name)


def load_items(paths, model_dir=None, mesh: bool = True, fps: float | None = None) -> list:
    """:func:`load_item` for several files; AMASS files without a body model are skipped with a
    warning that says what to install when other files remain, and raise otherwise."""
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
    """``"640x480"`` -> ``(640, 480)`` (the viewers' ``--size``); a ValueError (which argparse
    reports as an invalid value of the option) otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return w, h

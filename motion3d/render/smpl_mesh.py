"""SMPL-H mesh sequences from AMASS parameters, with the user's smplx body-model files.

AMASS stores per frame ``poses`` (T, 156) axis-angle (root 3 + body 63 + hands 90), ``trans``
(T, 3), ``betas`` and ``gender``, Z up. The body-model files cannot be redistributed (they need a
registration), so :func:`find_model_file` looks for them in a user folder and
:class:`SMPLModelMissing` says where to get them.

Skinning follows smplx: the model is an ``smplx.SMPLH`` built by :mod:`motion3d.io.amass` (its safe
reader takes smplx's ``smplh/SMPLH_<GENDER>.npz|pkl`` and AMASS's ``smplh/<gender>/model.npz``), then
``smplx.lbs.lbs`` poses it in batches of frames with flat hand means and no PCA, as AMASS does.
Output is converted to Y up.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motion3d.io.amass import body_model, find_body_model
from motion3d.ops.axes import Z_UP_TO_Y_UP  # AMASS (Z up) to the library's Y up


class SMPLModelMissing(FileNotFoundError):
    """No SMPL-H body model file was found; the message says what to install and where."""


def find_model_file(model_dir: str | os.PathLike | None, gender: str = "neutral") -> Path:
    """The SMPL-H model file for ``gender`` (else neutral, male, female) under ``model_dir``.

    The search is :func:`motion3d.io.amass.find_body_model` (smplx's ``smplh/SMPLH_MALE.npz|pkl``
    and AMASS's ``smplh/male/model.npz``; default folder ``$MOTION3D_BODY_MODELS``).
    Raises:
        SMPLModelMissing: with what was looked for and how to get the files.
    """
    first = None
    g = str(gender).strip().lower() or "neutral"
    for want in dict.fromkeys([g, "neutral", "male", "female"]):
        try:
            return find_body_model(model_dir, want)
        except FileNotFoundError as err:
            first = first or err
    raise SMPLModelMissing(str(first)) from None


def smpl_mesh_sequence(poses: np.ndarray, trans: np.ndarray, betas: np.ndarray | None = None,
                       gender: str = "neutral", model_dir: str | os.PathLike | None = None,
                       batch: int = 128, z_up: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skinned SMPL-H vertices for an AMASS sequence.

    Args:
        poses: (T, 156) axis-angle: root (3), 21 body joints (63), 30 hand joints (90).
            (T, 66) body-only poses are accepted (hands flat).
        trans: (T, 3) root translation.
        betas: (B,) shape coefficients (the first min(B, model's) are used).
        gender: "male", "female" or "neutral" (bytes or numpy strings too).
        model_dir: folder of body-model files (see :func:`find_model_file`).
        z_up: the parameters are Z up (AMASS); the output is turned Y up.
    Returns:
        vertices (T, V, 3), faces (F, 3) int, joints (T, 52, 3), all float32 numpy, Y up.
    """
    import torch
    from smplx.lbs import lbs

    poses = np.asarray(poses, np.float32)
    trans = np.asarray(trans, np.float32)
    if poses.ndim != 2 or poses.shape[1] not in (66, 156):
        raise ValueError(f"poses must be (T, 156) (or (T, 66)) axis-angle, got {poses.shape}")
    if trans.shape != (len(poses), 3):
        raise ValueError(f"trans must be ({len(poses)}, 3), got {trans.shape}")
    if poses.shape[1] == 66:
        poses = np.concatenate([poses, np.zeros((len(poses), 90), np.float32)], 1)
    if isinstance(gender, bytes):
        gender = gender.decode()
    # smplx.SMPLH (flat hand mean, no PCA, as AMASS) through the library's safe model reader
    model = body_model(find_model_file(model_dir, str(gender)), str(gender), num_betas=16)
    nb = model.shapedirs.shape[-1]
    b = np.zeros(nb, np.float32)
    if betas is not None:
        betas = np.asarray(betas, np.float32).ravel()[:nb]
        b[:len(betas)] = betas
    verts, joints = [], []
    with torch.no_grad():
        for s in range(0, len(poses), batch):
            p = torch.from_numpy(poses[s:s + batch])
            n = len(p)
            v, j = lbs(torch.from_numpy(b)[None].expand(n, -1), p, model.v_template, model.shapedirs,
                       model.posedirs, model.J_regressor, model.parents, model.lbs_weights,
                       pose2rot=True)
            t = torch.from_numpy(trans[s:s + batch])[:, None]
            verts.append((v + t).numpy())
            joints.append((j + t).numpy())
    verts, joints = np.concatenate(verts), np.concatenate(joints)
    if z_up:
        verts, joints = verts @ Z_UP_TO_Y_UP.T.astype(np.float32), joints @ Z_UP_TO_Y_UP.T.astype(np.float32)
    faces = np.asarray(model.faces, dtype=np.int64)
    return verts, faces, joints


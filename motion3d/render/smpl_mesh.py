"""SMPL-H mesh sequences from AMASS parameters, with the user's smplx body-model files.

AMASS stores per frame ``poses`` (T, 156) axis-angle (root 3 + body 63 + hands 90), ``trans``
(T, 3), ``betas`` and ``gender``, Z up. The body-model files cannot be redistributed (they need a
registration), so :func:`find_model_file` looks for them in a user folder and
:class:`SMPLModelMissing` says where to get them.

Skinning follows smplx: the model is built with ``smplx.create(model_dir, model_type="smplh")`` (or
``smplx.SMPLH`` on AMASS's ``smplh/<gender>/model.npz`` layout), then ``smplx.lbs.lbs`` poses it in
batches of frames with flat hand means and no PCA, as AMASS does. Output is converted to Y up.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

INSTALL_HINT = (
    "SMPL-H body model files are needed to show AMASS meshes. Register at https://mano.is.tue.mpg.de "
    "(Extended SMPL+H model, as used by AMASS) and put them in a folder laid out as "
    "DIR/smplh/SMPLH_MALE.npz (or .pkl; also FEMALE, NEUTRAL) or DIR/smplh/male/model.npz, then pass "
    "that folder (--model-dir DIR, or the MOTION3D_BODY_MODELS environment variable).")
MODEL_ENV = "MOTION3D_BODY_MODELS"

# AMASS (Z up) to the library convention (Y up): (x, y, z) -> (x, z, -y), a -90 deg turn about X.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class SMPLModelMissing(FileNotFoundError):
    """No SMPL-H body model file was found; the message says what to install and where."""


def find_model_file(model_dir: str | os.PathLike | None, gender: str = "neutral") -> Path:
    """The SMPL-H model file for ``gender`` under ``model_dir`` (or ``$MOTION3D_BODY_MODELS``).

    Looks for ``smplh/SMPLH_<GENDER>.{npz,pkl}``, ``SMPLH_<GENDER>.*``, ``smplh/<gender>/model.npz``
    and ``<gender>/model.npz``; falls back to the neutral, then any gender.
    Raises:
        SMPLModelMissing: with what was looked for and how to get the files.
    """
    model_dir = model_dir or os.environ.get(MODEL_ENV)
    if not model_dir:
        raise SMPLModelMissing(f"no body-model folder given. {INSTALL_HINT}")
    root = Path(model_dir).expanduser()
    g = str(gender).strip().lower() or "neutral"
    tried = []
    for want in dict.fromkeys([g, "neutral", "male", "female"]):
        for rel in (f"smplh/SMPLH_{want.upper()}.npz", f"smplh/SMPLH_{want.upper()}.pkl",
                    f"SMPLH_{want.upper()}.npz", f"SMPLH_{want.upper()}.pkl",
                    f"smplh/{want}/model.npz", f"{want}/model.npz"):
            path = root / rel
            tried.append(str(path))
            if path.is_file():
                return path
    raise SMPLModelMissing(f"no SMPL-H model file in {root} (looked for {', '.join(tried[:6])}, ...). {INSTALL_HINT}")


def load_body_model(path: Path, num_betas: int = 16):
    """An ``smplx`` SMPL-H model (torch module, float32) from a model file."""
    import smplx

    ext = path.suffix.lstrip(".")
    kwargs = dict(ext=ext, use_pca=False, flat_hand_mean=True, num_betas=num_betas)
    if path.name.upper().startswith("SMPLH_"):
        gender = path.stem.split("_", 1)[1].lower()
        model_dir = path.parent.parent if path.parent.name == "smplh" else None
        if model_dir is not None:
            return smplx.create(str(model_dir), model_type="smplh", gender=gender, **kwargs)
        return smplx.SMPLH(str(path), gender=gender, **kwargs)
    data = dict(np.load(path, allow_pickle=True))
    # AMASS's model.npz files may lack the hand PCA fields smplx reads; no PCA is used here.
    for side in ("l", "r"):
        data.setdefault(f"hands_components{side}", np.eye(45))
        data.setdefault(f"hands_mean{side}", np.zeros(45))
    return smplx.SMPLH(str(path), data_struct=_Struct(data), **kwargs)


class _Struct:
    def __init__(self, d: dict):
        self.__dict__.update(d)


def smpl_mesh_sequence(poses: np.ndarray, trans: np.ndarray, betas: np.ndarray | None = None,
                       gender: str = "neutral", model_dir: str | os.PathLike | None = None,
                       batch: int = 128, z_up: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skinned SMPL-H vertices for an AMASS sequence.

    Args:
        poses: (T, 156) axis-angle: root (3), 21 body joints (63), 30 hand joints (90).
            (T, 66) body-only poses are accepted (hands flat).
        trans: (T, 3) root translation.
        betas: (B,) shape coefficients (the model's first min(B, model) are used).
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
    model = load_body_model(find_model_file(model_dir, str(gender)))
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


def load_amass(path: str | os.PathLike) -> dict:
    """The arrays of an AMASS npz: poses (T, 156), trans (T, 3), betas, gender (str), fps (float)."""
    from motion3d.io import FormatError

    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise FormatError(path, f"not a readable npz file ({err})") from err
    missing = [k for k in ("poses", "trans") if k not in data]
    if missing:
        raise FormatError(path, f"not an AMASS sequence: missing {', '.join(missing)} "
                                f"(keys: {', '.join(data.files)})")
    fps = float(data["mocap_framerate"]) if "mocap_framerate" in data else (
        float(data["mocap_frame_rate"]) if "mocap_frame_rate" in data else 120.0)
    gender = data["gender"].item() if "gender" in data else "neutral"
    gender = gender.decode() if isinstance(gender, bytes) else str(gender)
    return {"poses": data["poses"], "trans": data["trans"],
            "betas": data["betas"] if "betas" in data else None, "gender": gender, "fps": fps}

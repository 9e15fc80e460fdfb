"""AMASS / SMPL-H parameter sequences (``.npz``) as a :class:`Motion` on the SMPL-H skeleton.

An AMASS file holds ``poses`` ``(T, 156)`` axis-angle (3 root + 21 x 3 body + 2 x 15 x 3 hand
joints, hands absolute, i.e. smplx's ``flat_hand_mean=True``), ``trans`` ``(T, 3)``, ``betas``
``(B,)``, ``gender`` and ``mocap_framerate``. The skeleton's rest joints come from the SMPL-H body
model and the betas, the way smplx computes them (``J = J_regressor @ (v_template + shapedirs @
betas)``, with smplx's ``blend_shapes``/``vertices2joints``); the body model files are not
redistributable, so they must be downloaded (see :func:`find_body_model`).

The maths, top to bottom::

    J        = J_regressor @ (v_template + shapedirs[..., :B] @ betas[:B])   # 1. rest joints (52, 3)
    offsets  = J[j] - J[parent(j)];  offsets[0] = J[0]                      # 2. the skeleton
    q[t, j]  = axis_angle_to_quat(poses[t, 3j:3j+3])                        # 3. local rotations
    root[t]  = trans[t] + J[0]     # smplx rotates the body about the pelvis, then adds transl
    # 4. AMASS's world is Z-up: p_yup = U p_zup with U: (x, y, z) -> (x, z, -y). The body model's
    #    own rest frame is already Y-up, so only the world moves: q[:, 0] <- U q[:, 0], root <- U root.

Step 4 keeps the rest pose the upright SMPL-H T-pose (offsets unchanged), unlike a generic
``change_basis`` which would also turn the rest pose; the global joint positions are exactly ``U``
times smplx's output joints either way.

``dmpls`` (soft-tissue blend shapes) move vertices only, not joints, and are not read.

Note on betas: smplx itself uses at most 10 betas for models with fewer than 300 shape components
(it prints a warning); this loader uses all the file's betas the model has components for
(AMASS's own convention, 16), or ``num_betas``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from motion3d.geometry.rotations import axis_angle_to_quat, np_matrix_to_quat, np_quat_mul
from motion3d.io import FormatError
from motion3d.io.smpl_pkl import load_body_model, load_npz, smplx_struct
from motion3d.motion import Motion
from motion3d.ops.axes import Z_UP_TO_Y_UP
from motion3d.skeleton import Skeleton

__all__ = ["SMPLH_JOINT_NAMES", "SMPLH_PARENTS", "BODY_MODELS_ENV", "find_body_model", "load_model_arrays",
           "rest_joints", "skeleton", "load", "load_params", "body_model", "FPS_RANGE"]

#: the 52 SMPL-H joints: 22 body + 15 per hand, named as in smplx.joint_names.SMPLH_JOINT_NAMES
SMPLH_JOINT_NAMES: list[str] = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    *[f"left_{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)],
    *[f"right_{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)],
]
#: ``(52,)`` parents of the SMPL-H kinematic tree (``kintree_table[0]`` of the model files)
SMPLH_PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]
    + [20, 22, 23, 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35]
    + [21, 37, 38, 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50]
)
#: environment variable naming the folder of body models (default: ``<data root>/body_models``)
BODY_MODELS_ENV = "MOTION3D_BODY_MODELS"
_NUM_JOINTS = 52
_Z_UP = Z_UP_TO_Y_UP


# ---------------------------------------------------------------------------------------------
# Body model files
# ---------------------------------------------------------------------------------------------
def _default_dir() -> Path:
    env = os.environ.get(BODY_MODELS_ENV)
    if env:
        return Path(env).expanduser()
    from motion3d.paths import data_root

    return data_root() / "body_models"


def find_body_model(body_model_dir: str | os.PathLike | None = None, gender: str = "neutral") -> Path:
    """The SMPL-H model file for ``gender``.

    Looks, in ``body_model_dir`` (default ``$MOTION3D_BODY_MODELS``, else ``<data>/body_models``;
    a file path is used as is), for smplx's layout ``smplh/SMPLH_MALE.npz`` (or ``.pkl``; also
    directly in the folder) and AMASS's layout ``smplh/male/model.npz``.

    Raises:
        FileNotFoundError: saying which files to download and where to put them.
    """
    root = Path(body_model_dir) if body_model_dir is not None else _default_dir()
    if root.is_file():
        return root
    g = gender.lower()
    names = [f"SMPLH_{g.upper()}.npz", f"SMPLH_{g.upper()}.pkl", f"SMPLH_{g}.npz", f"SMPLH_{g}.pkl",
             f"{g}/model.npz"]
    tried = []
    for folder in (root / "smplh", root):
        for n in names:
            p = folder / n
            tried.append(p)
            if p.is_file():
                return p
    raise FileNotFoundError(
        f"no SMPL-H body model for gender {g!r} under {root}. The SMPL-H model files need a (free, "
        "non-commercial) registration: download 'Extended SMPL+H model' (used by AMASS: "
        f"smplh/{g}/model.npz) from https://mano.is.tue.mpg.de (Downloads), or the smplx-layout files "
        f"(smplh/SMPLH_{g.upper()}.npz or .pkl) from https://smpl-x.is.tue.mpg.de, and put them at "
        f"{root / 'smplh' / g / 'model.npz'} or {root / 'smplh' / f'SMPLH_{g.upper()}.npz'} "
        f"(set {BODY_MODELS_ENV} or pass body_model_dir= to use another folder; official .pkl files "
        "load without chumpy). Looked for: " + ", ".join(str(t) for t in tried)
    )


def load_model_arrays(path: str | os.PathLike) -> dict:
    """The arrays of an SMPL-H model file (``.npz`` or official ``.pkl``, read safely), checked:
    ``v_template (V, 3)``, ``shapedirs (V, 3, S)``, ``J_regressor (52, V)`` dense,
    ``kintree_table (2, 52)``, all finite (the shapes and values are checked by
    :func:`motion3d.io.smpl_pkl.check_model_arrays`, the SMPL-H sizes here)."""
    data = load_body_model(path)
    for k in ("v_template", "shapedirs", "J_regressor", "kintree_table"):
        if k not in data:
            raise FormatError(path, f"not an SMPL-H body model: no {k!r} (keys: {', '.join(sorted(data))})")
    V = np.asarray(data["v_template"]).shape[0]
    jr = np.asarray(data["J_regressor"], dtype=np.float64)
    if jr.shape != (_NUM_JOINTS, V):
        raise FormatError(path, f"'J_regressor' is {jr.shape}, an SMPL-H model has ({_NUM_JOINTS}, {V}) "
                                "(is this an SMPL or SMPL-X model?)")
    data["J_regressor"] = jr
    kt = np.asarray(data["kintree_table"])
    if kt.shape != (2, _NUM_JOINTS):
        raise FormatError(path, f"'kintree_table' is {kt.shape}, an SMPL-H model has (2, {_NUM_JOINTS})")
    if np.asarray(data["shapedirs"]).shape[-1] == 0:
        raise FormatError(path, f"'shapedirs' is {np.asarray(data['shapedirs']).shape}: no shape components")
    return data


def _parents(model: dict) -> np.ndarray:
    p = np.asarray(model["kintree_table"])[0].astype(np.int64)
    p[0] = -1  # stored as 2**32 - 1
    return p


def rest_joints(model: dict, betas: np.ndarray | None = None, num_betas: int | None = None) -> np.ndarray:
    """``(52, 3)`` rest joint positions (model frame, Y-up) for ``betas`` ``(B,)``:
    ``J_regressor @ (v_template + shapedirs[..., :n] @ betas[:n])`` with smplx's own functions,
    ``n = min(B, shape components)`` or ``num_betas``."""
    from smplx.lbs import blend_shapes, vertices2joints

    shapedirs = torch.as_tensor(np.asarray(model["shapedirs"], dtype=np.float64))
    v_template = torch.as_tensor(np.asarray(model["v_template"], dtype=np.float64))
    jr = torch.as_tensor(np.asarray(model["J_regressor"], dtype=np.float64))
    betas = np.zeros(0) if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1)
    n = min(len(betas), shapedirs.shape[-1]) if num_betas is None else int(num_betas)
    if n > shapedirs.shape[-1]:
        raise ValueError(f"num_betas={n} but the model has {shapedirs.shape[-1]} shape components and the "
                         f"file {len(betas)} betas")
    b = torch.zeros(1, n, dtype=torch.float64)
    b[0, : min(n, len(betas))] = torch.as_tensor(betas[:n])
    v_shaped = v_template[None] + blend_shapes(b, shapedirs[..., :n])
    return vertices2joints(jr, v_shaped)[0].numpy()


def skeleton(joints: np.ndarray, parents: np.ndarray = SMPLH_PARENTS) -> Skeleton:
    """The SMPL-H :class:`Skeleton` from ``(52, 3)`` rest joints (model frame, Y-up)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape != (_NUM_JOINTS, 3):
        raise ValueError(f"SMPL-H rest joints are ({_NUM_JOINTS}, 3), got {joints.shape}")
    offsets = joints.copy()
    offsets[1:] = joints[1:] - joints[parents[1:]]
    return Skeleton(SMPLH_JOINT_NAMES, parents, offsets)


# ---------------------------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------------------------
def _numeric(path: Path, data: dict, key: str) -> np.ndarray:
    """``data[key]`` as float64, refused (naming the file and the key) unless it holds finite numbers."""
    a = np.asarray(data[key])
    if a.dtype.kind not in "biuf":
        raise FormatError(path, f"{key!r} holds {a.dtype} values, expected numbers")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" (first in frame {first[0]})" if key in ("poses", "trans") and first else ""
        raise FormatError(path, f"{key!r} holds {int(bad.sum())} NaN or infinite value(s){where}")
    return a


#: frame rates a sequence may declare (Hz)
FPS_RANGE = (1e-3, 1e6)


def load_params(npz_path: str | os.PathLike) -> dict:
    """The parameters of an AMASS file, checked: ``poses (T, 156)``, ``trans (T, 3)``,
    ``betas (B,)``, ``gender`` (str), ``fps`` (float), all finite, ``T >= 1``, ``fps`` a positive
    number (within :data:`FPS_RANGE`).

    Raises:
        FormatError: naming the file and the key that is missing or wrong.
    """
    path = Path(npz_path)
    data = load_npz(path)
    for k in ("poses", "trans"):
        if k not in data:
            raise FormatError(path, f"not an AMASS SMPL-H file: no {k!r} array (keys: {', '.join(sorted(data))})")
    poses = _numeric(path, data, "poses")
    trans = _numeric(path, data, "trans")
    if poses.ndim != 2 or poses.shape[1] != 3 * _NUM_JOINTS:
        raise FormatError(path, f"'poses' is {poses.shape}; SMPL-H files have (T, {3 * _NUM_JOINTS}) "
                                "(SMPL-X files, with 165, are not SMPL-H)")
    if poses.shape[0] == 0:
        raise FormatError(path, "'poses' holds no frames")
    if trans.shape != (poses.shape[0], 3):
        raise FormatError(path, f"'trans' is {trans.shape}, 'poses' has {poses.shape[0]} frames")
    key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in data), None)
    if key is None:
        raise FormatError(path, "no 'mocap_framerate' in the file")
    raw = np.asarray(data[key])
    if raw.dtype.kind not in "iuf" or raw.size != 1:
        raise FormatError(path, f"{key!r} is {raw.dtype} of shape {raw.shape}, expected one number (frames/s)")
    fps = float(raw.reshape(()))
    if not (np.isfinite(fps) and FPS_RANGE[0] <= fps <= FPS_RANGE[1]):
        raise FormatError(path, f"{key!r} is {fps}, expected a frame rate in [{FPS_RANGE[0]:g}, {FPS_RANGE[1]:g}]")
    betas = _numeric(path, data, "betas") if "betas" in data else np.zeros(0)
    if betas.ndim > 1 and betas.shape[0] == 1:
        betas = betas[0]
    if betas.ndim > 1:
        raise FormatError(path, f"'betas' is {betas.shape}, expected (B,)")
    betas = betas.reshape(-1)
    gender = data.get("gender", "neutral")
    if isinstance(gender, np.ndarray):
        if gender.dtype.kind not in "SUO" or gender.size != 1:
            raise FormatError(path, f"'gender' is {gender.dtype} of shape {gender.shape}, expected a string")
        gender = gender.reshape(()).item()
    if isinstance(gender, bytes):
        gender = gender.decode("latin1")
    if not isinstance(gender, str):
        raise FormatError(path, f"'gender' is a {type(gender).__name__}, expected a string")
    return {"poses": poses, "trans": trans, "betas": betas, "gender": gender.strip().lower(), "fps": fps}


def load(
    npz_path: str | os.PathLike,
    body_model_dir: str | os.PathLike | None = None,
    gender: str | None = None,
    num_betas: int | None = None,
    up: str = "z",
    rest: np.ndarray | None = None,
) -> Motion:
    """Read an AMASS SMPL-H ``.npz`` into a :class:`Motion` on the 52-joint SMPL-H skeleton.

    Args:
        npz_path: the sequence.
        body_model_dir: folder (or file) of the SMPL-H model, see :func:`find_body_model`.
        gender: overrides the file's ``gender``.
        num_betas: shape components to use (default: all the file has, up to the model's).
        up: the file's world up axis: ``"z"`` (AMASS, default), ``"y"`` (keep), or ``"auto"``.
        rest: explicit ``(52, 3)`` rest joints (model frame) to use instead of a body model, for
            machines without the model files (e.g. joints saved from an earlier load:
            ``motion.skeleton.rest_positions()``); never guessed.
    Returns:
        Motion in metres, Y-up, ``(T, 52, 4)`` rotations, fps from ``mocap_framerate``.
    Raises:
        FileNotFoundError: the body model is missing (the message says what to get, and where).
        FormatError: the npz or model file is malformed.
    """
    path = Path(npz_path)
    p = load_params(path)
    if rest is None:
        model_file = find_body_model(body_model_dir, gender or p["gender"])
        model = load_model_arrays(model_file)
        rest = rest_joints(model, p["betas"], num_betas)
        parents = _parents(model)
        if not np.array_equal(parents, SMPLH_PARENTS):
            raise FormatError(model_file, "kintree_table is not the SMPL-H tree")
    sk = skeleton(rest)
    T = p["poses"].shape[0]
    aa = torch.from_numpy(p["poses"].reshape(T, _NUM_JOINTS, 3))
    rotations = axis_angle_to_quat(aa).numpy()
    root = p["trans"] + rest[0]
    motion = Motion(sk, rotations, root, p["fps"], name=path.stem)
    return _world_to_y_up(motion, up)


def _world_to_y_up(motion: Motion, up: str) -> Motion:
    """Rotate the world (root rotation and trajectory) so that ``up`` becomes +Y; the rest pose
    (already Y-up in the body model) is left alone."""
    from motion3d.ops.axes import detect_up_axis, up_axis_matrix

    up = up.lower()
    if up == "auto":
        up = detect_up_axis(motion)
    U = up_axis_matrix(up)
    if up == "y":
        return motion
    rot = motion.rotations.copy()
    rot[:, 0] = np_quat_mul(np_matrix_to_quat(U), rot[:, 0])
    return motion.replace(rotations=rot, root_positions=motion.root_positions @ U.T)


def body_model(body_model_dir: str | os.PathLike | None = None, gender: str = "neutral", **kwargs):
    """An ``smplx.SMPLH`` built from the model file through the safe reader (no chumpy, no
    unrestricted unpickling). ``kwargs`` go to smplx (``num_betas``, ``use_pca``, ...); AMASS
    poses need ``use_pca=False, flat_hand_mean=True`` (the defaults here)."""
    import smplx

    path = find_body_model(body_model_dir, gender)
    kwargs.setdefault("use_pca", False)
    kwargs.setdefault("flat_hand_mean", True)
    return smplx.SMPLH(str(path), data_struct=smplx_struct(load_model_arrays(path)), gender=gender, **kwargs)

"""AMASS SMPL-H sequences: FK of the loaded Motion equals smplx's own output joints (turned
Y-up), on the real sample poses with a fabricated body model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motion3d.io import FormatError, amass
from motion3d.ops.axes import up_axis_matrix
from tests.conftest import assert_close
from tests.io.fake_smplh import VERTEX_IDS, chumpy_pickle, make_model, write_npz


@pytest.fixture(scope="module")
def smpl_dir(data_dir):
    from tests.conftest import require_data

    return require_data(data_dir / "smpl")


@pytest.fixture(scope="module")
def model():
    return make_model()


@pytest.fixture
def model_dir(tmp_path, model):
    write_npz(model, tmp_path / "smplh" / "SMPLH_MALE.npz")
    return tmp_path


def smplx_joints(model_dir, npz, num_betas, gender="male"):
    """smplx's forward output joints (the 52 kinematic ones) for every frame, world Z-up."""
    import smplx

    d = np.load(npz)
    poses, T = torch.from_numpy(d["poses"]), len(d["poses"])
    body = smplx.create(str(model_dir), model_type="smplh", gender=gender, ext="npz", num_betas=num_betas,
                        use_pca=False, flat_hand_mean=True, vertex_ids=VERTEX_IDS, dtype=torch.float64)
    betas = torch.from_numpy(d["betas"][:num_betas]).expand(T, num_betas)
    with torch.no_grad():
        out = body(betas=betas, global_orient=poses[:, :3], body_pose=poses[:, 3:66],
                   left_hand_pose=poses[:, 66:111], right_hand_pose=poses[:, 111:156],
                   transl=torch.from_numpy(d["trans"]), return_verts=False)
    return out.joints[:, :52].numpy()


def test_joint_names_are_smplx_names():
    from smplx.joint_names import SMPLH_JOINT_NAMES

    assert amass.SMPLH_JOINT_NAMES == SMPLH_JOINT_NAMES[:52]
    assert amass.SMPLH_JOINT_NAMES[amass.SMPLH_PARENTS[20]] == "left_elbow"
    assert amass.SMPLH_JOINT_NAMES[amass.SMPLH_PARENTS[22]] == "left_wrist"
    assert amass.SMPLH_JOINT_NAMES[amass.SMPLH_PARENTS[37]] == "right_wrist"


def test_fk_matches_smplx_forward(smpl_dir, model_dir):
    npz = smpl_dir / "amass_sample.npz"
    # smplx uses at most 10 betas with a 16-component model: compare on 10
    m = amass.load(npz, model_dir, num_betas=10)
    assert m.num_frames == 601 and m.num_joints == 52 and m.fps == 120.0
    assert m.skeleton.names == amass.SMPLH_JOINT_NAMES
    expected = smplx_joints(model_dir, npz, 10) @ up_axis_matrix("z").T  # Z-up -> Y-up
    err = np.abs(m.positions() - expected).max()
    assert err < 1e-5, err  # measured ~1e-8 (smplx casts the model through float32)


def test_default_uses_every_beta(smpl_dir, model_dir, model):
    npz = smpl_dir / "amass_sample.npz"
    betas = np.load(npz)["betas"]
    assert len(betas) == 16
    m = amass.load(npz, model_dir)
    J = model["J_regressor"] @ (model["v_template"] + model["shapedirs"] @ betas)
    # the rest pose stays the body model's own (Y-up) frame: only the world was turned
    assert_close(m.skeleton.rest_positions(), J, atol=1e-12)
    # root = trans + pelvis, turned Y-up
    d = np.load(npz)
    assert_close(m.root_positions, (d["trans"] + J[0]) @ up_axis_matrix("z").T, atol=1e-12)


def test_up_options(smpl_dir, model_dir):
    npz = smpl_dir / "amass_sample.npz"
    z = amass.load(npz, model_dir, up="y")  # keep AMASS's Z-up world
    y = amass.load(npz, model_dir)
    assert_close(y.positions(), z.positions() @ up_axis_matrix("z").T, atol=1e-10)
    assert_close(y.skeleton.offsets, z.skeleton.offsets, atol=0)


def test_real_body_is_upright_after_conversion(smpl_dir, model_dir):
    """With the real poses the head is above the pelvis along +Y once converted, and 'auto'
    agrees with the default (needs joint names only, so the fabricated shape is enough)."""
    npz = smpl_dir / "amass_sample.npz"
    z = amass.load(npz, model_dir, up="y")
    # the fabricated model is a blob: give it a human rest pose (metres, Y-up) through rest=
    rest = _human_rest()
    y = amass.load(npz, rest=rest)
    pos = y.positions()
    head, pelvis = amass.SMPLH_JOINT_NAMES.index("head"), 0
    assert (pos[:, head, 1] - pos[:, pelvis, 1] > 0.3).mean() > 0.95
    auto = amass.load(npz, rest=rest, up="auto")
    assert_close(auto.positions(), pos, atol=1e-12)
    assert z.num_frames == y.num_frames


def _human_rest() -> np.ndarray:
    """A rough SMPL-H T-pose (metres, Y-up, facing +Z): the pelvis at 0.9 m, head 1.5 m."""
    J = np.zeros((52, 3))
    body = {
        "pelvis": (0, 0.9, 0), "left_hip": (0.08, 0.82, 0), "right_hip": (-0.08, 0.82, 0),
        "spine1": (0, 1.0, 0), "left_knee": (0.1, 0.47, 0), "right_knee": (-0.1, 0.47, 0),
        "spine2": (0, 1.13, 0), "left_ankle": (0.1, 0.07, 0), "right_ankle": (-0.1, 0.07, 0),
        "spine3": (0, 1.19, 0), "left_foot": (0.12, 0.02, 0.12), "right_foot": (-0.12, 0.02, 0.12),
        "neck": (0, 1.4, 0), "left_collar": (0.08, 1.32, 0), "right_collar": (-0.08, 1.32, 0),
        "head": (0, 1.5, 0.05), "left_shoulder": (0.18, 1.35, 0), "right_shoulder": (-0.18, 1.35, 0),
        "left_elbow": (0.45, 1.35, 0), "right_elbow": (-0.45, 1.35, 0), "left_wrist": (0.7, 1.35, 0),
        "right_wrist": (-0.7, 1.35, 0),
    }
    for k, v in body.items():
        J[amass.SMPLH_JOINT_NAMES.index(k)] = v
    for j in range(22, 52):
        J[j] = J[amass.SMPLH_PARENTS[j]] + np.array([0.03 if j < 37 else -0.03, 0, 0])
    return J


def test_gender_from_file_bytes(smpl_dir, tmp_path, model):
    npz = smpl_dir / "dmpl_sample.npz"
    assert np.load(npz)["gender"].dtype.kind == "S"  # b'female'
    write_npz(model, tmp_path / "smplh" / "SMPLH_FEMALE.npz")
    m = amass.load(npz, tmp_path)
    assert m.num_frames == 235
    with pytest.raises(FileNotFoundError, match="SMPLH_MALE"):
        amass.load(npz, tmp_path, gender="male")


def test_missing_model_says_what_to_get(smpl_dir, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        amass.load(smpl_dir / "amass_sample.npz", tmp_path / "models")
    msg = str(e.value)
    assert "SMPLH_MALE.npz" in msg and "smplh/male/model.npz" in msg
    assert "https://mano.is.tue.mpg.de" in msg and str(tmp_path / "models") in msg


def test_amass_layout_and_official_pkl(smpl_dir, tmp_path, monkeypatch, model):
    """AMASS's smplh/male/model.npz layout, and an official chumpy-pickled SMPLH_MALE.pkl (no
    chumpy installed) give the same motion as the smplx-layout npz."""
    npz = smpl_dir / "amass_sample.npz"
    write_npz(model, tmp_path / "a" / "smplh" / "male" / "model.npz")
    (tmp_path / "b" / "smplh").mkdir(parents=True)
    (tmp_path / "b" / "smplh" / "SMPLH_MALE.pkl").write_bytes(chumpy_pickle(model, monkeypatch))
    write_npz(model, tmp_path / "c" / "smplh" / "SMPLH_MALE.npz")
    ref = amass.load(npz, tmp_path / "c")[:50]
    for d in ("a", "b"):
        m = amass.load(npz, tmp_path / d)[:50]
        assert m.allclose(ref, atol=1e-12), d
    body = amass.body_model(tmp_path / "b", "male", vertex_ids=VERTEX_IDS, dtype=torch.float64)
    assert body.J_regressor.shape == (52, model["v_template"].shape[0])


def test_malformed_sequences(tmp_path, model_dir):
    p = tmp_path / "x.npz"
    np.savez(p, poses=np.zeros((4, 165)), trans=np.zeros((4, 3)), betas=np.zeros(16), mocap_framerate=30.0,
             gender="male")
    with pytest.raises(FormatError, match="165"):
        amass.load(p, model_dir)
    np.savez(p, poses=np.zeros((4, 156)), betas=np.zeros(16), mocap_framerate=30.0)
    with pytest.raises(FormatError, match="no 'trans'"):
        amass.load(p, model_dir)
    np.savez(p, poses=np.zeros((4, 156)), trans=np.zeros((4, 3)), gender="male")
    with pytest.raises(FormatError, match="mocap_framerate"):
        amass.load(p, model_dir)

"""SMPL-H meshes from AMASS parameters, on a fabricated small model file (the real ones need a
registration)."""
import numpy as np
import pytest

from motion3d.io.amass import SMPLH_PARENTS, load_params
from motion3d.ops.axes import Z_UP_TO_Y_UP
from motion3d.render.smpl_mesh import SMPLModelMissing, find_model_file, smpl_mesh_sequence
from motion3d.render.sources import load_item
from tests.conftest import assert_close

NJ = 52


def fabricate_smplh(path, num_betas=4, seed=0):
    """A valid SMPL-H npz: 4 vertices (a small tetrahedron) per joint, each skinned to its joint."""
    rng = np.random.default_rng(seed)
    parents = SMPLH_PARENTS
    joints = np.zeros((NJ, 3))
    for j in range(1, NJ):
        joints[j] = joints[parents[j]] + rng.normal(scale=0.1, size=3)
    tet = np.array([[0.02, 0, 0], [-0.01, 0.017, 0], [-0.01, -0.017, 0], [0, 0, 0.02]])
    v = (joints[:, None] + tet).reshape(-1, 3)
    V = len(v)
    weights = np.repeat(np.eye(NJ), 4, axis=0)
    jreg = weights.T / 4.0
    faces = (np.array([[0, 1, 2], [0, 1, 3], [1, 2, 3], [0, 2, 3]])[None] + 4 * np.arange(NJ)[:, None, None]).reshape(-1, 3)
    kintree = np.stack([np.where(parents < 0, 2**32 - 1, parents), np.arange(NJ)]).astype(np.int64)
    np.savez(path, v_template=v, shapedirs=rng.normal(scale=0.01, size=(V, 3, num_betas)),
             posedirs=np.zeros((V, 3, (NJ - 1) * 9)), J_regressor=jreg, weights=weights,
             kintree_table=kintree, f=faces, hands_componentsl=np.eye(45), hands_componentsr=np.eye(45),
             hands_meanl=np.zeros(45), hands_meanr=np.zeros(45))
    return v, faces, joints


@pytest.fixture
def model_dir(tmp_path):
    (tmp_path / "smplh").mkdir()
    v, f, j = fabricate_smplh(tmp_path / "smplh" / "SMPLH_MALE.npz")
    return tmp_path, v, f


def test_missing_model_gives_clear_message(tmp_path, monkeypatch):
    monkeypatch.delenv("MOTION3D_BODY_MODELS", raising=False)
    with pytest.raises(SMPLModelMissing, match="mano.is.tue.mpg.de"):
        find_model_file(None)
    with pytest.raises(SMPLModelMissing, match="SMPLH_MALE"):
        find_model_file(tmp_path, "male")


def test_rest_pose_is_the_template_turned_y_up(model_dir):
    root, v, f = model_dir
    T = 3
    trans = np.array([[1.0, 2.0, 3.0]] * T)
    verts, faces, joints = smpl_mesh_sequence(np.zeros((T, 156)), trans, np.zeros(4), "male", root)
    assert verts.shape == (T, len(v), 3) and joints.shape == (T, NJ, 3)
    assert np.array_equal(faces, f)
    assert_close(verts[1], (v + trans[0]) @ Z_UP_TO_Y_UP.T, atol=1e-5)
    assert_close(verts[1, :, 1], v[:, 2] + 3.0, atol=1e-5)  # AMASS z is our y


def test_root_rotation_turns_the_body(model_dir):
    root, v, _ = model_dir
    pose = np.zeros((1, 156))
    pose[0, 2] = np.pi / 2  # 90 deg about the model's z axis, around the root joint
    verts, _, joints = smpl_mesh_sequence(pose, np.zeros((1, 3)), None, "male", root, z_up=False)
    j0 = joints[0, 0]
    rel = v - j0
    expected = np.stack([-rel[:, 1], rel[:, 0], rel[:, 2]], 1) + j0
    assert_close(verts[0], expected, atol=1e-5)


def test_gender_fallback_and_amass_layout(tmp_path):
    (tmp_path / "smplh" / "female").mkdir(parents=True)
    fabricate_smplh(tmp_path / "smplh" / "female" / "model.npz")
    assert find_model_file(tmp_path, "female").name == "model.npz"
    assert find_model_file(tmp_path, "male").parent.name == "female"  # any gender rather than none
    verts, _, _ = smpl_mesh_sequence(np.zeros((2, 66)), np.zeros((2, 3)), None, b"female", tmp_path)
    assert verts.shape == (2, 4 * NJ, 3)


def test_real_amass_file_plays_as_mesh(data_dir, model_dir):
    root, v, _ = model_dir
    path = data_dir / "smpl" / "dmpl_sample.npz"
    data = load_params(path)
    assert data["gender"] == "female" and data["poses"].shape == (235, 156) and data["fps"] == pytest.approx(120.0)
    seq = load_item(path, model_dir=root)
    assert seq.vertices.shape == (235, len(v), 3) and seq.fps == pytest.approx(120.0)
    assert np.isfinite(seq.vertices).all()
    # the body moves with trans (converted to Y up)
    assert_close(seq.joints[:, 0] - seq.joints[0, 0], (data["trans"] - data["trans"][0]) @ Z_UP_TO_Y_UP.T, atol=1e-3)


def test_amass_without_model_says_what_to_install(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MOTION3D_BODY_MODELS", raising=False)
    with pytest.raises(SMPLModelMissing, match="Extended SMPL\\+H"):
        load_item(data_dir / "smpl" / "amass_sample.npz", model_dir=tmp_path)

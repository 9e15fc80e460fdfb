"""Body-model files without chumpy: the restricted unpickler reads chumpy/sparse pickles and
refuses anything that could run code."""
from __future__ import annotations

import builtins
import io
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

from motion3d.io import FormatError
from motion3d.io.smpl_pkl import convert_to_npz, load_body_model, load_npz, read_npy, safe_loads
from tests.conftest import assert_close, require_data
from tests.io.fake_smplh import VERTEX_IDS, chumpy_pickle, fake_chumpy, make_model


@pytest.mark.parametrize("protocol", [0, 2])
def test_chumpy_pickle_loads_without_chumpy(tmp_path, monkeypatch, protocol):
    model = make_model()
    path = tmp_path / "SMPLH_MALE.pkl"
    path.write_bytes(chumpy_pickle(model, monkeypatch, protocol))
    assert b"chumpy.ch" in path.read_bytes() and b"csc_matrix" in path.read_bytes()
    data = load_body_model(path)
    assert "chumpy" not in sys.modules
    for k, v in model.items():
        assert isinstance(data[k], np.ndarray), k
        assert_close(data[k], v, atol=0, msg=k)
    assert data["bs_style"] == "lbs"


def test_converted_npz_builds_smplx(tmp_path, monkeypatch):
    import smplx
    import torch

    model = make_model()
    pkl = tmp_path / "SMPLH_MALE.pkl"
    pkl.write_bytes(chumpy_pickle(model, monkeypatch))
    npz = convert_to_npz(pkl, tmp_path / "smplh" / "SMPLH_MALE.npz")
    assert_close(load_npz(npz)["J_regressor"], model["J_regressor"], atol=0)
    body = smplx.create(str(tmp_path), model_type="smplh", gender="male", ext="npz", use_pca=False,
                        flat_hand_mean=True, vertex_ids=VERTEX_IDS, dtype=torch.float64)
    out = body(return_verts=True)
    J0 = model["J_regressor"] @ model["v_template"]
    assert_close(out.joints[0, :52], J0, atol=1e-6)  # smplx casts the model arrays through float32


def test_official_smpl_pkl_into_smplx_without_chumpy(tmp_path, monkeypatch):
    """smplx.SMPL only reads .pkl with plain pickle (needing chumpy); smplx_struct hands it the
    arrays instead. A 24-joint SMPL-shaped model, chumpy-pickled like basicmodel_m_lbs_10_207_0_v1.0.0.pkl."""
    import smplx
    import torch

    from motion3d.io.smpl_pkl import smplx_struct

    rng = np.random.default_rng(1)
    V, J = 40, 24
    parents = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
    jr = rng.random((J, V))
    model = {
        "v_template": rng.normal(size=(V, 3)), "shapedirs": rng.normal(size=(V, 3, 10)) * 0.01,
        "posedirs": rng.normal(size=(V, 3, 207)) * 0.01, "J_regressor": jr / jr.sum(1, keepdims=True),
        "weights": np.full((V, J), 1.0 / J), "kintree_table": np.array([parents, list(range(J))]),
        "f": rng.integers(0, V, size=(10, 3)),
    }
    path = tmp_path / "basicmodel_m_lbs_10_207_0_v1.0.0.pkl"
    path.write_bytes(chumpy_pickle(model, monkeypatch))
    body = smplx.SMPL(str(path), data_struct=smplx_struct(path), vertex_ids=VERTEX_IDS, dtype=torch.float64)
    out = body(body_pose=torch.zeros(1, 69, dtype=torch.float64))
    assert_close(out.joints[0, :24], model["J_regressor"] @ model["v_template"], atol=1e-6)
    assert "chumpy" not in sys.modules


class _Evil:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _attacks(marker):
    cmd = f"touch {marker}"
    return {
        "os.system": _Evil(os.system, cmd),
        "builtins.eval": _Evil(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "builtins.exec": _Evil(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.call": _Evil(subprocess.call, ["touch", str(marker)]),
        "nested in a model dict": {"v_template": np.zeros((2, 3)), "f": [_Evil(os.system, cmd)]},
    }


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "builtins.exec", "subprocess.call",
                                  "nested in a model dict"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_malicious_pickle_is_refused_and_not_run(tmp_path, name, protocol):
    marker = tmp_path / "pwned"
    data = pickle.dumps(_attacks(marker)[name], protocol=protocol)
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(FormatError, match="refusing to load") as e:
        load_body_model(path)
    assert e.value.path == str(path)
    assert not marker.exists()
    # the same bytes really are an attack when unpickled normally
    pickle.loads(data)
    assert marker.exists()


def test_malicious_chumpy_state_is_refused(tmp_path, monkeypatch):
    """An attack hidden in the state of an allowed (chumpy) object still goes through find_class."""
    marker = tmp_path / "pwned"
    with monkeypatch.context() as m:
        Ch = fake_chumpy(m)
        data = pickle.dumps({"v_template": Ch(_Evil(os.system, f"touch {marker}"))}, protocol=2)
    with pytest.raises(FormatError, match="refusing to load posix.system|refusing to load os.system"):
        safe_loads(data, "model.pkl")
    assert not marker.exists()


def test_reconstructor_only_builds_stand_ins():
    # copy_reg._reconstructor(numpy.ndarray, object, None), as a Python 2 pickle would spell it
    data = b"ccopy_reg\n_reconstructor\n(cnumpy\nndarray\nc__builtin__\nobject\nNtR."
    with pytest.raises(FormatError, match="not allowed"):
        safe_loads(data, "x.pkl")


def test_npz_object_arrays_go_through_the_restricted_unpickler(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil(os.system, f"touch {marker}")
    with open(path, "wb") as f:
        np.savez(f, v_template=np.zeros((3, 3)), evil=evil)
    with pytest.raises(FormatError, match="refusing to load"):
        load_npz(path)
    assert not marker.exists()
    # harmless object arrays (strings, arrays) are fine
    ok = np.empty(2, dtype=object)
    ok[0], ok[1] = "lbs", np.arange(3)
    with open(path, "wb") as f:
        np.savez(f, v_template=np.zeros((3, 3)), meta=ok)
    data = load_npz(path)
    assert data["meta"][0] == "lbs" and data["meta"][1].tolist() == [0, 1, 2]


def test_not_a_model(tmp_path):
    p = tmp_path / "x.pkl"
    p.write_bytes(b"garbage")
    with pytest.raises(FormatError, match="x.pkl"):
        load_body_model(p)
    with pytest.raises(FormatError, match="no such file"):
        load_body_model(tmp_path / "missing.pkl")


def test_load_npz_matches_numpy_load(data_dir, tmp_path):
    """The header-first reader gives what numpy.load gives: the real AMASS/DMPL samples (stored and
    deflated members), Fortran order, big-endian and version-3 (utf-8) headers."""
    real = [require_data(data_dir / "smpl" / n) for n in ("amass_sample.npz", "dmpl_sample.npz")]
    made = tmp_path / "made.npz"
    np.savez_compressed(made, f=np.asfortranarray(np.arange(12.0).reshape(3, 4)), be=np.arange(5, dtype=">i4"),
                        s=np.array("female"), b=np.array([True, False]), empty=np.zeros((0, 3)))
    for path in [*real, made]:
        ours = load_npz(path)
        with np.load(path) as ref:
            assert sorted(ours) == sorted(ref.files)
            for k in ref.files:
                assert ours[k].dtype == ref[k].dtype and ours[k].shape == ref[k].shape, (path, k)
                np.testing.assert_array_equal(ours[k], ref[k])
    assert load_npz(made)["f"].flags.f_contiguous
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns that it writes a version 3.0 header
        np.save(buf, np.ones(2, dtype=[("\u4e2d", "<f8")]))
    assert buf.getvalue()[6:8] == b"\x03\x00"
    buf.seek(0)
    assert read_npy(buf, len(buf.getvalue()), "x.npy")["\u4e2d"].tolist() == [1.0, 1.0]

"""Hostile and broken AMASS sequences and SMPL-H model files (issue 16): a FormatError naming the
file and the key for every bad value, sizes checked before allocating. Each file is built here."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from tests.security.bounds import refused_within_bounds
from motion3d.io import FormatError, amass
from tests.io.fake_smplh import make_model, write_npz


def sequence(**changes) -> dict:
    """A valid 4-frame AMASS sequence, with ``changes`` (None removes a key)."""
    d = {"poses": np.zeros((4, 156)), "trans": np.zeros((4, 3)), "betas": np.zeros(16),
         "mocap_framerate": np.array(30.0), "gender": np.array("male")}
    d.update(changes)
    return {k: v for k, v in d.items() if v is not None}


@pytest.fixture
def model_dir(tmp_path):
    write_npz(make_model(), tmp_path / "models" / "smplh" / "SMPLH_MALE.npz")
    return tmp_path / "models"


def test_valid_sequence_still_loads(tmp_path, model_dir):
    path = tmp_path / "ok.npz"
    np.savez(path, **sequence(mocap_framerate=np.array([120.0])))  # a 1-element vector is one number
    m = amass.load(path, model_dir)
    assert m.num_frames == 4 and m.fps == 120.0


def test_npz_header_claiming_1e9_frames_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 156)})
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("poses.npy", header.getvalue() + bytes(156 * 8))
        buf = io.BytesIO()
        np.save(buf, np.zeros((1, 3)))
        z.writestr("trans.npy", buf.getvalue())
    err = refused_within_bounds(amass.load_params, path)
    assert "'poses'" in err.problem and "(1000000000, 156)" in err.problem


@pytest.mark.parametrize("name,value", [
    ("zero", np.array(0.0)), ("negative", np.array(-30.0)), ("nan", np.array(np.nan)), ("inf", np.array(np.inf)),
    ("denormal", np.array(1e-320)), ("vector", np.array([30.0, 60.0])), ("string", np.array("thirty")),
    ("numeric_string", np.array("30")), ("empty", np.zeros(0)),
])
def test_bad_framerate(tmp_path, name, value):
    path = tmp_path / f"fps_{name}.npz"
    np.savez(path, **sequence(mocap_framerate=value))
    err = refused_within_bounds(amass.load_params, path)
    assert "mocap_framerate" in err.problem


@pytest.mark.parametrize("key,value,expect", [
    ("poses", np.where(np.arange(624).reshape(4, 156) == 200, np.nan, 0.0), "first in frame 1"),
    ("trans", np.array([[0, 0, 0], [0, 0, 0], [0, 0, np.inf], [0, 0, 0]], float), "first in frame 2"),
    ("betas", np.array([0.0, np.nan]), "NaN"),
    ("betas", np.array(["tall", "thin"]), "expected numbers"),
    ("poses", np.full((4, 156), "x"), "expected numbers"),
    ("betas", np.zeros((2, 16)), "(B,)"),
    ("gender", np.array([1, 2]), "expected a string"),
])
def test_bad_values_name_the_key(tmp_path, key, value, expect):
    path = tmp_path / "bad.npz"
    np.savez(path, **sequence(**{key: value}))
    err = refused_within_bounds(amass.load_params, path)
    assert repr(key) in err.problem and expect in err.problem, err.problem


def test_no_frames(tmp_path):
    path = tmp_path / "empty_poses.npz"
    np.savez(path, **sequence(poses=np.zeros((0, 156)), trans=np.zeros((0, 3))))
    assert "no frames" in refused_within_bounds(amass.load_params, path).problem


@pytest.mark.parametrize("missing", ["poses", "trans", "mocap_framerate"])
def test_missing_key_is_named(tmp_path, missing):
    path = tmp_path / "missing.npz"
    np.savez(path, **sequence(**{missing: None}))
    assert f"'{missing}'" in refused_within_bounds(amass.load_params, path).problem


@pytest.mark.parametrize("kind", ["empty", "text", "npy", "truncated_zip"])
def test_not_an_npz(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("poses,trans\n1,2\n")
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros((4, 156)))
    else:
        buf = io.BytesIO()
        np.savez(buf, **sequence())
        path.write_bytes(buf.getvalue()[:300])
    err = refused_within_bounds(amass.load_params, path)
    assert "npz" in err.problem or "zip" in err.problem


# ----------------------------------------------------------------------------------- body models
@pytest.mark.parametrize("key,change,expect", [
    ("shapedirs", lambda a: a[..., 0], "'shapedirs' is (64, 3), expected (V, 3, *)"),
    ("v_template", lambda a: a[:, :2], "'v_template' is (64, 2), expected (V, 3)"),
    ("kintree_table", lambda a: a[0], "'kintree_table' is (52,), expected (2, J)"),
    ("kintree_table", lambda a: a[:, :24], "'kintree_table' is (2, 24)"),
    ("v_template", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 5, np.nan, a), "'v_template' holds 1 NaN"),
    ("shapedirs", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 7, np.inf, a), "'shapedirs' holds 1 NaN"),
    ("J_regressor", lambda a: a[:, :10], "'J_regressor' is (52, 10), expected (J, V) with V = 64"),
])
def test_bad_body_model_arrays(tmp_path, key, change, expect):
    model = make_model()
    model[key] = change(model[key])
    model_file = write_npz(model, tmp_path / "models" / "smplh" / "SMPLH_MALE.npz")
    seq = tmp_path / "seq.npz"
    np.savez(seq, **sequence())
    with pytest.raises(FormatError) as e:
        amass.load(seq, tmp_path / "models")
    assert e.value.path == str(model_file)
    assert expect in e.value.problem, e.value.problem

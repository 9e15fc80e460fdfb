"""Hostile and broken body-model pickles (issue 16): bounded memory and depth, and errors that
tell "not a pickle / unsafe" from "a pickle with wrong contents" (which key, which shape).
Each crafted file is built here."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse

from tests.security.bounds import refused_within_bounds
from motion3d.io.smpl_pkl import MAX_DEPTH, load_body_model, load_npz
from tests.io.fake_smplh import chumpy_pickle, make_model


class _Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _sparse_bomb() -> scipy.sparse.csc_matrix:
    """A 60000 x 60000 CSC matrix with 3 entries: 240 KB pickled (its indptr), 26.8 GiB dense."""
    return scipy.sparse.csc_matrix((np.ones(3), (np.arange(3), np.arange(3))), shape=(60000, 60000))


# ------------------------------------------------------------------------------------------ bombs
def test_sparse_j_regressor_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.pkl"
    path.write_bytes(pickle.dumps({"v_template": np.zeros((64, 3)), "J_regressor": _sparse_bomb()}, protocol=2))
    assert path.stat().st_size < 300_000
    err = refused_within_bounds(load_body_model, path)
    assert "'J_regressor'" in err.problem and "64 vertices" in err.problem and "wrong contents" in err.problem


def test_sparse_bomb_without_v_template_is_refused(tmp_path):
    path = tmp_path / "bomb.pkl"
    path.write_bytes(pickle.dumps({"J_regressor": _sparse_bomb()}, protocol=2))
    assert "26.8 GiB" in refused_within_bounds(load_body_model, path).problem


def test_sparse_bomb_inside_an_npz_object_array_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    obj = np.empty(1, dtype=object)
    obj[0] = _sparse_bomb()
    np.savez(path, v_template=np.zeros((64, 3)), J_regressor=obj)
    err = refused_within_bounds(load_npz, path)
    assert "'J_regressor'" in err.problem and "26.8 GiB" in err.problem


def test_real_sized_sparse_regressor_still_densifies(tmp_path, monkeypatch):
    """The bound does not bite on real shapes: (52, V) sparse, with V from v_template."""
    model = make_model()
    path = tmp_path / "SMPLH_MALE.pkl"
    path.write_bytes(chumpy_pickle(model, monkeypatch))
    np.testing.assert_array_equal(load_body_model(path)["J_regressor"], model["J_regressor"])


@pytest.mark.parametrize("fmt", ["csc", "csr", "coo"])
def test_valid_sparse_formats_densify(tmp_path, fmt):
    dense = np.arange(32.0).reshape(4, 8) * (np.arange(32).reshape(4, 8) % 3 == 0)
    path = tmp_path / f"{fmt}.pkl"
    path.write_bytes(pickle.dumps({"v_template": np.zeros((8, 3)),
                                   "J_regressor": scipy.sparse.coo_matrix(dense).asformat(fmt)}, protocol=2))
    np.testing.assert_array_equal(load_body_model(path)["J_regressor"], dense)


@pytest.mark.parametrize("form", ["stack", "marks", "memo"])
def test_200k_nested_lists_are_refused(tmp_path, form):
    n = 200_000
    if form == "stack":  # EMPTY_LIST x n, APPEND x n
        data = b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."
    elif form == "marks":  # protocol 0: MARK x n, LIST x n
        data = b"(" * n + b"l" * n + b"."
    else:  # one list at a time, the previous one fetched from the memo: the stack stays small
        data = b"\x80\x02]q\x00" + b"]h\x00aq\x000" * n + b"h\x00."
    path = tmp_path / f"deep_{form}.pkl"
    path.write_bytes(data)
    # the memo form has to be unpickled (1.2 M opcodes) before its depth shows: linear, not a bomb
    err = refused_within_bounds(load_body_model, path, seconds=1.0 if form != "memo" else 10.0)
    assert "deep" in err.problem


def test_nesting_just_under_the_bound_loads(tmp_path):
    nested: list = [np.zeros(2)]
    for _ in range(MAX_DEPTH - 2):
        nested = [nested]
    path = tmp_path / "nested.pkl"
    path.write_bytes(pickle.dumps({"x": nested}, protocol=2))
    assert isinstance(load_body_model(path)["x"], list)


def test_self_containing_list_is_refused(tmp_path):
    loop: list = []
    loop.append(loop)
    path = tmp_path / "loop.pkl"
    path.write_bytes(pickle.dumps({"x": loop}, protocol=2))
    assert "'x'" in refused_within_bounds(load_body_model, path).problem


def test_ndarray_cannot_be_called_with_a_shape(tmp_path):
    path = tmp_path / "alloc.pkl"
    path.write_bytes(pickle.dumps({"x": _Call(np.ndarray, (10**9,))}, protocol=2))
    assert "not called" in refused_within_bounds(load_body_model, path).problem


def test_reconstruct_with_a_real_shape_is_refused(tmp_path):
    reconstruct = np.zeros(1).__reduce__()[0]
    path = tmp_path / "alloc.pkl"
    path.write_bytes(pickle.dumps({"x": _Call(reconstruct, np.ndarray, (10**9,), b"b")}, protocol=2))
    assert "placeholder" in refused_within_bounds(load_body_model, path).problem


@pytest.mark.parametrize("opcode", [b"\x8e", b"\x8d"])  # BINBYTES8, BINUNICODE8
def test_counted_string_longer_than_the_file_is_refused_before_allocating(tmp_path, opcode):
    path = tmp_path / "long.pkl"
    path.write_bytes(b"\x80\x04" + opcode + (2**30).to_bytes(8, "little") + b"abc.")
    assert "not a pickle" in refused_within_bounds(load_body_model, path).problem


# ------------------------------------------------------------- NaN / shapes: which key, which shape
@pytest.mark.parametrize("key,value,expect", [
    ("v_template", lambda m: np.where(np.arange(192).reshape(64, 3) == 4, np.nan, m["v_template"]),
     "'v_template' holds 1 NaN or infinite value(s) (first at index (1, 1))"),
    ("shapedirs", lambda m: m["shapedirs"] * np.inf, "'shapedirs' holds"),
    ("shapedirs", lambda m: m["shapedirs"][..., 0], "'shapedirs' is (64, 3), expected (V, 3, *)"),
    ("v_template", lambda m: m["v_template"][:, :2], "'v_template' is (64, 2), expected (V, 3)"),
    ("kintree_table", lambda m: m["kintree_table"][0], "'kintree_table' is (52,), expected (2, J)"),
    ("weights", lambda m: m["weights"][:10], "'weights' is (10, 52), expected (V, J) with V = 64"),
    ("f", lambda m: m["f"] + 64, "'f' indexes vertices"),
    ("kintree_table", lambda m: m["kintree_table"] + 0.5, "non-integer"),
])
def test_wrong_contents_name_the_key_and_the_shape(tmp_path, monkeypatch, key, value, expect):
    model = make_model()
    model[key] = value(model)
    path = tmp_path / "SMPLH_MALE.pkl"
    path.write_bytes(chumpy_pickle(model, monkeypatch))
    err = refused_within_bounds(load_body_model, path)
    assert expect in err.problem, err.problem


def test_not_a_pickle_and_unsafe_and_wrong_contents_are_told_apart(tmp_path):
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert "not a pickle" in refused_within_bounds(load_body_model, garbage).problem

    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(pickle.dumps({"v_template": np.zeros((4, 3))}, protocol=2)[:-20])
    assert "not a pickle" in refused_within_bounds(load_body_model, truncated).problem

    unsafe = tmp_path / "unsafe.pkl"
    unsafe.write_bytes(pickle.dumps({"x": _Call(print, "hi")}, protocol=2))
    assert "unsafe" in refused_within_bounds(load_body_model, unsafe).problem

    for fmt in ("csc", "csr", "coo"):
        bad_sparse = tmp_path / f"bad_{fmt}.pkl"
        m = scipy.sparse.coo_matrix(np.eye(4, 8)).asformat(fmt)
        if fmt == "coo":
            m.row = m.row + 100  # row indices past the 4 rows (scipy would not build it)
        else:
            m.indices = m.indices + 100  # indices past the matrix (toarray() would read out of bounds)
        bad_sparse.write_bytes(pickle.dumps({"v_template": np.zeros((8, 3)), "J_regressor": m}, protocol=2))
        err = refused_within_bounds(load_body_model, bad_sparse)
        assert "wrong contents" in err.problem and "'J_regressor'" in err.problem, err.problem
        assert "inconsistent sparse" in err.problem and ("< 4" in err.problem or "< 8" in err.problem
                                                        or "dimension 4" in err.problem), err.problem

    not_dict = tmp_path / "list.pkl"
    not_dict.write_bytes(pickle.dumps([np.zeros(3)], protocol=2))
    assert "dict" in refused_within_bounds(load_body_model, not_dict).problem

"""A small, valid, made-up SMPL-H body model (the real files need a registration) and a
chumpy-style pickle of it, for the AMASS and body-model reader tests."""
from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import scipy.sparse

from motion3d.io.amass import SMPLH_PARENTS

V = 64  # vertices: enough for a few per joint; real models have 6890
NUM_SHAPE = 16  # shape components, as the AMASS "extended SMPL+H" models
#: vertex indices smplx's VertexJointSelector reads (the real ones exceed V)
VERTEX_IDS = {k: i for i, k in enumerate(
    ["nose", "reye", "leye", "rear", "lear", "rthumb", "rindex", "rmiddle", "rring", "rpinky", "lthumb",
     "lindex", "lmiddle", "lring", "lpinky", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"])}


def make_model(seed: int = 0) -> dict:
    """The arrays smplx's SMPLH reads, with the shapes of the real files."""
    rng = np.random.default_rng(seed)
    J = 52
    jr = rng.random((J, V)) * (rng.random((J, V)) < 0.2)
    jr[np.arange(J), rng.integers(0, V, J)] += 1.0  # every row has weight
    jr /= jr.sum(1, keepdims=True)
    w = rng.random((V, J)) ** 4
    w /= w.sum(1, keepdims=True)
    kintree = np.stack([SMPLH_PARENTS, np.arange(J)]).astype(np.int64)
    kintree[0, 0] = 2**32 - 1  # as stored in the official files
    return {
        "v_template": rng.normal(size=(V, 3)) * 0.3 + np.array([0.0, 0.3, 0.0]),
        "shapedirs": rng.normal(size=(V, 3, NUM_SHAPE)) * 0.02,
        "posedirs": rng.normal(size=(V, 3, (J - 1) * 9)) * 0.01,
        "J_regressor": jr,
        "weights": w,
        "kintree_table": kintree,
        "f": rng.integers(0, V, size=(100, 3)).astype(np.int64),
        "hands_componentsl": np.eye(45),
        "hands_componentsr": np.eye(45),
        "hands_meanl": rng.normal(size=45) * 0.1,
        "hands_meanr": rng.normal(size=45) * 0.1,
    }


def write_npz(model: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez(f, **model)
    return path


def fake_chumpy(monkeypatch) -> type:
    """Install a fake ``chumpy.ch`` module (undone with ``monkeypatch``); returns its ``Ch``."""
    pkg, ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x if not isinstance(x, (list, tuple, np.ndarray)) else np.asarray(x)
            self._cache = {}

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    ch.Ch, pkg.ch = Ch, ch
    monkeypatch.setitem(sys.modules, "chumpy", pkg)
    monkeypatch.setitem(sys.modules, "chumpy.ch", ch)
    return Ch


def chumpy_pickle(model: dict, monkeypatch, protocol: int = 2) -> bytes:
    """Pickle ``model`` the way the official SMPL files are: arrays wrapped in ``chumpy.ch.Ch``
    and ``J_regressor`` a ``scipy.sparse.csc_matrix``. A fake ``chumpy`` exists only while
    pickling."""
    with monkeypatch.context() as m:
        Ch = fake_chumpy(m)
        d = dict(model)
        for k in ("v_template", "shapedirs", "posedirs"):
            d[k] = Ch(d[k])
        d["J_regressor"] = scipy.sparse.csc_matrix(d["J_regressor"])
        d["bs_style"], d["bs_type"] = "lbs", "lrotmin"
        data = pickle.dumps(d, protocol=protocol)
    assert "chumpy" not in sys.modules
    return data

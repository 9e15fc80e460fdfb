"""Shared test fixtures: where the real data is, Open3D when it loads, and a common closeness assertion."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

from motion3d.paths import data_root


def require_data(path: Path) -> Path:
    """``path``, or a skip when it is missing (a failure under CI, where the data must be there)."""
    if not path.exists():
        msg = f"test data missing: {path} (set MOTION3D_DATA or put ../shared/data beside the repo)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def require_open3d():
    """The ``open3d`` module, or a skip saying why it cannot load (a failure under CI).

    Any ImportError (not only a missing package: a missing system library such as libusb gives a
    plain ImportError, which ``pytest.importorskip`` does not skip) or OSError counts. Usable at
    module level (``o3d = require_open3d()``) and through the ``open3d`` fixture.
    """
    try:
        return importlib.import_module("open3d")
    except (ImportError, OSError) as err:
        msg = (f"open3d cannot load ({type(err).__name__}: {err}); pip install 'motion3d[viewer]', and "
               "the system packages of system-packages.txt: `make system-packages` as root")
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg, allow_module_level=True)


@pytest.fixture(scope="session")
def open3d():
    """The ``open3d`` module; skips (fails under CI) when it cannot load, see ``require_open3d``."""
    return require_open3d()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The dataset root; fails (not skips) under CI when missing."""
    return require_data(data_root())


@pytest.fixture(scope="session")
def mocap_dir(data_dir) -> Path:
    return require_data(data_dir / "mocap")


@pytest.fixture(scope="session")
def cmu_dir(mocap_dir) -> Path:
    return require_data(mocap_dir / "cmu")


@pytest.fixture(scope="session")
def bandai_dir(mocap_dir) -> Path:
    return require_data(mocap_dir / "bandai-namco-1")


def assert_close(actual, expected, atol=1e-6, rtol=0.0, msg=""):
    """``np.testing.assert_allclose`` that also accepts torch tensors."""
    def to_np(x):
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        return np.asarray(x)
    np.testing.assert_allclose(to_np(actual), to_np(expected), atol=atol, rtol=rtol, err_msg=msg)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    try:
        import torch
        torch.manual_seed(0)
    except ImportError:  # pragma: no cover
        pass

"""Shared test fixtures: where the real data is, and a common closeness assertion."""
from __future__ import annotations

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

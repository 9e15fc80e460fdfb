"""Up-axis conversion and detection: real Y-up clips turned to every axis and back."""
from __future__ import annotations

import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops.axes import change_basis, detect_up_axis, to_y_up, up_axis_matrix
from tests.conftest import assert_close

AXES = ["y", "z", "-z", "x", "-x", "-y"]


@pytest.fixture(scope="module")
def clips(cmu_dir, bandai_dir):
    bandai = sorted((bandai_dir).rglob("*.bvh"))[0]
    return {"cmu": bvh.load(cmu_dir / "01_01.bvh")[1:40], "bandai": bvh.load(bandai)[:40]}


def turned_up(motion, up):
    """The Y-up ``motion`` expressed in a world whose up axis is ``up``."""
    return change_basis(motion, up_axis_matrix(up).T)


@pytest.mark.parametrize("up", AXES)
def test_up_axis_matrix_takes_up_to_y(up):
    U = up_axis_matrix(up)
    assert_close(U @ U.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(U) == pytest.approx(1.0)
    axis = np.zeros(3)
    axis["xyz".index(up[-1])] = -1.0 if up.startswith("-") else 1.0
    assert_close(U @ axis, [0, 1, 0], atol=1e-12)


def test_z_up_round_trip(clips):
    m = clips["cmu"]
    z = turned_up(m, "z")
    # the Z-up copy really is Z-up: the head is above the feet along +Z
    pos = z.positions()
    head, foot = z.skeleton.index("Head"), z.skeleton.index("LeftFoot")
    assert (pos[:, head, 2] - pos[:, foot, 2] > 0.5 * m.skeleton.height()).all()
    assert_close(pos, m.positions() @ up_axis_matrix("z"), atol=1e-9)
    back = to_y_up(z, "z")
    assert back.allclose(m, atol=1e-9)
    assert_close(back.skeleton.offsets, m.skeleton.offsets, atol=1e-12)
    assert_close(back.skeleton.end_sites[head], m.skeleton.end_sites[head], atol=1e-12)


@pytest.mark.parametrize("name", ["cmu", "bandai"])
@pytest.mark.parametrize("up", AXES)
def test_detect_and_convert_every_axis(clips, name, up):
    m = clips[name]
    turned = turned_up(m, up)
    assert detect_up_axis(turned) == up
    assert_close(to_y_up(turned, "auto").positions(), m.positions(), atol=1e-8)
    assert_close(to_y_up(turned, up).positions(), m.positions(), atol=1e-8)


@pytest.mark.parametrize("name", ["cmu", "bandai"])
@pytest.mark.parametrize("up", AXES)
def test_detect_without_joint_names(clips, name, up):
    """Without head/foot names: the pose's largest extent, signed towards the upper body."""
    m = clips[name]
    sk = m.skeleton.copy()
    sk.names = [f"j{k}" for k in range(sk.num_joints)]
    anon = turned_up(m.replace(skeleton=sk), up)
    assert detect_up_axis(anon) == up


def test_bvh_load_up_option(clips, tmp_path):
    m = clips["cmu"]
    path = bvh.save(turned_up(m, "z"), tmp_path / "zup.bvh")
    assert_close(bvh.load(path, up="z").positions(), m.positions(), atol=1e-4)
    assert_close(bvh.load(path, up="auto").positions(), m.positions(), atol=1e-4)


def test_errors(clips):
    m = clips["cmu"]
    with pytest.raises(ValueError, match="unknown up axis"):
        to_y_up(m, "w")
    with pytest.raises(ValueError, match="unknown up axis"):
        up_axis_matrix("up")
    with pytest.raises(ValueError, match="proper rotation"):
        change_basis(m, np.diag([1.0, 1.0, -1.0]))
    assert to_y_up(m, "y") is m

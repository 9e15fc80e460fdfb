"""motion3d.ops.resample: exact at source frames, slerp between, any ratio."""
import numpy as np
import pytest
import torch

from motion3d.geometry.rotations import slerp
from motion3d.io import bvh
from motion3d.ops import resample
from tests.conftest import assert_close


@pytest.fixture(scope="module")
def cmu(cmu_dir):
    # 4 s at 120 fps; frame 0 of this file is the T-pose, not part of the take
    return bvh.load(cmu_dir / "01_01.bvh")[1:482]


@pytest.fixture(scope="module")
def bandai(bandai_dir):
    return bvh.load(bandai_dir / "data" / "dataset-1_walk_normal_001.bvh")


def test_downsample_takes_every_fourth_frame(cmu):
    m30 = resample(cmu, 30)
    assert m30.fps == 30 and m30.num_frames == 121
    assert np.array_equal(m30.rotations, cmu.rotations[::4])
    assert np.array_equal(m30.root_positions, cmu.root_positions[::4])


def test_round_trip_120_30_120_exact_at_kept_frames(cmu):
    back = resample(resample(cmu, 30), 120)
    assert back.num_frames == cmu.num_frames
    assert np.array_equal(back.rotations[::4], cmu.rotations[::4])
    assert_close(back.positions()[::4], cmu.positions()[::4], atol=1e-12)
    # between kept frames the interpolation stays close to the real pose (smooth mocap)
    err = np.abs(back.positions() - cmu.positions()).max() / cmu.skeleton.height()
    assert err < 0.02


def test_midpoint_is_slerp(cmu):
    m = cmu[:3:2]  # frames 0 and 2 at 60 fps
    up = resample(m, 120)
    assert up.num_frames == 3
    mid = slerp(torch.from_numpy(m.rotations[0]), torch.from_numpy(m.rotations[1]), 0.5).numpy()
    dot = np.abs((up.rotations[1] * mid).sum(-1))
    assert_close(dot, np.ones_like(dot), atol=1e-12)
    assert_close(up.root_positions[1], m.root_positions.mean(0), atol=1e-12)


def test_odd_ratio_keeps_duration_and_translations(bandai):
    m = resample(bandai, 24)
    assert m.fps == 24
    assert m.duration <= bandai.duration + 1e-9 and bandai.duration - m.duration < 1 / 24
    assert m.translations is not None and m.translations.shape == (m.num_frames, 22, 3)
    assert_close(m.translations[:, 0], m.root_positions)
    # frame k of 24 fps at t = k/24 lands on a 30 fps frame every 4 new frames (t = 1/6 s)
    assert_close(m.positions()[4], bandai.positions()[5], atol=1e-9)
    assert m.num_frames == int(np.floor(bandai.duration * 24 + 1e-6)) + 1


def test_motion_method_and_bad_fps(cmu):
    assert cmu[:9].resample(60).num_frames == 5
    with pytest.raises(ValueError):
        resample(cmu, 0)

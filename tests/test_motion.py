"""Motion's frame rate: one tolerance for comparing rates, and no rate is ever assumed."""
import numpy as np
import pytest

from motion3d.motion import FPS_TOLERANCE, Motion, same_fps
from motion3d.skeleton import Skeleton


def _motion(fps=30.0, frames=5):
    sk = Skeleton(["root", "a"], np.array([-1, 0]), np.array([[0.0, 0, 0], [0, 1, 0]]))
    rot = np.zeros((frames, 2, 4))
    rot[..., 3] = 1.0
    return Motion(sk, rot, np.zeros((frames, 3)), fps)


def test_same_fps_is_relative_and_refuses_unknown_rates():
    assert same_fps(120.0, 120.00048)  # CMU's rounded frame time
    assert same_fps(30.0, 30.0 * (1 + 0.9 * FPS_TOLERANCE))
    assert not same_fps(30.0, 30.0 * (1 + 2 * FPS_TOLERANCE))
    assert not same_fps(30.0, 60.0) and not same_fps(20.0, 30.0)
    assert not same_fps(None, 30.0) and not same_fps(30.0, None) and not same_fps(float("nan"), 30.0)


def test_motion_needs_a_frame_rate():
    with pytest.raises(ValueError, match="fps is required"):
        _motion(fps=None)
    with pytest.raises(ValueError, match="positive"):
        _motion(fps=float("nan"))


def test_resample_within_tolerance_relabels_and_across_it_resamples():
    m = _motion(fps=120.00048, frames=9)
    same = m.resample(120)
    assert same.fps == 120.0 and same.num_frames == 9 and same is not m
    half = m.resample(60)
    assert half.fps == 60.0 and half.num_frames == 5
    assert m.allclose(m.replace(fps=120.0)) and not m.allclose(m.replace(fps=60.0))
    with pytest.raises(ValueError, match="target fps"):
        m.resample(None)

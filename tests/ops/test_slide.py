"""motion3d.ops.slide: a drift that slides the planted feet, found on real walks."""
import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops import find_feet, foot_contacts
from motion3d.ops.slide import SLIDE_MIN_SPEED, shared_velocity, slide_drift


@pytest.fixture(scope="module", params=["dataset-2_walk_normal_001.bvh", "dataset-2_walk_elderly_002.bvh"])
def walk(request, mocap_dir):
    m = bvh.load(mocap_dir / "bandai-namco-2" / "data" / request.param)
    return m, m.positions(), find_feet(m.skeleton), float(m.skeleton.height())


def drifted(walk, speed: float, angle: float = 0.7, start: int = 0):
    """The walk's positions with the whole body drifting at ``speed`` body heights / s in direction
    ``angle`` (radians, on the floor) on the frames from ``start`` where a foot is planted."""
    m, pos, feet, h = walk
    contact = foot_contacts(m, positions=pos).any(1)
    contact[:start] = False
    v = np.array([np.cos(angle), np.sin(angle)]) * speed * h / m.fps  # file units per frame
    steps = contact[:, None] * v
    out = pos.copy()
    out[..., [0, 2]] += np.cumsum(steps, 0)[:, None, :]
    return out, steps


def test_clean_walk_has_no_drift(walk):
    m, pos, feet, h = walk
    assert not slide_drift(pos[:, feet], m.fps, h).any()


@pytest.mark.parametrize("speed", [0.1, 0.2])
def test_drift_is_found_and_taken_off(walk, speed):
    m, pos, feet, h = walk
    moved, steps = drifted(walk, speed)
    found = slide_drift(moved[:, feet], m.fps, h)
    on = np.linalg.norm(found, axis=-1) > 0
    assert on.mean() > 0.5  # most segments find it
    # the velocity found is the drift's, within 0.02 body heights / s
    v_true = steps[np.linalg.norm(steps, axis=-1) > 0][0]
    err = np.linalg.norm(found[on] - v_true, axis=-1) * m.fps / h
    assert np.median(err) < 0.02
    # the root path with the drift taken off is much closer to the clean one than the drifted
    fixed = moved[:, 0, [0, 2]] - np.cumsum(found, 0)
    before = np.linalg.norm(moved[:, 0, [0, 2]] - pos[:, 0, [0, 2]], axis=-1).mean()
    after = np.linalg.norm(fixed - pos[:, 0, [0, 2]], axis=-1).mean()
    assert after < 0.3 * before


def test_slow_drift_is_left_alone(walk):
    """Slower than SLIDE_MIN_SPEED: clean capture has consistent slips that slow."""
    m, pos, feet, h = walk
    moved, _ = drifted(walk, 0.5 * SLIDE_MIN_SPEED)
    assert not slide_drift(moved[:, feet], m.fps, h).any()


def test_each_segment_has_its_own_drift(walk):
    m, pos, feet, h = walk
    half = pos.shape[0] // 2
    moved, _ = drifted(walk, 0.15, start=half)
    found = slide_drift(moved[:, feet], m.fps, h, segment_s=2.0)
    seg = int(round(2.0 * m.fps))
    assert not found[: half - seg].any()  # segments wholly before the drift starts
    assert (np.linalg.norm(found[half + seg:], axis=-1) > 0).mean() > 0.5


def test_shared_velocity_is_the_mode_not_the_mean():
    rng = np.random.default_rng(0)
    drift = np.array([0.1, -0.05])
    v = np.concatenate([drift + 0.01 * rng.standard_normal((30, 2)), rng.uniform(-0.5, 0.5, (20, 2))])
    best, agree, still = shared_velocity(v, 0.05)
    assert np.linalg.norm(best - drift) < 0.01
    assert agree >= 30 and still < 5
    assert shared_velocity(np.zeros((0, 2)), 0.05)[1] == 0


def test_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(T, F, 3\)"):
        slide_drift(np.zeros((10, 3)), 30.0, 1.7)


@pytest.mark.parametrize("sigma", [0.002, 0.005, 0.01])
def test_root_jitter_is_not_a_drift(walk, sigma):
    """Noise on the root moves all the feet together on each frame, each frame its own way: a few
    steps agree by chance, not a share of them."""
    m, pos, feet, h = walk
    rng = np.random.default_rng(1)
    noisy = pos + rng.normal(0.0, sigma * h, (pos.shape[0], 1, 3))
    assert not slide_drift(noisy[:, feet], m.fps, h).any()


def test_only_measured_frames_count_and_are_corrected(walk):
    m, pos, feet, h = walk
    moved, steps = drifted(walk, 0.15)
    T = pos.shape[0]
    valid = np.ones(T, dtype=bool)
    valid[T // 3: 2 * T // 3] = False  # the capture lost these frames
    found = slide_drift(moved[:, feet], m.fps, h, valid=valid)
    assert not found[T // 3: 2 * T // 3 + 1].any()  # steps into, inside and out of the gap: not corrected
    assert (np.linalg.norm(found[valid], axis=-1) > 0).mean() > 0.5
    # nothing measured: nothing found
    assert not slide_drift(moved[:, feet], m.fps, h, valid=np.zeros(T, dtype=bool)).any()

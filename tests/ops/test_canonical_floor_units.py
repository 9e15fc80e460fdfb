"""motion3d.ops: canonicalise (origin, facing +Z), feet on the floor, units."""
import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops import (canonicalize, convert_units, estimate_units, facing_directions, find_pelvis,
                          floor_height, heading_angles, put_on_floor, scale, transform, yaw_matrix)
from tests.conftest import assert_close


@pytest.fixture(scope="module", params=["cmu/01_01.bvh", "bandai-namco-1/data/dataset-1_walk-left_normal_001.bvh"])
def clip(request, mocap_dir):
    return bvh.load(mocap_dir / request.param)[:240]


@pytest.mark.parametrize("frame", [0, 100])
def test_canonicalize_origin_and_facing(clip, frame):
    c = canonicalize(clip, frame=frame)
    pos = c.positions()
    r = find_pelvis(clip.skeleton)
    assert_close(pos[frame, r, [0, 2]], [0.0, 0.0], atol=1e-9)
    assert_close(pos[frame, r, 1], clip.positions()[frame, r, 1], atol=1e-9)  # height kept
    assert_close(facing_directions(pos[frame], clip.skeleton), [0.0, 0.0, 1.0], atol=1e-9)
    # a rigid move: distances between joints are unchanged
    d0 = np.linalg.norm(clip.positions()[:, 5] - clip.positions()[:, 2], axis=-1)
    assert_close(np.linalg.norm(pos[:, 5] - pos[:, 2], axis=-1), d0, atol=1e-9)


def test_heading_follows_a_turn(clip):
    R = yaw_matrix(0.7)
    turned = transform(clip, R, np.array([5.0, 0.0, -3.0]))
    assert_close(heading_angles(turned) - heading_angles(clip), np.full(clip.num_frames, 0.7), atol=1e-9)
    assert_close(turned.positions(), clip.positions() @ R.T + [5.0, 0.0, -3.0], atol=1e-9)


def test_put_on_floor(clip):
    f = put_on_floor(clip)
    assert abs(floor_height(f)) < 1e-9
    assert_close(f.positions() - clip.positions(), np.broadcast_to([0.0, -floor_height(clip), 0.0], f.positions().shape),
                 atol=1e-9)


def test_units(clip):
    units = estimate_units(clip.skeleton)
    assert units == ("cmu" if clip.num_joints == 31 else "cm")
    m = convert_units(clip, units, "m")
    assert estimate_units(m.skeleton) == "m"
    factor = 0.0254 / 0.45 if units == "cmu" else 0.01
    assert_close(m.positions(), clip.positions() * factor, atol=1e-12)
    assert_close(scale(clip, 2.0).skeleton.height(), 2.0 * clip.skeleton.height())
    with pytest.raises(ValueError, match="unknown length unit"):
        convert_units(clip, "furlong", "m")

"""motion3d.ops.foot_contacts on real walks."""
import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops import find_feet, foot_contacts, resample


@pytest.fixture(scope="module", params=["dataset-2_walk_normal_001.bvh", "dataset-2_walk_elderly_002.bvh"])
def walk(request, mocap_dir):
    return bvh.load(mocap_dir / "bandai-namco-2" / "data" / request.param)


def test_feet_by_name(walk):
    assert [walk.skeleton.names[j] for j in find_feet(walk.skeleton)] == ["Foot_L", "Toes_L", "Foot_R", "Toes_R"]


def test_walk_contacts_alternate(walk):
    c = foot_contacts(walk)
    assert c.shape == (walk.num_frames, 4) and c.dtype == bool
    left, right = c[:, :2].any(1), c[:, 2:].any(1)
    for side in (left, right):
        assert 0.3 < side.mean() < 0.85  # stance phase of a walk
        assert (np.diff(side.astype(int)) != 0).sum() >= 4  # several steps
    both = left & right
    assert 0.0 < both.mean() < 0.5  # double support happens, but not all the time
    assert (left | right).mean() > 0.9  # a walk always has a foot down
    # left-only and right-only phases alternate
    phases = np.where(left & ~right, 1, np.where(right & ~left, 2, 0))
    seq = [p for p in phases if p]
    changes = [a for a, b in zip(seq, seq[1:]) if a != b]
    assert len(changes) >= 3


def test_contacts_independent_of_fps(walk):
    c30 = foot_contacts(walk)
    c60 = foot_contacts(resample(walk, 60))[::2]
    assert (c30 == c60).mean() > 0.9

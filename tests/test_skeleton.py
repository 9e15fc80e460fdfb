"""Skeleton structure, height, derived skeletons, serialisation."""
import numpy as np
import pytest

from motion3d import Skeleton
from motion3d.io import bvh
from tests.conftest import assert_close


def test_height_on_real_skeletons(cmu_dir, bandai_dir):
    cmu = bvh.load(cmu_dir / "01_01.bvh").skeleton
    bandai = bvh.load(next((bandai_dir / "data").glob("*walk_normal*.bvh"))).skeleton
    # CMU units are ASF length units (inches / 0.45): a ~1.7 m subject is ~27 units head-to-ankle;
    # Bandai-Namco is in cm: head joint to ankle ~ 1.35 m
    assert 24 < cmu.height() < 32
    assert 120 < bandai.height() < 160
    assert cmu.scaled(2.0).height() == pytest.approx(2 * cmu.height())


def test_structure_helpers(cmu_dir):
    sk = bvh.load(cmu_dir / "example.bvh").skeleton
    assert sk.index("LeftHand") == sk.names.index("LeftHand")
    with pytest.raises(KeyError, match="no joint named"):
        sk.index("Tail")
    assert sk.chain(sk.index("LeftFoot"))[:2] == [0, 1]
    assert sum(len(lv) for lv in sk.levels) == sk.num_joints
    assert all(sk.parents[c] == 0 for c in sk.children(0))
    assert_close(sk.rest_positions()[sk.index("LeftUpLeg")], sk.offsets[1] + sk.offsets[2])
    sub, idx = sk.subset(["LeftUpLeg", "LeftFoot", "Head"])
    assert sub.names == ["Hips", "LeftUpLeg", "LeftFoot", "Head"]
    assert_close(sub.rest_positions(), sk.rest_positions()[idx], atol=1e-12)


def test_round_trip_dict_and_comparisons(cmu_dir):
    sk = bvh.load(cmu_dir / "example.bvh").skeleton
    d = sk.to_dict()
    assert isinstance(d["offsets"], list) and isinstance(d["parents"][0], int)
    back = Skeleton.from_dict(d)
    assert back.allclose(sk) and back.channels == sk.channels
    assert sk.describe_difference(back) is None
    assert "offsets differ" in sk.describe_difference(sk.scaled(1.5))


def test_invalid_skeletons_are_refused():
    with pytest.raises(ValueError, match="topological"):
        Skeleton(["a", "b", "c"], [-1, 2, 0], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="unique"):
        Skeleton(["a", "a"], [-1, 0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown channel"):
        Skeleton(["a"], [-1], np.zeros((1, 3)), [("Wrotation",)])


def test_pelvis_and_body_comparison(cmu_dir, bandai_dir):
    cmu = bvh.load(cmu_dir / "example.bvh").skeleton
    assert cmu.pelvis() == 0
    files = sorted((bandai_dir / "data").glob("*.bvh"))[:2]
    a, b = (bvh.load(f).skeleton for f in files)
    assert a.pelvis() == a.index("Hips") == 1
    # the Hips OFFSET differs per Bandai clip (position channels override it): not a proportion
    assert not np.allclose(a.offsets[1], b.offsets[1])
    assert a.describe_difference(b) is None and a.allclose(b, atol=1e-3, body_only=True)
    longer = a.copy()
    longer.offsets[a.index("LowerLeg_L")] *= 1.2
    assert "LowerLeg_L" in a.describe_difference(longer)

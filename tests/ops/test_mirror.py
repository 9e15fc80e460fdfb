"""motion3d.ops.mirror: involution, and mirrored positions = reflected positions with sides
swapped, on CMU (world-aligned frames, asymmetric bones) and Bandai-Namco (local-axis rig)."""
import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops import find_mirror_pairs, joint_side, mirror
from motion3d.ops.mirror import mirror_frame_corrections
from motion3d.skeleton import Skeleton
from tests.conftest import assert_close

FILES = ["cmu/01_01.bvh", "cmu/131_01.bvh", "bandai-namco-1/data/dataset-1_walk_normal_001.bvh",
         "bandai-namco-2/data/dataset-2_run_active_001.bvh"]


@pytest.fixture(scope="module", params=FILES)
def clip(request, mocap_dir):
    return bvh.load(mocap_dir / request.param)[:200]


def test_reflected_positions(clip):
    perm = find_mirror_pairs(clip.skeleton)
    expected = clip.positions()[:, perm] * np.array([-1.0, 1.0, 1.0])
    m = clip.mirror()
    assert_close(m.positions(), expected, atol=1e-9 * clip.skeleton.height())


def test_involution(clip):
    back = clip.mirror().mirror()
    assert back.allclose(clip, atol=1e-9)
    assert_close(back.positions(), clip.positions(), atol=1e-9)


def test_keep_skeleton(clip):
    m = mirror(clip, skeleton="keep")
    assert m.skeleton is clip.skeleton
    err = np.abs(m.positions() - mirror(clip, skeleton="mirror").positions()).max() / clip.skeleton.height()
    if clip.translations is not None:  # Bandai: offsets come from the translations, exact
        assert err < 1e-9
    else:  # CMU: subject-specific left/right bone lengths differ by a few percent at most
        assert err < 0.05


def test_other_axis(clip):
    perm = find_mirror_pairs(clip.skeleton)
    m = mirror(clip, axis="z")
    assert_close(m.positions(), clip.positions()[:, perm] * np.array([1.0, 1.0, -1.0]),
                 atol=1e-9 * clip.skeleton.height())


def test_bandai_frame_corrections_are_half_turns(mocap_dir):
    sk = bvh.load(mocap_dir / FILES[2])[:1].skeleton
    B = mirror_frame_corrections(sk, find_mirror_pairs(sk))
    # every correction is an axis-aligned rotation (Bandai's left/right bones point along +-X)
    assert_close(np.abs(B).round(), np.abs(B), atol=1e-9)
    assert np.allclose(B[sk.index("UpperArm_L")], np.diag([1.0, -1.0, -1.0]))


@pytest.mark.parametrize("left,right", [
    ("LeftUpLeg", "RightUpLeg"), ("LHipJoint", "RHipJoint"), ("lhand", "rhand"), ("lfemur", "rfemur"),
    ("Shoulder_L", "Shoulder_R"), ("L_Hip", "R_Hip"), ("mixamorig:LeftArm", "mixamorig:RightArm"),
    ("Bip01 L Thigh", "Bip01 R Thigh"), ("hand.l", "hand.r"), ("ShoulderL", "ShoulderR"),
])
def test_pairs_by_name(left, right):
    sk = Skeleton(["Hips", "lowerback", left, right], [-1, 0, 0, 0], np.zeros((4, 3)))
    perm = find_mirror_pairs(sk)
    assert perm.tolist() == [0, 1, 3, 2]
    assert joint_side(left, sk.names) == "left" and joint_side(right, sk.names) == "right"


def test_pairs_override_and_errors():
    sk = Skeleton(["root", "a", "b", "a2", "b2"], [-1, 0, 0, 1, 2], np.eye(5, 3))
    assert find_mirror_pairs(sk).tolist() == [0, 1, 2, 3, 4]
    assert find_mirror_pairs(sk, {"a": "b", "a2": "b2"}).tolist() == [0, 2, 1, 4, 3]
    with pytest.raises(ValueError, match="parent"):
        find_mirror_pairs(sk, [("a", "b2")])

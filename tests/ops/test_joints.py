"""motion3d.ops.joints on the real skeletons."""
from motion3d.io import bvh
from motion3d.ops import find_facing_pairs, find_feet, find_pelvis


def test_real_skeletons(mocap_dir):
    cmu = bvh.read_header(mocap_dir / "cmu" / "01_01.bvh")[0]
    ban = bvh.read_header(mocap_dir / "bandai-namco-1" / "data" / "dataset-1_walk_normal_001.bvh")[0]
    assert cmu.names[find_pelvis(cmu)] == "Hips" and find_pelvis(cmu) == 0
    assert ban.names[find_pelvis(ban)] == "Hips" and find_pelvis(ban) == 1
    names = lambda sk, pairs: [(sk.names[a], sk.names[b]) for a, b in pairs]
    assert names(cmu, find_facing_pairs(cmu)) == [("LeftUpLeg", "RightUpLeg"), ("LeftArm", "RightArm")]
    assert names(ban, find_facing_pairs(ban)) == [("UpperLeg_L", "UpperLeg_R"), ("UpperArm_L", "UpperArm_R")]
    assert [cmu.names[j] for j in find_feet(cmu)] == ["LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"]
    assert find_feet(cmu, ["LeftFoot", 9]) == [4, 9]

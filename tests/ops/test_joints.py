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


# (left, right) name pairs from exporters in the wild; each must get its side, in a skeleton that has both
SIDE_PAIRS = [
    ("CC_Base_L_Thigh", "CC_Base_R_Thigh"), ("CC_Base_L_Upperarm", "CC_Base_R_Upperarm"),  # iClone / CC
    ("CC_Base_L_ThighTwist01", "CC_Base_R_ThighTwist01"), ("CC_Base_L_Clavicle", "CC_Base_R_Clavicle"),
    ("L_Hip", "R_Hip"), ("l_hip", "r_hip"), ("LeftArm", "RightArm"), ("left_knee", "right_knee"),
    ("mixamorig:LeftHand", "mixamorig:RightHand"), ("Character1_LeftUpLeg", "Character1_RightUpLeg"),
    ("Bip01 L Thigh", "Bip01 R Thigh"), ("Bip01_L_Calf", "Bip01_R_Calf"), ("J_Bip_L_UpperLeg", "J_Bip_R_UpperLeg"),
    ("hand.L", "hand.R"), ("DEF-thigh.L", "DEF-thigh.R"), ("thigh.L.001", "thigh.R.001"),
    ("thigh_l", "thigh_r"), ("upperarm_l", "upperarm_r"), ("Shoulder_L", "Shoulder_R"), ("ShoulderL", "ShoulderR"),
    ("LHipJoint", "RHipJoint"), ("lhand", "rhand"), ("lShldr", "rShldr"), ("lForeArm", "rForeArm"),
    ("Hand_Left", "Hand_Right"), ("LEFT_FOOT", "RIGHT_FOOT"), ("leftEye", "rightEye"),
]
CENTRE = ["CC_Base_Hip", "CC_Base_Pelvis", "CC_Base_BoneRoot", "RL_BoneRoot", "lowerback", "Spine", "Root",
          "Hips", "Head", "Neck", "LowerLeg", "Reference", "CC_Base_Spine01", "joint_Root"]


def test_joint_side_across_exporters():
    from motion3d.ops import joint_side

    names = [n for pair in SIDE_PAIRS for n in pair] + CENTRE
    got = {n: joint_side(n, names) for n in names}
    want = {**{l: "left" for l, _ in SIDE_PAIRS}, **{r: "right" for _, r in SIDE_PAIRS}, **{c: None for c in CENTRE}}
    assert got == want


def test_iclone_clip_gets_left_and_right_colours(tmp_path):
    """An iClone / Character Creator BVH: its CC_Base_L_ / CC_Base_R_ limbs are shaded by side."""
    import numpy as np

    from motion3d.render.clip import from_motion

    limbs = ""
    for side, x in (("L", 10), ("R", -10)):
        limbs += (f"  JOINT CC_Base_{side}_Thigh\n  {{\n    OFFSET {x} -5 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
                  f"    JOINT CC_Base_{side}_Calf\n    {{\n      OFFSET 0 -45 0\n      CHANNELS 3 Zrotation Xrotation Yrotation\n"
                  f"      End Site\n      {{\n        OFFSET 0 -45 0\n      }}\n    }}\n  }}\n")
    text = ("HIERARCHY\nROOT CC_Base_Hip\n{\n  OFFSET 0 105 0\n"
            "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
            "  JOINT CC_Base_Waist\n  {\n    OFFSET 0 10 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
            "    End Site\n    {\n      OFFSET 0 40 0\n    }\n  }\n" + limbs + "}\n"
            "MOTION\nFrames: 2\nFrame Time: 0.0333333\n" + ("0 5 0" + " 0" * 18 + "\n") * 2)
    path = tmp_path / "cc.bvh"
    path.write_text(text)
    clip = from_motion(bvh.load(path))
    child = [clip.names[c] for c in clip.bones()[:, 1]]
    sides = dict(zip(child, clip.sides().tolist()))
    assert sides == {"CC_Base_Waist": 0, "CC_Base_L_Thigh": -1, "CC_Base_L_Calf": -1,
                     "CC_Base_R_Thigh": 1, "CC_Base_R_Calf": 1}
    assert np.unique(clip.sides()).tolist() == [-1, 0, 1]

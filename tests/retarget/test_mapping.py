"""Joint mapping: roles from names in every supported scheme, YAML round trip, clear errors."""
import pytest

from motion3d.io import bvh
from motion3d.retarget import (
    MappingError, auto_mapping, check_mapping, find_roles, load_mapping, mapping_to_yaml, normalize_name,
    resolve_mapping, save_mapping,
)
from tests.retarget.helpers import humanoid

LIMBS = ["upper_arm", "lower_arm", "hand", "upper_leg", "lower_leg", "foot"]


def _roles(sk):
    return {r: sk.names[j] for r, j in find_roles(sk).items()}


@pytest.mark.parametrize("name, core, side", [
    ("mixamorig:LeftUpLeg", "upleg", "left"),
    ("UpperArm_R", "upperarm", "right"),
    ("CC_Base_L_Thigh", "thigh", "left"),
    ("CC_Base_Spine01", "spine", None),
    ("Character1_RightForeArm", "forearm", "right"),
    ("left_hip", "hip", "left"),
    ("Bip01 L Calf", "calf", "left"),
    ("LHipJoint", "hipjoint", "left"),
])
def test_normalize_name(name, core, side):
    names = [name]
    # give every sided name its partner so that the side markers count
    from motion3d.retarget.mapping import _partner
    if side is not None:
        names.append(_partner(name, None))
    assert normalize_name(name, names) == (core, side)


def test_roles_of_the_real_skeletons(cmu_dir, bandai_dir):
    cmu = _roles(bvh.read_header(cmu_dir / "01_01.bvh")[0])
    old = _roles(bvh.read_header(cmu_dir / "131_01.bvh")[0])
    ban = _roles(bvh.read_header(sorted((bandai_dir / "data").glob("*.bvh"))[0])[0])
    assert cmu["left_upper_leg"] == "LeftUpLeg" and cmu["left_shoulder"] == "LeftShoulder"
    assert cmu["left_upper_arm"] == "LeftArm" and cmu["chest"] == "Spine1" and cmu["neck"] == "Neck"
    # CMU 131: LeftShoulder is the upper arm (LeftCollar is the clavicle), lhand the finger base
    assert old["left_shoulder"] == "LeftCollar" and old["left_upper_arm"] == "LeftShoulder"
    assert old["left_hand"] == "LeftWrist" and old["left_finger_base"] == "lhand"
    assert old["left_upper_leg"] == "LeftHip" and old["left_foot"] == "LeftAnkle" and old["chest"] == "Chest2"
    assert ban["hips"] == "Hips" and ban["chest"] == "Chest" and ban["right_lower_arm"] == "LowerArm_R"
    assert ban["left_toe"] == "Toes_L" and ban["left_shoulder"] == "Shoulder_L"


@pytest.mark.parametrize("scheme, expect", [
    ("mixamo", {"hips": "mixamorig:Hips", "chest": "mixamorig:Spine2", "left_upper_leg": "mixamorig:LeftUpLeg",
                "right_lower_arm": "mixamorig:RightForeArm", "left_toe": "mixamorig:LeftToeBase"}),
    ("humanik", {"left_upper_arm": "Character1_LeftArm", "right_foot": "Character1_RightFoot"}),
    ("smpl", {"hips": "pelvis", "chest": "spine3", "left_shoulder": "left_collar", "left_upper_arm": "left_shoulder",
              "left_hand": "left_wrist", "left_foot": "left_ankle", "left_toe": "left_foot", "left_upper_leg": "left_hip"}),
    ("cc", {"hips": "CC_Base_Hip", "chest": "CC_Base_Spine02", "neck": "CC_Base_NeckTwist01",
            "left_upper_leg": "CC_Base_L_Thigh", "right_lower_leg": "CC_Base_R_Calf",
            "left_upper_arm": "CC_Base_L_Upperarm", "left_shoulder": "CC_Base_L_Clavicle"}),
])
def test_roles_of_other_naming_schemes(scheme, expect):
    roles = _roles(humanoid(scheme))
    for r, n in expect.items():
        assert roles[r] == n, (r, roles.get(r))
    for side in ("left", "right"):
        for limb in LIMBS:
            assert f"{side}_{limb}" in roles


def test_cross_scheme_mapping_pairs_by_role(cmu_dir):
    cmu = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    m = auto_mapping(cmu, humanoid("cc"))
    check_mapping(m, cmu, humanoid("cc"))
    assert m.pairs["CC_Base_L_Thigh"] == "LeftUpLeg" and m.pairs["CC_Base_R_Forearm"] == "RightForeArm"
    assert "CC_Base_L_UpperarmTwist01" not in m.pairs and "CC_Base_Pelvis" not in m.pairs
    smpl = humanoid("smpl")
    m = auto_mapping(smpl, humanoid("mixamo"))
    assert m.pairs["mixamorig:LeftArm"] == "left_shoulder" and m.pairs["mixamorig:LeftShoulder"] == "left_collar"


def test_yaml_round_trip_and_override(tmp_path, cmu_dir):
    src = bvh.read_header(cmu_dir / "131_01.bvh")[0]
    tgt = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    m = auto_mapping(src, tgt)
    text = mapping_to_yaml(m, src, tgt)
    assert "LeftArm: LeftShoulder  # left_upper_arm" in text
    path = save_mapping(m, tmp_path / "map.yaml", src, tgt)
    back = load_mapping(path, src, tgt)
    assert back.pairs == m.pairs
    # an edited file wins: unmap the thumbs, pair the neck differently
    edited = text.replace("LThumb: LThumb", "LThumb: null").replace("Neck: lowerneck", "Neck: Neck")
    (tmp_path / "edit.yaml").write_text(edited)
    m2 = resolve_mapping(src, tgt, tmp_path / "edit.yaml")
    assert "LThumb" not in m2.pairs and m2.pairs["Neck"] == "Neck"
    (tmp_path / "bad.yaml").write_text("just: words\n")
    with pytest.raises(MappingError, match="pairs"):
        load_mapping(tmp_path / "bad.yaml", src, tgt)


def test_unmappable_pair_lists_what_is_missing(cmu_dir):
    cmu = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    no_arms = humanoid("mixamo", arms=False)
    with pytest.raises(MappingError) as e:
        resolve_mapping(cmu, no_arms)
    msg = str(e.value)
    assert "left_upper_arm" in msg and "right_hand" in msg and "not found on the target" in msg
    assert "left_upper_leg" not in msg
    with pytest.raises(MappingError, match="do not exist"):
        resolve_mapping(cmu, humanoid("mixamo"), {"mixamorig:Head": "NoSuchJoint"})
    with pytest.raises(MappingError, match="tree-consistent"):
        resolve_mapping(cmu, humanoid("mixamo"), {"mixamorig:LeftHand": "RightHand"})

"""Rest-pose alignment and chain distribution."""
import numpy as np

from motion3d.io import bvh
from motion3d.retarget import resolve_mapping
from motion3d.retarget.align import frame_alignment, rest_alignment, swing_matrix
from motion3d.retarget.chains import CHAIN, MAPPED, REST, plan_chains
from motion3d.retarget.mapping import find_roles
from tests.conftest import assert_close
from tests.retarget.helpers import humanoid


def _plan(src, tgt):
    m = resolve_mapping(src, tgt)
    pairs = {t: s for t, s in m.indices(src, tgt).items() if t not in tgt.chain(find_roles(tgt)["hips"])[:-1]}
    plan = plan_chains(src, tgt, pairs, find_roles(tgt)["hips"])
    return pairs, plan, rest_alignment(src, tgt, pairs, plan)


def test_swing_and_frame_alignment():
    R = swing_matrix(np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    assert_close(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    assert_close(R @ [0, 0, 1], [0, 0, 1], atol=1e-12)  # shortest arc: the axis is kept
    R = frame_alignment(np.array([1.0, 0, 0]), np.array([0, -1.0, 0]), np.array([0, 1.0, 0]), np.array([1.0, 0, 0]))
    assert_close(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    assert_close(R @ [0, -1, 0], [1, 0, 0], atol=1e-12)
    assert_close(np.linalg.det(R), 1.0, atol=1e-12)


def test_same_skeleton_aligns_to_identity(cmu_dir):
    sk = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    _, plan, A = _plan(sk, sk)
    assert_close(A, np.broadcast_to(np.eye(3), A.shape), atol=1e-12)
    assert (plan.kind == MAPPED).all()


def test_t_pose_to_a_pose_turns_the_arms_only():
    src, tgt = humanoid("mixamo", "T"), humanoid("mixamo", "A")
    pairs, plan, A = _plan(src, tgt)
    i = tgt.index("mixamorig:LeftArm")
    # reference pose: the A-pose arm turned 45 degrees up about +Z, legs and spine untouched
    assert_close(A[i], swing_matrix(np.array([1.0, -1.0, 0]), np.array([1.0, 0, 0])), atol=1e-12)
    for name in ("mixamorig:Hips", "mixamorig:LeftUpLeg", "mixamorig:Spine2", "mixamorig:Head"):
        assert_close(A[tgt.index(name)], np.eye(3), atol=1e-12)


def test_bandai_local_axes_align_onto_cmu(cmu_dir, bandai_dir):
    cmu = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    ban = bvh.read_header(sorted((bandai_dir / "data").glob("*.bvh"))[0])[0]
    pairs, plan, A = _plan(cmu, ban)
    rest_t, rest_s = ban.rest_positions(), cmu.rest_positions()
    # every limb bone of Bandai (along its local X) is turned onto the CMU T-pose bone
    for t_from, t_to, s_from, s_to in [("UpperLeg_L", "LowerLeg_L", "LeftUpLeg", "LeftLeg"),
                                       ("LowerArm_R", "Hand_R", "RightForeArm", "RightHand")]:
        vt = A[ban.index(t_from)] @ (rest_t[ban.index(t_to)] - rest_t[ban.index(t_from)])
        vs = rest_s[cmu.index(s_to)] - rest_s[cmu.index(s_from)]
        assert_close(vt / np.linalg.norm(vt), vs / np.linalg.norm(vs), atol=1e-9)
    # the hips frame: Bandai's spine axis (+X) becomes CMU's up (+Y)
    up = A[ban.index("Hips")] @ [1.0, 0, 0]
    assert up[1] > 0.99


def test_chains_of_different_length_are_distributed(cmu_dir, bandai_dir):
    cmu = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    ban = bvh.read_header(sorted((bandai_dir / "data").glob("*.bvh"))[0])[0]
    _, plan, _ = _plan(ban, cmu)
    kind = dict(zip(cmu.names, plan.kind))
    # CMU's LowerBack and Neck1 lie between mapped joints: distributed; the hip joints belong to
    # the pelvis (rigid with the hips); fingers past the mapped hand stay at rest
    assert kind["LowerBack"] == CHAIN and kind["Neck1"] == CHAIN
    assert kind["LHipJoint"] == REST and kind["LFingers"] == REST and kind["LeftArm"] == MAPPED
    j = cmu.index("LowerBack")
    assert ban.names[plan.src0[j]] in ("Hips", "Spine") and 0.0 <= plan.weight[j] <= 1.0

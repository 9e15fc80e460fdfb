"""ASF/AMC: the CMU take 01_01 against CMU's own BVH of it, round trips, malformed files."""
from __future__ import annotations

import numpy as np
import pytest

from motion3d.io import FormatError, amc, bvh
from tests.conftest import assert_close

# ASF bone -> joint of CMU's BVH conversion (same joints: each sits at the start of its bone)
CMU_BVH_NAMES = dict(
    root="Hips", lhipjoint="LHipJoint", lfemur="LeftUpLeg", ltibia="LeftLeg", lfoot="LeftFoot",
    ltoes="LeftToeBase", rhipjoint="RHipJoint", rfemur="RightUpLeg", rtibia="RightLeg", rfoot="RightFoot",
    rtoes="RightToeBase", lowerback="LowerBack", upperback="Spine", thorax="Spine1", lowerneck="Neck",
    upperneck="Neck1", head="Head", lclavicle="LeftShoulder", lhumerus="LeftArm", lradius="LeftForeArm",
    lwrist="LeftHand", lhand="LeftFingerBase", lfingers="LFingers", lthumb="LThumb", rclavicle="RightShoulder",
    rhumerus="RightArm", rradius="RightForeArm", rwrist="RightHand", rhand="RightFingerBase",
    rfingers="RFingers", rthumb="RThumb",
)
# The BVH conversion sets these three ASF bones to zero length (their children sit at the bone's
# start): thorax (-> Neck, LeftShoulder, RightShoulder) and the wrists (-> finger base, thumb).
DROPPED_BONES = ("thorax", "lwrist", "rwrist")

SMALL_ASF = """\
# a hand-made skeleton exercising units, axes, dof subsets and orders
:version 1.10
:name test
:units
  mass 1.0
  length 1.0
  angle rad
:root
  order TX TY TZ RZ RX RY
  axis ZXY
  position 0 0 0
  orientation 0 0 0
:bonedata
  begin
    id 1
    name a
    direction 0 1 0
    length 2
    axis 0.5 0 0.2 YXZ
    dof rz rx
    limits (-3.0 3.0)
           (-1 1)
  end
  begin
    id 2
    name b
    direction 1 0 0
    length 1
    axis 0 0 0 XYZ
  end
  begin
    id 3
    name c
    direction 0 0 1
    length 1.5
    axis 0.1 0.2 0.3 XYZ
    dof ry
  end
:hierarchy
  begin
    root a
    a b c
  end
"""

SMALL_AMC = """\
:FULLY-SPECIFIED
:RADIANS
1
root 1 2 3 0.1 0.2 0.3
a 0.4 -0.5
c 0.7
2
root 1.5 2 3 0.2 0.1 -0.3
a -0.4 0.5
c -0.2
"""


@pytest.fixture(scope="module")
def cmu_take(cmu_dir):
    return amc.load(cmu_dir / "01_01.amc"), bvh.load(cmu_dir / "01_01.bvh")


def test_asf_skeleton(cmu_dir):
    sk = amc.load_asf(cmu_dir / "01.asf")
    assert sk.num_joints == 31 and sk.names[0] == "root"
    assert sk.names[sk.parents[sk.index("lfemur")]] == "lhipjoint"
    # joint at the start of its bone: lfemur's offset is the lhipjoint bone
    asf = amc.read_asf(cmu_dir / "01.asf")
    assert_close(sk.offsets[sk.index("lfemur")], asf.bone("lhipjoint").vector)
    assert_close(sk.end_sites[sk.index("ltoes")], asf.bone("ltoes").vector)
    assert asf.length_unit == pytest.approx(0.45) and asf.meters_per_unit == pytest.approx(0.0254 / 0.45)
    assert sk.channels[sk.index("lhipjoint")] == ()  # no dof


def test_amc_matches_cmu_bvh(cmu_take):
    """Same take, same 120 fps; the BVH's frame 0 is an extra reference pose, and its offsets are
    the ASF bone vectors in ASF length units (no scaling)."""
    m, b = cmu_take
    assert m.fps == 120.0 and b.fps == pytest.approx(120.0, rel=1e-5) and m.num_frames == b.num_frames - 1 == 2751
    ia = [m.skeleton.index(k) for k in CMU_BVH_NAMES]
    ib = [b.skeleton.index(v) for v in CMU_BVH_NAMES.values()]
    # rest offsets agree except for the three bones the converter shortened to zero
    kept = [k for k, name in enumerate(CMU_BVH_NAMES)
            if m.skeleton.names[m.skeleton.parents[ia[k]]] not in DROPPED_BONES]
    assert_close(m.skeleton.offsets[ia][kept], b.skeleton.offsets[ib][kept], atol=1e-5)
    # global rotations of every joint agree on every frame (BVH stores 4 decimals of a degree)
    rot_m, pos_m = m.forward_kinematics()
    rot_b, pos_b = b[1:].forward_kinematics()
    assert_close(rot_m[:, ia], rot_b[:, ib], atol=2e-5)
    # positions: joints below the shortened bones only agree once the BVH gets those bones back
    unaffected = [k for k, name in enumerate(CMU_BVH_NAMES)
                  if not set(m.skeleton.names[j] for j in m.skeleton.chain(ia[k])[:-1]) & set(DROPPED_BONES)]
    assert len(unaffected) == 14
    err = np.linalg.norm(pos_m[:, ia] - pos_b[:, ib], axis=-1)
    assert err[:, unaffected].max() < 2e-4  # measured 9.2e-05 (file units; height 28.8)
    sk = b.skeleton.copy()
    for k, v in CMU_BVH_NAMES.items():
        sk.offsets[sk.index(v)] = m.skeleton.offsets[m.skeleton.index(k)]
    pos_fixed = b[1:].replace(skeleton=sk).positions()
    err = np.linalg.norm(pos_m[:, ia] - pos_fixed[:, ib], axis=-1)
    assert err.max() < 2e-4  # measured 8.6e-05 over all 31 joints and 2751 frames


def test_meters_and_default_angle_unit(cmu_take, cmu_dir, tmp_path):
    m = cmu_take[0]
    mm = amc.load(cmu_dir / "01_01.amc", to_meters=True)[:10]
    assert_close(mm.positions(), m[:10].positions() * 0.0254 / 0.45, atol=1e-12)
    assert 1.5 < mm.skeleton.height() < 2.0  # subject 1 in metres
    # an AMC without :DEGREES/:RADIANS takes the ASF's angle unit (radians here)
    (tmp_path / "s.asf").write_text(SMALL_ASF)
    (tmp_path / "s_01.amc").write_text(SMALL_AMC)
    (tmp_path / "s_02.amc").write_text(SMALL_AMC.replace(":RADIANS\n", ""))
    assert amc.load(tmp_path / "s_02.amc").allclose(amc.load(tmp_path / "s_01.amc"), atol=1e-12)


def test_crlf_and_tabs(cmu_take, cmu_dir, tmp_path):
    text = (cmu_dir / "01_01.amc").read_text()
    head = text[: text.index("\n201\n") + 1]  # 200 frames
    (tmp_path / "x_01.amc").write_bytes(head.replace("\n", "\r\n").replace(" ", "\t").encode())
    assert amc.load(tmp_path / "x_01.amc", cmu_dir / "01.asf").allclose(cmu_take[0][:200], atol=1e-12)


def test_finds_asf_by_subject(cmu_dir, tmp_path):
    assert amc.find_asf(cmu_dir / "01_01.amc") == cmu_dir / "01.asf"
    (tmp_path / "x.amc").write_text(SMALL_AMC)
    with pytest.raises(FormatError, match="no skeleton file"):
        amc.load(tmp_path / "x.amc")


def test_round_trip_with_original_asf(cmu_take, cmu_dir, tmp_path):
    m = cmu_take[0][:50]
    out = amc.save(m, tmp_path / "01_01.amc", asf=cmu_dir / "01.asf")
    back = amc.load(out, cmu_dir / "01.asf")
    assert back.allclose(m, atol=1e-6)
    # the written values are the original ones
    assert "lfemur 4.00236 1.20472 -13.8412" in out.read_text()


def test_round_trip_fresh_asf(cmu_take, tmp_path):
    m = cmu_take[0][::100]
    amc.save(m, tmp_path / "t_01.amc", tmp_path / "t.asf")
    back = amc.load(tmp_path / "t_01.amc", fps=m.fps)
    assert back.skeleton.allclose(m.skeleton, 1e-7)
    assert_close(back.positions(), m.positions(), atol=1e-6)


def test_cmu_bvh_skeleton_saves_as_asf(cmu_take, tmp_path):
    b = cmu_take[1][:20]
    amc.save(b, tmp_path / "b_01.amc", tmp_path / "b.asf")
    back = amc.load(tmp_path / "b_01.amc", fps=b.fps)
    assert back.skeleton.names[1:] == b.skeleton.names[1:]
    assert_close(back.positions(), b.positions(), atol=1e-6)


def test_small_asf_conventions(tmp_path):
    """Radians, root order/axis, a bone axis in YXZ order, dof subsets in any order, a bone
    without dof: the local rotation is C M C^-1 with M applied in dof order."""
    from motion3d.geometry.rotations import np_euler_to_quat, np_quat_mul

    (tmp_path / "s.asf").write_text(SMALL_ASF)
    (tmp_path / "s_01.amc").write_text(SMALL_AMC)
    m = amc.load(tmp_path / "s_01.amc", fps=30)
    assert m.skeleton.names == ["root", "a", "b", "c"] and m.num_frames == 2
    assert m.skeleton.parents.tolist() == [-1, 0, 1, 1]
    assert_close(m.skeleton.offsets[2], [0, 2, 0]) and assert_close(m.skeleton.offsets[3], [0, 2, 0])
    assert_close(m.root_positions, [[1, 2, 3], [1.5, 2, 3]])
    conj = np.array([-1, -1, -1, 1.0])

    def local(axis, order, angles, dof_order):
        axis = np.array(axis)[["XYZ".index(c) for c in order.upper()]]  # file gives X, Y, Z angles
        qc = np_euler_to_quat(axis, order.lower(), degrees=False)
        qm = np_euler_to_quat(np.array(angles), dof_order, degrees=False)
        return np_quat_mul(np_quat_mul(qc, qm), qc * conj)

    def same(q, r):
        assert abs(abs(np.dot(q, r)) - 1) < 1e-12, (q, r)

    # root: values RZ RX RY applied in that order, about fixed axes, C = I
    same(m.rotations[0, 0], local([0, 0, 0], "ZXY", [0.1, 0.2, 0.3], "zxy"))
    # bone a: dof rz rx (y missing), axis in YXZ order
    same(m.rotations[0, 1], local([0.5, 0.0, 0.2], "yxz", [0.4, -0.5, 0.0], "zxy"))
    # written out: dof "rz rx" applies rz first, M = Rx(-0.5) Rz(0.4); axis "0.5 0 0.2 YXZ" applies
    # Y (0) first, then X (0.5), then Z (0.2): C = Rz(0.2) Rx(0.5)
    rz = np_euler_to_quat(np.array([0, 0, 0.4]), "xyz", degrees=False)
    rx = np_euler_to_quat(np.array([-0.5, 0, 0]), "xyz", degrees=False)
    c = np_quat_mul(np_euler_to_quat(np.array([0, 0, 0.2]), "xyz", False),
                    np_euler_to_quat(np.array([0.5, 0, 0]), "xyz", False))
    same(m.rotations[0, 1], np_quat_mul(np_quat_mul(c, np_quat_mul(rx, rz)), c * conj))
    assert_close(m.rotations[:, 2], [[0, 0, 0, 1]] * 2)  # no dof
    same(m.rotations[1, 3], local([0.1, 0.2, 0.3], "XYZ", [-0.2, 0.0, 0.0], "yxz"))
    # save keeps the dof layout and units survive a round trip through degrees
    amc.save(m, tmp_path / "r_01.amc", asf=tmp_path / "s.asf")
    assert amc.load(tmp_path / "r_01.amc", tmp_path / "s.asf", fps=30).allclose(m, atol=1e-7)


def test_dof_subset_cannot_hold_other_rotations(tmp_path):
    (tmp_path / "s.asf").write_text(SMALL_ASF)
    (tmp_path / "s_01.amc").write_text(SMALL_AMC)
    m = amc.load(tmp_path / "s_01.amc")
    rot = m.rotations.copy()
    rot[:, 3] = [0.0, 0.0, np.sin(0.3), np.cos(0.3)]  # c only has ry
    with pytest.raises(ValueError, match="'c'"):
        amc.save(m.replace(rotations=rot), tmp_path / "bad.amc", asf=tmp_path / "s.asf")


@pytest.mark.parametrize("body, line, match", [
    (SMALL_AMC[: SMALL_AMC.rindex("c -0.2")], 9, "truncated"),
    (SMALL_AMC.replace("c 0.7", "z 0.7"), 6, "unknown bone 'z'"),
    (SMALL_AMC.replace("a -0.4 0.5", "a -0.4 0.5 1"), 9, "3 values but 2 dofs"),
    (SMALL_AMC.replace("c 0.7", "c x"), 6, "not a number"),
    (SMALL_AMC + "3\nroot 0 0 0 0 0 0\nc 1\n4\nroot 0 0 0 0 0 0\na 1 2\nc 1\n", 11, "frame 3 lacks a"),
    (SMALL_AMC.replace(":RADIANS", ":BOGUS"), 2, "unknown AMC keyword"),
])
def test_malformed_amc(tmp_path, body, line, match):
    (tmp_path / "s.asf").write_text(SMALL_ASF)
    (tmp_path / "s_01.amc").write_text(body)
    with pytest.raises(FormatError, match=match) as e:
        amc.load(tmp_path / "s_01.amc")
    assert e.value.path.endswith("s_01.amc") and e.value.line == line


@pytest.mark.parametrize("old, new, match", [
    ("dof ry", "dof tx", "not supported"),
    ("axis 0.1 0.2 0.3 XYZ", "axis 0.1 0.2 0.3 XXZ", "permutation"),
    ("    a b c\n", "    a b\n", "missing from the :hierarchy"),
    ("  end\n:hierarchy", ":hierarchy", "inside a bone block|'begin' inside"),
    ("length 1.5", "length x", "not a number"),
])
def test_malformed_asf(tmp_path, old, new, match):
    assert SMALL_ASF.count(old) == 1
    (tmp_path / "s.asf").write_text(SMALL_ASF.replace(old, new))
    with pytest.raises(FormatError, match=match) as e:
        amc.read_asf(tmp_path / "s.asf")
    assert e.value.path.endswith("s.asf")

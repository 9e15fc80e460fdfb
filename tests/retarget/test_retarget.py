"""retarget() and naive_copy() on real clips (cropped) and synthetic rigs."""
import numpy as np
import pytest

from motion3d.io import bvh
from motion3d.ops.units import scale
from motion3d.retarget import MappingError, naive_copy, retarget
from motion3d.retarget.mapping import find_roles
from motion3d.retarget.variants import a_pose_frames, random_frames, reframe, scale_limbs
from tests.conftest import assert_close
from tests.retarget.helpers import humanoid, random_motion


@pytest.fixture(scope="module")
def cmu(cmu_dir):
    return bvh.load(cmu_dir / "01_01.bvh")[200:260]


@pytest.fixture(scope="module")
def cmu131(cmu_dir):
    return bvh.load(cmu_dir / "131_02.bvh")[100:160]


@pytest.fixture(scope="module")
def bandai(bandai_dir):
    return bvh.load(sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0])[:50]


def _bone_dirs(motion, names_pairs):
    P = motion.positions()
    sk = motion.skeleton
    v = np.stack([P[:, sk.index(b)] - P[:, sk.index(a)] for a, b in names_pairs], 1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.mark.parametrize("clip", ["cmu", "cmu131", "bandai"])
def test_uniformly_scaled_copy_gets_exactly_the_scaled_motion(clip, request):
    src = request.getfixturevalue(clip)
    big = scale(src, 2.7)
    out = retarget(src, big.skeleton)
    P, Q = out.positions(), big.positions()
    assert np.abs(P - Q).max() <= 1e-6 * np.abs(Q).max()


@pytest.mark.parametrize("clip", ["cmu", "bandai"])
def test_identity_retarget_reproduces_the_motion(clip, request):
    src = request.getfixturevalue(clip)
    out = retarget(src, src.skeleton)
    assert_close(out.positions(), src.positions(), atol=1e-7 * np.abs(src.positions()).max())
    same = naive_copy(src, src.skeleton)
    assert_close(same.positions(), src.positions(), atol=1e-7 * np.abs(src.positions()).max())
    if clip == "cmu":  # a rig with world-aligned rest frames: the very same local rotations
        dot = np.abs((out.rotations * src.rotations).sum(-1))
        assert_close(dot, np.ones_like(dot), atol=1e-9)


def test_proportions_rest_pose_and_local_axes_ground_truth(cmu):
    truth = scale_limbs(cmu, {"legs": 1.25, "arms": 0.8, "spine": 1.1, "head": 0.9})
    h = truth.skeleton.height()
    for variant in (truth, reframe(truth, a_pose_frames(truth.skeleton)), reframe(truth, random_frames(31, 3))):
        out = retarget(cmu, variant.skeleton)
        err = ((out.positions() - truth.positions()) ** 2).sum(-1).mean() / h ** 2
        assert err < 1e-12
    # the naive copy fails once the local axes differ
    bad = naive_copy(cmu, reframe(truth, random_frames(31, 3)).skeleton)
    assert ((bad.positions() - truth.positions()) ** 2).sum(-1).mean() / h ** 2 > 1e-2


def test_bandai_cmu_bandai_round_trip(bandai, cmu_dir):
    cmu_sk = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    there = retarget(bandai, cmu_sk)
    back = retarget(there, bandai.skeleton)
    sk = bandai.skeleton
    ends = [sk.index(n) for n in ("Hand_L", "Hand_R", "Foot_L", "Foot_R", "Head")]
    err = np.linalg.norm(back.positions()[:, ends] - bandai.positions()[:, ends], axis=-1)
    assert err.max() < 0.02 * sk.height()


def test_a_pose_target_follows_the_source_bone_directions():
    t_pose, a_pose = humanoid("mixamo", "T"), humanoid("smpl", "A", scale=1.3)
    src = random_motion(t_pose, frames=15, seed=1)
    out = retarget(src, a_pose)
    bones_src = [("mixamorig:LeftArm", "mixamorig:LeftForeArm"), ("mixamorig:RightForeArm", "mixamorig:RightHand"),
                 ("mixamorig:LeftUpLeg", "mixamorig:LeftLeg"), ("mixamorig:RightLeg", "mixamorig:RightFoot"),
                 ("mixamorig:Neck", "mixamorig:Head")]
    bones_tgt = [("left_shoulder", "left_elbow"), ("right_elbow", "right_wrist"), ("left_hip", "left_knee"),
                 ("right_knee", "right_ankle"), ("neck", "head")]
    assert_close(_bone_dirs(out, bones_tgt), _bone_dirs(src, bones_src), atol=1e-9)


def test_cross_topology_output_keeps_the_target_bone_lengths(cmu, bandai):
    for src, tgt in ((cmu, bandai.skeleton), (bandai, cmu.skeleton), (cmu, humanoid("cc", scale=100.0))):
        out = retarget(src, tgt)
        assert out.skeleton is tgt and out.num_frames == src.num_frames and out.fps == src.fps
        P = out.positions()
        sk = out.skeleton
        hips = find_roles(sk)["hips"]
        j = np.array([k for k in range(1, sk.num_joints) if k != hips])
        lengths = np.linalg.norm(P[:, j] - P[:, sk.parents[j]], axis=-1)
        assert_close(lengths, np.broadcast_to(sk.bone_lengths()[j], lengths.shape), atol=1e-8 * sk.height())


def test_feet_on_floor_and_foot_cleanup(bandai, cmu_dir):
    from motion3d.ops.contacts import foot_contacts
    from motion3d.ops.floor import floor_height

    cmu_sk = bvh.read_header(cmu_dir / "01_01.bvh")[0]
    plain = retarget(bandai, cmu_sk)
    floor = retarget(bandai, cmu_sk, feet_on_floor=True)
    s = plain.positions()[:, 0, 1].mean() / bandai.positions()[:, 1, 1].mean()
    assert floor_height(floor) == pytest.approx(s * floor_height(bandai), abs=1e-6 * cmu_sk.height())
    clean = retarget(bandai, cmu_sk, cleanup_feet=True)
    contacts = foot_contacts(bandai, feet=["Foot_L", "Foot_R"])
    feet = [cmu_sk.index("LeftFoot"), cmu_sk.index("RightFoot")]
    def slide(m):
        p = m.positions()[:, feet][..., [0, 2]]
        step = np.linalg.norm(np.diff(p, axis=0), axis=-1)
        both = contacts[1:] & contacts[:-1]
        return step[both].mean()
    assert contacts.any() and slide(clean) < 0.2 * slide(plain)
    # the feet keep their world rotation and the root does not move
    assert_close(clean.root_positions, plain.root_positions, atol=1e-12)


def test_unmappable_pair_and_learned_method(cmu):
    from motion3d.tasks.retarget_clips import retarget_clip

    with pytest.raises(MappingError, match="left_upper_arm"):
        retarget(cmu, humanoid("mixamo", arms=False))
    with pytest.raises(ValueError, match="needs a checkpoint"):
        retarget_clip(cmu, cmu.skeleton, method="learned")
    with pytest.raises(ValueError, match="analytic method only"):
        retarget_clip(cmu, cmu.skeleton, method="learned", checkpoint="x.ckpt", cleanup_feet=True)
    with pytest.raises(ValueError, match="unknown retargeting method"):
        retarget_clip(cmu, cmu.skeleton, method="magic")

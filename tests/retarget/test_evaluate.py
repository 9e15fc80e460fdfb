"""Retargeting evaluation measures on short real clips."""
import numpy as np

from motion3d.io import bvh
from motion3d.retarget import naive_copy, retarget
from motion3d.retarget.evaluate import bone_length_error, end_effector_error, gt_error, skate_and_penetration
from motion3d.retarget.variants import random_frames, reframe, scale_limbs


def test_measures_on_identity_and_cross_topology(cmu_dir, bandai_dir):
    cmu = bvh.load(cmu_dir / "131_01.bvh")[:40]
    ban = bvh.load(sorted((bandai_dir / "data").glob("*walk_normal*.bvh"))[0])[:30]
    assert gt_error(cmu, cmu) == 0.0 and end_effector_error(cmu, retarget(cmu, cmu.skeleton)) < 1e-12
    truth = scale_limbs(cmu, {"legs": 1.3, "arms": 0.7})
    other = reframe(truth, random_frames(cmu.num_joints, 1))
    assert gt_error(retarget(cmu, other.skeleton), truth) < 1e-12 < gt_error(naive_copy(cmu, other.skeleton), truth)
    out = retarget(ban, cmu.skeleton)
    assert bone_length_error(out) < 1e-9 and end_effector_error(ban, out) < 0.1
    assert end_effector_error(ban, naive_copy(ban, cmu.skeleton)) > 0.3
    sp = skate_and_penetration(ban, out)
    assert set(sp) == {"skate_src", "skate", "penetration"} and all(np.isfinite(v) and v >= 0 for v in sp.values())

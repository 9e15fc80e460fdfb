"""Motion metrics against hand-computed values."""
import math

import numpy as np
import pytest
import torch

from motion3d.geometry.kinematics import forward_kinematics_np
from motion3d.io import bvh
from motion3d.metrics.motion import (angle_error_per_frame, constant_velocity, errors_at_horizons, foot_acceleration,
                                     foot_skate, horizon_frames, joint_speed, masked_position_error, mpjpe, mpjpe_per_frame,
                                     nearest_pose, root_relative, zero_velocity)
from tests.conftest import assert_close


def test_mpjpe_constant_offset_global_and_root_relative():
    target = torch.randn(2, 5, 4, 3)
    pred = target + torch.tensor([3.0, 4.0, 0.0])  # |offset| = 5
    assert_close(mpjpe(pred, target), 5.0, atol=1e-5)
    assert_close(mpjpe_per_frame(pred, target), torch.full((2, 5), 5.0), atol=1e-5)
    assert_close(mpjpe(pred, target, root=0), 0.0, atol=1e-5)  # a rigid shift vanishes root-relative


def test_mpjpe_one_joint_off():
    target = torch.zeros(1, 1, 4, 3)
    pred = target.clone()
    pred[..., 2, :] = torch.tensor([0.0, 2.0, 0.0])
    assert_close(mpjpe(pred, target), 0.5)  # (2 + 0 + 0 + 0) / 4
    with pytest.raises(ValueError, match="differ in shape"):
        mpjpe(pred, target[..., :3, :])


def test_horizon_frames_and_errors():
    assert horizon_frames(30) == [2, 5, 10, 12, 30]
    assert horizon_frames(25) == [2, 4, 8, 10, 25]
    per_frame = torch.arange(1, 13, dtype=torch.float64).expand(3, 12)  # error k at frame k
    assert errors_at_horizons(per_frame, 30) == {80: 2.0, 160: 5.0, 320: 10.0, 400: 12.0}


def test_angle_error_known_rotation():
    ident = torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(1, 2, 3, 4)
    half = math.sin(math.pi / 4), math.cos(math.pi / 4)  # 90 degrees about y
    rot = ident.clone()
    rot[..., 0, :] = torch.tensor([0.0, half[0], 0.0, half[1]])
    assert_close(angle_error_per_frame(rot, ident), torch.full((1, 2), math.pi / 2 / 3), atol=1e-6)
    assert_close(angle_error_per_frame(rot, ident, joints=[1, 2]), torch.zeros(1, 2), atol=1e-6)


def test_baselines():
    obs = torch.zeros(1, 3, 2, 3)
    obs[:, :, 0, 0] = torch.tensor([0.0, 1.0, 2.0])  # root moves +1 in x per frame
    obs[:, :, 0, 1] = torch.tensor([0.0, 0.5, 1.0])  # and rises (ignored: horizontal velocity)
    obs[:, :, 1] = obs[:, :, 0] + torch.tensor([0.0, 1.0, 0.0])
    zv = zero_velocity(obs, 4)
    assert zv.shape == (1, 4, 2, 3)
    assert_close(zv, obs[:, -1:].expand(1, 4, 2, 3))
    cv = constant_velocity(obs, 4, root=0)
    assert_close(cv[0, :, 0, 0], [3.0, 4.0, 5.0, 6.0])
    assert_close(cv[0, :, 0, 1], [1.0] * 4)
    assert_close(cv[0, :, 1] - cv[0, :, 0], torch.tensor([0.0, 1.0, 0.0]).expand(4, 3))
    cv2 = constant_velocity(obs, 2, root=0, frames=2, horizontal=False)
    assert_close(cv2[0, :, 0, 1], [1.5, 2.0])


def test_foot_skate():
    T = 11
    pos = torch.zeros(T, 3, 3)
    pos[:, 1, 0] = torch.arange(T) * 0.1  # foot 1 slides 0.1 per frame on the floor
    pos[:, 2, 1] = 5.0  # joint 2 is far above the floor
    pos[:, 2, 0] = torch.arange(T) * 1.0
    skate = foot_skate(pos, feet=[1], height=2.0, fps=10)
    assert_close(skate, 0.1 * 10 / 2.0, atol=1e-6)  # 0.5 heights per second
    assert_close(foot_skate(pos, feet=[0], height=2.0, fps=10), 0.0)
    both = foot_skate(np.stack([pos.numpy(), np.zeros((T, 3, 3))]), feet=[0, 1], height=2.0, fps=10)
    assert_close(both, [0.25, 0.0], atol=1e-6)  # planted foot 0 halves the mean


def test_foot_skate_floor_ignores_an_outlying_first_frame():
    """A first frame with the foot far below the rest (a T-pose frame, as in CMU BVH files) must not
    become the floor: the sliding contact frames after it are still measured."""
    T = 60
    pos = torch.zeros(T, 2, 3)
    pos[:, 1, 0] = torch.arange(T) * 0.01  # slides 0.01 per frame on the floor (y = 0)
    pos[0, 1, 1] = -1.0                    # frame 0: the foot 1.0 below the floor (half the height)
    skate = foot_skate(pos, feet=[1], height=2.0, fps=30)
    assert_close(skate, 0.01 * 30 / 2.0, atol=1e-6)


def test_joint_speed_is_root_relative_and_normalised():
    T = 11
    pos = torch.zeros(T, 3, 3)
    pos[:, :, 0] = torch.arange(T).view(T, 1) * 0.5         # the whole body travels: no joint speed
    assert_close(joint_speed(pos, height=2.0, fps=10), 0.0)
    pos[:, 2, 1] = torch.arange(T) * 0.1                   # joint 2 rises 0.1 per frame relative to the root
    assert_close(joint_speed(pos, height=2.0, fps=10), 0.1 * 10 / 2.0 / 3, atol=1e-6)  # mean over 3 joints
    batch = joint_speed(np.stack([pos.numpy(), np.zeros((T, 3, 3))]), height=2.0, fps=10)
    assert batch.shape == (2,) and float(batch[1]) == 0.0
    with pytest.raises(ValueError, match="at least 2 frames"):
        joint_speed(pos[:1], height=2.0, fps=10)


def test_foot_acceleration_is_zero_at_constant_velocity_and_finds_a_one_frame_jump():
    T = 12
    pos = torch.zeros(T, 3, 3, dtype=torch.float64)
    pos[:, 1, 0] = torch.arange(T, dtype=torch.float64) * 0.2  # foot 1 glides at constant velocity: no acceleration
    acc = foot_acceleration(pos, [1, 2], height=2.0, fps=10)
    assert acc.shape == (T - 2, 2) and float(acc.abs().max()) < 1e-6
    pos[6:, 2, 2] = 0.5  # foot 2 jumps 0.5 between frames 5 and 6: +-0.5 * fps^2 / height around it
    acc = foot_acceleration(pos, [1, 2], height=2.0, fps=10)
    assert_close(acc[4:6, 1], torch.tensor([25.0, 25.0], dtype=torch.float64), atol=1e-9)
    assert float(acc[:4].abs().max()) < 1e-6 and float(acc[6:].abs().max()) < 1e-6
    with pytest.raises(ValueError, match="at least 3 frames"):
        foot_acceleration(pos[:2], [1], height=2.0, fps=10)


def test_masked_position_error_known_values_and_scale():
    target = torch.zeros(2, 3, 4, 3)
    pred = target.clone()
    pred[0, 1, 2] = torch.tensor([3.0, 4.0, 0.0])  # 5 away
    pred[1, 0, 0] = torch.tensor([0.0, 0.0, 1.0])  # 1 away, but not constrained
    mask = torch.zeros(2, 3, 4, dtype=torch.bool)
    mask[0, 1, 2] = mask[0, 2, 2] = True  # errors 5 and 0
    assert_close(masked_position_error(pred, target, mask), 2.5)
    assert_close(masked_position_error(pred, target, mask, scale=100.0), 250.0)  # metres -> cm
    mask[1, 0, 0] = True
    assert_close(masked_position_error(pred.numpy(), target.numpy(), mask.numpy()), 2.0)  # (5 + 0 + 1) / 3
    with pytest.raises(ValueError, match="selects no position"):
        masked_position_error(pred, target, torch.zeros_like(mask))
    with pytest.raises(ValueError, match="must match"):
        masked_position_error(pred, target, mask[:, :, :3])
    with pytest.raises(ValueError, match="boolean"):
        masked_position_error(pred, target, mask.float())


def test_nearest_pose_finds_the_training_pose_from_a_few_joints():
    train = torch.randn(500, 6, 3, dtype=torch.float64)
    pick = torch.tensor([[3, 400, 17], [250, 3, 499]])  # (B=2, T=3)
    joints = [5, 1]
    query = train[pick][:, :, joints] + 1e-4 * torch.randn(2, 3, 2, 3, dtype=torch.float64)
    poses, idx = nearest_pose(train, query, joints, return_index=True)
    assert poses.shape == (2, 3, 6, 3)
    assert idx.tolist() == pick.tolist()
    assert_close(poses, train[pick], atol=0)
    assert_close(nearest_pose(train, query, joints, budget=100), poses, atol=0)  # chunks of 1 query frame
    with pytest.raises(ValueError, match="2 joint indices"):
        nearest_pose(train, query[:, :, :1], joints)
    with pytest.raises(ValueError, match="within 0..5"):
        nearest_pose(train, query, [5, 6])
    with pytest.raises(ValueError, match=r"\(N >= 1, J, 3\)"):
        nearest_pose(train[0], query, joints)


def test_nearest_pose_baseline_on_real_clips(bandai_dir):
    """Head, hands and feet of held-out clips (other styles of the same contents): the nearest
    training pose places the other joints much closer than the mean training pose does
    (Bandai-Namco, root-relative to the Hips)."""
    def poses(content, style):
        m = bvh.load(bandai_dir / "data" / f"dataset-1_{content}_{style}_001.bvh")
        _, pos = forward_kinematics_np(m.rotations, m.skeleton.offsets, m.skeleton.parents, m.root_positions,
                                       m.translations)
        return root_relative(torch.as_tensor(pos), 1), m.skeleton.names

    contents = ("walk", "bow", "dash", "guide")
    train = torch.cat([poses(c, s)[0] for c in contents for s in ("normal", "happy", "proud", "angry", "sad", "old")])
    test = torch.cat([poses(c, "tired")[0] for c in contents])
    names = poses("walk", "normal")[1]
    known = [names.index(n) for n in ("Head", "Hand_L", "Hand_R", "Foot_L", "Foot_R")]
    other = [j for j in range(len(names)) if j not in known + [0, 1]]  # not given, not the root
    limbs = [names.index(n) for n in ("LowerArm_L", "LowerArm_R", "LowerLeg_L", "LowerLeg_R", "Toes_L", "Toes_R")]
    pred = nearest_pose(train, test[None, :, known], known)[0]
    mean_pose = train.mean(0).expand_as(test)

    def err(p, joints):
        return float(mpjpe(p[:, joints], test[:, joints]))

    # the spine barely moves relative to the hips, so the mean pose does nearly as well there; elbows,
    # knees and toes follow the hands and feet (measured: 5.5 vs 13.2 cm on limbs, 4.3 vs 8.1 on all others)
    assert err(pred, limbs) < 0.6 * err(mean_pose, limbs), (err(pred, limbs), err(mean_pose, limbs))
    assert err(pred, other) < err(mean_pose, other)

"""Two-bone analytic IK on hand-made and random batched chains."""
import numpy as np
import torch

from motion3d.geometry.ik import two_bone_ik
from motion3d.geometry.rotations import quat_apply
from tests.conftest import assert_close


def _chains(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    root = torch.randn(n, 3, generator=g, dtype=torch.float64)
    u = torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=-1)
    v = torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=-1)
    l1 = 0.5 + torch.rand(n, 1, generator=g, dtype=torch.float64)
    l2 = 0.5 + torch.rand(n, 1, generator=g, dtype=torch.float64)
    mid = root + l1 * u
    end = mid + l2 * v
    return root, mid, end, l1, l2, g


def test_reachable_targets_are_reached_with_bone_lengths_kept():
    root, mid, end, l1, l2, g = _chains(256)
    # targets strictly inside the reachable shell
    r = (l1 - l2).abs() + (0.05 + 0.9 * torch.rand(256, 1, generator=g, dtype=torch.float64)) * (
        l1 + l2 - (l1 - l2).abs())
    d = torch.nn.functional.normalize(torch.randn(256, 3, generator=g, dtype=torch.float64), dim=-1)
    target = root + r * d
    q_root, q_mid, new_mid, new_end = two_bone_ik(root, mid, end, target)
    assert_close(new_end, target, atol=1e-9)
    assert_close((new_mid - root).norm(dim=-1, keepdim=True), l1, atol=1e-9)
    assert_close((new_end - new_mid).norm(dim=-1, keepdim=True), l2, atol=1e-9)
    # the returned world rotations carry the old bones onto the new ones
    assert_close(quat_apply(q_root, mid - root), new_mid - root, atol=1e-9)
    assert_close(quat_apply(q_mid, end - mid), new_end - new_mid, atol=1e-9)


def test_out_of_reach_stretches_towards_the_target_and_too_close_folds():
    root = torch.zeros(2, 3, dtype=torch.float64)
    mid = torch.tensor([[0.0, -1.0, 0.0], [0.0, -1.0, 0.0]], dtype=torch.float64)
    end = torch.tensor([[0.0, -1.5, 0.5], [0.0, -1.5, 0.5]], dtype=torch.float64)
    l2 = np.sqrt(0.5)
    target = torch.tensor([[0.0, -10.0, 0.0], [0.0, -0.1, 0.0]], dtype=torch.float64)
    _, _, new_mid, new_end = two_bone_ik(root, mid, end, target)
    assert_close(new_end[0], [0.0, -(1.0 + l2), 0.0], atol=1e-9)  # fully stretched along -Y
    assert_close(new_end[1].norm(), 1.0 - l2, atol=1e-9)  # folded as far as it goes
    assert_close((new_mid - root).norm(dim=-1), [1.0, 1.0], atol=1e-9)


def test_knee_bends_towards_the_pole_and_current_pose_is_a_fixed_point():
    # a leg hanging down, target raised: the knee must go forward (+Z) with a forward pole
    root = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    mid = torch.tensor([0.0, 0.5, 0.0], dtype=torch.float64)
    end = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64)
    target = torch.tensor([0.0, 0.3, 0.0], dtype=torch.float64)
    _, _, fwd_mid, _ = two_bone_ik(root, mid, end, target, pole=torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    _, _, back_mid, _ = two_bone_ik(root, mid, end, target, pole=torch.tensor([0.0, 0.5, -1.0], dtype=torch.float64))
    assert fwd_mid[2] > 0.1 and back_mid[2] < -0.1
    assert_close(fwd_mid[[0, 1]], back_mid[[0, 1]], atol=1e-12)
    # already at the target (bent chain, default pole = current knee): nothing moves
    root, mid, end, *_ = _chains(16, seed=3)
    q_root, q_mid, new_mid, new_end = two_bone_ik(root, mid, end, end)
    assert_close(new_mid, mid, atol=1e-9)
    assert_close(q_root[..., 3].abs(), torch.ones(16, dtype=torch.float64), atol=1e-9)
    assert_close(q_mid[..., 3].abs(), torch.ones(16, dtype=torch.float64), atol=1e-9)


def test_batch_shapes_broadcast_and_numpy_inputs():
    root, mid, end, *_ = _chains(12)
    shape = (3, 4, 3)
    r, m, e = (x.reshape(shape).numpy() for x in (root, mid, end))
    q_root, q_mid, new_mid, new_end = two_bone_ik(r, m, e, np.zeros(3))
    assert q_root.shape == (3, 4, 4) and q_mid.shape == (3, 4, 4) and new_end.shape == shape
    assert torch.isfinite(q_root).all() and torch.isfinite(q_mid).all()
    assert_close(q_root.norm(dim=-1), torch.ones(3, 4, dtype=torch.float64), atol=1e-9)

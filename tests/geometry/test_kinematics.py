"""Forward kinematics: hand-computed values, a naive reference, gradients, batching."""
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from motion3d.geometry import rotations as R
from motion3d.geometry.kinematics import forward_kinematics, forward_kinematics_np, tree_levels
from tests.conftest import assert_close


def _naive_fk(quats, offsets, parents, root):
    """Reference: one joint at a time with scipy rotations."""
    T, J = quats.shape[:2]
    grot = [None] * J
    pos = np.zeros((T, J, 3))
    for j in range(J):
        local = Rotation.from_quat(quats[:, j].reshape(-1, 4))
        if parents[j] < 0:
            grot[j], pos[:, j] = local, root
        else:
            p = parents[j]
            grot[j] = grot[p] * local
            pos[:, j] = pos[:, p] + grot[p].apply(offsets[j])
    return np.stack([g.as_matrix() for g in grot], 1), pos


PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11]


def test_hand_computed_two_bone_chain():
    parents = [-1, 0, 1]
    offsets = np.array([[0, 0, 0], [1.0, 0, 0], [0, 2.0, 0]])
    q = np.zeros((1, 3, 4)); q[..., 3] = 1
    q[0, 0] = Rotation.from_euler("z", 90, degrees=True).as_quat()  # root turns +90 about Z
    q[0, 1] = Rotation.from_euler("z", 90, degrees=True).as_quat()  # elbow another +90
    _, pos = forward_kinematics_np(q, offsets, parents, np.array([[10.0, 0, 0]]))
    # joint1 = root + Rz90 (1,0,0) = (10, 1, 0); joint2 = joint1 + Rz180 (0, 2, 0) = (10, -1, 0)
    assert_close(pos[0], [[10, 0, 0], [10, 1, 0], [10, -1, 0]], atol=1e-12)


def test_matches_naive_reference_random_tree():
    T, J = 37, len(PARENTS)
    quats = Rotation.random(T * J, random_state=1).as_quat().reshape(T, J, 4)
    offsets = np.random.randn(J, 3)
    root = np.random.randn(T, 3)
    grot, pos = forward_kinematics_np(quats, offsets, PARENTS, root)
    ref_rot, ref_pos = _naive_fk(quats, offsets, PARENTS, root)
    assert_close(pos, ref_pos, atol=1e-10)
    assert_close(grot, ref_rot, atol=1e-10)


def test_batched_leading_dims_and_translations():
    B, T, J = 3, 5, len(PARENTS)
    quats = torch.from_numpy(Rotation.random(B * T * J, random_state=2).as_quat().reshape(B, T, J, 4))
    offsets = torch.randn(J, 3, dtype=torch.float64)
    root = torch.randn(B, T, 3, dtype=torch.float64)
    rot, pos = forward_kinematics(quats, offsets, PARENTS, root)
    assert rot.shape == (B, T, J, 3, 3) and pos.shape == (B, T, J, 3)
    for b in range(B):
        _, p = forward_kinematics(quats[b], offsets, PARENTS, root[b])
        assert_close(pos[b], p, atol=1e-12)
    # translations replace offsets per frame
    tr = offsets.expand(B, T, J, 3).clone()
    tr[:, :, 5] += 1.0
    _, pos_tr = forward_kinematics(quats, offsets, PARENTS, root, translations=tr)
    off2 = offsets.clone(); off2[5] += 1.0
    _, pos_ref = forward_kinematics(quats, off2, PARENTS, root)
    assert_close(pos_tr, pos_ref, atol=1e-12)


def test_gradcheck_small_chain():
    parents = [-1, 0, 1, 1]
    q = R.quat_normalize(torch.randn(2, 4, 4, dtype=torch.float64)).requires_grad_()
    off = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    root = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    fn = lambda q, off, root: forward_kinematics(q, off, parents, root)[1]  # noqa: E731
    assert torch.autograd.gradcheck(fn, (q, off, root))
    fn_rot = lambda q: forward_kinematics(q, off.detach(), parents, root.detach())[0]  # noqa: E731
    assert torch.autograd.gradcheck(fn_rot, (q,))


def test_tree_levels():
    lv = tree_levels(PARENTS)
    assert [list(x) for x in lv] == [[0], [1, 4, 7], [2, 5, 8], [3, 6, 9, 11], [10, 12]]


def test_float32_and_no_grad_numpy_front_end_agree():
    T, J = 8, len(PARENTS)
    quats = Rotation.random(T * J, random_state=3).as_quat().reshape(T, J, 4)
    offsets, root = np.random.randn(J, 3), np.random.randn(T, 3)
    _, p64 = forward_kinematics_np(quats, offsets, PARENTS, root)
    _, p32 = forward_kinematics(torch.tensor(quats, dtype=torch.float32), torch.tensor(offsets), PARENTS,
                                torch.tensor(root))
    assert p32.dtype == torch.float32
    assert_close(p32, p64, atol=1e-5)


def test_matrices_in_equal_quaternions_in():
    T, J = 6, len(PARENTS)
    q = torch.from_numpy(Rotation.random(T * J, random_state=4).as_quat().reshape(T, J, 4))
    off, root = torch.randn(J, 3, dtype=torch.float64), torch.randn(T, 3, dtype=torch.float64)
    rq, pq = forward_kinematics(q, off, PARENTS, root)
    rm, pm = forward_kinematics(R.quat_to_matrix(q), off, PARENTS, root)
    assert_close(pm, pq, atol=1e-12)
    assert_close(rm, rq, atol=1e-12)


def test_compiled_schedule_matches_naive_reference_with_gradients():
    """compiled=True (torch.compile of the joint-by-joint schedule) gives the same values and
    gradients as the naive reference, for quaternions, matrices and per-frame translations."""
    B, T, J = 2, 6, len(PARENTS)
    quats = Rotation.random(B * T * J, random_state=3).as_quat().reshape(B, T, J, 4)
    offsets = np.random.default_rng(3).normal(size=(J, 3))
    root = np.random.default_rng(4).normal(size=(B, T, 3))
    q = torch.tensor(quats, requires_grad=True)
    rot, pos = forward_kinematics(q, torch.tensor(offsets), PARENTS, torch.tensor(root), compiled=True)
    ref_rot, ref_pos = _naive_fk(quats.reshape(B * T, J, 4), offsets, PARENTS, root.reshape(B * T, 3))
    assert_close(pos.detach().reshape(B * T, J, 3), ref_pos, atol=1e-10)
    assert_close(rot.detach().reshape(B * T, J, 3, 3), ref_rot, atol=1e-10)
    (pos.square().sum() + rot.sum()).backward()
    q_eager = torch.tensor(quats, requires_grad=True)
    rot_e, pos_e = forward_kinematics(q_eager, torch.tensor(offsets), PARENTS, torch.tensor(root))
    (pos_e.square().sum() + rot_e.sum()).backward()
    # the schedules differ off the unit sphere (quaternion products vs matrix products), so only
    # the gradient's component tangent to the sphere is defined by the maths: compare that
    qt = torch.tensor(quats)

    def tangent(g):
        return g - (g * qt).sum(-1, keepdim=True) * qt

    assert_close(tangent(q.grad), tangent(q_eager.grad), atol=1e-9)
    # matrices in, translations per frame
    mats = R.quat_to_matrix(torch.tensor(quats))
    tr = torch.tensor(offsets).expand(B, T, J, 3).clone()
    tr[:, :, 3] *= 2.0
    rot_m, pos_m = forward_kinematics(mats, torch.tensor(offsets), PARENTS, torch.tensor(root), translations=tr, compiled=True)
    rot_r, pos_r = forward_kinematics(mats, torch.tensor(offsets), PARENTS, torch.tensor(root), translations=tr)
    assert_close(pos_m, pos_r, atol=1e-10)
    assert_close(rot_m, rot_r, atol=1e-10)

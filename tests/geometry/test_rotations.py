"""Round trips and cross-checks against scipy for every conversion in geometry/rotations.py."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from motion3d.geometry import rotations as R
from tests.conftest import assert_close


def _random_quats(n=512, dtype=torch.float64):
    return torch.from_numpy(Rotation.random(n, random_state=0).as_quat()).to(dtype)


def _same_rotation(q0, q1, atol=1e-9):
    dot = (torch.as_tensor(q0) * torch.as_tensor(q1)).sum(-1).abs()
    assert_close(dot, torch.ones_like(dot), atol=atol)


@pytest.mark.parametrize("order", list(R.EULER_ORDERS) + [o.lower() for o in R.EULER_ORDERS])
def test_euler_all_orders_match_scipy_and_round_trip(order):
    angles = np.random.uniform(-180, 180, (400, 3))
    expected = Rotation.from_euler(order, angles, degrees=True).as_quat()
    _same_rotation(R.np_euler_to_quat(angles, order, degrees=True), expected, 1e-12)
    _same_rotation(R.euler_to_quat(torch.from_numpy(angles), order, degrees=True), expected, 1e-12)
    q = _random_quats()
    back = R.euler_to_quat(R.quat_to_euler(q, order), order)
    _same_rotation(back, q, 1e-9)
    m = R.quat_to_matrix(q)
    assert_close(R.euler_to_matrix(R.matrix_to_euler(m, order), order), m, atol=1e-9)


def test_bvh_channel_order_is_intrinsic():
    # "Zrotation Xrotation Yrotation" means R = Rz(a) Rx(b) Ry(c)
    a, b, c = 30.0, -45.0, 60.0
    rz = Rotation.from_euler("z", a, degrees=True).as_matrix()
    rx = Rotation.from_euler("x", b, degrees=True).as_matrix()
    ry = Rotation.from_euler("y", c, degrees=True).as_matrix()
    got = R.quat_to_matrix(torch.from_numpy(R.np_euler_to_quat(np.array([a, b, c]), "ZXY")))
    assert_close(got, rz @ rx @ ry, atol=1e-12)


def test_matrix_quat_axis_angle_6d_round_trips():
    q = _random_quats()
    m = R.quat_to_matrix(q)
    assert_close(m, Rotation.from_quat(q.numpy()).as_matrix(), atol=1e-12)
    _same_rotation(R.matrix_to_quat(m), q, 1e-12)
    aa = R.quat_to_axis_angle(q)
    assert aa.norm(dim=-1).max() <= np.pi + 1e-9
    assert_close(R.axis_angle_to_matrix(aa), m, atol=1e-9)
    _same_rotation(R.axis_angle_to_quat(aa), q, 1e-9)
    assert_close(R.matrix_to_axis_angle(m), aa, atol=1e-7)
    d6 = R.quat_to_6d(q)
    assert d6.shape == (512, 6)
    assert_close(d6[:, :3], m[:, :, 0])  # first column first
    _same_rotation(R.sixd_to_quat(d6), q, 1e-12)
    # any 6 numbers decode to a proper rotation
    m2 = R.sixd_to_matrix(torch.randn(100, 6, dtype=torch.float64))
    assert_close(m2 @ m2.transpose(-1, -2), torch.eye(3).expand(100, 3, 3).double(), atol=1e-12)
    assert_close(torch.linalg.det(m2), torch.ones(100), atol=1e-12)


def test_quat_mul_apply_conjugate_match_matrices():
    a, b = _random_quats(), _random_quats().flip(0)
    v = torch.randn(512, 3, dtype=torch.float64)
    ma, mb = R.quat_to_matrix(a), R.quat_to_matrix(b)
    assert_close(R.quat_to_matrix(R.quat_mul(a, b)), ma @ mb, atol=1e-12)
    assert_close(R.quat_apply(a, v), (ma @ v[..., None])[..., 0], atol=1e-12)
    assert_close(R.quat_to_matrix(R.quat_conjugate(a)), ma.transpose(-1, -2), atol=1e-12)
    # broadcasting of leading dims
    assert R.quat_apply(a[:1], v).shape == (512, 3)
    assert_close(R.np_quat_mul(a.numpy(), b.numpy()), R.quat_mul(a, b), atol=1e-12)


def test_slerp_and_geodesic_angle():
    q0, q1 = _random_quats(200), _random_quats(400)[200:]
    angle = R.geodesic_angle(q0, q1)
    expected = (Rotation.from_quat(q0.numpy()).inv() * Rotation.from_quat(q1.numpy())).magnitude()
    assert_close(angle, expected, atol=1e-9)
    mid = R.slerp(q0, q1, 0.5)
    assert_close(R.geodesic_angle(q0, mid), angle / 2, atol=1e-9)
    assert_close(R.geodesic_angle(mid, q1), angle / 2, atol=1e-9)
    _same_rotation(R.slerp(q0, q1, 0.0), q0)
    _same_rotation(R.slerp(q0, q1, 1.0), q1)
    # shortest arc: -q1 is the same rotation
    _same_rotation(R.slerp(q0, -q1, 0.5), mid)
    # per-element t
    t = torch.rand(200, dtype=torch.float64)
    assert_close(R.geodesic_angle(q0, R.slerp(q0, q1, t)), angle * t, atol=1e-9)


def test_random_rotations_statistics():
    # uniform rotations: the geodesic angle to identity has density (1 - cos x) / pi, mean pi/2 + 2/pi
    q = R.quat_normalize(torch.randn(200000, 4, dtype=torch.float64))
    ang = R.geodesic_angle(q, R.quat_identity((1,), dtype=torch.float64))
    assert abs(ang.mean().item() - (np.pi / 2 + 2 / np.pi)) < 0.01


def test_quat_between_and_continuity():
    u = torch.randn(300, 3, dtype=torch.float64)
    v = torch.randn(300, 3, dtype=torch.float64)
    q = R.quat_between(u, v)
    got = R.quat_apply(q, u / u.norm(dim=-1, keepdim=True))
    assert_close(got, v / v.norm(dim=-1, keepdim=True), atol=1e-9)
    anti = R.quat_between(u, -u)
    assert_close(R.quat_apply(anti, u), -u, atol=1e-9)
    seq = _random_quats(50)
    flipped = seq * torch.where(torch.rand(50, 1) < 0.5, -1.0, 1.0).double()
    slow = R.slerp(seq[:-1], seq[1:], 0.01)  # a smooth sequence
    smooth = torch.stack([seq[0], *slow])
    noisy = smooth * torch.where(torch.rand(50, 1) < 0.5, -1.0, 1.0).double()
    fixed = R.quat_fix_continuity(noisy, dim=0)
    assert ((fixed[1:] * fixed[:-1]).sum(-1) >= 0).all()
    _same_rotation(fixed, smooth)
    assert flipped.shape == seq.shape


def test_invalid_order_message():
    with pytest.raises(ValueError, match="invalid Euler order"):
        R.euler_to_quat(torch.zeros(3), "XXY")


def test_gradients_flow_through_conversions():
    d6 = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: R.sixd_to_quat(x), (d6,))
    e = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: R.euler_to_quat(x, "ZXY"), (e,))


def test_explicit_quat_product_and_matrix_match_roma():
    """quat_mul and quat_to_matrix are written out on components (for speed and torch.compile
    fusion); they must equal roma's functions."""
    import roma

    g = torch.Generator().manual_seed(5)
    a = R.quat_normalize(torch.randn(64, 4, generator=g, dtype=torch.float64))
    b = R.quat_normalize(torch.randn(64, 4, generator=g, dtype=torch.float64))
    torch.testing.assert_close(R.quat_mul(a, b), roma.quat_product(a, b), atol=1e-12, rtol=0)
    torch.testing.assert_close(R.quat_mul(a[:1], b), roma.quat_product(a[:1].expand_as(b), b), atol=1e-12, rtol=0)
    torch.testing.assert_close(R.quat_to_matrix(a), roma.unitquat_to_rotmat(a), atol=1e-12, rtol=0)

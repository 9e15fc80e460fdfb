"""motion3d.models.points: shapes, permutation invariance, config round trip, no Lightning import."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from motion3d.models.points import DGCNN, PointNet, PointNet2, orthogonality_loss
from motion3d.models.config import build
from tests.conftest import assert_close

# small but structurally complete variants keep the suite fast
SMALL_SA = [dict(npoint=32, radii=[0.3], nsamples=[8], mlps=[[16, 32]]),
            dict(npoint=None, radii=[0.0], nsamples=[0], mlps=[[32, 64]])]
SMALL_MSG = [dict(npoint=32, radii=[0.2, 0.4], nsamples=[8, 16], mlps=[[16, 16], [16, 32]]),
             dict(npoint=8, radii=[0.4, 0.8], nsamples=[8, 16], mlps=[[32], [32]]),
             dict(npoint=None, radii=[0.0], nsamples=[0], mlps=[[64]])]

MODELS = {
    "pointnet": lambda c=3: PointNet(5, c),
    "pointnet_sub": lambda c=3: PointNet(5, c, tnet_points=32),
    "pointnet2_ssg_small": lambda c=3: PointNet2(5, c, sa=SMALL_SA, head=[32]),
    "pointnet2_msg_small": lambda c=3: PointNet2(5, c, sa=SMALL_MSG, head=[32]),
    "dgcnn": lambda c=3: DGCNN(5, c, k=8, edge_channels=(16, 16, 32), emb_dims=64, head=(32,)),
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("channels", [3, 6])
def test_forward_shapes_and_backward(name, channels):
    m = MODELS[name](channels)
    x = torch.randn(4, 128, channels)
    logits, reg = m.forward_train(x)
    assert logits.shape == (4, 5) and reg.shape == ()
    (logits.sum() + reg).backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)
    m.eval()
    assert m(x).shape == (4, 5)


@pytest.mark.parametrize("name", ["pointnet", "pointnet2_ssg_small", "dgcnn"])
def test_permutation_invariance(name):
    m = MODELS[name]().eval()
    x = torch.randn(2, 128, 3)
    perm = torch.randperm(128)
    if name.startswith("pointnet2"):
        # FPS starts at index 0: keep that point first so the same centres are chosen
        perm = torch.cat([torch.tensor([0]), perm[perm != 0]])
    assert_close(m(x), m(x[:, perm]), atol=1e-4)


def test_paper_configurations_build_and_run():
    x = torch.randn(2, 512, 3)
    for m in (PointNet(10), PointNet2(10, variant="ssg"), PointNet2(10, variant="msg"), DGCNN(40, k=20)):
        m.eval()
        assert m(x).shape == (2, m.num_classes)
    with pytest.raises(ValueError):
        PointNet2(10, variant="huge")


@pytest.mark.parametrize("name", list(MODELS))
def test_config_round_trip(name):
    m = MODELS[name]()
    m2 = build(m.config)
    assert type(m2) is type(m) and m2.config == m.config
    m2.load_state_dict(m.state_dict())
    x = torch.randn(2, 64, 3)
    assert_close(m.eval()(x), m2.eval()(x), atol=1e-6)
    assert all(isinstance(v, (int, float, str, bool, list, dict, type(None))) for v in m.config["init_args"].values())


def test_tnet_starts_at_identity_and_orthogonality_loss():
    m = PointNet(5).eval()
    t = m.stn(torch.randn(2, 64, 3))
    assert_close(t, torch.eye(3).expand(2, 3, 3), atol=1e-6)
    q, _ = torch.linalg.qr(torch.randn(3, 16, 16))
    assert float(orthogonality_loss(q)) < 1e-8
    assert float(orthogonality_loss(2 * q)) > 1.0


def test_models_do_not_import_lightning():
    code = ("import sys; import motion3d.models.points; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("k", [11, 40])                   # pooled dim shorter / longer than C_in (16)
def test_fused_linear_bn_act_max_pool_matches_unfused(activation, train, k):
    """SharedMLP.pool == SharedMLP(x).max(dim): outputs, input gradients, parameter gradients, BN stats,
    on both backward paths (dense arg-max mask for short pooled dims, gather/scatter for long ones)."""
    from motion3d.models.points.common import SharedMLP

    torch.manual_seed(0)
    a = SharedMLP(5, [16, 32], activation=activation).double()
    with torch.no_grad():
        a[-2].weight[:8] *= -1.0                 # negative BN scales take the min branch
        a[-2].running_mean.uniform_(-1, 1)
        a[-2].running_var.uniform_(0.5, 2)
    b = SharedMLP(5, [16, 32], activation=activation).double()
    b.load_state_dict(a.state_dict())
    a.train(train), b.train(train)
    x = torch.randn(3, 7, k, 5, dtype=torch.float64)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = a.pool(xa, dim=2), b(xb).max(dim=2).values
    assert ya.shape == (3, 7, 32)
    assert_close(ya, yb, atol=1e-10)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    assert_close(xa.grad, xb.grad, atol=1e-10)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert_close(pa.grad, pb.grad, atol=1e-10)
    assert_close(a[-2].running_mean, b[-2].running_mean, atol=1e-12)
    assert_close(a[-2].running_var, b[-2].running_var, atol=1e-12)
    assert int(a[-2].num_batches_tracked) == int(b[-2].num_batches_tracked)


@pytest.mark.parametrize("k", [12, 40])
def test_fused_pool_gradient_with_repeated_points(k):
    """Ball query pads neighbourhoods by repeating a point: tied maxima must not multiply its gradient."""
    from motion3d.models.points.common import SharedMLP

    torch.manual_seed(1)
    a = SharedMLP(5, [16, 32]).double()
    b = SharedMLP(5, [16, 32]).double()
    b.load_state_dict(a.state_dict())
    src = torch.randn(3, 7, 6, 5, dtype=torch.float64)
    idx = torch.cat([torch.arange(6), torch.zeros(k - 6, dtype=torch.long)])     # point 0 repeated
    sa, sb = src.clone().requires_grad_(), src.clone().requires_grad_()
    ya, yb = a.pool(sa[:, :, idx], dim=2), b(sb[:, :, idx]).max(dim=2).values
    assert_close(ya, yb, atol=1e-10)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    assert_close(sa.grad, sb.grad, atol=1e-10)
    assert_close(a[-3].weight.grad, b[-3].weight.grad, atol=1e-10)


def test_set_abstraction_first_layer_before_grouping_is_exact():
    """The first Linear applied to points and centres before grouping == applied to grouped offsets."""
    from motion3d.models.points.pointnet2 import SetAbstraction
    from motion3d.points.ops import ball_query, farthest_point_sample, group, index_points

    torch.manual_seed(0)
    sa = SetAbstraction(16, [0.5], [8], [[16, 24]], in_channels=4).double().train()
    ref = SetAbstraction(16, [0.5], [8], [[16, 24]], in_channels=4).double().train()
    ref.load_state_dict(sa.state_dict())
    xyz = torch.rand(2, 64, 3, dtype=torch.float64)
    feats = torch.randn(2, 64, 4, dtype=torch.float64, requires_grad=True)
    centres, out = sa(xyz, feats)
    c = index_points(xyz, farthest_point_sample(xyz, 16))
    g = group(torch.cat([xyz, feats], -1), ball_query(xyz, c, 0.5, 8), c)          # (2, 16, 8, 7)
    expected = ref.mlps[0](g).max(dim=2).values
    assert_close(centres, c)
    assert_close(out, expected, atol=1e-10)
    gf, = torch.autograd.grad(out.square().sum(), feats)
    ge, = torch.autograd.grad(expected.square().sum(), feats)
    assert_close(gf, ge, atol=1e-9)


def check_fused_pool_under_bf16_autocast(k: int, device: str = "cpu") -> None:
    """Under bf16 autocast the fused pool runs its big products in bf16: float32 results as close to
    the float32 ones as the unfused layers under autocast are (bf16 rounding moves some arg-maxes).
    Shared by this test and the CUDA one (tests/test_cuda.py)."""
    from motion3d.models.points.common import SharedMLP

    torch.manual_seed(0)
    m = SharedMLP(5, [16, 32]).train().to(device)
    x = torch.randn(3, 7, k, 5, device=device, requires_grad=True)
    rel = lambda a, b: float((a - b).detach().norm() / b.detach().norm())  # noqa: E731
    y32 = m.pool(x, dim=2)
    g32, = torch.autograd.grad(y32.sum(), x)
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
        y16 = m.pool(x, dim=2)
        yu = m(x).max(dim=2).values
    g16, = torch.autograd.grad(y16.sum(), x)
    gu, = torch.autograd.grad(yu.sum(), x)
    assert y16.dtype == torch.float32 and g16.dtype == torch.float32
    assert rel(y16, y32) < 0.01
    assert rel(g16, g32) < 1.5 * rel(gu, g32) + 0.02


@pytest.mark.parametrize("k", [11, 40])
def test_fused_pool_under_bf16_autocast(k):
    check_fused_pool_under_bf16_autocast(k, "cpu")

"""CUDA parity: the differentiable pieces give on a GPU what they give on the CPU.

Marked ``gpu`` and skipped where torch sees no CUDA device (CI has none). On a GPU machine:
``pytest -m gpu`` (``tools/gpu_check.sh`` also trains every config a few steps there).
TF32 is switched off so that float32 results can be compared at float32 tolerances.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from tests.conftest import assert_close

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

CUDA = torch.device("cuda")


@pytest.fixture(autouse=True)
def _no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _twins(module: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The module on the CPU and an identical copy on the GPU."""
    import copy

    return module, copy.deepcopy(module).to(CUDA)


def _grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().cpu() for n, p in module.named_parameters() if p.grad is not None}


# ------------------------------------------------------------------ kinematics
@pytest.mark.parametrize("compiled", [False, True])
def test_forward_kinematics_matches_cpu(compiled):
    from motion3d.geometry.kinematics import forward_kinematics

    parents = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11]
    T, J = 50, len(parents)
    q = torch.from_numpy(Rotation.random(T * J, random_state=0).as_quat().reshape(T, J, 4)).float()
    offsets, root = torch.randn(J, 3), torch.randn(T, 3)
    outs = []
    for dev in ("cpu", CUDA):
        qd = q.to(dev).requires_grad_()
        grot, pos = forward_kinematics(qd, offsets.to(dev), parents, root.to(dev), compiled=compiled)
        assert pos.device.type == torch.device(dev).type
        g, = torch.autograd.grad(pos.square().sum(), qd)
        outs.append((grot.detach().cpu(), pos.detach().cpu(), g.cpu()))
    for a, b in zip(*outs):
        assert_close(b, a, atol=2e-4, rtol=1e-5)


# ------------------------------------------------------------------ point clouds
def test_point_ops_match_cpu():
    from motion3d.points import ops

    xyz = ops.normalize(torch.rand(3, 500, 3, generator=torch.Generator().manual_seed(0)))
    c_idx = ops.farthest_point_sample(xyz, 64)
    assert torch.equal(ops.farthest_point_sample(xyz.to(CUDA), 64).cpu(), c_idx)
    centres = ops.index_points(xyz, c_idx)
    d_cpu, i_cpu = ops.knn(centres, xyz, 16)
    d_gpu, i_gpu = ops.knn(centres.to(CUDA), xyz.to(CUDA), 16)
    assert_close(d_gpu, d_cpu, atol=1e-5)
    b_cpu = ops.ball_query(xyz, centres, 0.3, 24)
    b_gpu = ops.ball_query(xyz.to(CUDA), centres.to(CUDA), 0.3, 24).cpu()
    assert [sorted(set(r)) for r in b_gpu.reshape(-1, 24).tolist()] == \
           [sorted(set(r)) for r in b_cpu.reshape(-1, 24).tolist()]


@pytest.mark.parametrize("name", ["pointnet", "pointnet2_ssg_small", "pointnet2_msg_small", "dgcnn"])
def test_point_models_match_cpu_in_training_mode(name):
    """Logits, regularisers and parameter gradients (BatchNorm in training mode, fused pools;
    dropout off so that both devices compute the same function)."""
    from tests.models.test_points_models import MODELS

    torch.manual_seed(0)
    model = MODELS[name](3).train()
    for mod in model.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.eval()
    cpu, gpu = _twins(model)
    x = torch.randn(4, 256, 3)
    outs = []
    for m, dev in ((cpu, "cpu"), (gpu, CUDA)):
        logits, reg = m.forward_train(x.to(dev))
        (logits.square().sum() + reg).backward()
        outs.append((logits.detach().cpu(), _grads(m)))
    assert_close(outs[1][0], outs[0][0], atol=1e-3, rtol=1e-3)
    for n, g in outs[0][1].items():
        assert_close(outs[1][1][n], g, atol=2e-3, rtol=2e-3, msg=n)


@pytest.mark.parametrize("k", [11, 40])
def test_fused_pool_under_cuda_bf16_autocast(k):
    """Same contract as the CPU autocast test: float32 out, bf16 products, close to float32."""
    from tests.models.test_points_models import check_fused_pool_under_bf16_autocast

    check_fused_pool_under_bf16_autocast(k, "cuda")


# ------------------------------------------------------------------ motion networks
def _motion_nets():
    from motion3d.models.motion import MotionClassifier, MotionTransformer, MotionVAE, Seq2SeqGRU
    from motion3d.models.style import StyleTransferNet

    D = 12
    return D, {
        "gru": Seq2SeqGRU(D, 3, 2, hidden=16),
        "transformer": MotionTransformer(D, 3, 2, dim=16, layers=2, heads=2, ff_dim=32, max_len=40),
        "vae": MotionVAE(D, 3, 2, latent_dim=8, dim=16, layers=2, heads=2, ff_dim=32),
        "classifier": MotionClassifier(D, 3, 2, hidden=16, feature_dim=8),
        "style": StyleTransferNet(D, 3, 2, channels=16, style_dim=8, disc_channels=8),
    }


@pytest.mark.parametrize("name", ["gru", "transformer", "vae", "classifier", "style"])
def test_motion_networks_match_cpu(name):
    D, nets = _motion_nets()
    cpu, gpu = _twins(nets[name].eval())
    x = torch.randn(3, 16, D)
    labels = {"content": torch.tensor([0, 2, -1]), "style": torch.tensor([1, -1, 0])}

    def run(m, dev):
        xd, ld = x.to(dev), {k: v.to(dev) for k, v in labels.items()}
        if name == "gru":
            return m(xd, 7, ld)
        if name == "transformer":
            return m(xd, ld)
        if name == "vae":
            return m(xd, ld)[0]
        if name == "classifier":
            return m.features(xd)
        return m(xd, m.embed_style(ld["style"].clamp(min=0)))

    with torch.no_grad():
        a, b = run(cpu, "cpu"), run(gpu, CUDA)
    assert b.device.type == "cuda"
    assert_close(b, a, atol=1e-4, rtol=1e-4)
    gpu.train()  # cuDNN's RNN backward exists in training mode only
    run(gpu, CUDA).square().sum().backward()
    grads = [p.grad for p in gpu.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_transformer_cached_rollout_matches_cpu_and_trains_under_bf16():
    """Key/value-cached prediction (past max_len too, where the window slides) equals the CPU's;
    rollout training runs forward and backward under CUDA bf16 autocast."""
    from motion3d.models.motion import MotionTransformer

    D = 12
    cpu, gpu = _twins(MotionTransformer(D, 3, 2, dim=16, layers=2, heads=2, ff_dim=32, max_len=24,
                                        rollout_training=True).eval())
    x = torch.randn(3, 20, D)
    with torch.no_grad():
        assert_close(gpu.predict(x[:, :8].to(CUDA), 30), cpu.predict(x[:, :8], 30), atol=1e-4, rtol=1e-4)
    gpu.train()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        pred, start = gpu.forward_train(x.to(CUDA), 8)
    assert start == 1 and pred.shape == (3, 19, D)
    (pred.float() - x[:, 1:].to(CUDA)).square().mean().backward()
    grads = [p.grad for p in gpu.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_vae_samples_on_cuda_with_a_cpu_generator():
    """sample.py seeds a CPU generator: the same latents, so the same clips, on either device."""
    D, nets = _motion_nets()
    cpu, gpu = _twins(nets["vae"].eval())
    labels = {"content": torch.tensor([0, 1]), "style": torch.tensor([1, 0])}
    with torch.no_grad():
        a = cpu.sample(2, 20, labels, generator=torch.Generator().manual_seed(5))
        b = gpu.sample(2, 20, {k: v.to(CUDA) for k, v in labels.items()}, generator=torch.Generator().manual_seed(5))
    assert b.device.type == "cuda"
    assert_close(b, a, atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------ differentiable renderer
def test_render_skeleton_matches_cpu():
    from motion3d.geometry.rotations import axis_angle_to_quat
    from motion3d.render.diff import Camera, render_skeleton

    parents = [-1, 0, 1, 2]
    offsets = torch.tensor([[0.0, 0, 0], [0, 1, 0], [0.6, 0, 0], [0.5, 0, 0]])
    aa = torch.tensor([[[0.1, 0.0, 0.2], [0.0, 0.3, 0.5], [0.2, 0.0, -0.4], [0.0, 0.0, 0.0]]])
    outs = []
    for dev in ("cpu", CUDA):
        cam = Camera.look_at(torch.tensor([0.0, 1.2, 5.0], device=dev), torch.tensor([0.0, 1.2, 0.0], device=dev),
                             size=(32, 32), far=10.0)
        a = aa.to(dev).requires_grad_()
        img = render_skeleton(axis_angle_to_quat(a), offsets.to(dev), parents, torch.zeros(1, 3, device=dev), cam,
                              radius=0.15, sigma=1.0, gamma=0.5, zrange=(4.0, 6.0))
        g, = torch.autograd.grad(img.silhouette.sum(), a)
        outs.append((img.silhouette.detach().cpu(), img.depth.detach().cpu(), g.cpu()))
    assert float(outs[0][0].sum()) > 1.0
    for a, b in zip(*outs):
        assert_close(b, a, atol=1e-4, rtol=1e-4)

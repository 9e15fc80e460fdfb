"""motion3d.points.augment: each augmentation's invariants, seeded reproducibility."""
from __future__ import annotations

import torch

from motion3d.points import augment as A
from tests.conftest import assert_close


def _cloud(b=8, n=256, c=3):
    torch.manual_seed(0)
    return torch.randn(b, n, c)


def test_rotation_matrices_are_rotations_and_so3_is_uniform():
    for axis in ("x", "y", "z", None):
        R = A.random_rotation_matrices(2000, axis, torch.Generator().manual_seed(0))
        assert_close(R @ R.transpose(1, 2), torch.eye(3).expand(2000, 3, 3), atol=1e-5)
        assert_close(torch.linalg.det(R), torch.ones(2000), atol=1e-5)
    R = A.random_rotation_matrices(20000, None, torch.Generator().manual_seed(1))
    # uniform on SO(3): E[R] = 0 and the rotated x axis is uniform on the sphere
    assert R.mean(0).abs().max() < 0.02
    y = A.random_rotation_matrices(100, "y")
    assert_close(y[:, 1], torch.tensor([0.0, 1.0, 0.0]).expand(100, 3), atol=1e-6)   # up axis fixed


def test_rotate_keeps_norms_and_rotates_normals():
    p = torch.cat([_cloud(), torch.nn.functional.normalize(_cloud(), dim=-1)], -1)
    r = A.rotate(p, None, normals=True, generator=torch.Generator().manual_seed(0))
    assert_close(r[..., :3].norm(dim=-1), p[..., :3].norm(dim=-1), atol=1e-5)
    # the same rotation acts on points and normals: dot products are preserved
    assert_close((r[..., :3] * r[..., 3:6]).sum(-1), (p[..., :3] * p[..., 3:6]).sum(-1), atol=1e-5)
    ry = A.rotate(p, "y")
    assert_close(ry[..., 1], p[..., 1], atol=1e-6)


def test_scale_translate_jitter():
    p = _cloud()
    s = A.scale(p, 0.5, 2.0, anisotropic=True)
    ratio = s / p
    assert ((ratio >= 0.5 - 1e-6) & (ratio <= 2.0 + 1e-6)).all()
    assert_close(ratio.std(1), torch.zeros(8, 3), atol=1e-4)     # one scale per cloud and axis
    t = A.translate(p, 0.3) - p
    assert (t.abs() <= 0.3 + 1e-6).all()
    assert_close(t.std(1), torch.zeros(8, 3), atol=1e-5)          # one shift per cloud
    j = A.jitter(p, 0.01, 0.02) - p
    assert (j.abs() <= 0.02 + 1e-6).all() and j.abs().max() > 0


def test_dropout_and_shuffle():
    p = _cloud()
    d = A.dropout(p, 0.875, torch.Generator().manual_seed(0))
    assert d.shape == p.shape
    same_as_first = (d == d[:, :1]).all(-1).float().mean(1)
    assert (same_as_first <= 0.9).all()
    s = A.shuffle(p, torch.Generator().manual_seed(0))
    assert_close(s.sort(dim=1).values, p.sort(dim=1).values)
    assert not torch.equal(s, p)


def test_pipeline_is_seeded():
    aug = A.Augment(rotate_axis="y", jitter_sigma=0.01, dropout_ratio=0.5)
    p = _cloud()
    a = aug(p, torch.Generator().manual_seed(3))
    b = aug(p, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == p.shape

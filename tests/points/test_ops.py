"""motion3d.points.ops: normalise, gather, FPS, kNN, ball query, grouping (vs brute force)."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from motion3d.io import pointcloud as pc
from motion3d.points import ops
from tests.conftest import require_data, assert_close


@pytest.fixture(scope="module")
def clouds(data_dir):
    """(4, 1024, 3) real ModelNet10 shapes, normalised."""
    root = data_dir / "pointclouds/modelnet10"
    require_data(root)
    files = [root / "chair/train/chair_0001.pcd", root / "bed/train/bed_0001.pcd",
             root / "toilet/train/toilet_0001.pcd", root / "monitor/train/monitor_0001.pcd"]
    return ops.normalize(torch.from_numpy(np.stack([pc.load(f) for f in files])))


def test_normalize(clouds):
    raw = clouds * 7.0 + torch.tensor([1.0, -2.0, 3.0])
    n = ops.normalize(raw)
    assert_close(n.mean(1), torch.zeros(4, 3), atol=1e-5)
    assert_close(n.norm(dim=-1).amax(1), torch.ones(4), atol=1e-5)
    assert_close(n, clouds, atol=1e-5)
    extra = torch.cat([raw, torch.ones(4, 1024, 2)], -1)
    assert_close(ops.normalize(extra)[..., 3:], torch.ones(4, 1024, 2))
    assert_close(ops.normalize_np(raw[0].numpy()), n[0], atol=1e-5)


def _fps_reference(xyz: torch.Tensor, m: int) -> torch.Tensor:
    """The straightforward one-cloud-at-a-time FPS (start at index 0)."""
    out = []
    for b in range(xyz.shape[0]):
        p = xyz[b]
        sel = [0]
        d = ((p - p[0]) ** 2).sum(-1)
        for _ in range(m - 1):
            i = int(d.argmax())
            sel.append(i)
            d = torch.minimum(d, ((p - p[i]) ** 2).sum(-1))
        out.append(sel)
    return torch.tensor(out)


def test_fps_matches_reference_and_fpsample(clouds):
    idx = ops.farthest_point_sample(clouds, 64)
    assert idx.shape == (4, 64)
    assert torch.equal(idx, _fps_reference(clouds, 64))
    for b in range(4):
        assert len(set(idx[b].tolist())) == 64
        np_idx = ops.farthest_point_sample_np(clouds[b].numpy(), 64)
        # same greedy rule, the compiled package may break exact-distance ties differently
        assert len(set(np_idx.tolist()) & set(idx[b].tolist())) >= 60


def test_fps_spreads_points(clouds):
    """Covering radius of FPS samples is much smaller than that of the same number of random points."""
    idx = ops.farthest_point_sample(clouds, 128)
    rnd = torch.stack([torch.randperm(1024)[:128] for _ in range(4)])
    cover = lambda i: ops.square_distance(clouds, ops.index_points(clouds, i)).amin(-1).amax(-1)  # noqa: E731
    assert (cover(idx) < 0.7 * cover(rnd)).all()


def test_fps_random_start_and_errors(clouds):
    a = ops.farthest_point_sample(clouds, 8, start=None)
    assert a.shape == (4, 8)
    b = ops.farthest_point_sample(clouds, 8, start=torch.tensor([5, 6, 7, 8]))
    assert b[:, 0].tolist() == [5, 6, 7, 8]
    with pytest.raises(ValueError):
        ops.farthest_point_sample(clouds, 2000)


def test_knn_matches_brute_force(clouds):
    q = clouds[:, :100]
    d, idx = ops.knn(q, clouds, 16)
    ref = torch.cdist(q.double(), clouds.double()) ** 2
    rd, _ = ref.topk(16, dim=-1, largest=False)
    assert_close(d, rd.float(), atol=1e-4)
    assert (idx[..., 0] == torch.arange(100)).all()          # every point is its own nearest
    # works in feature space (D > 3)
    f = torch.randn(2, 50, 16)
    _, i2 = ops.knn(f, f, 5)
    ri = torch.cdist(f, f).topk(5, dim=-1, largest=False).indices
    assert torch.equal(i2, ri)


def test_ball_query_matches_brute_force(clouds):
    centres = ops.index_points(clouds, ops.farthest_point_sample(clouds, 32))
    idx = ops.ball_query(clouds, centres, 0.2, 16)
    assert idx.shape == (4, 32, 16)
    d = ops.square_distance(centres, clouds)
    for b in range(4):
        for m in range(32):
            inside = torch.nonzero(d[b, m] <= 0.04).flatten()
            expect = inside[:16].tolist()
            expect += [expect[0]] * (16 - len(expect))
            assert idx[b, m].tolist() == expect
    # a centre far from everything gets its nearest point
    far = torch.full((4, 1, 3), 5.0)
    i = ops.ball_query(clouds, far, 0.1, 4)
    nearest = ops.square_distance(far, clouds).argmin(-1)
    assert (i == nearest.unsqueeze(-1)).all()


def test_group_and_index_points(clouds):
    feats = torch.cat([clouds, torch.arange(1024.0).expand(4, 1024).unsqueeze(-1)], -1)
    centres = clouds[:, :3]
    idx = torch.randint(0, 1024, (4, 3, 5))
    g = ops.group(feats, idx, centres)
    assert g.shape == (4, 3, 5, 4)
    assert_close(g[..., 3], idx.float())
    assert_close(g[..., :3] + centres.unsqueeze(2), ops.index_points(clouds, idx), atol=1e-6)

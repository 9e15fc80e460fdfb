"""Point-cloud benchmark: FPS, kNN, ball query and one training step of each model, in samples/s,
each beside a plain reference measured in the same run (ratios are what to compare across machines).

References follow the usual PyTorch ports (Pointnet_Pointnet2_pytorch for PointNet / PointNet++:
Conv1d/Conv2d layouts, full-sort ball query, masked-assignment FPS; the DGCNN authors' layout for
EdgeConv) and ``torch.cdist + topk`` for kNN.

    python tools/bench/bench_points.py [--threads 2] [--batch 24] [--points 1024] [--steps 3] [--quick] [--bf16]

With ``--bf16`` each training step is also timed under ``torch.autocast("cpu", torch.bfloat16)``
(Lightning's ``precision: bf16-mixed``), ours against the reference under the same autocast.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from motion3d.models.points import DGCNN, PointNet, PointNet2  # noqa: E402
from motion3d.points import ops  # noqa: E402


# ------------------------------------------------------------------------------------ references
def ref_fps(xyz, npoint):
    """Pointnet_Pointnet2_pytorch ``farthest_point_sample`` (random start replaced by index 0)."""
    B, N, C = xyz.shape
    centroids = torch.zeros(B, npoint, dtype=torch.long)
    distance = torch.ones(B, N) * 1e10
    farthest = torch.zeros(B, dtype=torch.long)
    batch_indices = torch.arange(B, dtype=torch.long)
    for i in range(npoint):
        centroids[:, i] = farthest
        centroid = xyz[batch_indices, farthest, :].view(B, 1, 3)
        dist = torch.sum((xyz - centroid) ** 2, -1)
        mask = dist < distance
        distance[mask] = dist[mask]
        farthest = torch.max(distance, -1)[1]
    return centroids


def ref_sqdist(src, dst):
    B, N, _ = src.shape
    _, M, _ = dst.shape
    dist = -2 * torch.matmul(src, dst.permute(0, 2, 1))
    dist += torch.sum(src ** 2, -1).view(B, N, 1)
    dist += torch.sum(dst ** 2, -1).view(B, 1, M)
    return dist


def ref_index_points(points, idx):
    B = points.shape[0]
    view_shape = list(idx.shape)
    view_shape[1:] = [1] * (len(view_shape) - 1)
    repeat_shape = list(idx.shape)
    repeat_shape[0] = 1
    batch_indices = torch.arange(B, dtype=torch.long).view(view_shape).repeat(repeat_shape)
    return points[batch_indices, idx, :]


def ref_ball_query(radius, nsample, xyz, new_xyz):
    B, N, C = xyz.shape
    _, S, _ = new_xyz.shape
    group_idx = torch.arange(N, dtype=torch.long).view(1, 1, N).repeat([B, S, 1])
    sqrdists = ref_sqdist(new_xyz, xyz)
    group_idx[sqrdists > radius ** 2] = N
    group_idx = group_idx.sort(dim=-1)[0][:, :, :nsample]
    group_first = group_idx[:, :, 0].view(B, S, 1).repeat([1, 1, nsample])
    mask = group_idx == N
    group_idx[mask] = group_first[mask]
    return group_idx


def ref_knn(x, k):
    return torch.cdist(x, x).topk(k, dim=-1, largest=False).indices


class RefSTN(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.c1, self.c2, self.c3 = nn.Conv1d(k, 64, 1), nn.Conv1d(64, 128, 1), nn.Conv1d(128, 1024, 1)
        self.f1, self.f2, self.f3 = nn.Linear(1024, 512), nn.Linear(512, 256), nn.Linear(256, k * k)
        self.b = nn.ModuleList(nn.BatchNorm1d(c) for c in (64, 128, 1024, 512, 256))

    def forward(self, x):
        x = F.relu(self.b[0](self.c1(x)))
        x = F.relu(self.b[1](self.c2(x)))
        x = F.relu(self.b[2](self.c3(x)))
        x = torch.max(x, 2, keepdim=True)[0].view(-1, 1024)
        x = F.relu(self.b[3](self.f1(x)))
        x = F.relu(self.b[4](self.f2(x)))
        return (self.f3(x) + torch.eye(self.k).flatten()).view(-1, self.k, self.k)


class RefPointNet(nn.Module):
    """Pointnet_Pointnet2_pytorch ``pointnet_cls`` (feature transform on), channels-first Conv1d."""

    def __init__(self, k=10):
        super().__init__()
        self.stn, self.fstn = RefSTN(3), RefSTN(64)
        self.c1, self.c2, self.c3 = nn.Conv1d(3, 64, 1), nn.Conv1d(64, 128, 1), nn.Conv1d(128, 1024, 1)
        self.b1, self.b2, self.b3 = nn.BatchNorm1d(64), nn.BatchNorm1d(128), nn.BatchNorm1d(1024)
        self.fc = nn.Sequential(nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 256),
                                nn.Dropout(0.4), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, k))

    def forward_train(self, pts):
        x = pts.transpose(2, 1)
        t = self.stn(x)
        x = torch.bmm(x.transpose(2, 1), t).transpose(2, 1)
        x = F.relu(self.b1(self.c1(x)))
        ft = self.fstn(x)
        x = torch.bmm(x.transpose(2, 1), ft).transpose(2, 1)
        x = F.relu(self.b2(self.c2(x)))
        x = self.b3(self.c3(x))
        x = torch.max(x, 2, keepdim=True)[0].view(-1, 1024)
        reg = torch.mean(torch.norm(torch.bmm(ft, ft.transpose(2, 1)) - torch.eye(64), dim=(1, 2))) * 0.001
        return self.fc(x), reg


class RefSA(nn.Module):
    def __init__(self, npoint, radius, nsample, in_ch, mlp, group_all=False):
        super().__init__()
        self.npoint, self.radius, self.nsample, self.group_all = npoint, radius, nsample, group_all
        convs, bns, last = [], [], in_ch
        for c in mlp:
            convs.append(nn.Conv2d(last, c, 1))
            bns.append(nn.BatchNorm2d(c))
            last = c
        self.convs, self.bns = nn.ModuleList(convs), nn.ModuleList(bns)

    def forward(self, xyz, points):
        xyz = xyz.permute(0, 2, 1)
        points = points.permute(0, 2, 1) if points is not None else None
        if self.group_all:
            new_xyz = torch.zeros(xyz.shape[0], 1, 3)
            g = xyz.view(xyz.shape[0], 1, xyz.shape[1], 3)
            new_points = torch.cat([g, points.view(xyz.shape[0], 1, xyz.shape[1], -1)], -1) if points is not None else g
        else:
            idx = ref_fps(xyz, self.npoint)
            new_xyz = ref_index_points(xyz, idx)
            gi = ref_ball_query(self.radius, self.nsample, xyz, new_xyz)
            gx = ref_index_points(xyz, gi) - new_xyz.view(xyz.shape[0], self.npoint, 1, 3)
            new_points = torch.cat([gx, ref_index_points(points, gi)], -1) if points is not None else gx
        new_points = new_points.permute(0, 3, 2, 1)
        for conv, bn in zip(self.convs, self.bns):
            new_points = F.relu(bn(conv(new_points)))
        new_points = torch.max(new_points, 2)[0]
        return new_xyz.permute(0, 2, 1), new_points


class RefPointNet2SSG(nn.Module):
    """Pointnet_Pointnet2_pytorch ``pointnet2_cls_ssg`` (xyz only)."""

    def __init__(self, k=10):
        super().__init__()
        self.sa1 = RefSA(512, 0.2, 32, 3, [64, 64, 128])
        self.sa2 = RefSA(128, 0.4, 64, 128 + 3, [128, 128, 256])
        self.sa3 = RefSA(None, None, None, 256 + 3, [256, 512, 1024], True)
        self.fc = nn.Sequential(nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.4),
                                nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.4), nn.Linear(256, k))

    def forward_train(self, pts):
        xyz = pts.transpose(2, 1)
        l1_xyz, l1 = self.sa1(xyz, None)
        l2_xyz, l2 = self.sa2(l1_xyz, l1)
        _, l3 = self.sa3(l2_xyz, l2)
        return self.fc(l3.view(pts.shape[0], 1024)), pts.new_zeros(())


class RefDGCNN(nn.Module):
    """The DGCNN authors' layout: channels-first, Conv2d on (B, 2C, N, k) edge features."""

    def __init__(self, k=20, n_cls=10, emb=1024):
        super().__init__()
        self.k = k
        chans = [(6, 64), (128, 64), (128, 128), (256, 256)]
        self.convs = nn.ModuleList(nn.Sequential(nn.Conv2d(a, b, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2))
                                   for a, b in chans)
        self.conv5 = nn.Sequential(nn.Conv1d(512, emb, 1, bias=False), nn.BatchNorm1d(emb), nn.LeakyReLU(0.2))
        self.fc = nn.Sequential(nn.Linear(emb * 2, 512, bias=False), nn.BatchNorm1d(512), nn.LeakyReLU(0.2), nn.Dropout(0.5),
                                nn.Linear(512, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(256, n_cls))

    def graph_feature(self, x):
        B, C, N = x.shape
        inner = -2 * torch.matmul(x.transpose(2, 1), x)
        xx = torch.sum(x ** 2, dim=1, keepdim=True)
        idx = (-xx - inner - xx.transpose(2, 1)).topk(k=self.k, dim=-1)[1]
        idx = (idx + torch.arange(B).view(-1, 1, 1) * N).view(-1)
        xt = x.transpose(2, 1).contiguous()
        feat = xt.view(B * N, -1)[idx, :].view(B, N, self.k, C)
        xt = xt.view(B, N, 1, C).repeat(1, 1, self.k, 1)
        return torch.cat((feat - xt, xt), dim=3).permute(0, 3, 1, 2).contiguous()

    def forward_train(self, pts):
        x = pts.transpose(2, 1)
        outs = []
        for conv in self.convs:
            x = conv(self.graph_feature(x)).max(dim=-1, keepdim=False)[0]
            outs.append(x)
        x = self.conv5(torch.cat(outs, dim=1))
        x = torch.cat((F.adaptive_max_pool1d(x, 1).flatten(1), F.adaptive_avg_pool1d(x, 1).flatten(1)), 1)
        return self.fc(x), pts.new_zeros(())


# ------------------------------------------------------------------------------------ timing
def timeit(fn, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def train_step_fn(model, pts, labels, bf16: bool = False):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, reg = model.forward_train(pts)
            loss = F.cross_entropy(logits.float(), labels) + reg
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def load_batch(batch: int, n: int) -> torch.Tensor:
    """Real ModelNet10 shapes when the data is there, else a seeded random batch."""
    from motion3d.paths import data_root
    root = data_root() / "pointclouds" / "modelnet10"
    files = sorted(root.glob("*/train/*.pcd"))[:: 97][:batch] if root.is_dir() else []
    if len(files) == batch:
        from motion3d.io import pointcloud as pc
        return ops.normalize(torch.from_numpy(np.stack([pc.load(f)[:n] for f in files])))
    return ops.normalize(torch.randn(batch, n, 3, generator=torch.Generator().manual_seed(0)))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--points", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=3, help="timed repetitions per training-step measurement")
    ap.add_argument("--quick", action="store_true", help="ops only, no training steps")
    ap.add_argument("--models", default="pointnet,pointnet2_ssg,dgcnn",
                    help="comma list of pointnet, pointnet2_ssg, pointnet2_msg, dgcnn")
    ap.add_argument("--bf16", action="store_true",
                    help="also time every training step under CPU bf16 autocast (ours and the reference)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, N = a.batch, a.points
    xyz = load_batch(B, N)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {B}, {N} points")
    rows = []

    def report(name, ours, ref, samples):
        r = ref / ours
        rows.append((name, samples / ours, samples / ref, r))
        print(f"{name:<44s} ours {samples / ours:10.1f}/s   reference {samples / ref:10.1f}/s   x{r:5.2f}", flush=True)

    m = N // 2
    assert torch.equal(ops.farthest_point_sample(xyz, 64), ref_fps(xyz, 64))
    report(f"FPS {B}x{N}->{m} (torch, batched)", timeit(lambda: ops.farthest_point_sample(xyz, m), 3),
           timeit(lambda: ref_fps(xyz, m), 3), B)
    try:
        import fpsample  # noqa: F401
        xnp = xyz.numpy()
        report(f"FPS {B}x{N}->{m} (fpsample, per cloud)",
               timeit(lambda: [ops.farthest_point_sample_np(c, m) for c in xnp], 3), timeit(lambda: ref_fps(xyz, m), 3), B)
    except ImportError:
        print("fpsample not installed: pip install motion3d[fast]")
    report(f"kNN k=20 {B}x{N} (matmul + topk vs cdist + topk)",
           timeit(lambda: ops.knn(xyz, xyz, 20), 5), timeit(lambda: ref_knn(xyz, 20), 5), B)
    centres = ops.index_points(xyz, ops.farthest_point_sample(xyz, 512))
    assert torch.equal(ops.ball_query(xyz, centres, 0.2, 32), ref_ball_query(0.2, 32, xyz, centres))
    report(f"ball query r=0.2 k=32 {B}x512 centres (topk vs sort)",
           timeit(lambda: ops.ball_query(xyz, centres, 0.2, 32), 3),
           timeit(lambda: ref_ball_query(0.2, 32, xyz, centres), 3), B)
    if not a.quick:
        labels = torch.randint(0, 10, (B,))
        pairs = {
            "pointnet": [("PointNet (paper) train step", lambda: PointNet(10), RefPointNet),
                         ("PointNet (T-Nets on 256 pts) train step", lambda: PointNet(10, tnet_points=256), RefPointNet)],
            "pointnet2_ssg": [("PointNet++ SSG train step", lambda: PointNet2(10, variant="ssg"), RefPointNet2SSG)],
            "pointnet2_msg": [("PointNet++ MSG train step (ref: SSG)", lambda: PointNet2(10, variant="msg"), RefPointNet2SSG)],
            "dgcnn": [("DGCNN k=20 train step", lambda: DGCNN(10, k=20), RefDGCNN)],
        }
        for key in a.models.split(","):
            for name, ours, ref in pairs[key]:
                for bf16 in (False, True) if a.bf16 else (False,):
                    to = timeit(train_step_fn(ours(), xyz, labels, bf16), a.steps)
                    tr = timeit(train_step_fn(ref(), xyz, labels, bf16), a.steps)
                    report(name + (", bf16 autocast" if bf16 else ""), to, tr, B)
    return {r[0]: {"ours_per_s": r[1], "ref_per_s": r[2], "ratio": r[3]} for r in rows}


if __name__ == "__main__":
    main()

"""PointNet++ (Qi et al., NeurIPS 2017) classification, single-scale (SSG) and multi-scale (MSG)
grouping. Set abstraction = farthest point sampling + ball query + shared MLP + max pool."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from motion3d.models.points.common import ClassifierHead, PointClassifier, SharedMLP
from motion3d.points.ops import ball_query, farthest_point_sample, group, index_points


class SetAbstraction(nn.Module):
    """One set-abstraction level, possibly multi-scale.

    ``npoint`` centres by FPS (None = group everything into one centre at the origin); for each
    scale ``(radius, nsample, mlp)`` a ball-query neighbourhood of relative xyz (+ features) goes
    through a shared MLP and is max-pooled; scales are concatenated.
    Shapes: xyz ``(B, N, 3)``, feats ``(B, N, C)`` or None -> xyz ``(B, M, 3)``, feats ``(B, M, sum mlp[-1])``.
    """

    def __init__(self, npoint: int | None, radii: Sequence[float], nsamples: Sequence[int],
                 mlps: Sequence[Sequence[int]], in_channels: int, random_start: bool = False):
        super().__init__()
        if not (len(radii) == len(nsamples) == len(mlps)):
            raise ValueError("radii, nsamples and mlps must have the same length")
        self.npoint, self.radii, self.nsamples = npoint, list(radii), list(nsamples)
        self.random_start = random_start
        self.mlps = nn.ModuleList(SharedMLP(in_channels + 3, m) for m in mlps)
        self.out_channels = sum(m.out_channels for m in self.mlps)

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.npoint is None:                                   # group all
            g = xyz if feats is None else torch.cat([xyz, feats], dim=-1)       # (B, N, 3 + C)
            return xyz.new_zeros(xyz.shape[0], 1, 3), self.mlps[0].pool(g, dim=1).unsqueeze(1)
        start = None if (self.training and self.random_start) else 0
        fps_idx = farthest_point_sample(xyz, self.npoint, start)                 # (B, M)
        centres = index_points(xyz, fps_idx)                                    # (B, M, 3)
        pts = xyz if feats is None else torch.cat([xyz, feats], dim=-1)         # (B, N, 3 + C)
        outs = []
        for radius, k, mlp in zip(self.radii, self.nsamples, self.mlps):
            idx = ball_query(xyz, centres, radius, k)                           # (B, M, K)
            if mlp.num_layers > 1:
                # The first layer is linear in [x_j - c, f_j]: apply it to the N points and the M
                # centres, then group its output. Exact, and K times fewer rows through it.
                w = mlp.first_linear.weight                                     # (C1, 3 + C)
                h = index_points(pts @ w.T, idx) + (centres @ -w[:, :3].T).unsqueeze(2)
                outs.append(mlp.pool(h, dim=2, first_linear_done=True))         # (B, M, C')
            else:
                outs.append(mlp.pool(group(pts, idx, centres), dim=2))          # (B, M, K, 3 + C) -> (B, M, C')
        return centres, torch.cat(outs, dim=-1)


class PointNet2(PointClassifier):
    """PointNet++ classifier: a stack of set-abstraction levels, then a global one and a head.

    Args:
        num_classes: output classes. in_channels: 3 (xyz) or 3 + C (extra per-point features).
        sa: list of levels, each ``{npoint, radii, nsamples, mlps}``; the last level may have
            ``npoint: null`` (group all). ``variant`` picks the paper's "ssg" or "msg" when ``sa`` is None.
    Shapes: points ``(B, N, in_channels)`` -> logits ``(B, num_classes)``.
    """

    SSG = [dict(npoint=512, radii=[0.2], nsamples=[32], mlps=[[64, 64, 128]]),
           dict(npoint=128, radii=[0.4], nsamples=[64], mlps=[[128, 128, 256]]),
           dict(npoint=None, radii=[0.0], nsamples=[0], mlps=[[256, 512, 1024]])]
    MSG = [dict(npoint=512, radii=[0.1, 0.2, 0.4], nsamples=[16, 32, 128],
                mlps=[[32, 32, 64], [64, 64, 128], [64, 96, 128]]),
           dict(npoint=128, radii=[0.2, 0.4, 0.8], nsamples=[32, 64, 128],
                mlps=[[64, 64, 128], [128, 128, 256], [128, 128, 256]]),
           dict(npoint=None, radii=[0.0], nsamples=[0], mlps=[[256, 512, 1024]])]

    def __init__(self, num_classes: int = 10, in_channels: int = 3, variant: str = "ssg",
                 sa: list[dict] | None = None, head: Sequence[int] = (512, 256), dropout: float = 0.4,
                 random_start: bool = False):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        if sa is None:
            if variant not in ("ssg", "msg"):
                raise ValueError(f"variant must be 'ssg' or 'msg', got {variant!r}")
            sa = self.SSG if variant == "ssg" else self.MSG
        levels = []
        c = in_channels - 3
        for cfg in sa:
            lvl = SetAbstraction(cfg.get("npoint"), cfg["radii"], cfg["nsamples"], cfg["mlps"], c, random_start)
            levels.append(lvl)
            c = lvl.out_channels
        self.sa = nn.ModuleList(levels)
        self.head = ClassifierHead(c, num_classes, head, dropout)

    def features(self, points: torch.Tensor) -> torch.Tensor:
        xyz = points[..., :3].contiguous()
        feats = points[..., 3:] if points.shape[-1] > 3 else None
        for lvl in self.sa:
            xyz, feats = lvl(xyz, feats)
        return feats.max(dim=1).values                                   # (B, C)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(points))

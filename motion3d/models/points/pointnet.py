"""PointNet (Qi et al., CVPR 2017) for classification: input and feature T-Nets, shared MLPs,
max pooling, and the feature-transform orthogonality regulariser ``||I - A A^T||_F^2``."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from motion3d.models.points.common import ClassifierHead, PointClassifier, SharedMLP


class TNet(nn.Module):
    """Predicts a ``(B, k, k)`` transform from points ``(B, N, C)``; initialised to the identity."""

    def __init__(self, in_channels: int, k: int, mlp: Sequence[int] = (64, 128, 1024),
                 fc: Sequence[int] = (512, 256)):
        super().__init__()
        self.k = k
        self.mlp = SharedMLP(in_channels, mlp)
        layers: list[nn.Module] = []
        c = mlp[-1]
        for h in fc:
            layers += [nn.Linear(c, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(inplace=True)]
            c = h
        self.fc = nn.Sequential(*layers)
        self.out = nn.Linear(c, k * k)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("eye", torch.eye(k).flatten(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.mlp.pool(x, dim=1)                       # (B, mlp[-1])
        return (self.out(self.fc(g)) + self.eye).view(-1, self.k, self.k)


class PointNet(PointClassifier):
    """PointNet classifier.

    Args:
        num_classes: output classes.
        in_channels: 3 (xyz) or 6 (xyz + normals); the input T-Net acts on xyz (and normals).
        input_transform / feature_transform: use the 3x3 and 64x64 T-Nets.
        mlp1, mlp2: per-point MLP widths before / after the feature transform.
        head: hidden widths of the classifier head; dropout: its dropout.
        reg_weight: weight of the orthogonality regulariser returned by ``forward_train``.
        tnet_width: scale of the T-Nets' widths (1.0 = the paper's 64-128-1024 / 512-256).
        tnet_points: when set (and N is larger), the T-Nets see only this many evenly strided
            points of each cloud (the transform is a pooled global estimate, so a subset predicts it
            nearly as well); the T-Nets are ~2/3 of PointNet's FLOPs, so 256 of 1024 points
            makes a step about twice as fast. None = the paper (all points).
    Shapes: points ``(B, N, in_channels)`` -> logits ``(B, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, input_transform: bool = True,
                 feature_transform: bool = True, mlp1: Sequence[int] = (64, 64),
                 mlp2: Sequence[int] = (64, 128, 1024), head: Sequence[int] = (512, 256),
                 dropout: float = 0.4, reg_weight: float = 0.001, tnet_width: float = 1.0,
                 tnet_points: int | None = None):
        super().__init__()
        self.tnet_points = tnet_points
        self.num_classes, self.in_channels, self.reg_weight = num_classes, in_channels, reg_weight
        w = lambda cs: [max(8, int(round(c * tnet_width))) for c in cs]  # noqa: E731
        self.stn = TNet(in_channels, 3, w((64, 128, 1024)), w((512, 256))) if input_transform else None
        self.mlp1 = SharedMLP(in_channels, mlp1)
        c1 = self.mlp1.out_channels
        self.fstn = TNet(c1, c1, w((64, 128, 1024)), w((512, 256))) if feature_transform else None
        self.mlp2 = SharedMLP(c1, mlp2)
        self.head = ClassifierHead(self.mlp2.out_channels, num_classes, head, dropout)

    def _encode(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = points
        if self.stn is not None:
            t = self.stn(self._subset(points))                     # (B, 3, 3)
            xyz = points[..., :3] @ t                              # (B, N, 3)
            if points.shape[-1] >= 6:                              # normals turn with xyz
                x = torch.cat([xyz, points[..., 3:6] @ t, points[..., 6:]], dim=-1)
            else:
                x = torch.cat([xyz, points[..., 3:]], dim=-1)
        x = self.mlp1(x)                                           # (B, N, 64)
        ft = None
        if self.fstn is not None:
            ft = self.fstn(self._subset(x))                        # (B, 64, 64)
            x = x @ ft
        return self.mlp2.pool(x, dim=1), ft                        # (B, 1024)

    def _subset(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, N, C) -> (B, min(N, tnet_points), C)``: an evenly strided subset for the T-Nets."""
        n = x.shape[1]
        if self.tnet_points is None or n <= self.tnet_points:
            return x
        step = n // self.tnet_points
        return x[:, : step * self.tnet_points : step]

    def features(self, points: torch.Tensor) -> torch.Tensor:
        return self._encode(points)[0]

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self._encode(points)[0])

    def forward_train(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g, ft = self._encode(points)
        reg = orthogonality_loss(ft) * self.reg_weight if ft is not None else points.new_zeros(())
        return self.head(g), reg


def orthogonality_loss(t: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``||I - T T^T||_F^2``. t: ``(B, k, k)`` -> scalar."""
    eye = torch.eye(t.shape[-1], device=t.device, dtype=t.dtype)
    return (eye - t @ t.transpose(1, 2)).pow(2).sum(dim=(1, 2)).mean()

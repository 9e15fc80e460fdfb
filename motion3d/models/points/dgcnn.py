"""DGCNN (Wang et al., TOG 2019): EdgeConv on dynamic kNN graphs rebuilt in feature space."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from motion3d.models.points.common import ClassifierHead, PointClassifier, SharedMLP
from motion3d.points.ops import index_points, knn


class EdgeConv(nn.Module):
    """EdgeConv: for each point x_i and its k neighbours x_j, ``max_j MLP([x_i, x_j - x_i])``.

    Shapes: x ``(B, N, C)`` -> ``(B, N, C_out)``. The graph is the kNN in the input feature space.
    """

    def __init__(self, in_channels: int, channels: Sequence[int], k: int = 20):
        super().__init__()
        self.k = k
        self.mlp = SharedMLP(2 * in_channels, channels, activation="leaky_relu")
        self.out_channels = self.mlp.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, idx = knn(x.detach(), x.detach(), self.k)              # (B, N, k)
        nbr = index_points(x, idx)                                 # (B, N, k, C)
        centre = x.unsqueeze(2).expand_as(nbr)
        e = torch.cat([centre, nbr - centre], dim=-1)              # (B, N, k, 2C)
        return self.mlp.pool(e, dim=2)


class DGCNN(PointClassifier):
    """DGCNN classifier: EdgeConv(64, 64, 128, 256), concat, 1024-d embedding, max+mean pool, head.

    Shapes: points ``(B, N, in_channels)`` -> logits ``(B, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, k: int = 20,
                 edge_channels: Sequence[int] = (64, 64, 128, 256), emb_dims: int = 1024,
                 head: Sequence[int] = (512, 256), dropout: float = 0.5):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        convs = []
        c = in_channels
        for h in edge_channels:
            convs.append(EdgeConv(c, [h], k))
            c = h
        self.convs = nn.ModuleList(convs)
        self.embed = SharedMLP(sum(edge_channels), [emb_dims], activation="leaky_relu")
        self.head = ClassifierHead(2 * emb_dims, num_classes, head, dropout, activation="leaky_relu")

    def features(self, points: torch.Tensor) -> torch.Tensor:
        x = points
        outs = []
        for conv in self.convs:
            x = conv(x)
            outs.append(x)
        e = self.embed(torch.cat(outs, dim=-1))                    # (B, N, emb)
        return torch.cat([e.max(dim=1).values, e.mean(dim=1)], dim=-1)  # (B, 2 emb)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(points))

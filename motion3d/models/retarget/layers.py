"""Skeletal convolution, pooling and unpooling (Aberman et al. 2020) on joint-major channels.

Tensors are ``(B, J * C, T)``: the channels of joint ``j`` are ``j * C .. (j + 1) * C - 1``.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from motion3d.models.retarget.topology import check_parents, neighbourhood, pooling_groups

__all__ = ["SkeletalConv", "SkeletalPool", "SkeletalUnpool"]


class SkeletalConv(nn.Module):
    """Temporal convolution whose channel mixing is restricted to each joint's neighbourhood.

    The output channels of joint ``j`` see only the input channels of joints within ``distance``
    bones of ``j`` (a fixed 0/1 mask on the ``(J * out, J * in, kernel)`` weight).

    Args:
        parents: ``(J,)`` parents of the skeleton graph.
        in_channels, out_channels: channels per joint (C_in, C_out).
        kernel: temporal kernel size (odd); ``stride``: temporal stride.
        distance: neighbourhood radius in bones.
    """

    def __init__(self, parents: Sequence[int], in_channels: int, out_channels: int, kernel: int = 5,
                 stride: int = 1, distance: int = 2):
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd and positive, got {kernel}")
        self.parents = check_parents(parents)
        J = len(self.parents)
        self.num_joints, self.in_channels, self.out_channels = J, int(in_channels), int(out_channels)
        self.kernel, self.stride = int(kernel), int(stride)
        near = torch.as_tensor(neighbourhood(self.parents, distance), dtype=torch.float32)  # (J, J)
        mask = near.repeat_interleave(self.out_channels, 0).repeat_interleave(self.in_channels, 1)
        self.register_buffer("mask", mask.unsqueeze(-1), persistent=False)  # (J*Co, J*Ci, 1)
        self.weight = nn.Parameter(torch.empty(J * self.out_channels, J * self.in_channels, self.kernel))
        self.bias = nn.Parameter(torch.zeros(J * self.out_channels))
        # fan-in of one output channel: its neighbours' channels only
        fan_in = near.sum(1).repeat_interleave(self.out_channels) * self.in_channels * self.kernel
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0).mul_((1.0 / fan_in).sqrt()[:, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, J * C_in, T)`` -> ``(B, J * C_out, ceil(T / stride))``."""
        pad = self.kernel // 2
        if pad:
            x = F.pad(x, (pad, pad), mode="reflect" if x.shape[-1] > pad else "replicate")
        return F.conv1d(x, self.weight * self.mask, self.bias, stride=self.stride)


class SkeletalPool(nn.Module):
    """Average the joints of each :func:`pooling_groups` group: ``(B, J * C, T) -> (B, G * C, T)``.

    ``pooled_parents`` is the parents array of the pooled skeleton."""

    def __init__(self, parents: Sequence[int]):
        super().__init__()
        self.groups, self.pooled_parents = pooling_groups(parents)
        J, G = len(check_parents(parents)), len(self.groups)
        weight = torch.zeros(G, J)
        for g, members in enumerate(self.groups):
            weight[g, members] = 1.0 / len(members)
        self.register_buffer("weight", weight, persistent=False)  # (G, J)

    @property
    def num_joints(self) -> int:
        return int(self.weight.shape[1])

    @property
    def num_pooled(self) -> int:
        return int(self.weight.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, T = x.shape
        x = x.reshape(B, self.num_joints, -1, T)
        return torch.einsum("gj,bjct->bgct", self.weight.to(x.dtype), x).reshape(B, -1, T)


class SkeletalUnpool(nn.Module):
    """The inverse of a :class:`SkeletalPool`: every joint takes its group's channels,
    ``(B, G * C, T) -> (B, J * C, T)``."""

    def __init__(self, pool: SkeletalPool):
        super().__init__()
        self.register_buffer("weight", (pool.weight > 0).to(torch.float32).t().contiguous(), persistent=False)  # (J, G)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, T = x.shape
        x = x.reshape(B, self.weight.shape[1], -1, T)
        return torch.einsum("jg,bgct->bjct", self.weight.to(x.dtype), x).reshape(B, -1, T)

"""Layers of the style-transfer networks: temporal convolutions, instance normalisation and AdaIN.

Tensors are channels-first over time, ``(B, C, T)``, as ``nn.Conv1d`` wants.

AdaIN (Huang and Belongie 2017) replaces the per-channel mean and standard deviation over time of
``h`` by a scale and bias computed from the style code::

    adain(h, gamma, beta) = (1 + gamma) * (h - mean_t(h)) / std_t(h) + beta
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import MLP

__all__ = ["instance_norm", "adain", "ConvLayer", "AdaINParams"]


def instance_norm(h: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``(B, C, T)`` with zero mean and unit standard deviation over T, per clip and channel."""
    mean = h.mean(dim=-1, keepdim=True)
    var = h.var(dim=-1, keepdim=True, unbiased=False)
    return (h - mean) / (var + eps).sqrt()


def adain(h: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance normalisation of ``h (B, C, T)`` with ``gamma, beta (B, C)``."""
    return instance_norm(h, eps) * (1.0 + gamma.unsqueeze(-1)) + beta.unsqueeze(-1)


class ConvLayer(nn.Module):
    """``(B, C_in, T) -> (B, C_out, T / stride)``: temporal conv (reflect padding), optional
    instance norm (no affine: it removes the per-clip statistics), LeakyReLU.

    Args:
        norm: ``"instance"`` or ``"none"``.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int = 5, stride: int = 1, norm: str = "instance",
                 activation: bool = True):
        super().__init__()
        if norm not in ("instance", "none"):
            raise ValueError(f"norm must be 'instance' or 'none', got {norm!r}")
        self.pad = nn.ReflectionPad1d(kernel // 2) if kernel > 1 else nn.Identity()
        self.conv = nn.Conv1d(c_in, c_out, kernel, stride)
        self.norm = norm
        self.act = nn.LeakyReLU(0.2) if activation else nn.Identity()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.pad(h))
        if self.norm == "instance":
            h = instance_norm(h)
        return self.act(h)


class AdaINParams(nn.Module):
    """Style code ``(B, S)`` -> per-layer ``[(gamma, beta), ...]``, each ``(B, C_l)`` (an MLP).

    Args:
        style_dim: S.
        channels: C_l of each AdaIN layer.
        hidden, layers: the MLP.
    """

    def __init__(self, style_dim: int, channels: list[int], hidden: int = 128, layers: int = 2):
        super().__init__()
        self.channels = [int(c) for c in channels]
        self.mlp = MLP(style_dim, hidden, 2 * sum(self.channels), layers=layers)

    def forward(self, code: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        params = self.mlp(code)  # (B, 2 sum C)
        out, i = [], 0
        for c in self.channels:
            out.append((params[:, i:i + c], params[:, i + c:i + 2 * c]))
            i += 2 * c
        return out

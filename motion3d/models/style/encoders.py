"""Content and style encoders of the style-transfer network (Aberman et al. 2020).

* :class:`ContentEncoder`: temporal convolutions with instance normalisation, which strips the
  per-clip channel statistics where style lives; ``(B, T, D) -> (B, C, T / 2^down)``.
* :class:`StyleEncoder`: temporal convolutions (no normalisation) and global average pooling over
  time; ``(B, T, D) -> (B, S)``: a style code from a 3D example clip of any length.
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.style.layers import ConvLayer

__all__ = ["ContentEncoder", "StyleEncoder"]


def _check(x: torch.Tensor, dim: int) -> None:
    if x.dim() != 3 or x.shape[-1] != dim:
        raise ValueError(f"expected clips (B, T, {dim}), got {tuple(x.shape)}")


class ContentEncoder(nn.Module):
    """``(B, T, D) -> (B, channels, T / 2^downsample)`` content code.

    Every layer is a temporal conv with instance normalisation, which removes the per-clip channel
    means and scales of its output. With ``residual``, the layers after the first that keep T add
    their result to their input, and ``first_norm="none"`` leaves the first layer unnormalised: the
    per-clip means that the first layer computes (the clip's mean pose) then survive into the code.

    Args:
        input_dim: D. channels: width. layers: conv layers (the first ``downsample`` halve T).
        kernel: temporal kernel size. residual: residual stride-1 layers after the first.
        first_norm: ``"instance"`` or ``"none"``, the first layer's normalisation.
    """

    def __init__(self, input_dim: int, channels: int = 128, layers: int = 3, downsample: int = 1, kernel: int = 5,
                 residual: bool = False, first_norm: str = "instance"):
        super().__init__()
        if downsample > layers:
            raise ValueError(f"downsample ({downsample}) cannot exceed layers ({layers})")
        self.input_dim, self.downsample = int(input_dim), int(downsample)
        self.body = nn.ModuleList([ConvLayer(input_dim if i == 0 else channels, channels, kernel,
                                             2 if i < downsample else 1, first_norm if i == 0 else "instance")
                                   for i in range(layers)])
        self.skip = [bool(residual) and i > 0 and i >= downsample for i in range(layers)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check(x, self.input_dim)
        h = x.transpose(1, 2)
        for layer, skip in zip(self.body, self.skip):
            h = h + layer(h) if skip else layer(h)
        return h


class StyleEncoder(nn.Module):
    """``(B, T, D) -> (B, style_dim)`` style code of example clips (any T >= 2^layers).

    Args:
        input_dim: D. channels: conv width. layers: conv layers, each halving T.
        style_dim: S. kernel: temporal kernel size.
    """

    def __init__(self, input_dim: int, style_dim: int = 64, channels: int = 128, layers: int = 3, kernel: int = 5):
        super().__init__()
        self.input_dim = int(input_dim)
        self.body = nn.Sequential(*[ConvLayer(input_dim if i == 0 else channels, channels, kernel, 2, "none")
                                    for i in range(layers)])
        self.out = nn.Linear(channels, style_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check(x, self.input_dim)
        return self.out(self.body(x.transpose(1, 2)).mean(-1))

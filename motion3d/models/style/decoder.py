"""The style-transfer decoder: content code + style code -> motion features, style through AdaIN."""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.style.layers import AdaINParams, ConvLayer, adain

__all__ = ["AdaINDecoder"]


class AdaINDecoder(nn.Module):
    """``content (B, C, T') , code (B, S) -> (B, T' * 2^upsample, D)``.

    Each layer: (nearest upsampling by 2 for the first ``upsample`` layers) temporal conv, AdaIN
    with that layer's scale and bias from the style code (:class:`AdaINParams`), LeakyReLU; then a
    1x1 conv to the D output channels.

    With ``residual`` each layer adds its result to its (upsampled) input, as MUNIT's AdaIN residual
    blocks do: the per-clip channel means of the content code (a clip's mean pose: sitting vs
    standing) then reach the output through the skip path, where a plain AdaIN stack replaces them,
    at every layer, by values computed from the style code alone.

    Args:
        output_dim: D. channels: C. style_dim: S. layers: AdaIN conv layers.
        upsample: layers that double T (match the content encoder's ``downsample``).
        kernel: temporal kernel size. mlp_hidden: width of the style MLP.
        residual: residual AdaIN layers.
    """

    def __init__(self, output_dim: int, channels: int = 128, style_dim: int = 64, layers: int = 3,
                 upsample: int = 1, kernel: int = 5, mlp_hidden: int = 128, residual: bool = False):
        super().__init__()
        if upsample > layers:
            raise ValueError(f"upsample ({upsample}) cannot exceed layers ({layers})")
        self.layers = nn.ModuleList([ConvLayer(channels, channels, kernel, 1, "none", activation=False)
                                     for _ in range(layers)])
        self.upsample = [i < upsample for i in range(layers)]
        self.params = AdaINParams(style_dim, [channels] * layers, mlp_hidden)
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Conv1d(channels, output_dim, 1)
        self.residual = bool(residual)

    def forward(self, content: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h = content
        for layer, up, (gamma, beta) in zip(self.layers, self.upsample, self.params(code)):
            if up:
                h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
            y = self.act(adain(layer(h), gamma, beta))
            h = h + y if self.residual else y
        return self.out(h).transpose(1, 2)

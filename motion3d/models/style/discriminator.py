"""Multi-style discriminator (Aberman et al. 2020): one realism score per style label."""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.style.layers import ConvLayer

__all__ = ["MultiStyleDiscriminator"]


class MultiStyleDiscriminator(nn.Module):
    """``(B, T, D) -> (B, num_style)`` scores: column ``s`` says "a real clip of style s".

    Temporal convolutions (each halving T, no normalisation), a 1x1 conv to ``num_style``
    channels, averaged over time. :meth:`forward` with ``style (B,)`` returns the score of each
    clip's own style ``(B,)`` (the conditional discriminator).

    Args:
        input_dim: D. num_style: style labels. channels: width. layers: conv layers. kernel.
    """

    def __init__(self, input_dim: int, num_style: int, channels: int = 96, layers: int = 3, kernel: int = 5):
        super().__init__()
        if num_style <= 0:
            raise ValueError("MultiStyleDiscriminator needs at least one style label")
        self.input_dim, self.num_style = int(input_dim), int(num_style)
        self.body = nn.Sequential(*[ConvLayer(input_dim if i == 0 else channels, channels, kernel, 2, "none")
                                    for i in range(layers)])
        self.out = nn.Conv1d(channels, self.num_style, 1)

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D) -> (B, num_style)``."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"expected clips (B, T, {self.input_dim}), got {tuple(x.shape)}")
        return self.out(self.body(x.transpose(1, 2))).mean(-1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Score ``(B,)`` of each clip ``x (B, T, D)`` for its style ``style (B,)`` (ids >= 0)."""
        s = self.scores(x)
        return s.gather(1, style.long().clamp(min=0).view(-1, 1)).squeeze(1)

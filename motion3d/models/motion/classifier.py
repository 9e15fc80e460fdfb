"""Motion recognition: a temporal encoder with content and style heads.

Used for recognition accuracy of generated clips, as the feature extractor of FID / diversity /
multimodality (its penultimate layer, :meth:`MotionClassifier.features`), and for style metrics.

``encoder="conv"``: residual blocks of 1D convolutions over time (kernel ``kernel``, every other
block halving the time resolution), then mean pooling over time. ``encoder="gru"``: a
bidirectional GRU, mean-pooled. Both end in a small MLP giving ``feature_dim`` features.
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import MLP, MotionNet

__all__ = ["MotionClassifier"]


class _ConvBlock(nn.Module):
    """Residual temporal conv block on ``(B, C, T)``; ``stride`` 2 halves T."""

    def __init__(self, channels: int, kernel: int, stride: int, dropout: float):
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv1d(channels, channels, kernel, stride, pad), nn.GroupNorm(1, channels), nn.GELU(),
            nn.Dropout(dropout), nn.Conv1d(channels, channels, kernel, 1, pad), nn.GroupNorm(1, channels))
        self.skip = nn.AvgPool1d(stride, stride, ceil_mode=True) if stride > 1 else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.act(y + self.skip(x)[..., : y.shape[-1]])


class MotionClassifier(MotionNet):
    """Clips ``(B, T, D)`` -> ``{"content": (B, num_content), "style": (B, num_style)}`` logits.

    Args:
        input_dim: D, channels per frame.
        num_content, num_style: classes of each head (0: no head).
        encoder: ``"conv"`` or ``"gru"``.
        hidden: encoder width.
        layers: conv blocks / GRU layers.
        kernel: temporal kernel size (conv).
        feature_dim: width of :meth:`features` (the FID embedding).
        dropout: dropout in the encoder and before the heads.
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, encoder: str = "conv",
                 hidden: int = 128, layers: int = 4, kernel: int = 5, feature_dim: int = 64, dropout: float = 0.1):
        super().__init__()
        if num_content <= 0 and num_style <= 0:
            raise ValueError("MotionClassifier needs content or style classes (num_content, num_style)")
        if encoder not in ("conv", "gru"):
            raise ValueError(f"encoder must be 'conv' or 'gru', got {encoder!r}")
        self.input_dim, self.num_content, self.num_style = int(input_dim), int(num_content), int(num_style)
        self.encoder_kind, self.feature_dim = encoder, int(feature_dim)
        if encoder == "conv":
            self.stem = nn.Conv1d(self.input_dim, hidden, 1)
            self.blocks = nn.Sequential(*[_ConvBlock(hidden, kernel, 2 if i % 2 else 1, dropout) for i in range(layers)])
            pooled = hidden
        else:
            self.stem = nn.Linear(self.input_dim, hidden)
            self.gru = nn.GRU(hidden, hidden, layers, batch_first=True, bidirectional=True,
                              dropout=dropout if layers > 1 else 0.0)
            pooled = 2 * hidden
        self.project = MLP(pooled, hidden, self.feature_dim, layers=2, dropout=dropout)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({k: nn.Linear(self.feature_dim, n) for k, n in
                                    (("content", self.num_content), ("style", self.num_style)) if n > 0})

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(B, feature_dim)`` of clips ``(B, T, D)`` (for FID, diversity)."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"x must be (B, T, {self.input_dim}), got {tuple(x.shape)}")
        if self.encoder_kind == "conv":
            h = self.blocks(self.stem(x.transpose(1, 2))).mean(-1)  # (B, hidden)
        else:
            h = self.gru(self.stem(x))[0].mean(1)  # (B, 2 hidden)
        return self.project(h)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits of each head: ``{"content": (B, num_content), "style": (B, num_style)}``."""
        f = self.drop(self.act(self.features(x)))
        return {k: head(f) for k, head in self.heads.items()}

"""The residual-velocity sequence-to-sequence GRU of Martinez et al. 2017 ("On human motion
prediction using recurrent neural networks").

One GRU (shared by encoder and decoder, as in the paper) reads the observed frames; the decoder
then predicts one frame at a time as the previous frame plus a learned residual, and always feeds
back its OWN prediction (the paper's sampling-based loss), so training sees the errors it will
make at test time::

    h      = GRU(observed[:, :-1])                      # encoder
    y_0    = observed[:, -1]
    y_{k+1} = y_k + W h_k,   h_k = GRU(y_k, h_{k-1})     # decoder, k = 0 .. horizon-1
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import LabelEmbedding, Labels, Predictor

__all__ = ["Seq2SeqGRU"]


class Seq2SeqGRU(Predictor):
    """Martinez et al.'s seq2seq GRU on normalised feature frames.

    Args:
        input_dim: D, channels per frame.
        num_content, num_style: label counts; used only when ``conditional`` (a label embedding
            concatenated to every input frame).
        hidden: GRU width (the paper: 1024).
        layers: stacked GRU layers (the paper: 1).
        dropout: between GRU layers and on the label embedding.
        conditional: condition on content/style labels.
        label_dim: width of the label embedding.
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, hidden: int = 512,
                 layers: int = 1, dropout: float = 0.0, conditional: bool = False, label_dim: int = 32):
        super().__init__()
        self.input_dim, self.hidden, self.layers = int(input_dim), int(hidden), int(layers)
        self.conditional = bool(conditional) and (num_content > 0 or num_style > 0)
        self.num_content = int(num_content) if self.conditional else 0
        self.num_style = int(num_style) if self.conditional else 0
        self.labels = LabelEmbedding(label_dim, self.num_content, self.num_style) if self.conditional else None
        in_dim = self.input_dim + (label_dim if self.conditional else 0)
        self.gru = nn.GRU(in_dim, self.hidden, self.layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.out = nn.Linear(self.hidden, self.input_dim)
        nn.init.zeros_(self.out.bias)
        nn.init.normal_(self.out.weight, std=1e-3)  # start as zero-velocity

    def _inputs(self, frames: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, T, D [+ label_dim])``."""
        if cond is None:
            return frames
        return torch.cat([frames, cond.unsqueeze(1).expand(-1, frames.shape[1], -1).to(frames.dtype)], dim=-1)

    def forward(self, observed: torch.Tensor, horizon: int, labels: Labels = None) -> torch.Tensor:
        """Predict ``horizon`` frames after ``observed (B, T_obs, D)`` (``T_obs >= 1``) -> ``(B, horizon, D)``."""
        if observed.dim() != 3 or observed.shape[-1] != self.input_dim:
            raise ValueError(f"observed must be (B, T, {self.input_dim}), got {tuple(observed.shape)}")
        if observed.shape[1] < 1:
            raise ValueError("Seq2SeqGRU needs at least one observed frame")
        B = observed.shape[0]
        cond = self.labels(labels, B, observed.device) if self.labels is not None else None
        h = None
        if observed.shape[1] > 1:  # 1. encoder over all observed frames but the last
            _, h = self.gru(self._inputs(observed[:, :-1], cond))
        frame = observed[:, -1:]  # (B, 1, D)
        outputs = []
        for _ in range(int(horizon)):  # 2. decoder, fed its own predictions
            y, h = self.gru(self._inputs(frame, cond), h)
            frame = frame + self.out(y)
            outputs.append(frame)
        if not outputs:
            return observed.new_zeros(B, 0, self.input_dim)
        return torch.cat(outputs, dim=1)

    def predict(self, observed: torch.Tensor, horizon: int, labels: Labels = None) -> torch.Tensor:
        """Same as :meth:`forward` (``(B, T_obs, D)`` -> ``(B, horizon, D)``)."""
        return self(observed, horizon, labels)

    def forward_train(self, x: torch.Tensor, observe: int, labels: Labels = None,
                      sampling_prob: float = 0.0) -> tuple[torch.Tensor, int]:
        """Training outputs for a window ``x (B, T, D)``: predictions of frames ``observe .. T-1``
        from the first ``observe`` (own predictions fed back) and the index of the first predicted
        frame. ``sampling_prob`` is unused: this model always samples."""
        return self(x[:, :observe], x.shape[1] - observe, labels), observe

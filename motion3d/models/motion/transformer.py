"""A causal decoder-only transformer for motion prediction and autoregressive generation.

Every frame is a token; a causal mask lets the output at frame t see frames ``0..t`` only, and it
predicts frame ``t + 1`` as frame t plus a residual (the residual-velocity trick of Martinez et
al.). Labels (content/style) are embedded and added to every token.

Exposure bias is cured with parallel scheduled sampling (Duckworth et al. 2019): during training,
a first pass (no gradient) predicts every next frame from the ground truth, then each input frame
after the first is replaced by that prediction with probability ``sampling_prob`` and the second
pass is trained. With ``sampling_passes = k > 1`` the no-gradient pass is repeated on the mixed
input, so a replaced frame may have been predicted from frames that were themselves predictions
(k steps of compounding error, as in free-running prediction). The task ramps ``sampling_prob``
up during training.

With ``rollout_training`` the cure is instead the one of Martinez et al.'s GRU: the observed frames
are teacher-forced and every later frame of the window is predicted free-running from the model's
own previous predictions, with the gradient flowing through the whole rollout (``sampling_prob`` is
then unused). Keys and values of past frames are cached (:class:`KVCache`), so a rollout step
costs one frame's worth of compute; prediction and generation use the same cache.
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import (KVCache, LabelEmbedding, Labels, PositionalEncoding, Predictor,
                                           causal_encode, transformer_encoder)

__all__ = ["MotionTransformer"]


class MotionTransformer(Predictor):
    """Causal transformer over feature frames.

    Args:
        input_dim: D, channels per frame.
        num_content, num_style: label counts (used when ``conditional``).
        dim: token width.
        layers, heads, ff_dim, dropout: the transformer.
        max_len: the longest context (older frames are dropped when predicting further).
        positional: ``"sinusoidal"`` or ``"learned"``.
        conditional: add a content/style label embedding to every token.
        sampling_passes: no-gradient passes of parallel scheduled sampling (see above).
        rollout_training: train the frames after the observed ones free-running, with gradient
            through the rollout, instead of by scheduled sampling (see above).
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, dim: int = 256, layers: int = 4,
                 heads: int = 4, ff_dim: int = 512, dropout: float = 0.1, max_len: int = 256,
                 positional: str = "sinusoidal", conditional: bool = False, sampling_passes: int = 1,
                 rollout_training: bool = False):
        super().__init__()
        if int(sampling_passes) < 1:
            raise ValueError(f"sampling_passes must be >= 1, got {sampling_passes}")
        self.sampling_passes = int(sampling_passes)
        self.rollout_training = bool(rollout_training)
        self.input_dim, self.dim, self.max_len = int(input_dim), int(dim), int(max_len)
        self.conditional = bool(conditional) and (num_content > 0 or num_style > 0)
        self.num_content = int(num_content) if self.conditional else 0
        self.num_style = int(num_style) if self.conditional else 0
        self.embed = nn.Linear(self.input_dim, self.dim)
        self.position = PositionalEncoding(self.dim, self.max_len, positional, dropout)
        self.labels = LabelEmbedding(self.dim, self.num_content, self.num_style) if self.conditional else None
        self.encoder = transformer_encoder(self.dim, heads, layers, ff_dim, dropout)
        self.norm = nn.LayerNorm(self.dim)
        self.out = nn.Linear(self.dim, self.input_dim)
        nn.init.zeros_(self.out.bias)
        nn.init.normal_(self.out.weight, std=1e-3)  # start as zero-velocity

    def forward(self, x: torch.Tensor, labels: Labels = None, sampling_prob: float = 0.0) -> torch.Tensor:
        """Next-frame predictions: ``x (B, T, D)`` -> ``(B, T, D)`` where output t predicts frame t+1
        from frames ``0..t``. With ``sampling_prob > 0`` (training), inputs after the first are
        replaced by the model's own predictions with that probability (scheduled sampling)."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"x must be (B, T, {self.input_dim}), got {tuple(x.shape)}")
        if x.shape[1] > self.max_len:
            raise ValueError(f"{x.shape[1]} frames exceed max_len={self.max_len}")
        if sampling_prob > 0.0 and x.shape[1] > 1:
            swap = torch.rand(x.shape[0], x.shape[1] - 1, 1, device=x.device) < sampling_prob
            mixed = x
            for _ in range(self.sampling_passes):
                with torch.no_grad():
                    guess = self._step(mixed, labels)  # (B, T, D): guess[:, t] predicts frame t + 1
                mixed = torch.cat([x[:, :1], torch.where(swap, guess[:, :-1].to(x.dtype), x[:, 1:])], dim=1)
            x = mixed
        return self._step(x, labels)

    def _new_cache(self) -> KVCache:
        return KVCache(len(self.encoder.layers))

    def _step(self, x: torch.Tensor, labels: Labels) -> torch.Tensor:
        """One causal pass: ``(B, T, D)`` -> ``(B, T, D)``."""
        return self._encode(x, labels, self._new_cache())

    def _encode(self, x: torch.Tensor, labels: Labels, cache: KVCache) -> torch.Tensor:
        """Next-frame predictions for new frames ``x (B, T_new, D)`` that follow the frames already in
        ``cache`` (positions continue from there) -> ``(B, T_new, D)``; ``cache`` gains them."""
        tokens = self.embed(x)
        if self.labels is not None:
            tokens = tokens + self.labels(labels, x.shape[0], x.device).unsqueeze(1).to(tokens.dtype)
        tokens = self.position(tokens, len(cache))
        return x + self.out(self.norm(causal_encode(self.encoder, tokens, cache)))

    def forward_train(self, x: torch.Tensor, observe: int, labels: Labels = None,
                      sampling_prob: float = 0.0) -> tuple[torch.Tensor, int]:
        """Training outputs for a window ``x (B, T, D)``: predictions of frames ``1 .. T-1`` and the
        index of the first predicted frame (1). Teacher forcing with scheduled sampling, or with
        ``rollout_training`` teacher forcing over the first ``observe`` frames and a free-running
        rollout (with gradient) after them."""
        if not self.rollout_training:
            return self(x[:, :-1], labels, sampling_prob), 1
        if x.shape[1] > self.max_len:
            raise ValueError(f"{x.shape[1]} frames exceed max_len={self.max_len}")
        if not 1 <= observe < x.shape[1]:
            raise ValueError(f"observe must be in [1, {x.shape[1] - 1}], got {observe}")
        return self._rollout(x[:, :observe], x.shape[1] - observe, labels, keep_observed=True), 1

    def _rollout(self, observed: torch.Tensor, horizon: int, labels: Labels,
                 keep_observed: bool = False) -> torch.Tensor:
        """``horizon`` free-running frames after ``observed (B, T_obs, D)`` -> ``(B, horizon, D)``,
        preceded with ``keep_observed`` by the teacher-forced predictions of frames ``1 .. T_obs - 1``.
        The context is the last ``max_len`` frames: past that, the window slides and is re-encoded."""
        horizon = int(horizon)
        if horizon <= 0 and not keep_observed:
            return observed.new_zeros(observed.shape[0], 0, self.input_dim)
        cache = self._new_cache()
        guess = self._encode(observed[:, -self.max_len:], labels, cache)
        outputs = [guess[:, :-1]] if keep_observed else []
        new = [guess[:, -1:]]  # new[k] predicts frame T_obs + k
        while len(new) < horizon:
            if len(cache) < self.max_len:
                new.append(self._encode(new[-1], labels, cache))
            else:  # context full: slide the window (positions restart at 0, as in training)
                cache = self._new_cache()
                context = torch.cat([observed] + new, dim=1)[:, -self.max_len:]
                new.append(self._encode(context, labels, cache)[:, -1:])
        return torch.cat(outputs + new[:horizon], dim=1)

    @torch.no_grad()
    def predict(self, observed: torch.Tensor, horizon: int, labels: Labels = None) -> torch.Tensor:
        """Autoregressive prediction of ``horizon`` frames after ``observed (B, T_obs, D)`` -> ``(B, horizon, D)``
        (the context keeps the last ``max_len`` frames; past frames' keys and values are cached)."""
        return self._rollout(observed, horizon, labels)

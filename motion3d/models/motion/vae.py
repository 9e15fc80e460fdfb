"""A conditional transformer VAE in the manner of ACTOR (Petrovich et al. 2021).

Encoder: two distribution tokens (mu, logvar queries, each shifted by an embedding of the clip's
labels) are prepended to the embedded frames; a transformer encoder reads them all and the two
tokens' outputs give the Gaussian posterior ``q(z | clip, labels)``::

    [mu_q + E_mu(labels), lv_q + E_lv(labels), W x_1, ..., W x_T] + PE -> encoder -> (mu, logvar)

Decoder: ``z`` plus a label embedding is the memory of a transformer decoder whose queries are
sinusoidal time encodings, one per requested frame, so any length can be decoded in one pass::

    memory = W_z z + E_dec(labels);  queries = PE(0..T-1)  -> decoder -> (B, T, D)
"""
from __future__ import annotations

import torch
from torch import nn

from motion3d.models.motion.blocks import (LabelEmbedding, Labels, MotionNet, PositionalEncoding,
                                           transformer_decoder, transformer_encoder)

__all__ = ["MotionVAE"]


class MotionVAE(MotionNet):
    """ACTOR-style conditional VAE over whole clips.

    Args:
        input_dim: D, channels per frame.
        num_content, num_style: label counts; pass 0 (or ``conditional=False``) to ignore a kind.
        latent_dim: size of z.
        dim, layers, heads, ff_dim, dropout: the transformers (encoder and decoder alike).
        max_len: the longest clip (learned positional encodings only).
        positional: ``"sinusoidal"`` or ``"learned"`` encoding of the encoder's frames.
        conditional: use the labels (ACTOR is class-conditional).
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, latent_dim: int = 256,
                 dim: int = 256, layers: int = 4, heads: int = 4, ff_dim: int = 512, dropout: float = 0.1,
                 max_len: int = 512, positional: str = "sinusoidal", conditional: bool = True):
        super().__init__()
        self.input_dim, self.latent_dim, self.dim = int(input_dim), int(latent_dim), int(dim)
        self.conditional = bool(conditional)
        self.num_content = int(num_content) if self.conditional else 0
        self.num_style = int(num_style) if self.conditional else 0
        # encoder
        self.embed = nn.Linear(self.input_dim, self.dim)
        self.mu_query = nn.Parameter(torch.randn(self.dim) * 0.02)
        self.logvar_query = nn.Parameter(torch.randn(self.dim) * 0.02)
        self.mu_labels = LabelEmbedding(self.dim, self.num_content, self.num_style)
        self.logvar_labels = LabelEmbedding(self.dim, self.num_content, self.num_style)
        self.enc_position = PositionalEncoding(self.dim, max_len + 2, positional, dropout)
        self.encoder = transformer_encoder(self.dim, heads, layers, ff_dim, dropout)
        self.enc_norm = nn.LayerNorm(self.dim)
        self.to_mu = nn.Linear(self.dim, self.latent_dim)
        self.to_logvar = nn.Linear(self.dim, self.latent_dim)
        # decoder
        self.from_z = nn.Linear(self.latent_dim, self.dim)
        self.dec_labels = LabelEmbedding(self.dim, self.num_content, self.num_style)
        self.dec_position = PositionalEncoding(self.dim, max_len, "sinusoidal", 0.0)
        self.decoder = transformer_decoder(self.dim, heads, layers, ff_dim, dropout)
        self.dec_norm = nn.LayerNorm(self.dim)
        self.out = nn.Linear(self.dim, self.input_dim)

    # ------------------------------------------------------------------ the two halves
    def encode(self, x: torch.Tensor, labels: Labels = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, T, D)`` -> ``(mu, logvar)``, each ``(B, latent_dim)``."""
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise ValueError(f"x must be (B, T, {self.input_dim}), got {tuple(x.shape)}")
        B = x.shape[0]
        frames = self.embed(x)  # (B, T, C)
        mu_tok = self.mu_query + self.mu_labels(labels, B, x.device).to(frames.dtype)  # (B, C)
        lv_tok = self.logvar_query + self.logvar_labels(labels, B, x.device).to(frames.dtype)
        tokens = self.enc_position(torch.cat([mu_tok.unsqueeze(1), lv_tok.unsqueeze(1), frames], dim=1))
        h = self.enc_norm(self.encoder(tokens))
        return self.to_mu(h[:, 0]), self.to_logvar(h[:, 1])

    def decode(self, z: torch.Tensor, length: int, labels: Labels = None) -> torch.Tensor:
        """``z (B, latent_dim)`` -> a clip ``(B, length, D)``."""
        B = z.shape[0]
        memory = (self.from_z(z) + self.dec_labels(labels, B, z.device).to(z.dtype)).unsqueeze(1)  # (B, 1, C)
        queries = self.dec_position.encoding(int(length), device=z.device, dtype=memory.dtype)
        h = self.decoder(queries.unsqueeze(0).expand(B, -1, -1), memory)
        return self.out(self.dec_norm(h))

    # ------------------------------------------------------------------ the VAE
    def forward(self, x: torch.Tensor, labels: Labels = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x (B, T, D)`` -> ``(reconstruction (B, T, D), mu, logvar (B, latent_dim))``. In training
        z is sampled (reparameterisation); in eval mode z = mu."""
        mu, logvar = self.encode(x, labels)
        z = mu
        if self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, x.shape[1], labels), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, length: int, labels: Labels = None, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        """``n`` clips ``(n, length, D)`` decoded from ``z ~ N(0, temperature^2 I)`` with ``labels``
        (each ``(n,)``, a scalar, or ``None`` for unknown)."""
        device = self.out.weight.device
        z = torch.randn(int(n), self.latent_dim, generator=generator, device="cpu" if generator is None
                        else generator.device).to(device) * temperature
        return self.decode(z, length, labels)

    @staticmethod
    def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``KL(N(mu, exp(logvar)) || N(0, I))`` summed over latent dims -> scalar."""
        return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()

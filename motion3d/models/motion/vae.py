"""A conditional transformer VAE in the manner of ACTOR (Petrovich et al. 2021).

Encoder: two distribution tokens (mu, logvar queries, each shifted by an embedding of the clip's
labels) are prepended to the embedded frames; a transformer encoder reads them all and the two
tokens' outputs give the Gaussian posterior ``q(z | clip, labels)``::

    [mu_q + E_mu(labels), lv_q + E_lv(labels), W x_1, ..., W x_T] + PE -> encoder -> (mu, logvar)

Decoder: ``z`` plus a label embedding is the memory of a transformer decoder whose queries are
sinusoidal time encodings, one per requested frame, so any length can be decoded in one pass::

    memory = W_z z + E_dec(labels);  queries = PE(0..T-1)  -> decoder -> (B, T, D)

With ``memory_tokens = K > 1`` the memory is K tokens (``W_z z`` reshaped to ``(K, C)`` plus a
learned embedding per token): cross-attention from one token gives every frame the same value, so
all variation over time must then come from the queries; with several tokens each frame can read a
different part of ``z``. With ``z_in_queries`` the projected latent (and the label embedding) is
also added to every frame's query, so the decoder's self-attention and feed-forward layers see
time and latent together from the first layer on instead of only through cross-attention.

Sampling draws ``z`` from the prior ``N(0, I)`` (``prior="standard"``), or (``prior="fitted"``,
the default) from a Gaussian fitted to the encoder's posteriors on the training data, one mean per
content x style cell and a pooled covariance (ex-post density estimation, Ghosh et al. 2020). With
the small KL weights that keep the latent informative, the aggregate posterior does not fill
``N(0, I)``, and decoding prior samples from its holes gives implausible clips; the fitted prior
samples where the decoder was trained. :meth:`fit_prior` is called by the training task.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from motion3d.models.motion.blocks import (LabelEmbedding, Labels, MotionNet, PositionalEncoding, label_rows,
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
        prior: ``"fitted"`` (sample from the Gaussian of :meth:`fit_prior` once fitted) or
            ``"standard"`` (always ``N(0, I)``).
        memory_tokens: tokens the latent is spread over in the decoder's memory (1: ACTOR).
        z_in_queries: add the latent and label embedding to every frame query as well (see above).
    """

    def __init__(self, input_dim: int, num_content: int = 0, num_style: int = 0, latent_dim: int = 256,
                 dim: int = 256, layers: int = 4, heads: int = 4, ff_dim: int = 512, dropout: float = 0.1,
                 max_len: int = 512, positional: str = "sinusoidal", conditional: bool = True,
                 prior: str = "fitted", memory_tokens: int = 1, z_in_queries: bool = False):
        super().__init__()
        if int(memory_tokens) < 1:
            raise ValueError(f"memory_tokens must be >= 1, got {memory_tokens}")
        self.memory_tokens = int(memory_tokens)
        self.z_in_queries = bool(z_in_queries)
        if prior not in ("fitted", "standard"):
            raise ValueError(f"prior must be 'fitted' or 'standard', got {prior!r}")
        self.prior = prior
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
        self.from_z = nn.Linear(self.latent_dim, self.dim * self.memory_tokens)
        self.memory_embed = nn.Parameter(torch.randn(self.memory_tokens, self.dim) * 0.02) \
            if self.memory_tokens > 1 else None
        self.query_from_z = nn.Linear(self.latent_dim, self.dim) if self.z_in_queries else None
        self.dec_labels = LabelEmbedding(self.dim, self.num_content, self.num_style)
        self.dec_position = PositionalEncoding(self.dim, max_len, "sinusoidal", 0.0)
        self.decoder = transformer_decoder(self.dim, heads, layers, ff_dim, dropout)
        self.dec_norm = nn.LayerNorm(self.dim)
        self.out = nn.Linear(self.dim, self.input_dim)
        # the fitted prior: a mean per (content, style) cell, the last index of each kind standing
        # for "unknown / any", and the Cholesky factor of the pooled covariance
        cells = (self.num_content + 1, self.num_style + 1)
        self.register_buffer("prior_mean", torch.zeros(*cells, self.latent_dim))
        self.register_buffer("prior_count", torch.zeros(*cells))
        self.register_buffer("prior_scale", torch.eye(self.latent_dim))
        self.register_buffer("prior_fitted", torch.zeros((), dtype=torch.bool))

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
        memory = self.from_z(z).view(B, self.memory_tokens, self.dim)  # (B, K, C)
        if self.memory_embed is not None:
            memory = memory + self.memory_embed
        label = self.dec_labels(labels, B, z.device).to(z.dtype).unsqueeze(1)  # (B, 1, C)
        memory = memory + label
        queries = self.dec_position.encoding(int(length), device=z.device, dtype=memory.dtype).unsqueeze(0)
        if self.query_from_z is not None:
            queries = queries + self.query_from_z(z).unsqueeze(1) + label  # (B, T, C)
        h = self.decoder(queries.expand(B, -1, -1), memory)
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

    def _cells(self, labels: Labels, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """Row indices into ``prior_mean`` of ``labels``: unknown (-1) or unused kinds -> the last."""
        return (label_rows(labels, "content", self.num_content, n, device),
                label_rows(labels, "style", self.num_style, n, device))

    @torch.no_grad()
    def fit_prior(self, mu: torch.Tensor, logvar: torch.Tensor, labels: Labels = None) -> None:
        """Fit the sampling prior to posteriors ``mu, logvar (N, latent_dim)`` of training clips.

        Means: per (content, style) cell seen, per content and per style (any other label), and
        overall; an unseen cell falls back to its content's, then its style's, then the overall
        mean. Covariance: the pooled within-cell scatter of ``mu`` plus the mean posterior variance.
        """
        mu, var = mu.double(), logvar.double().exp()
        n, L = mu.shape
        if n < 2:
            return
        c, s = self._cells(labels, n, mu.device)
        nc, ns = self.num_content + 1, self.num_style + 1
        sums = torch.zeros(nc, ns, L, dtype=mu.dtype, device=mu.device)
        counts = torch.zeros(nc, ns, dtype=mu.dtype, device=mu.device)
        sums.index_put_((c, s), mu, accumulate=True)
        counts.index_put_((c, s), torch.ones(n, dtype=mu.dtype, device=mu.device), accumulate=True)
        cell_mean = sums / counts.clamp(min=1).unsqueeze(-1)
        resid = mu - cell_mean[c, s]
        dof = max(n - int((counts > 0).sum()), 1)
        cov = resid.T @ resid / dof + torch.diag(var.mean(0))
        cov = cov + torch.eye(L, dtype=cov.dtype, device=cov.device) * (1e-4 * cov.diagonal().mean())
        # marginals: a content with any style, a style with any content, everything
        c_sum, c_cnt = sums.sum(1), counts.sum(1)          # (nc, L), (nc,)
        s_sum, s_cnt = sums.sum(0), counts.sum(0)          # (ns, L), (ns,)
        overall = mu.mean(0)
        c_mean = torch.where(c_cnt.unsqueeze(-1) > 0, c_sum / c_cnt.clamp(min=1).unsqueeze(-1), overall)
        s_mean = torch.where(s_cnt.unsqueeze(-1) > 0, s_sum / s_cnt.clamp(min=1).unsqueeze(-1), overall)
        table = torch.where(counts.unsqueeze(-1) > 0, cell_mean, torch.where(
            c_cnt.view(nc, 1, 1) > 0, c_mean.unsqueeze(1).expand(nc, ns, L), s_mean.unsqueeze(0).expand(nc, ns, L)))
        table[:, -1] = c_mean                               # style unknown: the content's mean
        table[-1, :] = s_mean                               # content unknown: the style's mean
        table[-1, -1] = overall
        self.prior_mean.copy_(table.to(self.prior_mean.dtype))
        self.prior_count.copy_(counts.to(self.prior_count.dtype))
        self.prior_scale.copy_(torch.linalg.cholesky(cov).to(self.prior_scale.dtype))
        self.prior_fitted.fill_(True)

    @torch.no_grad()
    def sample(self, n: int, length: int, labels: Labels = None, generator: torch.Generator | None = None,
               temperature: float = 1.0, constraints: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """``n`` clips ``(n, length, D)`` with ``labels`` (each ``(n,)``, a scalar, or ``None`` for
        unknown), decoded from ``z`` drawn from the fitted prior (``prior="fitted"`` after
        :meth:`fit_prior`) or from ``N(0, I)``, its spread scaled by ``temperature``. The VAE takes
        no ``constraints`` (it decodes whole clips at once)."""
        if constraints:
            raise ValueError(f"MotionVAE cannot follow constraints {sorted(constraints)}; it samples whole clips")
        device = self.out.weight.device
        eps = torch.randn(int(n), self.latent_dim, generator=generator, device="cpu" if generator is None
                          else generator.device).to(device) * temperature
        if self.prior == "fitted" and bool(self.prior_fitted):
            c, s = self._cells(labels, int(n), device)
            z = self.prior_mean[c, s] + eps @ self.prior_scale.T
        else:
            z = eps
        return self.decode(z, length, labels)

    @staticmethod
    def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``KL(N(mu, exp(logvar)) || N(0, I))`` summed over latent dims -> scalar."""
        return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()

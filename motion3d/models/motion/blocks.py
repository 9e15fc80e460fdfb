"""Building blocks shared by the motion networks: config recording, positional encodings, label
embeddings, an MLP, the causal mask and key/value-cached causal encoding.

Conventions of every motion network (``MotionNet``):

* features are ``(B, T, D)`` normalised frames of a ``motion3d.features`` representation;
* labels are ``{"content": (B,) int64, "style": (B,) int64}`` (either key optional, ``None`` for
  unconditional), ``-1`` meaning unknown;
* the first three constructor arguments are ``input_dim, num_content, num_style``, so a task can
  build a network from its config plus the data (``Callable[[int, int, int], nn.Module]``);
* ``self.config`` records ``{"class_path", "init_args"}`` in plain values, and :func:`motion3d.models.config.build`
  rebuilds the network from it (checkpoints need nothing else).
"""
from __future__ import annotations

import math
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from motion3d.models.config import Configurable

__all__ = [
    "MotionNet",
    "Predictor",
    "sinusoidal_table",
    "PositionalEncoding",
    "LabelEmbedding",
    "MLP",
    "causal_mask",
    "KVCache",
    "causal_encode",
    "label_tensor",
    "label_rows",
    "Labels",
]

Labels = Mapping[str, torch.Tensor] | None
LABEL_KINDS = ("content", "style")


class MotionNet(Configurable):
    """Base class of the motion networks: records the constructor arguments in ``self.config``.

    Attributes set by subclasses: ``input_dim`` (D), ``num_content``, ``num_style`` (0: that label
    is not used).

    A network that generates motion has a ``sample`` method, the one entry point of
    ``tools/sample.py`` (no dispatch on network or task names)::

        sample(n, length, labels=None, generator=None, temperature=1.0, constraints=None) -> (n, length, D)

    ``labels``: ``{"content", "style"}`` ids ``(n,)``; ``constraints``: what the clips must contain
    (``{"seed": (n, T0, D)}``, the first frames, for every generator; a model may accept more).
    ``deterministic = True`` marks a network whose samples do not depend on ``generator``.
    """

    input_dim: int
    num_content: int
    num_style: int
    deterministic: bool = False

    def data_dims(self) -> dict[str, int]:
        """``{"input_dim", "num_content", "num_style"}`` this network was built for."""
        return {"input_dim": int(self.input_dim), "num_content": int(self.num_content),
                "num_style": int(self.num_style)}


class Predictor(MotionNet):
    """Base class of the autoregressive predictors: a subclass defines
    ``predict(observed (B, T_obs, D), horizon, labels) -> (B, horizon, D)``, and this class turns it
    into :meth:`sample`, free rollouts."""

    deterministic = True

    @torch.no_grad()
    def sample(self, n: int, length: int, labels: Labels = None, generator: torch.Generator | None = None,
               temperature: float = 1.0, constraints: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """``n`` free rollouts ``(n, length, D)``, the seed first: ``constraints["seed"] (n, T0, D)``,
        or one mean frame (zeros in normalised features). Deterministic: ``generator`` and
        ``temperature`` do not apply."""
        unknown = set(constraints or {}) - {"seed"}
        if unknown:
            raise ValueError(f"{type(self).__name__} takes only a 'seed' constraint, got {sorted(unknown)}")
        seed = (constraints or {}).get("seed")
        if seed is None:
            seed = torch.zeros(int(n), 1, self.input_dim, device=next(self.parameters()).device)
        if seed.dim() != 3 or seed.shape[0] != int(n) or seed.shape[-1] != self.input_dim:
            raise ValueError(f"seed must be ({n}, T0, {self.input_dim}), got {tuple(seed.shape)}")
        n_new = int(length) - seed.shape[1]
        if n_new <= 0:
            return seed[:, :length]
        return torch.cat([seed, self.predict(seed, n_new, labels)], dim=1)



def sinusoidal_table(length: int, dim: int, offset: int = 0, device=None, dtype=torch.float32) -> torch.Tensor:
    """``(length, dim)`` sinusoidal encodings of positions ``offset .. offset + length - 1``
    (Vaswani et al.: sin on even channels, cos on odd; ``dim`` may be odd)."""
    pos = torch.arange(offset, offset + length, device=device, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device, dtype=torch.float32)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table.to(dtype)


class PositionalEncoding(nn.Module):
    """Adds a positional encoding to ``(B, T, C)`` tokens.

    Args:
        dim: token width C.
        max_len: longest sequence (learned encodings have this many rows; sinusoidal ones any).
        kind: ``"sinusoidal"`` or ``"learned"``.
        dropout: dropout after the addition.
    """

    def __init__(self, dim: int, max_len: int = 512, kind: str = "sinusoidal", dropout: float = 0.0):
        super().__init__()
        if kind not in ("sinusoidal", "learned"):
            raise ValueError(f"positional encoding kind must be 'sinusoidal' or 'learned', got {kind!r}")
        self.dim, self.max_len, self.kind = int(dim), int(max_len), kind
        self.table = nn.Parameter(torch.randn(self.max_len, self.dim) * 0.02) if kind == "learned" else None
        self.dropout = nn.Dropout(dropout)

    def encoding(self, length: int, offset: int = 0, device=None, dtype=torch.float32) -> torch.Tensor:
        """``(length, C)`` encodings of positions ``offset ..``."""
        if self.table is None:
            return sinusoidal_table(length, self.dim, offset, device, dtype)
        if offset + length > self.max_len:
            raise ValueError(f"sequence of {offset + length} frames is longer than the learned positional "
                             f"encoding (max_len={self.max_len}); raise max_len in the config")
        return self.table[offset:offset + length].to(dtype)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``x (B, T, C)`` -> ``(B, T, C)``."""
        return self.dropout(x + self.encoding(x.shape[1], offset, x.device, x.dtype))


def label_tensor(labels: Labels, kind: str, batch: int, device) -> torch.Tensor:
    """``(B,)`` int64 labels of ``kind`` from a labels dict; ``-1`` (unknown) where absent."""
    value = None if labels is None else labels.get(kind)
    if value is None:
        return torch.full((batch,), -1, dtype=torch.long, device=device)
    value = torch.as_tensor(value, device=device).long().reshape(-1)
    if value.numel() == 1 and batch > 1:
        value = value.expand(batch)
    if value.shape[0] != batch:
        raise ValueError(f"{kind} labels have {value.shape[0]} entries for a batch of {batch}")
    return value


def label_rows(labels: Labels, kind: str, size: int, batch: int, device) -> torch.Tensor:
    """``(B,)`` row indices of ``kind`` labels in a table of ``size + 1`` rows: the label itself, or
    ``size`` (the extra "unknown" row) for ``-1``; all ``size`` when the kind is unused (``size`` 0).
    Labels outside ``[-1, size - 1]`` are an error."""
    if not size:
        return torch.zeros(batch, dtype=torch.long, device=device)
    idx = label_tensor(labels, kind, batch, device)
    if (idx >= size).any() or (idx < -1).any():
        raise ValueError(f"{kind} label out of range [-1, {size - 1}]: {idx.tolist()}")
    return torch.where(idx < 0, torch.full_like(idx, size), idx)


class LabelEmbedding(nn.Module):
    """Sum of a content and a style embedding: ``labels -> (B, dim)``.

    Each table has one extra row for "unknown" (label ``-1``), so unlabelled clips and
    unconditional sampling share the network. A kind with 0 classes contributes nothing; with no
    kinds at all the output is zeros.
    """

    def __init__(self, dim: int, num_content: int = 0, num_style: int = 0):
        super().__init__()
        self.dim = int(dim)
        self.sizes = {"content": int(num_content), "style": int(num_style)}
        self.tables = nn.ModuleDict({k: nn.Embedding(n + 1, self.dim) for k, n in self.sizes.items() if n > 0})
        for table in self.tables.values():
            nn.init.normal_(table.weight, std=0.02)

    @property
    def conditional(self) -> bool:
        return len(self.tables) > 0

    def forward(self, labels: Labels, batch: int, device=None) -> torch.Tensor:
        """``labels`` (see :func:`label_tensor`) -> ``(B, dim)``."""
        out = torch.zeros(batch, self.dim, device=device)
        for kind, table in self.tables.items():
            out = out + table(label_rows(labels, kind, self.sizes[kind], batch, device))
        return out


class MLP(nn.Sequential):
    """``in_dim -> hidden (x layers-1, GELU, dropout) -> out_dim`` on the last axis."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 2, dropout: float = 0.0):
        if layers < 1:
            raise ValueError(f"an MLP needs at least one layer, got {layers}")
        mods: list[nn.Module] = []
        d = in_dim
        for _ in range(layers - 1):
            mods += [nn.Linear(d, hidden), nn.GELU(), nn.Dropout(dropout)]
            d = hidden
        mods.append(nn.Linear(d, out_dim))
        super().__init__(*mods)


def causal_mask(length: int, device=None) -> torch.Tensor:
    """``(T, T)`` boolean attention mask, ``True`` where frame t may NOT attend (the future)."""
    return torch.triu(torch.ones(length, length, dtype=torch.bool, device=device), diagonal=1)


def transformer_encoder(dim: int, heads: int, layers: int, ff_dim: int, dropout: float) -> nn.TransformerEncoder:
    """Pre-norm ``nn.TransformerEncoder`` on batch-first ``(B, T, dim)`` tokens (GELU)."""
    layer = nn.TransformerEncoderLayer(dim, heads, ff_dim, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def transformer_decoder(dim: int, heads: int, layers: int, ff_dim: int, dropout: float) -> nn.TransformerDecoder:
    """Pre-norm ``nn.TransformerDecoder`` on batch-first tokens (GELU)."""
    layer = nn.TransformerDecoderLayer(dim, heads, ff_dim, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
    return nn.TransformerDecoder(layer, layers)


class KVCache:
    """Keys and values of every layer of a causal encoder, so that new frames attend to old ones
    without re-encoding them (incremental decoding). ``keys[l], values[l]: (B, heads, T, dim / heads)``.
    """

    def __init__(self, layers: int):
        self.keys: list[torch.Tensor | None] = [None] * int(layers)
        self.values: list[torch.Tensor | None] = [None] * int(layers)

    def __len__(self) -> int:
        """Frames cached so far."""
        return 0 if self.keys[0] is None else int(self.keys[0].shape[2])

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add ``(B, heads, T_new, d)`` keys/values to ``layer``'s cache; returns all of them."""
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v


def _cached_self_attention(attn: nn.MultiheadAttention, x: torch.Tensor, cache: KVCache, layer: int,
                           past: int) -> torch.Tensor:
    """``attn`` (batch-first, self-attention) of new tokens ``x (B, T_new, C)`` over the ``past``
    tokens cached for ``layer`` and themselves, causally; the new keys/values join ``cache``."""
    B, T, C = x.shape
    H = attn.num_heads
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    k, v = cache.append(layer, k, v)
    # new token i (absolute past + i) sees keys 0 .. past + i; True = may attend (SDPA convention)
    mask = None if T == 1 else torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                         dropout_p=attn.dropout if attn.training else 0.0)
    return attn.out_proj(out.transpose(1, 2).reshape(B, T, C))


def causal_encode(encoder: nn.TransformerEncoder, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run the pre-norm causal ``encoder`` (from :func:`transformer_encoder`) on new tokens
    ``(B, T_new, C)`` that follow the ``len(cache)`` tokens already in ``cache`` -> ``(B, T_new, C)``.

    Equal to the new tokens' rows of ``encoder(all_tokens, mask=causal_mask(...))`` (same
    parameters, same dropout semantics in training), at the cost of the new tokens only. With an
    empty cache it is a full causal pass that fills the cache. Differentiable.
    """
    x, past = tokens, len(cache)
    for i, layer in enumerate(encoder.layers):
        if not layer.norm_first:
            raise ValueError("causal_encode expects pre-norm layers (norm_first=True)")
        x = x + layer.dropout1(_cached_self_attention(layer.self_attn, layer.norm1(x), cache, i, past))
        x = x + layer._ff_block(layer.norm2(x))
    if encoder.norm is not None:
        x = encoder.norm(x)
    return x

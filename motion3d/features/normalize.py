"""Per-channel normalisation statistics that travel with checkpoints.

The data module fits them on the train split (:meth:`Normalizer.fit` streams over clips in
float64); models see ``(x - mean) / std``. ``std`` is floored at ``min_std`` so that constant
channels (contacts of a foot that never lands, fixed joints, Bandai-Namco's constant offsets) do
not divide by ~0.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import torch

__all__ = ["Normalizer"]


class Normalizer:
    """``mean`` and ``std`` ``(D,)``; works on numpy arrays and torch tensors ``(..., D)``."""

    def __init__(self, mean, std, min_std: float = 1e-2):
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        std = np.asarray(std, dtype=np.float64).reshape(-1)
        if mean.shape != std.shape:
            raise ValueError(f"mean {mean.shape} and std {std.shape} must have the same length")
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise ValueError("normalisation statistics contain NaN or inf")
        self.min_std = float(min_std)
        self.mean = mean
        self.std = np.maximum(std, self.min_std)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def fit(cls, data: np.ndarray | Iterable[np.ndarray], min_std: float = 1e-2) -> "Normalizer":
        """Statistics over all frames of ``data``: one array ``(..., D)`` or an iterable of
        ``(T_i, D)`` arrays (clips), accumulated in float64."""
        arrays = [data] if isinstance(data, (np.ndarray, torch.Tensor)) else data
        n, s, ss = 0, None, None
        for a in arrays:
            a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
            a = a.reshape(-1, a.shape[-1]).astype(np.float64)
            if s is None:
                s, ss = np.zeros(a.shape[1]), np.zeros(a.shape[1])
            elif a.shape[1] != s.shape[0]:
                raise ValueError(f"clips have {s.shape[0]} and {a.shape[1]} channels")
            na = a.shape[0]
            if na == 0:
                continue
            # Chan et al.'s parallel update of the mean and the sum of squared deviations
            mu = a.mean(0)
            delta = mu - s
            tot = n + na
            ss = ss + ((a - mu) ** 2).sum(0) + delta**2 * n * na / tot
            new_mean = s + delta * na / tot
            s, n = new_mean, tot
        if not n:
            raise ValueError("cannot fit normalisation statistics on no frames")
        return cls(s, np.sqrt(ss / n), min_std)

    def _stats(self, x):
        if isinstance(x, torch.Tensor):
            return (torch.as_tensor(self.mean, dtype=x.dtype, device=x.device),
                    torch.as_tensor(self.std, dtype=x.dtype, device=x.device))
        return self.mean.astype(np.asarray(x).dtype, copy=False), self.std.astype(np.asarray(x).dtype, copy=False)

    def _check(self, x):
        if x.shape[-1] != self.dim:
            raise ValueError(f"normaliser has {self.dim} channels, features have shape {tuple(x.shape)}")

    def normalize(self, x):
        """``(x - mean) / std`` for ``x (..., D)`` (numpy or torch, dtype kept)."""
        self._check(x)
        mean, std = self._stats(x)
        return (x - mean) / std

    def denormalize(self, x):
        """``x * std + mean`` (the inverse of :meth:`normalize`)."""
        self._check(x)
        mean, std = self._stats(x)
        return x * std + mean

    def to_dict(self) -> dict:
        """Plain lists (``torch.load(weights_only=True)`` and JSON safe)."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "min_std": self.min_std}

    @classmethod
    def from_dict(cls, d: dict) -> "Normalizer":
        return cls(d["mean"], d["std"], d.get("min_std", 1e-2))

    def __repr__(self) -> str:
        return f"Normalizer(D={self.dim}, min_std={self.min_std:g})"

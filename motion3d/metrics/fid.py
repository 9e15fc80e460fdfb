"""Generation metrics on learned features, as in ACTOR (Petrovich et al. 2021) and MDM: Frechet
distance, diversity, multimodality, and recognition accuracy. Pure numpy / scipy / torch.

Features are ``(N, F)`` arrays, typically :meth:`MotionClassifier.features` of N clips.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import torch

__all__ = ["feature_statistics", "frechet_distance", "fid", "diversity", "multimodality", "recognition_accuracy"]


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """``(N, F)`` -> mean ``(F,)`` and covariance ``(F, F)`` (unbiased, float64); needs N >= 2."""
    f = _np(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"feature statistics need (N >= 2, F) features, got {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`` between two Gaussians.

    Numerically safe: when the product is singular (``sqrtm`` warns or gives non-finite values) ``eps I`` is
    added to both covariances; the tiny imaginary part ``sqrtm`` may return is dropped (an error
    when it is not tiny)."""
    mu1, mu2 = _np(mu1).reshape(-1), _np(mu2).reshape(-1)
    s1, s2 = np.atleast_2d(_np(sigma1)), np.atleast_2d(_np(sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched statistics: mu {mu1.shape} / {mu2.shape}, sigma {s1.shape} / {s2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
    if caught or not np.isfinite(covmean).all():  # singular product: regularise both covariances
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3 * max(1.0, np.abs(covmean).max())):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag)):.3g} in the covariance square root")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


def fid(features1, features2) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets ``(N1, F)`` and ``(N2, F)``."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def diversity(features, num_pairs: int = 200, seed: int = 0) -> float:
    """ACTOR's diversity: mean distance between ``num_pairs`` random pairs of ``(N, F)`` features
    (two random subsets of size ``min(num_pairs, N)``, paired element-wise)."""
    f = _np(features)
    n = f.shape[0]
    if n < 2:
        raise ValueError(f"diversity needs at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    k = min(int(num_pairs), n)
    a, b = rng.choice(n, k, replace=False), rng.choice(n, k, replace=False)
    return float(np.linalg.norm(f[a] - f[b], axis=1).mean())


def multimodality(features, labels, num_pairs: int = 20, seed: int = 0) -> float:
    """ACTOR's multimodality: for every label with at least 2 samples, the mean distance between
    ``min(num_pairs, n_label)`` random pairs of its samples' features; averaged over labels.

    ``features (N, F)``, ``labels (N,)`` int (negative labels are ignored)."""
    f, y = _np(features), np.asarray(_np(labels)).astype(np.int64).reshape(-1)
    if y.shape[0] != f.shape[0]:
        raise ValueError(f"{f.shape[0]} features but {y.shape[0]} labels")
    rng = np.random.default_rng(seed)
    per_label = []
    for c in np.unique(y[y >= 0]):
        idx = np.flatnonzero(y == c)
        if idx.size < 2:
            continue
        k = min(int(num_pairs), idx.size)
        a, b = rng.choice(idx, k, replace=False), rng.choice(idx, k, replace=False)
        per_label.append(np.linalg.norm(f[a] - f[b], axis=1).mean())
    if not per_label:
        raise ValueError("multimodality needs a label with at least 2 samples")
    return float(np.mean(per_label))


def recognition_accuracy(logits, labels) -> float:
    """Fraction of ``(N, K)`` logits whose argmax equals ``labels (N,)``; negative labels (unknown)
    are ignored. ``nan`` when no label is known."""
    lg = logits if isinstance(logits, torch.Tensor) else torch.as_tensor(np.asarray(logits))
    y = labels if isinstance(labels, torch.Tensor) else torch.as_tensor(np.asarray(labels))
    y = y.reshape(-1).long().to(lg.device)
    known = y >= 0
    if not bool(known.any()):
        return float("nan")
    return float((lg.argmax(-1)[known] == y[known]).double().mean())

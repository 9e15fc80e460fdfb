"""Generation metrics on learned features, as in ACTOR (Petrovich et al. 2021) and MDM: Frechet
distance, diversity, multimodality, and recognition accuracy; and the improved precision and recall
of Kynkaanniemi et al. 2019. Pure numpy / scipy / torch.

Features are ``(N, F)`` arrays, typically :meth:`MotionClassifier.features` of N clips.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import torch

__all__ = ["feature_statistics", "frechet_distance", "fid", "diversity", "multimodality", "recognition_accuracy",
           "knn_radii", "manifold_coverage", "precision_recall"]


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


PAIRWISE_BUDGET = 1 << 24
"""Most pairwise distances held at once by :func:`knn_radii` / :func:`manifold_coverage` (64 MB in
float32, 128 MB in float64); rows are processed in chunks that fit."""


def _features(x, name: str) -> torch.Tensor:
    f = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if f.dim() != 2 or f.shape[0] < 1:
        raise ValueError(f"{name} must be (N >= 1, F) features, got shape {tuple(f.shape)}")
    if not f.is_floating_point():
        f = f.double()
    if not bool(torch.isfinite(f).all()):
        raise ValueError(f"{name} contain non-finite values")
    return f


def _rows_per_chunk(n_cols: int, budget: int) -> int:
    return max(1, int(budget) // max(1, n_cols))


def knn_radii(features, k: int = 3, budget: int = PAIRWISE_BUDGET) -> torch.Tensor:
    """Distance from each of ``features (N, F)`` to its ``k``-th nearest neighbour in the same set
    (itself excluded; a duplicate counts as a neighbour at distance 0) -> ``(N,)``. Chunked over rows
    so that at most ``budget`` distances are held at once. Needs ``N > k``."""
    f = _features(features, "features")
    n = f.shape[0]
    if int(k) < 1 or n <= int(k):
        raise ValueError(f"k-NN radii with k={k} need more than k samples and k >= 1, got {n}")
    out = []
    for rows in f.split(_rows_per_chunk(n, budget)):
        out.append(torch.cdist(rows, f).kthvalue(int(k) + 1, dim=1).values)  # the 1st is the sample itself
    return torch.cat(out)


def manifold_coverage(manifold, radii, probes, budget: int = PAIRWISE_BUDGET) -> torch.Tensor:
    """``(M,)`` booleans: whether each of ``probes (M, F)`` lies inside at least one ball of the
    manifold, centred at ``manifold (N, F)`` with ``radii (N,)`` (distance <= radius)."""
    m, p = _features(manifold, "manifold"), _features(probes, "probes")
    if m.shape[1] != p.shape[1]:
        raise ValueError(f"manifold has {m.shape[1]} features, probes {p.shape[1]}")
    r = radii if isinstance(radii, torch.Tensor) else torch.as_tensor(np.asarray(radii))
    r = r.to(device=m.device, dtype=m.dtype).reshape(-1)
    if r.shape[0] != m.shape[0]:
        raise ValueError(f"{m.shape[0]} manifold samples but {r.shape[0]} radii")
    p = p.to(device=m.device, dtype=m.dtype)
    out = [(torch.cdist(rows, m) <= r).any(dim=1) for rows in p.split(_rows_per_chunk(m.shape[0], budget))]
    return torch.cat(out)


def precision_recall(real_features, fake_features, k: int = 3, budget: int = PAIRWISE_BUDGET) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019), as ``compute_pr`` in
    ``NVlabs/stylegan2-ada-pytorch`` ``metrics/precision_recall.py``: the real manifold is the union
    of balls around each real sample with the radius of its ``k``-th nearest real neighbour
    (``kthvalue(k + 1)``: the sample itself is the first), the generated one likewise.

    * precision: fraction of generated samples inside the real manifold (are samples realistic?);
    * recall: fraction of real samples inside the generated manifold (is the data covered? a
      collapsed generator scores low).

    ``real_features (N, F)``, ``fake_features (M, F)``, both with more than ``k`` samples (the
    paper uses k = 3). Distances are computed in chunks of rows (at most ``budget`` at once), so
    N, M of 10^4 need about 128 MB at most. Returns ``(precision, recall)`` in [0, 1].
    """
    real = _features(real_features, "real features")
    fake = _features(fake_features, "generated features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real features have {real.shape[1]} dimensions, generated {fake.shape[1]}")
    dtype = torch.promote_types(real.dtype, fake.dtype)
    real, fake = real.to(dtype), fake.to(device=real.device, dtype=dtype)
    precision = manifold_coverage(real, knn_radii(real, k, budget), fake, budget)
    recall = manifold_coverage(fake, knn_radii(fake, k, budget), real, budget)
    return float(precision.double().mean()), float(recall.double().mean())

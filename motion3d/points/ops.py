"""Batched point-cloud operations in torch: normalise, gather, farthest point sampling, kNN, ball query.

Everything is vectorised over the batch and the points; farthest point sampling loops over the
``M`` samples only (each step is one batched distance update). Shapes: ``B`` clouds, ``N`` points,
``M`` sampled centres, ``K`` neighbours, ``C`` channels.
"""
from __future__ import annotations

import numpy as np
import torch


def normalize(points: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Centre each cloud on its centroid and scale it into the unit sphere.

    points: ``(..., N, 3 + C)``; only xyz is changed. Returns the same shape.
    """
    xyz = points[..., :3]
    centred = xyz - xyz.mean(dim=-2, keepdim=True)
    radius = centred.norm(dim=-1).amax(dim=-1, keepdim=True).clamp_min(eps)  # (..., 1)
    xyz = centred / radius[..., None]
    return torch.cat([xyz, points[..., 3:]], dim=-1) if points.shape[-1] > 3 else xyz


def normalize_np(points: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """NumPy twin of :func:`normalize` for preprocessing. points: ``(N, 3 + C)``."""
    out = np.array(points, dtype=np.float32, copy=True)
    xyz = out[:, :3] - out[:, :3].mean(axis=0, keepdims=True)
    out[:, :3] = xyz / max(float(np.linalg.norm(xyz, axis=1).max()), eps)
    return out


def index_points(points: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Gather points by index.

    points: ``(B, N, C)``; idx: ``(B, *S)`` integer indices into N. Returns ``(B, *S, C)``.
    """
    B, N, C = points.shape
    flat = idx.reshape(B, -1)
    out = torch.gather(points, 1, flat.unsqueeze(-1).expand(-1, -1, C))
    return out.reshape(*idx.shape, C)


def square_distance(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances. src ``(B, N, 3)``, dst ``(B, M, 3)`` -> ``(B, N, M)``."""
    d = (src.pow(2).sum(-1, keepdim=True) + dst.pow(2).sum(-1).unsqueeze(-2)
         - 2.0 * torch.matmul(src, dst.transpose(-1, -2)))
    return d.clamp_min_(0.0)


def farthest_point_sample(xyz: torch.Tensor, m: int, start: torch.Tensor | int | None = 0) -> torch.Tensor:
    """Farthest point sampling: indices of ``m`` well-spread points per cloud.

    xyz: ``(B, N, 3)``; returns ``(B, m)`` long indices. ``start`` is the first index (an int, a
    ``(B,)`` tensor, or ``None`` for random). The loop runs over the ``m`` samples; each step
    updates the ``(B, N)`` nearest-selected distance in one vectorised operation.
    """
    B, N, _ = xyz.shape
    if m > N:
        raise ValueError(f"cannot sample {m} of {N} points")
    device = xyz.device
    idx = torch.empty(B, m, dtype=torch.long, device=device)
    if start is None:
        far = torch.randint(0, N, (B,), device=device)
    elif isinstance(start, int):
        far = torch.full((B,), start, dtype=torch.long, device=device)
    else:
        far = start.to(device=device, dtype=torch.long)
    xyz = xyz.detach()
    dist = torch.full((B, N), float("inf"), dtype=xyz.dtype, device=device)
    batch = torch.arange(B, device=device)
    for i in range(m):
        idx[:, i] = far
        centre = xyz[batch, far].unsqueeze(1)                      # (B, 1, 3)
        torch.minimum(dist, (xyz - centre).pow(2).sum(-1), out=dist)
        far = dist.argmax(dim=-1)
    return idx


def farthest_point_sample_np(xyz: np.ndarray, m: int, start: int = 0) -> np.ndarray:
    """FPS for one cloud ``(N, 3)`` -> ``(m,)`` indices, for preprocessing.

    Uses the compiled ``fpsample`` package when installed (extra ``fast``), else the torch loop.
    """
    try:
        import fpsample
    except ImportError:
        fpsample = None
    if fpsample is not None:
        return np.asarray(fpsample.fps_sampling(np.ascontiguousarray(xyz[:, :3], dtype=np.float32), m,
                                                start_idx=start), dtype=np.int64)
    t = torch.from_numpy(np.ascontiguousarray(xyz[:, :3], dtype=np.float32))[None]
    return farthest_point_sample(t, m, start)[0].numpy()


def knn(query: torch.Tensor, ref: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """k nearest neighbours of every query point among ``ref`` (itself included when shared).

    query ``(B, M, D)``, ref ``(B, N, D)``; returns ``(dist2 (B, M, k), idx (B, M, k))`` sorted
    nearest first. Works for any feature dimension D (DGCNN's feature-space graphs).
    """
    # torch.cdist (one fused matmul-based kernel) then top-k; squaring only the (B, M, k) winners
    # is cheaper than building the full squared-distance matrix from three broadcast terms
    d = torch.cdist(query, ref)
    dist, idx = d.topk(k, dim=-1, largest=False, sorted=True)
    return dist.square(), idx


def ball_query(xyz: torch.Tensor, centres: torch.Tensor, radius: float, k: int) -> torch.Tensor:
    """Up to ``k`` neighbours within ``radius`` of each centre (PointNet++ grouping).

    xyz ``(B, N, 3)``, centres ``(B, M, 3)``; returns ``(B, M, k)`` long indices. As in the
    reference CUDA op, the first ``k`` in-ball points in index order are taken, and missing slots
    repeat the first one found (every centre taken from ``xyz`` finds at least itself). A centre
    with no point in its ball gets its nearest point.
    """
    B, N, _ = xyz.shape
    d = square_distance(centres, xyz)                          # (B, M, N)
    inside = d <= radius * radius
    # keys: in-ball points keep their index, others are pushed past N; the k smallest keys are the
    # first k in-ball points in index order (topk on k << N beats a full sort)
    ar = torch.arange(N, device=xyz.device)
    key = torch.where(inside, ar, ar + N)
    k_eff = min(k, N)
    idx = key.topk(k_eff, dim=-1, largest=False, sorted=True).values   # (B, M, k)
    valid = idx < N
    first = idx[..., :1]
    nearest = d.argmin(dim=-1, keepdim=True)
    first = torch.where(valid[..., :1], first, nearest)
    idx = torch.where(valid, idx, first)
    if k_eff < k:
        idx = torch.cat([idx, first.expand(-1, -1, k - k_eff)], dim=-1)
    return idx


def group(points: torch.Tensor, idx: torch.Tensor, centres: torch.Tensor | None = None) -> torch.Tensor:
    """Gather neighbourhoods; with ``centres`` the xyz part is made relative to its centre.

    points ``(B, N, C)`` (xyz first when centres is given), idx ``(B, M, K)``, centres ``(B, M, 3)``.
    Returns ``(B, M, K, C)``.
    """
    g = index_points(points, idx)
    if centres is not None:
        g = torch.cat([g[..., :3] - centres.unsqueeze(2), g[..., 3:]], dim=-1)
    return g


__all__ = ["normalize", "normalize_np", "index_points", "square_distance", "farthest_point_sample",
           "farthest_point_sample_np", "knn", "ball_query", "group"]

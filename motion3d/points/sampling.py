"""Area-weighted surface sampling: meshes become point clouds (with optional normals)."""
from __future__ import annotations

import numpy as np


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int, normals: bool = False,
                   seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Sample ``n`` points uniformly by area on a triangle mesh.

    vertices ``(V, 3)``, faces ``(F, 3)`` int. Returns ``(n, 3)`` float32, or ``(n, 6)`` with the
    face normals of the sampled triangles when ``normals`` is set. Vectorised: one draw of
    triangles (weighted by area), one draw of barycentric coordinates.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise ValueError(f"faces must be a non-empty (F, 3) array, got {f.shape}")
    tri = v[f]                                                  # (F, 3, 3)
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])   # (F, 3)
    area2 = np.linalg.norm(cross, axis=1)
    total = area2.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("mesh has zero surface area")
    face_idx = rng.choice(len(f), size=n, p=area2 / total)
    u, w = rng.random(n), rng.random(n)
    flip = u + w > 1.0                                          # fold back into the triangle
    u, w = np.where(flip, 1.0 - u, u), np.where(flip, 1.0 - w, w)
    t = tri[face_idx]
    pts = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + w[:, None] * (t[:, 2] - t[:, 0])
    if not normals:
        return pts.astype(np.float32)
    nrm = cross[face_idx] / np.maximum(area2[face_idx], 1e-300)[:, None]
    return np.concatenate([pts, nrm], axis=1).astype(np.float32)


__all__ = ["sample_surface"]

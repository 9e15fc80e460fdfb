"""Triangle meshes through trimesh: OFF, OBJ, PLY (ascii and binary), STL, GLB/glTF.

``load(path)`` returns a :class:`trimesh.Trimesh` (triangulated; scenes and multi-body files are
merged into one mesh, with each part's scene-graph transform applied). ``save(path, mesh)`` writes
any format trimesh exports, chosen by suffix.

Errors are never silent: a file with no faces (points-only or empty), face indices outside the
vertex list, NaN/inf vertices, an unknown suffix or a file trimesh cannot parse raises
:class:`motion3d.io.FormatError` naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from motion3d.io import FormatError
from motion3d.points.sampling import sample_surface

SUFFIXES = (".off", ".obj", ".ply", ".stl", ".glb", ".gltf")


def load(path: str | os.PathLike, process: bool = False) -> "trimesh.Trimesh":  # noqa: F821
    """Read a triangle mesh. ``process`` lets trimesh merge duplicate vertices (off by default, so
    vertex order matches the file). Returns a ``trimesh.Trimesh`` with vertices ``(V, 3)`` float64
    and faces ``(F, 3)`` int64.
    """
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormatError(path, f"unknown mesh format {suffix!r} (supported: {', '.join(SUFFIXES)})")
    if not path.is_file():
        raise FormatError(path, "no such file")
    if path.stat().st_size == 0:
        raise FormatError(path, "file is empty")
    try:
        geom = trimesh.load(path, force=None, process=process)
    except Exception as e:  # trimesh raises many exception types on malformed input
        raise FormatError(path, f"cannot parse {suffix[1:].upper()}: {type(e).__name__}: {e}") from None
    mesh = _merge(path, geom, trimesh)
    _validate(path, mesh)
    return mesh


def _merge(path: Path, geom, trimesh) -> "trimesh.Trimesh":  # noqa: F821
    if isinstance(geom, trimesh.Scene):
        parts = []
        for node in geom.graph.nodes_geometry:
            transform, name = geom.graph[node]
            g = geom.geometry[name]
            if isinstance(g, trimesh.Trimesh) and len(g.faces):
                g = g.copy()
                g.apply_transform(transform)
                parts.append(g)
        if not parts:
            raise FormatError(path, "file holds no triangle faces (empty, points or lines only)")
        return parts[0] if len(parts) == 1 else trimesh.util.concatenate(parts)
    if isinstance(geom, trimesh.Trimesh):
        return geom
    kind = type(geom).__name__
    raise FormatError(path, f"file holds no triangle faces (trimesh read a {kind})")


def _validate(path: Path, mesh) -> None:
    v = np.asarray(mesh.vertices)
    f = np.asarray(mesh.faces)
    if f.ndim != 2 or len(f) == 0:
        raise FormatError(path, "file holds no triangle faces (empty, points or lines only)")
    if len(v) == 0:
        raise FormatError(path, "file holds no vertices")
    if f.min() < 0 or f.max() >= len(v):
        raise FormatError(path, f"face indices out of range [0, {len(v)}): min {f.min()}, max {f.max()}")
    if not np.isfinite(v).all():
        bad = int((~np.isfinite(v)).any(axis=1).sum())
        raise FormatError(path, f"{bad} vertex(es) with NaN or infinite coordinates")


def save(path: str | os.PathLike, mesh) -> Path:
    """Write ``mesh`` (a Trimesh) in the format of the suffix (OFF, OBJ, PLY, STL, GLB)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormatError(path, f"unknown mesh format {suffix!r} (supported: {', '.join(SUFFIXES)})")
    mesh.export(path)
    return path


def load_as_points(path: str | os.PathLike, n: int, normals: bool = False, seed: int = 0) -> np.ndarray:
    """Load a mesh and sample ``n`` points on its surface by area: ``(n, 3)`` or ``(n, 6)`` float32."""
    mesh = load(path)
    try:
        return sample_surface(mesh.vertices, mesh.faces, n, normals=normals, seed=seed)
    except ValueError as e:
        raise FormatError(path, str(e)) from None


__all__ = ["load", "save", "load_as_points", "SUFFIXES"]

"""Point-cloud classification data: a ModelNet-style folder as a LightningDataModule.

Layout: ``ROOT/<class>/train/*`` and optionally ``ROOT/<class>/test/*``; files in any format of
:mod:`motion3d.io.pointcloud` (PCD, PLY points, XYZ/TXT, NPY/NPZ) or :mod:`motion3d.io.mesh`
(OFF, OBJ, STL, GLB; surface-sampled by area). A ``.ply`` with faces is read as a mesh.

Preprocessing (done once, cached as ``.npz`` under ``cache_dir``, keyed by the file list, sizes,
mtimes and options): each shape becomes ``store_points`` points (farthest point sampling when the
file has more, repetition when fewer), centred and scaled into the unit sphere.

Validation is a seeded split of TRAIN, stratified by class (``val_fraction`` of each class). The
test split, when present, is served only by ``test_dataloader`` (used by ``tools/evaluate.py``),
never for checkpoint selection.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

import lightning as L

from motion3d.io import FormatError, registry
from motion3d.io import mesh as mesh_io
from motion3d.paths import resolve_data_path
from motion3d.points.augment import Augment
from motion3d.points.ops import farthest_point_sample_np, normalize_np

#: what a shape file may be (:mod:`motion3d.io.registry`): a point cloud or a mesh
KINDS = ("points", "mesh")
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get("MOTION3D_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "motion3d"


def list_split(root: Path, split: str, classes: Sequence[str] | None = None) -> tuple[list[Path], list[int], list[str]]:
    """Files and labels of ``root/<class>/<split>/``. Classes are the sorted class folders (or the
    given list, whose order defines the labels). Returns ``(files, labels, class_names)``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    names = list(classes) if classes is not None else sorted(
        d.name for d in root.iterdir() if d.is_dir() and ((d / "train").is_dir() or (d / "test").is_dir()))
    if not names:
        raise FileNotFoundError(f"no <class>/train or <class>/test folders under {root}")
    suffixes = set(registry.suffixes(KINDS))
    files, labels = [], []
    for label, name in enumerate(names):
        d = root / name / split
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.is_file() and f.suffix.lower() in suffixes:
                files.append(f)
                labels.append(label)
    return files, labels, names


def load_shape(path: Path, n: int, normals: bool = False, seed: int = 0) -> np.ndarray:
    """One file -> ``(n, 3)`` or ``(n, 6)`` float32 points, normalised into the unit sphere.

    Point clouds with more than ``n`` points are reduced by FPS, with fewer are padded by repeating
    random points; meshes are sampled by area (2n points, then FPS to n for an even spread).
    """
    fmt = registry.detect(path, KINDS)
    if fmt.kind == "mesh":
        pts = mesh_io.load_as_points(path, 2 * n, normals=normals, seed=seed)
    else:
        pts = fmt.load(path)
    cols = 6 if normals else 3
    if pts.shape[1] < cols:
        raise FormatError(path, f"normals requested but the file has {pts.shape[1]} columns")
    pts = pts[:, :cols]
    if len(pts) > n:
        pts = pts[farthest_point_sample_np(pts, n)]
    elif len(pts) < n:
        rng = np.random.default_rng(seed)
        pts = np.concatenate([pts, pts[rng.integers(0, len(pts), n - len(pts))]], axis=0)
    return normalize_np(pts)


def load_folder(files: Sequence[Path], n: int, normals: bool = False, cache_dir: str | Path | None = None,
                progress: bool = False) -> np.ndarray:
    """Preprocess many files into ``(S, n, 3 or 6)`` float32, with an on-disk cache."""
    cache = None
    if cache_dir is not None:
        h = hashlib.sha1(json.dumps([CACHE_VERSION, n, normals] + [
            (str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]).encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"points_{h}.npy"
        if cache.is_file():
            arr = np.load(cache)
            if arr.shape == (len(files), n, 6 if normals else 3):
                return arr
    it = files
    if progress:
        from tqdm import tqdm
        it = tqdm(files, desc="preprocessing", unit="shape")
    arr = np.stack([load_shape(f, n, normals) for f in it]) if files else \
        np.zeros((0, n, 6 if normals else 3), np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}.npy")
        np.save(tmp, arr)
        os.replace(tmp, cache)
    return arr


def stratified_split(labels: Sequence[int], val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of indices into (train, val), taking ``val_fraction`` of every class (at least
    one sample of a class with two or more)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        k = int(round(val_fraction * len(idx)))
        if val_fraction > 0 and len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        val.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


class PointCloudDataset(Dataset):
    """In-memory shapes. Items: ``(points (P, 3 + C) float32, label int64)``; when ``num_points`` is
    smaller than P, a random subset of ``num_points`` is drawn per item (or the first ones when not
    ``random_subset``)."""

    def __init__(self, points: np.ndarray, labels: Sequence[int], num_points: int | None = None,
                 random_subset: bool = False):
        self.points = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        self.num_points = num_points or self.points.shape[1]
        self.random_subset = random_subset

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        p = self.points[i]
        if self.num_points < p.shape[0]:
            p = p[torch.randperm(p.shape[0])[: self.num_points]] if self.random_subset else p[: self.num_points]
        return p, self.labels[i]


class PointCloudDataModule(L.LightningDataModule):
    """ModelNet-style folder -> train / val (seeded, stratified, from train) / test loaders.

    Args:
        root: dataset folder; ``data:pointclouds/modelnet10`` resolves under the data root.
        num_points: points per shape fed to the model (``N``) in validation and test.
        train_points: points per shape in training (a random subset each step; default num_points).
            Fewer points make steps cheaper; the networks are point-count agnostic.
        store_points: points kept per shape after preprocessing (>= num_points; default num_points).
            When larger, training draws a random subset of num_points per step (an augmentation).
        normals: use xyz + normals (meshes sample them; point files must carry them).
        val_fraction, seed: the validation split. classes: restrict / order the classes.
        batch_size, num_workers: loaders. augment: ``motion3d.points.Augment`` arguments applied to
            training batches on the device (None = no augmentation).
        cache_dir: preprocessing cache (default ``$MOTION3D_CACHE`` or ``~/.cache/motion3d``).
    Batches: ``(points (B, N, 3 or 6), labels (B,))``.
    """

    def __init__(self, root: str = "data:pointclouds/modelnet10", num_points: int = 1024,
                 train_points: int | None = None, store_points: int | None = None, normals: bool = False, val_fraction: float = 0.1,
                 seed: int = 0, classes: list[str] | None = None, batch_size: int = 24, eval_batch_size: int = 64,
                 num_workers: int = 0, augment: dict | None = None, cache_dir: str | None = None,
                 progress: bool = False):
        super().__init__()
        self.save_hyperparameters()
        self.root = resolve_data_path(root)
        self.num_points = num_points
        self.train_points = train_points or num_points
        self.store_points = max(store_points or num_points, num_points, train_points or 0)
        self.normals = normals
        self.val_fraction, self.seed = val_fraction, seed
        self.batch_size, self.eval_batch_size, self.num_workers = batch_size, eval_batch_size, num_workers
        self.augment = Augment(**augment, normals=normals) if augment is not None else None
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.progress = progress
        self._classes = classes
        self.class_names: list[str] = []
        self.train_set = self.val_set = self.test_set = None

    @property
    def num_classes(self) -> int:
        if not self.class_names:
            self.class_names = list_split(self.root, "train", self._classes)[2]
        return len(self.class_names)

    @property
    def in_channels(self) -> int:
        return 6 if self.normals else 3

    def _load(self, split: str) -> tuple[np.ndarray, list[int]]:
        files, labels, self.class_names = list_split(self.root, split, self._classes)
        pts = load_folder(files, self.store_points, self.normals, self.cache_dir, self.progress)
        return pts, labels

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit", "validate") and self.train_set is None:
            pts, labels = self._load("train")
            if len(labels) == 0:
                raise FileNotFoundError(f"no training shapes under {self.root}/<class>/train")
            tr, va = stratified_split(labels, self.val_fraction, self.seed)
            labels = np.asarray(labels)
            self.train_set = PointCloudDataset(pts[tr], labels[tr], self.train_points, random_subset=True)
            self.val_set = PointCloudDataset(pts[va], labels[va], self.num_points)
        if stage in (None, "test") and self.test_set is None:
            pts, labels = self._load("test")
            if len(labels) == 0:
                raise FileNotFoundError(f"no test split under {self.root}/<class>/test: the test "
                                        "split is only read when it exists (validation comes from train)")
            self.test_set = PointCloudDataset(pts, labels, self.num_points)

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, drop_last=True,
                          num_workers=self.num_workers, generator=g,
                          persistent_workers=self.num_workers > 0)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.eval_batch_size, num_workers=self.num_workers)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test_set, batch_size=self.eval_batch_size, num_workers=self.num_workers)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        trainer = getattr(self, "trainer", None)
        if self.augment is not None and trainer is not None and trainer.training:
            pts, labels = batch
            batch = (self.augment(pts), labels)
        return batch

    def describe(self) -> dict:
        """Plain-value description stored in checkpoints (weights_only-safe)."""
        return {"root": str(self.root), "num_points": self.num_points, "normals": self.normals,
                "val_fraction": self.val_fraction, "seed": self.seed, "class_names": list(self.class_names)}


__all__ = ["PointCloudDataModule", "PointCloudDataset", "list_split", "load_shape", "load_folder",
           "stratified_split", "default_cache_dir"]

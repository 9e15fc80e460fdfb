"""Datasets and LightningDataModules, their caches, and the dataset manifest / downloader.

* :class:`MocapDataModule` (:mod:`motion3d.data.mocap`): windows of mocap features over dataset
  folders, split by file, normalised on train, cached on disk.
* :mod:`motion3d.data.fetch`: download and verify a dataset listed in ``data/manifest.yaml``.

Names are imported on first use, so that ``import motion3d.data.fetch`` does not load Lightning.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "MocapDataModule": "motion3d.data.mocap",
    "PairedDomainDataModule": "motion3d.data.paired",
    "BadDataError": "motion3d.data.preprocess",
    "WindowDataset": "motion3d.data.windows",
    "split_by_file": "motion3d.data.split",
    "fetch_dataset": "motion3d.data.fetch",
    "load_manifest": "motion3d.data.fetch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'motion3d.data' has no attribute {name!r}")

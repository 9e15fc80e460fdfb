"""Two skeleton domains side by side for unpaired training (learned retargeting).

:class:`PairedDomainDataModule` wraps two :class:`MocapDataModule` (one skeleton each) and yields
batches ``{"a": batch_a, "b": batch_b}`` (each the mocap batch ``{"x": (B, T, D_k), ...}``). Train
batches run until the larger domain is exhausted, cycling the smaller one; validation and test stop
with the smaller one. The two domains must share the frame rate and window length.
"""
from __future__ import annotations

import lightning as L
from lightning.pytorch.utilities import CombinedLoader

from motion3d.data.mocap import MocapDataModule

__all__ = ["PairedDomainDataModule"]


class PairedDomainDataModule(L.LightningDataModule):
    """Args: ``a``, ``b``: the data modules of the two domains (different skeletons)."""

    def __init__(self, a: MocapDataModule, b: MocapDataModule):
        super().__init__()
        self.domains = {"a": a, "b": b}
        if a.window != b.window:
            raise ValueError(f"the domains need the same window length, got a: {a.window}, b: {b.window}")
        if a.target_fps != b.target_fps:
            raise ValueError(f"the domains need the same fps, got a: {a.target_fps}, b: {b.target_fps}")

    @property
    def window(self) -> int:
        return self.domains["a"].window

    def prepare_data(self) -> None:
        for dm in self.domains.values():
            dm.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        for dm in self.domains.values():
            dm.setup(stage)

    def _combined(self, split: str, mode: str) -> CombinedLoader:
        loaders = {k: getattr(dm, f"{split}_dataloader")() for k, dm in self.domains.items()}
        empty = [k for k, dl in loaders.items() if len(dl.dataset) == 0]
        if empty:
            raise ValueError(f"the {split} split of domain(s) {empty} has no windows: "
                             + "; ".join(f"{k}: {self.domains[k].roots}" for k in empty))
        return CombinedLoader(loaders, mode=mode)

    def train_dataloader(self) -> CombinedLoader:
        return self._combined("train", "max_size_cycle")

    def val_dataloader(self) -> CombinedLoader:
        return self._combined("val", "min_size")

    def test_dataloader(self) -> CombinedLoader:
        return self._combined("test", "min_size")

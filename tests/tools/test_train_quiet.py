"""tools/train.py runs without the known noise (Lightning's litlogger advert, torch's LeafSpec
deprecation through lightning's _pytree, ModelCheckpoint's missing-key warning before the first
validation of a max_steps run), while real problems still warn."""
from __future__ import annotations

import importlib.util
import logging
import warnings

import pytest
import torch
from torch.utils.data import DataLoader

import lightning as L
from motion3d.paths import REPO_ROOT

NOISE = ("litlogger", "LeafSpec", "could not find the monitored key")


def _train():
    spec = importlib.util.spec_from_file_location("_tool_train", REPO_ROOT / "tools" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class TinyModule(L.LightningModule):
    """A linear model on random 2-vectors; logs train/loss and (validation) val/loss."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        loss = self.net(batch).pow(2).mean()
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self.net(batch).pow(2).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class TinyData(L.LightningDataModule):
    """16 training batches an epoch, 2 validation batches."""

    def train_dataloader(self):
        return DataLoader(torch.randn(64, 2), batch_size=4)

    def val_dataloader(self):
        return DataLoader(torch.randn(8, 2), batch_size=4)


def _fit(tmp_path, *extra: str):
    args = ["fit", "--model", f"{__name__}.TinyModule", "--data", f"{__name__}.TinyData",
            "--trainer.default_root_dir", str(tmp_path), "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--trainer.logger", "true", *extra]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # see everything that is not filtered inside train.main
        _train().main(args)
    return [str(w.message) for w in caught]


def test_max_steps_run_before_validation_is_quiet(tmp_path, capfd, caplog, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tools/train.py"])
    caplog.set_level(logging.INFO)
    messages = _fit(tmp_path, "--trainer.max_steps", "3")  # stops mid-epoch: validation never ran
    out, err = capfd.readouterr()
    text = "\n".join([*messages, out, err, caplog.text])
    for noise in NOISE:
        assert noise not in text, noise
    assert "max_steps=3" in text  # Lightning's own log still comes through
    ckpts = sorted(p.name for p in tmp_path.rglob("*.ckpt"))
    assert ckpts == ["last.ckpt"]  # no metric to rank by yet: no best.ckpt


def test_best_ckpt_is_still_written_once_validation_ran(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tools/train.py"])
    messages = _fit(tmp_path, "--trainer.max_steps", "6", "--trainer.val_check_interval", "4")
    assert not [m for m in messages if any(n in m for n in NOISE)]
    assert sorted(p.name for p in tmp_path.rglob("*.ckpt")) == ["best.ckpt", "last.ckpt"]


def test_monitor_missing_without_any_validation_still_warns(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tools/train.py"])
    messages = _fit(tmp_path, "--trainer.max_epochs", "1", "--trainer.limit_val_batches", "0")
    assert any("could not find the monitored key" in m for m in messages)  # best.ckpt can never be written


def test_a_misnamed_monitor_still_fails_after_validation(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tools/train.py"])
    with pytest.raises(Exception, match="could not find the monitored key"):
        _fit(tmp_path, "--trainer.max_steps", "6", "--trainer.val_check_interval", "4",
             "--checkpoint.monitor", "val/los")

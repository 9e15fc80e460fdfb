"""NetEMA: the average it keeps, what validation and checkpoints see, resuming, and the task option."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import lightning as L

from motion3d.models.motion import MotionDiffusion
from motion3d.tasks.checkpoint import load_checkpoint
from motion3d.tasks.diffuse import DiffusionTask
from motion3d.tasks.ema import NetEMA, ema_decay_at


class _Tiny(L.LightningModule):
    """One linear layer trained by plain SGD on a fixed batch; records its weights after every step
    and what validation saw."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Linear(3, 1)
        self.seen_at_val: list[torch.Tensor] = []
        self.after_step: list[torch.Tensor] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self.net(x) - y) ** 2).mean()

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.after_step.append(self.net.weight.detach().clone())

    def validation_step(self, batch, batch_idx):
        self.seen_at_val.append(self.net.weight.detach().clone())

    def configure_optimizers(self):
        return torch.optim.SGD(self.net.parameters(), lr=0.1)


def _loader():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, generator=g)
    ds = torch.utils.data.TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [0.5]]))
    return torch.utils.data.DataLoader(ds, batch_size=8)


def _trainer(tmp_path, steps: int, ema: NetEMA, **kw) -> L.Trainer:
    return L.Trainer(max_steps=steps, callbacks=[ema], accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=tmp_path, num_sanity_val_steps=0, **kw)


def _expected(weights: list[torch.Tensor], decay: float) -> torch.Tensor:
    avg = weights[0].clone()  # the first update starts the average at the weights after the first step
    for n, w in enumerate(weights[1:], start=1):
        d = ema_decay_at(decay, n)
        avg = d * avg + (1 - d) * w
    return avg


def test_decay_warms_up_then_stays():
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1)
    assert ema_decay_at(0.999, 10) == pytest.approx(11 / 20)
    assert ema_decay_at(0.999, 100000) == 0.999
    with pytest.raises(ValueError, match="ema_decay"):
        NetEMA(1.0)


def test_average_is_what_validation_and_the_checkpoint_see_and_the_network_keeps(tmp_path):
    model, ema = _Tiny(), NetEMA(0.9)
    trainer = _trainer(tmp_path, 6, ema, check_val_every_n_epoch=3, limit_val_batches=1)
    trainer.fit(model, _loader(), _loader())
    raw = model.after_step  # weights after each optimiser step
    assert len(raw) == 6
    want3, want6 = _expected(raw[:3], 0.9), _expected(raw, 0.9)
    assert torch.allclose(model.seen_at_val[0], want3, atol=1e-6)  # validation ran on the average
    assert not torch.allclose(want6, raw[-1], atol=1e-4)  # (so the test can tell them apart)
    assert torch.allclose(model.net.weight, want6, atol=1e-6)  # the network ends with the average
    path = tmp_path / "last.ckpt"
    trainer.save_checkpoint(path)
    ckpt = load_checkpoint(path)
    assert torch.allclose(ckpt["state_dict"]["net.weight"], want6, atol=1e-6)
    assert torch.allclose(ckpt["ema_raw"]["net.weight"], raw[-1], atol=1e-6)
    assert ckpt["ema_updates"] == 6


def test_resume_trains_on_the_raw_weights_and_continues_the_average(tmp_path):
    straight, ema = _Tiny(), NetEMA(0.9)
    _trainer(tmp_path / "a", 6, ema).fit(straight, _loader())
    first, ema1 = _Tiny(), NetEMA(0.9)
    t1 = _trainer(tmp_path / "b", 3, ema1)
    t1.fit(first, _loader())
    t1.save_checkpoint(tmp_path / "mid.ckpt")
    resumed = _Tiny()
    _trainer(tmp_path / "c", 6, NetEMA(0.9)).fit(resumed, _loader(), ckpt_path=tmp_path / "mid.ckpt")
    assert torch.allclose(resumed.after_step[-1], straight.after_step[-1], atol=1e-6)  # trained on the raw weights
    assert torch.allclose(resumed.net.weight, straight.net.weight, atol=1e-6)  # the same average


def test_diffusion_task_option_builds_the_callback_and_rejects_bad_decays():
    net = MotionDiffusion(10, dim=16, layers=1, heads=2, ff_dim=16, diffusion_steps=10)
    assert [type(c) for c in DiffusionTask(net, ema_decay=0.99).configure_callbacks()] == [NetEMA]
    assert DiffusionTask(net).configure_callbacks() == []
    with pytest.raises(ValueError, match="ema_decay"):
        DiffusionTask(net, ema_decay=1.5)

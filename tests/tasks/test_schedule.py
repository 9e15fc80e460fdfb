"""motion3d.tasks.schedule: the warm-up cosine and run progress by steps or by max_time."""
from __future__ import annotations

import time

import lightning as L
import pytest
import torch
from torch import nn

from motion3d.tasks.schedule import RunProgress, WarmupCosine, time_fraction


def test_warmup_cosine():
    f = WarmupCosine(10, 110, 0.01)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.01 + 0.99 * 0.5)
    assert f(110) == pytest.approx(0.01) and f(500) == pytest.approx(0.01)


def test_warmup_cosine_follows_progress_when_further_on():
    done = [0.0]
    f = WarmupCosine(10, 100_000, 0.0, progress=lambda: done[0])
    assert f(5) == pytest.approx(0.6)                       # the warm-up is by steps only
    assert f(20) == pytest.approx(1.0, abs=1e-6)
    done[0] = 0.5
    assert f(20) == pytest.approx(0.5)
    done[0] = 1.0
    assert f(20) == pytest.approx(0.0)


class _Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)
        self.progress = RunProgress(self)
        self.seen: list[tuple[int, float]] = []

    def training_step(self, batch, batch_idx):
        time.sleep(0.02)
        self.seen.append((self.global_step, self.progress()))
        return self.lin(batch[0]).square().mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_run_progress_by_clock_when_max_time_ends_the_run(tmp_path):
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 2)), batch_size=4)
    m = _Tiny()
    assert m.progress() == 0.0                              # not attached to a trainer
    trainer = L.Trainer(max_epochs=1000, max_time={"seconds": 2}, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(m, data)
    steps = [s for s, _ in m.seen]
    fracs = [p for _, p in m.seen]
    assert steps[-1] < 0.01 * trainer.estimated_stepping_batches      # steps alone: a few percent
    assert fracs == sorted(fracs) and fracs[-1] > 0.8                  # the clock: nearly done
    assert 0.0 <= time_fraction(trainer) <= 1.0


def test_run_progress_by_steps_without_time_limit(tmp_path):
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(16, 2)), batch_size=4)
    m = _Tiny()
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(m, data)
    assert [round(p, 3) for _, p in m.seen] == [round(s / 8, 3) for s, _ in m.seen]
    assert time_fraction(trainer) == 0.0


def test_lambda_lr_state_is_plain():
    """Checkpoints hold the scheduler's state: it must load with torch.load(weights_only=True)."""
    import io

    from motion3d.tasks.schedule import lambda_lr

    opt = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    sched = lambda_lr(opt, WarmupCosine(2, 10, 0.0, RunProgress(_Tiny())))
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    buf.seek(0)
    torch.load(buf, weights_only=True)

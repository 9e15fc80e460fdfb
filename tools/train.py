"""Train / validate / test any motion3d task from a LightningCLI config.

    python tools/train.py fit --config configs/points/pointnet_modelnet10.yaml
    python tools/train.py fit -c CONFIG --trainer.max_steps 3 --trainer.default_root_dir /tmp/run
    python tools/train.py test -c CONFIG --ckpt_path run/checkpoints/best.ckpt

Configs name ``model: {class_path: <LightningModule>, init_args: ...}`` and ``data: {class_path:
<LightningDataModule>, ...}``. Checkpoints go to ``<log dir>/checkpoints/``: ``last.ckpt`` and
``best.ckpt`` (the best value of the task's ``monitor`` metric on VALIDATION; default ``val/loss``,
or the metric given by ``--checkpoint.monitor``, e.g. ``val/oa`` with ``--checkpoint.mode max``).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint  # noqa: E402
from lightning.pytorch.cli import LightningCLI  # noqa: E402

import lightning as L  # noqa: E402


class CheckpointCallback(ModelCheckpoint):
    """``last.ckpt`` every epoch (and at the end of a ``max_steps`` run), ``best.ckpt`` on validation."""

    def __init__(self, monitor: str | None = "val/loss", mode: str = "min", dirpath: str | None = None,
                 filename: str = "best", save_last: bool = True, every_n_train_steps: int | None = None):
        super().__init__(monitor=monitor, mode=mode, dirpath=dirpath, filename=filename, save_top_k=1,
                         save_last=save_last, auto_insert_metric_name=False,
                         every_n_train_steps=every_n_train_steps)

    def on_train_end(self, trainer, pl_module) -> None:
        """Runs stopped by ``max_steps`` / ``max_time`` mid-epoch still leave a usable ``last.ckpt``."""
        super().on_train_end(trainer, pl_module)
        if self.save_last and not trainer.sanity_checking:  # every rank: saving is a collective under DDP
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


class MotionCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(CheckpointCallback, "checkpoint")
        parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")

    def before_instantiate_classes(self) -> None:
        cfg = self.config.get(self.subcommand, self.config)
        threads = cfg.get("threads", 0)
        if threads:
            torch.set_num_threads(int(threads))
        # jsonargparse reads ``--trainer.limit_val_batches 2`` as the float 2.0, which Lightning
        # rejects (floats are fractions): whole numbers above 1 mean a count of batches
        trainer = cfg.get("trainer")
        if trainer is not None:
            for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches",
                        "limit_predict_batches", "val_check_interval"):
                v = trainer.get(key)
                if isinstance(v, float) and v > 1 and v.is_integer():
                    trainer[key] = int(v)


def main(args: list[str] | None = None) -> MotionCLI:
    return MotionCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                     seed_everything_default=0, save_config_kwargs={"overwrite": True},
                     trainer_defaults={"accelerator": "auto", "callbacks": [LearningRateMonitor("step")]},
                     args=args)


if __name__ == "__main__":
    main()

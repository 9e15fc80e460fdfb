"""Train / validate / test any motion3d task from a LightningCLI config.

    python tools/train.py fit --config configs/points/pointnet_modelnet10.yaml
    python tools/train.py fit -c CONFIG --trainer.max_steps 3 --trainer.default_root_dir /tmp/run
    python tools/train.py test -c CONFIG --ckpt_path run/checkpoints/best.ckpt

``--help`` ends with the list of configs (every ``configs/**/*.yaml``).
Configs name ``model: {class_path: <LightningModule>, init_args: ...}`` and ``data: {class_path:
<LightningDataModule>, ...}``. Checkpoints go to ``<log dir>/checkpoints/``: ``last.ckpt`` and
``best.ckpt`` (the best value of the task's ``monitor`` metric on VALIDATION; default ``val/loss``,
or the metric given by ``--checkpoint.monitor``, e.g. ``val/oa`` with ``--checkpoint.mode max``).
"""
from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from jsonargparse import DefaultHelpFormatter  # noqa: E402
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint  # noqa: E402
from lightning.pytorch.cli import LightningCLI  # noqa: E402
from lightning.pytorch.utilities.model_helpers import is_overridden  # noqa: E402
from lightning.pytorch.utilities.rank_zero import rank_zero_module  # noqa: E402

import lightning as L  # noqa: E402

CONFIGS = ROOT / "configs"

# Known noise, silenced by message (never all warnings): lightning's _pytree on torch >= 2.9 uses
# the deprecated LeafSpec; lightning 2.6 prints an advert for its cloud logger on every run and
# has no setting to turn it off.
QUIET_WARNINGS = [(r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning)]
QUIET_LOG_PREFIXES = ("\U0001f4a1 Tip: For seamless cloud logging", "\U0001f4a1 Tip: For seamless cloud uploads")


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(QUIET_LOG_PREFIXES)


def quiet_known_noise() -> None:
    """Filter the known, harmless messages above (idempotent)."""
    for message, category in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    log = rank_zero_module.log  # the logger lightning's rank_zero_info writes to
    if not any(isinstance(f, _DropTips) for f in log.filters):
        log.addFilter(_DropTips())


def config_list() -> list[str]:
    """Every config under configs/, as paths relative to the repository root, sorted."""
    return sorted(p.relative_to(ROOT).as_posix() for p in CONFIGS.rglob("*.yaml"))


def configs_epilog() -> str:
    return "configs (tools/train.py fit -c CONFIG):\n" + "".join(f"  {c}\n" for c in config_list())


class HelpFormatter(DefaultHelpFormatter):
    """jsonargparse's help, with the description and epilog kept as written (one config a line)."""

    def _fill_text(self, text, width, indent):
        return "".join(indent + line for line in text.splitlines(keepends=True))


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

    def _save_topk_checkpoint(self, trainer, monitor_candidates) -> None:
        """Before the first validation (a ``max_steps`` run stopped mid-epoch) there is no metric to
        rank by: wait for it quietly instead of warning that the key is missing. Runs without any
        validation, and keys still missing after validation, keep Lightning's warning / error."""
        if (self.monitor is not None and self.monitor not in monitor_candidates
                and not trainer.fit_loop.epoch_loop.val_loop._has_run and _validates(trainer)):
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)


def _validates(trainer) -> bool:
    """Whether this fit runs validation at some point (a validation_step and batches allowed)."""
    return (trainer.lightning_module is not None and is_overridden("validation_step", trainer.lightning_module)
            and trainer.limit_val_batches != 0)


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
    quiet_known_noise()
    help_kwargs = {"epilog": configs_epilog(), "formatter_class": HelpFormatter}
    parser_kwargs = {**help_kwargs, **{cmd: dict(help_kwargs) for cmd in MotionCLI.subcommands()}}
    return MotionCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                     seed_everything_default=0, save_config_kwargs={"overwrite": True},
                     trainer_defaults={"accelerator": "auto", "callbacks": [LearningRateMonitor("step")]},
                     parser_kwargs=parser_kwargs, args=args)


if __name__ == "__main__":
    main()

"""LightningModules (tasks): one module per training job, on a shared base.

Motion: :class:`PredictionTask` (``"predict"``), :class:`GenerationTask` (``"generate"``),
:class:`RecognitionTask` (``"recognize"``), :class:`StyleTransferTask` (``"stylize"``),
:class:`RetargetTask` (``"retarget"``), :class:`DiffusionTask` (``"diffuse"``),
:class:`CleanupTask` (``"cleanup"``); point clouds: :class:`ClassificationTask` (``"classify"``).

Shared pieces, each in a module of its own: :mod:`.context` (the data a network lives in),
:mod:`.losses`, :mod:`.base` (the motion tasks' LightningModule), :mod:`.checkpoint` (what a checkpoint
holds and the one safe way to read it), :mod:`.schedule` (optimiser and LR schedule),
:mod:`.adversarial` (discriminator steps). Applying checkpoints to clips: :mod:`.sampling`,
:mod:`.stylize_clips`, :mod:`.retarget_clips`. Evaluation procedures live in :mod:`motion3d.evaluate`.
"""
from motion3d.tasks.classify import ClassificationTask
from motion3d.tasks.cleanup import CleanupTask
from motion3d.tasks.diffuse import DiffusionTask
from motion3d.tasks.generate import GenerationTask
from motion3d.tasks.predict import PredictionTask
from motion3d.tasks.recognize import RecognitionTask
from motion3d.tasks.retarget import RetargetTask
from motion3d.tasks.stylize import StyleTransferTask

__all__ = ["PredictionTask", "GenerationTask", "RecognitionTask", "StyleTransferTask", "RetargetTask",
           "ClassificationTask", "DiffusionTask", "CleanupTask"]

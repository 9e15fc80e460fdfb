"""LightningModules (tasks) and their evaluation procedures (:mod:`motion3d.tasks.evaluation`).

Motion: :class:`PredictionTask` (``"predict"``), :class:`GenerationTask` (``"generate"``),
:class:`RecognitionTask` (``"recognize"``),
:class:`StyleTransferTask` (``"stylize"``), :class:`RetargetTask` (``"retarget"``); importing this package registers their evaluators.
"""
from motion3d.tasks.generate import GenerationTask
from motion3d.tasks.predict import PredictionTask
from motion3d.tasks.recognize import RecognitionTask
from motion3d.tasks.retarget import RetargetTask
from motion3d.tasks.stylize import StyleTransferTask

__all__ = ["PredictionTask", "GenerationTask", "RecognitionTask", "StyleTransferTask", "RetargetTask"]

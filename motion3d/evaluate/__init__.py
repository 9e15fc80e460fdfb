"""Evaluation procedures, one module per task, each registered under the task name its checkpoints
carry (:mod:`motion3d.evaluate.registry`). Importing this package registers them all; ``tools/evaluate.py
--ckpt X`` then runs ``get(task_name(checkpoint)).run(checkpoint, args)``.
"""
from motion3d.evaluate import classify, cleanup, diffuse, generate, predict, recognize, retarget, stylize
from motion3d.evaluate.registry import Evaluator, Option, get, names, register

__all__ = ["Evaluator", "Option", "get", "names", "register",
           "classify", "cleanup", "diffuse", "generate", "predict", "recognize", "retarget", "stylize"]
